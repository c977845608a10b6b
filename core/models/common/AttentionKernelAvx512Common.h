// Register-tile sizes and vector helpers of the AVX-512 attention kernel
// (AttentionKernelAvx512.cpp). Include only from files compiled for AVX-512:
// everything here has internal linkage, so nothing built with these
// instructions can be picked by the linker for the rest of the program.
#pragma once

#include <immintrin.h>

#include <cstdint>

namespace stipple::core::kernels {
namespace {

constexpr int kQkRows = 6;    // q rows per q·kᵀ register tile
constexpr int kQkVectors = 4; // 64 keys per tile: 24 accumulators + 4 loads + 1 broadcast

// Rows per p·v register tile for dv in V vectors: R·V accumulators + V loads
// + 1 broadcast fit the 32 vector registers, and R divides the 24-row block.
constexpr int pvTileRows(int vectors)
{
    return vectors == 1 ? 24 : vectors == 2 ? 12 : vectors == 3 ? 8 : vectors == 4 ? 6 : vectors <= 6 ? 4 : vectors == 7 ? 3 : 2;
}

// exp(x) for x <= 0 (scores minus their row maximum). Cody-Waite reduction:
// n = round(x · log2 e), r = x - n·ln 2 with ln 2 split into 0.693359375 and
// -2.12194440e-4 (the Cephes constants), so |r| <= ln 2 / 2; e^r by its
// Taylor series to r^6 (truncation error at most 1.2e-7 absolute, 1.7e-7 relative); 2^n with scalef.
// Below -87 the result would leave the normal range: clamped there (e^-87 is
// 1.6e-38, nothing next to the row maximum's e^0 = 1).
__m512 expNonPositive(__m512 x)
{
    // max(-87, x), in this operand order: vmaxps returns its second operand
    // when one is NaN, so a NaN score stays NaN and poisons its row as in ATen.
    x = _mm512_max_ps(_mm512_set1_ps(-87.0f), x);
    const __m512 n = _mm512_roundscale_ps(_mm512_mul_ps(x, _mm512_set1_ps(1.44269504088896341f)),
                                          _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    __m512 r = _mm512_fnmadd_ps(n, _mm512_set1_ps(0.693359375f), x);
    r = _mm512_fnmadd_ps(n, _mm512_set1_ps(-2.12194440e-4f), r);
    __m512 p = _mm512_set1_ps(1.0f / 720.0f);
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.0f / 120.0f));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.0f / 24.0f));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.0f / 6.0f));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(0.5f));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.0f));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.0f));
    return _mm512_scalef_ps(p, n);
}

__mmask16 tailMask(std::int64_t count) // the first `count` (< 16) lanes
{
    return static_cast<__mmask16>((1u << count) - 1u);
}

// s[0..keys) <- exp(s - max s); returns the sum of the exponentials.
float softmaxNumerators(float *s, std::int64_t keys)
{
    __m512 mx = _mm512_set1_ps(-__builtin_inff());
    std::int64_t j = 0;
    for (; j + 16 <= keys; j += 16)
        mx = _mm512_max_ps(mx, _mm512_loadu_ps(s + j));
    if (j < keys) {
        const __mmask16 m = tailMask(keys - j);
        mx = _mm512_mask_max_ps(mx, m, mx, _mm512_maskz_loadu_ps(m, s + j));
    }
    const __m512 rowMax = _mm512_set1_ps(_mm512_reduce_max_ps(mx));
    __m512 sum = _mm512_setzero_ps();
    for (j = 0; j + 16 <= keys; j += 16) {
        const __m512 e = expNonPositive(_mm512_sub_ps(_mm512_loadu_ps(s + j), rowMax));
        _mm512_storeu_ps(s + j, e);
        sum = _mm512_add_ps(sum, e);
    }
    if (j < keys) {
        const __mmask16 m = tailMask(keys - j);
        const __m512 e = expNonPositive(_mm512_sub_ps(_mm512_maskz_loadu_ps(m, s + j), rowMax));
        _mm512_mask_storeu_ps(s + j, m, e);
        sum = _mm512_mask_add_ps(sum, m, sum, e);
    }
    return _mm512_reduce_add_ps(sum);
}

} // namespace
} // namespace stipple::core::kernels
