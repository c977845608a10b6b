// bfloat16 element-wise kernels (see Bf16KernelsAvx512.h). Built with
// -mavx512f -mavx512bw -mavx512vl -mavx512bf16 (core/models/CMakeLists.txt):
// every function here runs only after the caller's AVX512-BF16 check. No
// header but the intrinsics' and Avx512Math.h (static inline helpers) is
// included, so no inline library function is compiled here for AVX-512 and
// then shared with code for other CPUs.
#include "core/models/common/Bf16KernelsAvx512.h"
#include "core/models/common/Avx512Math.h"

#include <immintrin.h>

namespace stipple::core::kernels {
namespace {

constexpr std::int64_t kLanes = 16;

// 16 bfloat16 values (masked lanes read as 0) widened to float32: a bf16 is
// the top half of a float32.
__m512 loadBf16(const std::uint16_t *p, __mmask16 m)
{
    const __m256i raw = _mm256_maskz_loadu_epi16(m, p);
    return _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_cvtepu16_epi32(raw), 16));
}

// Rounded to nearest even (vcvtneps2bf16), as c10::BFloat16's conversion.
void storeBf16(std::uint16_t *p, __m512 v, __mmask16 m)
{
    _mm256_mask_storeu_epi16(p, m, (__m256i)_mm512_cvtneps_pbh(v));
}

__m512 loadFloats(const float *p, __mmask16 m, float fill)
{
    return p ? _mm512_maskz_loadu_ps(m, p) : _mm512_set1_ps(fill);
}

// x·sigmoid(x) = x / (1 + e^-x).
__m512 siluPs(__m512 x)
{
    const __m512 e = expPs(_mm512_sub_ps(_mm512_setzero_ps(), x));
    return _mm512_div_ps(x, _mm512_add_ps(_mm512_set1_ps(1.0f), e));
}

// Exact GELU, 0.5·g·(1 + erf(g/√2)), through erfc(z) = t·exp(-z² + P(t)),
// t = 1/(1 + z/2), with the Chebyshev fit of Numerical Recipes' erfcc (Press
// et al., 2nd ed., section 6.2: relative error under 1.2e-7 for every z >= 0
// in exact arithmetic; float32's rounding of z² adds about z²·6e-8, 1e-6 at
// z = 4, still far below a bfloat16 step).
// For g < 0 the bracket is erfc(|g|/√2) itself, so GELU's long negative tail
// keeps its relative accuracy instead of cancelling in 1 - erf.
__m512 geluPs(__m512 g)
{
    const __m512 z = _mm512_abs_ps(_mm512_mul_ps(g, _mm512_set1_ps(0.70710678118654752f)));
    const __m512 t = _mm512_div_ps(_mm512_set1_ps(1.0f), _mm512_fmadd_ps(z, _mm512_set1_ps(0.5f), _mm512_set1_ps(1.0f)));
    __m512 p = _mm512_set1_ps(0.17087277f);
    p = _mm512_fmadd_ps(p, t, _mm512_set1_ps(-0.82215223f));
    p = _mm512_fmadd_ps(p, t, _mm512_set1_ps(1.48851587f));
    p = _mm512_fmadd_ps(p, t, _mm512_set1_ps(-1.13520398f));
    p = _mm512_fmadd_ps(p, t, _mm512_set1_ps(0.27886807f));
    p = _mm512_fmadd_ps(p, t, _mm512_set1_ps(-0.18628806f));
    p = _mm512_fmadd_ps(p, t, _mm512_set1_ps(0.09678418f));
    p = _mm512_fmadd_ps(p, t, _mm512_set1_ps(0.37409196f));
    p = _mm512_fmadd_ps(p, t, _mm512_set1_ps(1.00002368f));
    p = _mm512_fmadd_ps(p, t, _mm512_set1_ps(-1.26551223f));
    const __m512 erfc = _mm512_mul_ps(t, expPs(_mm512_fnmadd_ps(z, z, p)));
    const __mmask16 negative = _mm512_cmp_ps_mask(g, _mm512_setzero_ps(), _CMP_LT_OQ);
    // g >= 0: 1 + erf = 2 - erfc; g < 0: 1 + erf(-z) = erfc.
    const __m512 bracket = _mm512_mask_blend_ps(negative, _mm512_sub_ps(_mm512_set1_ps(2.0f), erfc), erfc);
    return _mm512_mul_ps(_mm512_mul_ps(_mm512_set1_ps(0.5f), g), bracket);
}

// Mean and biased variance of n bfloat16 values, two passes (the deviations
// are summed in the second, which avoids E[x²] - E[x]² cancelling). Sums run
// in float32 per lane: SD 1.5's largest group at 512² puts 2.6 k values in a
// lane, far below what would show after rounding to bfloat16.
void moments(const std::uint16_t *x, std::int64_t n, float &mean, float &variance)
{
    __m512 s0 = _mm512_setzero_ps(), s1 = _mm512_setzero_ps();
    std::int64_t i = 0;
    for (; i + 2 * kLanes <= n; i += 2 * kLanes) {
        s0 = _mm512_add_ps(s0, loadBf16(x + i, 0xFFFF));
        s1 = _mm512_add_ps(s1, loadBf16(x + i + kLanes, 0xFFFF));
    }
    for (; i < n; i += kLanes)
        s0 = _mm512_add_ps(s0, loadBf16(x + i, tailMask(n - i)));
    mean = _mm512_reduce_add_ps(_mm512_add_ps(s0, s1)) / static_cast<float>(n);
    const __m512 m = _mm512_set1_ps(mean);
    __m512 q0 = _mm512_setzero_ps(), q1 = _mm512_setzero_ps();
    for (i = 0; i + 2 * kLanes <= n; i += 2 * kLanes) {
        const __m512 d0 = _mm512_sub_ps(loadBf16(x + i, 0xFFFF), m);
        const __m512 d1 = _mm512_sub_ps(loadBf16(x + i + kLanes, 0xFFFF), m);
        q0 = _mm512_fmadd_ps(d0, d0, q0);
        q1 = _mm512_fmadd_ps(d1, d1, q1);
    }
    for (; i < n; i += kLanes) {
        const __mmask16 k = tailMask(n - i);
        const __m512 d = _mm512_maskz_sub_ps(k, loadBf16(x + i, k), m);
        q0 = _mm512_fmadd_ps(d, d, q0);
    }
    variance = _mm512_reduce_add_ps(_mm512_add_ps(q0, q1)) / static_cast<float>(n);
}

// 1/sqrt(v), correctly rounded sqrt then a division (no <cmath>, see the top).
float inverseSqrt(float v) { return 1.0f / _mm_cvtss_f32(_mm_sqrt_ss(_mm_set_ss(v))); }

} // namespace

void layerNormRowsBf16(const std::uint16_t *x, std::int64_t xStride, std::int64_t rows, std::int64_t c,
                       const float *gamma, const float *beta, float eps, std::uint16_t *out,
                       std::int64_t outStride)
{
    for (std::int64_t r = 0; r < rows; ++r) {
        const std::uint16_t *row = x + r * xStride;
        float mean = 0, variance = 0;
        moments(row, c, mean, variance);
        const __m512 m = _mm512_set1_ps(mean);
        const __m512 rstd = _mm512_set1_ps(inverseSqrt(variance + eps));
        std::uint16_t *dst = out + r * outStride;
        for (std::int64_t i = 0; i < c; i += kLanes) {
            const __mmask16 k = tailMask(c - i);
            const __m512 normed = _mm512_mul_ps(_mm512_sub_ps(loadBf16(row + i, k), m), rstd);
            const __m512 y = _mm512_fmadd_ps(normed, loadFloats(gamma ? gamma + i : nullptr, k, 1.0f),
                                             loadFloats(beta ? beta + i : nullptr, k, 0.0f));
            storeBf16(dst + i, y, k);
        }
    }
}

void groupNormGroupBf16(const std::uint16_t *x, std::int64_t channels, std::int64_t pixels, const float *gamma,
                        const float *beta, float eps, bool silu, std::uint16_t *out)
{
    float mean = 0, variance = 0;
    moments(x, channels * pixels, mean, variance);
    const float rstd = inverseSqrt(variance + eps);
    for (std::int64_t ch = 0; ch < channels; ++ch) {
        // y = x·scale + shift with scale = rstd·gamma, shift = beta - mean·scale.
        const float scale = rstd * (gamma ? gamma[ch] : 1.0f);
        const float shift = (beta ? beta[ch] : 0.0f) - mean * scale;
        const __m512 vs = _mm512_set1_ps(scale), vb = _mm512_set1_ps(shift);
        const std::uint16_t *src = x + ch * pixels;
        std::uint16_t *dst = out + ch * pixels;
        for (std::int64_t i = 0; i < pixels; i += kLanes) {
            const __mmask16 k = tailMask(pixels - i);
            __m512 y = _mm512_fmadd_ps(loadBf16(src + i, k), vs, vb);
            if (silu)
                y = siluPs(y);
            storeBf16(dst + i, y, k);
        }
    }
}

void gegluRowsBf16(const std::uint16_t *a, const std::uint16_t *gate, std::int64_t inStride, std::int64_t rows,
                   std::int64_t n, std::uint16_t *out, std::int64_t outStride)
{
    for (std::int64_t r = 0; r < rows; ++r) {
        const std::uint16_t *ar = a + r * inStride, *gr = gate + r * inStride;
        std::uint16_t *dst = out + r * outStride;
        for (std::int64_t i = 0; i < n; i += kLanes) {
            const __mmask16 k = tailMask(n - i);
            storeBf16(dst + i, _mm512_mul_ps(loadBf16(ar + i, k), geluPs(loadBf16(gr + i, k))), k);
        }
    }
}

} // namespace stipple::core::kernels
