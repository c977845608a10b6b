// One-pass bfloat16 element-wise kernels for the UNet's bf16 mode, written
// with AVX-512 intrinsics (Bf16KernelsAvx512.cpp is compiled for AVX-512 with
// AVX512-BF16 and includes no torch header; call only on CPUs that have
// AVX512-BF16, see Bf16Elementwise.h, which also holds the tensor-facing
// wrappers).
//
// Why: torch 1.13's bf16 LayerNorm, GroupNorm, SiLU and GELU are slow or
// coarse, so Stipple ran them in float32 with a conversion on each side: 3-5
// passes over each activation and a float32 temporary twice its size. Here
// each reads bfloat16 once (twice for the statistics), computes in float32 and
// rounds once to bfloat16 (round to nearest even, vcvtneps2bf16), so the
// results equal the float32 path's up to the summation order of the
// statistics and the exp/erf approximations below.
// Thread-safety: stateless; callers split the rows or groups between threads.
#pragma once

#include <cstdint>

namespace stipple::core::kernels {

// LayerNorm over the last dimension of `rows` rows of `c` values:
// out = (x - mean) / sqrt(var + eps) * gamma + beta, biased variance, as
// torch.nn.LayerNorm. Rows `xStride` / `outStride` elements apart; gamma and
// beta in float32 (null: 1 and 0).
void layerNormRowsBf16(const std::uint16_t *x, std::int64_t xStride, std::int64_t rows, std::int64_t c,
                       const float *gamma, const float *beta, float eps, std::uint16_t *out,
                       std::int64_t outStride);

// One group of GroupNorm on NCHW data: `channels` consecutive channels of
// `pixels` values each (contiguous), normalised with the group's mean and
// biased variance, then the per-channel affine map (gamma, beta from the
// group's first channel; null: 1 and 0) and, with `silu`, x·sigmoid(x).
void groupNormGroupBf16(const std::uint16_t *x, std::int64_t channels, std::int64_t pixels, const float *gamma,
                        const float *beta, float eps, bool silu, std::uint16_t *out);

// GEGLU's product: out = a · gelu(gate), GELU exact (0.5·g·(1 + erf(g/√2)),
// torch's approximate="none"), for `rows` rows of `n` values; row strides
// in elements (a and gate are usually the two halves of one projection).
void gegluRowsBf16(const std::uint16_t *a, const std::uint16_t *gate, std::int64_t inStride, std::int64_t rows,
                   std::int64_t n, std::uint16_t *out, std::int64_t outStride);

} // namespace stipple::core::kernels
