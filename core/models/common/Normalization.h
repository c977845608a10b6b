// Normalisation helpers shared by the UNet and the VAE: GroupNorm and
// LayerNorm computed in float32 for reduced-precision activations,
// GroupNorm+SiLU in one float32 pass, and an in-place GroupNorm+SiLU for large
// activations the caller hands over.
#pragma once

#include <ATen/core/Tensor.h>
#include <torch/nn/modules/normalization.h>

#include <cstdint>

namespace stipple::core {

// LayerNorm with float32 arithmetic for reduced-precision inputs, returning
// the input dtype; float32 inputs get exactly torch's LayerNorm. torch 1.13's
// bfloat16 LayerNorm is both slow and coarse: SD 1.5's [2, 4096, 320] takes
// 14.0 ms against 2.6 ms through float32 (with both conversions), largest
// error against float64 0.10 against 0.031 (bench/bf16_ops.py). Contiguous
// bf16 inputs take the one-pass kernel of Bf16Elementwise.h, others convert
// to float32 and back.
at::Tensor layerNormStable(const torch::nn::LayerNorm &norm, const at::Tensor &x);

// GroupNorm with float32 arithmetic for reduced-precision inputs (bf16/fp16
// statistics are too coarse), returning the input dtype: contiguous NCHW bf16
// through the one-pass kernel of Bf16Elementwise.h, the rest through float32.
at::Tensor groupNormStable(const torch::nn::GroupNorm &norm, const at::Tensor &x);

// silu(groupNormStable(norm, x)), the SiLU on the float32 values: bit for bit
// the same in float32, and closer to float32 for bf16 (one rounding, not two).
at::Tensor groupNormSilu(const torch::nn::GroupNorm &norm, const at::Tensor &x);

// Activations at least this large are normalised in place when the caller
// hands them over (the VAE's 512x512 levels: 128-256 MiB each); smaller ones
// keep the exact at::group_norm path, so the small fixtures stay bit-exact.
inline constexpr std::int64_t kInPlaceGroupNormBytes = std::int64_t(64) << 20;

// True when writing into x can be seen by no one else: no autograd, and x is
// the only handle on its TensorImpl and its storage (no views, no copies
// kept by a caller or an activation hook). It cannot see memory shared
// through a second storage (from_blob over the same bytes): callers hand it
// only tensors that ATen allocated.
bool canOverwrite(const at::Tensor &x);

// groupNormSilu on x, written into x. float32 NCHW or channels_last: one pass
// for per-channel sums of x and x^2 (in double), then the affine map and SiLU
// band by band; within float rounding of groupNormSilu, and about as fast.
// Other dtypes or layouts: whole groups a few at a time through groupNormSilu.
void groupNormSiluInPlace(const torch::nn::GroupNorm &norm, at::Tensor &x);

// True when groupNormSiluConsuming would normalise x in place: x holds at
// least minInPlaceBytes and canOverwrite(x).
bool normalisesInPlace(const at::Tensor &x, std::int64_t minInPlaceBytes = kInPlaceGroupNormBytes);

// groupNormSilu that takes x over: in place when normalisesInPlace(x),
// otherwise the plain path. Pass std::move(tensor).
at::Tensor groupNormSiluConsuming(const torch::nn::GroupNorm &norm, at::Tensor x,
                                  std::int64_t minInPlaceBytes = kInPlaceGroupNormBytes);

} // namespace stipple::core
