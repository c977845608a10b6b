// Pure, torch-free parser and validator of a safetensors header
// (https://github.com/huggingface/safetensors, "Format" section): 8-byte
// little-endian header length N, N bytes of UTF-8 JSON, then the data section.
// It never touches the file system, so it can be fuzzed (core/io/fuzz) and
// unit-tested on crafted bytes. SafeTensorsFile::open() uses it.
// Thread-safety: pure functions.
#pragma once

#include "core/common/Result.h"

#include <cstddef>
#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace stipple::core {

struct SafeTensorInfo {
    std::string name;
    std::string dtype;               // as stored: "F32", "F16", "BF16", "I64", "I32", ...
    std::vector<std::int64_t> shape;
    std::uint64_t begin = 0;         // offsets relative to the data section
    std::uint64_t end = 0;
};

struct SafeTensorsHeader {
    std::vector<SafeTensorInfo> tensors;        // sorted by name
    std::map<std::string, std::string> metadata; // "__metadata__"
    std::uint64_t dataOffset = 0;               // 8 + header length
    std::uint64_t dataSize = 0;                 // file size - dataOffset
};

// Largest header accepted (the reference implementation uses 100 MB too).
constexpr std::uint64_t kMaxSafeTensorsHeaderBytes = 100u * 1000u * 1000u;

// Bytes per element of a stored dtype name ("F32" -> 4), 0 when unknown.
// Known: F64 F32 F16 BF16 I64 I32 I16 I8 U8 BOOL.
std::size_t safeTensorsItemSize(std::string_view dtype);

// Validates the JSON header `json` of a file whose data section holds
// `dataSize` bytes. `label` (usually the path) prefixes every message.
// Checks: valid JSON object, `__metadata__` string->string, known dtypes,
// non-negative shapes, numel x itemsize without overflow equal to the
// offsets' span, begin <= end <= dataSize, no two tensors overlapping.
Result<SafeTensorsHeader> parseSafeTensorsHeader(std::string_view json, std::uint64_t dataSize,
                                                 const std::string &label);

// Same, starting from the first `available` bytes of a file of `fileSize`
// bytes (available may be less than fileSize: only 8 + N bytes are needed).
// Checks the length field: N <= kMaxSafeTensorsHeaderBytes and 8 + N <= fileSize.
Result<SafeTensorsHeader> parseSafeTensorsPrefix(const std::uint8_t *data, std::size_t available,
                                                 std::uint64_t fileSize, const std::string &label);

} // namespace stipple::core
