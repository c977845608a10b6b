// Small AVX-512 helpers shared by the files compiled for AVX-512
// (AttentionKernelAvx512.cpp, Bf16KernelsAvx512.cpp), and to be included
// only there. Everything is static inline: each of those files gets its own
// copy, built with its own flags, so no copy compiled for AVX-512 can be
// picked by the linker for code that runs on other CPUs.
#pragma once

#include <immintrin.h>

#include <cstdint>

namespace stipple::core::kernels {

// The first `count` lanes (all 16 from 16 up).
static inline __mmask16 tailMask(std::int64_t count)
{
    return count >= 16 ? static_cast<__mmask16>(0xFFFF) : static_cast<__mmask16>((1u << count) - 1u);
}

// exp(x) in float32. Cody-Waite reduction: n = round(x · log2 e), r = x - n·ln 2
// with ln 2 split into 0.693359375 and -2.12194440e-4 (the Cephes constants),
// so |r| <= ln 2 / 2; e^r by its Taylor series to r^6 (truncation error at
// most 1.2e-7 absolute, 1.7e-7 relative); 2^n with scalef.
// x is clamped to [-87, 88.7] first, constant first so that a NaN x stays
// NaN (vminps/vmaxps return their second operand when one is NaN): below,
// the result would leave the normal range (e^-87 is 1.6e-38, nothing next
// to the values it is added to or divides); above, it would overflow, so it
// saturates at about 3.3e38 instead of reaching inf.
static inline __m512 expPs(__m512 x)
{
    x = _mm512_max_ps(_mm512_set1_ps(-87.0f), _mm512_min_ps(_mm512_set1_ps(88.7f), x));
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

} // namespace stipple::core::kernels
