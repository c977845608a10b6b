// SHA-256 rounds on the SHA extensions. The instructions keep the working
// variables in two registers, (A, B, E, F) and (C, D, G, H), each call of
// sha256rnds2 doing two rounds; sha256msg1/msg2 compute the message schedule
// four words at a time (Intel, "Intel SHA Extensions", 2013, section 3).
#include "core/text/Sha256Ni.h"

#include "core/text/Sha256Constants.h"

#include <cpuid.h>
#include <immintrin.h>

namespace stipple::core {

bool cpuHasShaNi()
{
    unsigned a = 0, b = 0, c = 0, d = 0;
    if (!__get_cpuid(1, &a, &b, &c, &d))
        return false;
    const bool ssse3 = c & (1u << 9), sse41 = c & (1u << 19);
    if (!__get_cpuid_count(7, 0, &a, &b, &c, &d))
        return false;
    return ssse3 && sse41 && (b & (1u << 29)); // leaf 7 EBX bit 29: SHA
}

__attribute__((target("sha,sse4.1,ssse3"))) void sha256BlocksNi(std::uint32_t state[8], const std::uint8_t *data,
                                                               std::size_t blocks)
{
    // Message words are big-endian: reverse the bytes of each 32-bit lane.
    const __m128i byteSwap = _mm_set_epi64x(0x0c0d0e0f08090a0bULL, 0x0405060700010203ULL);

    // (a, b, c, d), (e, f, g, h) -> lanes [f, e, b, a] and [h, g, d, c].
    __m128i t = _mm_shuffle_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i *>(state)), 0xB1);
    __m128i cdgh = _mm_shuffle_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i *>(state + 4)), 0x1B);
    __m128i abef = _mm_alignr_epi8(t, cdgh, 8);
    cdgh = _mm_blend_epi16(cdgh, t, 0xF0);

    for (std::size_t n = 0; n < blocks; ++n, data += 64) {
        const __m128i savedAbef = abef, savedCdgh = cdgh;
        __m128i w[4]; // W[4i .. 4i+3] of the last four groups, by i mod 4
        // Fully unrolled so that `w` lives in registers: through the stack,
        // store forwarding sat on the schedule's critical path (0.67 GB/s).
#pragma GCC unroll 16
        for (int i = 0; i < 16; ++i) {
            __m128i &cur = w[i & 3];
            if (i < 4) {
                cur = _mm_shuffle_epi8(_mm_loadu_si128(reinterpret_cast<const __m128i *>(data + 16 * i)), byteSwap);
            } else {
                // W[t..t+3] = σ1 terms (msg2) over W[t-16] + σ0(W[t-15]) (msg1) + W[t-7].
                const __m128i &w16 = w[i & 3], &w12 = w[(i + 1) & 3], &w8 = w[(i + 2) & 3], &w4 = w[(i + 3) & 3];
                const __m128i x = _mm_add_epi32(_mm_sha256msg1_epu32(w16, w12), _mm_alignr_epi8(w4, w8, 4));
                cur = _mm_sha256msg2_epu32(x, w4);
            }
            __m128i k = _mm_add_epi32(cur, _mm_load_si128(reinterpret_cast<const __m128i *>(kSha256RoundConstants + 4 * i)));
            cdgh = _mm_sha256rnds2_epu32(cdgh, abef, k); // two rounds; returns the new (a, b, e, f)
            k = _mm_shuffle_epi32(k, 0x0E);
            // The old (a, b, e, f) is the current (c, d, g, h): two more rounds
            // leave (a, b, e, f) in `abef` and (c, d, g, h) in `cdgh` again.
            abef = _mm_sha256rnds2_epu32(abef, cdgh, k);
        }
        abef = _mm_add_epi32(abef, savedAbef);
        cdgh = _mm_add_epi32(cdgh, savedCdgh);
    }

    // Back to (a, b, c, d), (e, f, g, h).
    t = _mm_shuffle_epi32(abef, 0x1B);
    cdgh = _mm_shuffle_epi32(cdgh, 0xB1);
    _mm_storeu_si128(reinterpret_cast<__m128i *>(state), _mm_blend_epi16(t, cdgh, 0xF0));
    _mm_storeu_si128(reinterpret_cast<__m128i *>(state + 4), _mm_alignr_epi8(cdgh, t, 8));
}

} // namespace stipple::core
