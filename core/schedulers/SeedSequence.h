// SeedSequence: numpy's `numpy.random.SeedSequence` (O'Neill's seed_seq
// hashing, numpy >= 1.19 including its spawn-key zero padding) restricted to
// what torchsde's Brownian tree needs: mix a non-negative integer entropy and
// an optional spawn key into a pool of 32-bit words, then generate_state(n)
// as uint32 words. Algorithm: numpy/random/bit_generator.pyx (hashmix, mix,
// mix_entropy, get_assembled_entropy, generate_state); verified against
// numpy 1.24 by tests/core/schedulers/TestBrownianTree.cpp.
// Thread-safety: immutable after construction.
#pragma once

#include <cstdint>
#include <vector>

namespace stipple::core {

class SeedSequence {
public:
    // numpy SeedSequence(entropy, spawn_key=spawnKey, pool_size=poolSize).
    // Each spawn key entry is an arbitrary non-negative integer (split into
    // little-endian 32-bit words like numpy's _int_to_uint32_array).
    // poolSize must be >= 4 (numpy's minimum); smaller values are raised to 4.
    explicit SeedSequence(std::uint64_t entropy, const std::vector<std::uint64_t> &spawnKey = {},
                          int poolSize = 4);

    // generate_state(n, dtype=uint32).
    std::vector<std::uint32_t> generateState(int words) const;

    const std::vector<std::uint32_t> &pool() const { return m_pool; }

private:
    std::vector<std::uint32_t> m_pool;
};

} // namespace stipple::core
