// SHA-256 block compression with the x86 SHA extensions (SHA-NI), for
// Sha256 on CPUs that have them (every AMD Zen, Intel since Ice Lake /
// Goldmont). Hashing a 2 GB checkpoint for its "Model hash" takes ~10 s with
// the portable code on the development VM.
// Thread-safety: pure functions.
#pragma once

#include <cstddef>
#include <cstdint>

namespace stipple::core {

// Whether this CPU has SHA-NI (with the SSSE3/SSE4.1 the code also uses).
bool cpuHasShaNi();

// Compresses `blocks` consecutive 64-byte blocks at `data` into `state`
// (a, b, ..., h as in FIPS 180-4). Call only when cpuHasShaNi().
void sha256BlocksNi(std::uint32_t state[8], const std::uint8_t *data, std::size_t blocks);

} // namespace stipple::core
