// numpy SeedSequence (see SeedSequence.h for the source of the algorithm).
#include "core/schedulers/SeedSequence.h"

#include <algorithm>

namespace stipple::core {

namespace {

// Constants of numpy's bit_generator.pyx (after M. O'Neill's randutils seed_seq_fe).
constexpr std::uint32_t kInitA = 0x43b0d7e5u;
constexpr std::uint32_t kMultA = 0x931e8875u;
constexpr std::uint32_t kInitB = 0x8b51f9ddu;
constexpr std::uint32_t kMultB = 0x58f38dedu;
constexpr std::uint32_t kMixMultL = 0xca01f9ddu;
constexpr std::uint32_t kMixMultR = 0x4973f715u;
constexpr int kXShift = 16; // 4 bytes * 8 / 2

// _int_to_uint32_array: little-endian 32-bit words, [0] for zero.
void appendWords(std::vector<std::uint32_t> &out, std::uint64_t v)
{
    if (v == 0) {
        out.push_back(0);
        return;
    }
    while (v > 0) {
        out.push_back(static_cast<std::uint32_t>(v & 0xffffffffu));
        v >>= 32;
    }
}

// hashmix: value ^= h; h *= MULT_A; value *= h; value ^= value >> XSHIFT.
std::uint32_t hashmix(std::uint32_t value, std::uint32_t &hashConst)
{
    value ^= hashConst;
    hashConst *= kMultA;
    value *= hashConst;
    value ^= value >> kXShift;
    return value;
}

// mix(x, y) = (MIX_MULT_L * x - MIX_MULT_R * y) ^ (... >> XSHIFT), mod 2^32.
std::uint32_t mix(std::uint32_t x, std::uint32_t y)
{
    std::uint32_t r = kMixMultL * x - kMixMultR * y;
    r ^= r >> kXShift;
    return r;
}

} // namespace

SeedSequence::SeedSequence(std::uint64_t entropy, const std::vector<std::uint64_t> &spawnKey, int poolSize)
{
    const std::size_t pool = static_cast<std::size_t>(std::max(poolSize, 4));

    // get_assembled_entropy: the run entropy, zero-padded to the pool size
    // when a spawn key follows, then the spawn key's words.
    std::vector<std::uint32_t> assembled;
    appendWords(assembled, entropy);
    if (!spawnKey.empty() && assembled.size() < pool)
        assembled.resize(pool, 0u);
    for (std::uint64_t k : spawnKey)
        appendWords(assembled, k);

    // mix_entropy.
    m_pool.assign(pool, 0u);
    std::uint32_t hashConst = kInitA;
    for (std::size_t i = 0; i < pool; ++i)
        m_pool[i] = hashmix(i < assembled.size() ? assembled[i] : 0u, hashConst);
    for (std::size_t src = 0; src < pool; ++src)
        for (std::size_t dst = 0; dst < pool; ++dst)
            if (src != dst)
                m_pool[dst] = mix(m_pool[dst], hashmix(m_pool[src], hashConst));
    for (std::size_t src = pool; src < assembled.size(); ++src)
        for (std::size_t dst = 0; dst < pool; ++dst)
            m_pool[dst] = mix(m_pool[dst], hashmix(assembled[src], hashConst));
}

std::vector<std::uint32_t> SeedSequence::generateState(int words) const
{
    std::vector<std::uint32_t> out(static_cast<std::size_t>(std::max(words, 0)));
    std::uint32_t hashConst = kInitB;
    for (std::size_t i = 0; i < out.size(); ++i) {
        std::uint32_t v = m_pool[i % m_pool.size()];
        v ^= hashConst;
        hashConst *= kMultB;
        v *= hashConst;
        v ^= v >> kXShift;
        out[i] = v;
    }
    return out;
}

} // namespace stipple::core
