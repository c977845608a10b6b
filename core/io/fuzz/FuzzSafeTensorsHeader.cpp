// libFuzzer target for the safetensors header parser (built with
// -DSTIPPLE_FUZZ=ON and clang). The input is a whole "file": its size is the
// file size, so the length field, the JSON and the offsets are all fuzzed.
// Run: fuzz_safetensors_header -max_total_time=600 -dict=core/io/fuzz/safetensors.dict CORPUS_DIR
// (seed CORPUS_DIR with a few small valid .safetensors files).
#include "core/io/SafeTensorsHeader.h"

#include <cstddef>
#include <cstdint>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t *data, std::size_t size)
{
    auto header = stipple::core::parseSafeTensorsPrefix(data, size, size, "fuzz");
    if (header.ok()) {
        // Invariants the loader relies on.
        for (const auto &t : header->tensors) {
            if (t.begin > t.end || t.end > header->dataSize)
                __builtin_trap();
        }
        if (header->dataOffset + header->dataSize != size)
            __builtin_trap();
    }
    return 0;
}
