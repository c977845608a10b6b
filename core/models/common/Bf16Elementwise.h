// bfloat16 LayerNorm, GroupNorm(+SiLU) and GEGLU in one pass each, on the
// AVX-512 kernels of Bf16KernelsAvx512.h, for the bf16 mode (the UNet, and
// the text encoder's LayerNorms through layerNormStable).
//
// Each function returns an undefined tensor when it does not apply (not
// bfloat16, a layout it does not take, a CPU without AVX512-BF16, or
// STIPPLE_BF16_ELEMENTWISE=0 for A/B runs); callers then take their float32
// path, which the results match to bf16 rounding (test_bf16_elementwise
// bounds both against float64).
// Thread-safety: reentrant; the work is spread with parallelRange.
#pragma once

#include <ATen/core/Tensor.h>

#include <cstdint>

namespace stipple::core {

// Whether the kernels run on this CPU (and the switch is not 0).
bool bf16ElementwiseAvailable();

// torch.nn.functional.layer_norm over the last dimension of a contiguous
// bfloat16 x; weight and bias of any float dtype, or undefined.
at::Tensor layerNormBf16(const at::Tensor &x, const at::Tensor &weight, const at::Tensor &bias, double eps);

// group_norm (then SiLU with `silu`) of a contiguous NCHW bfloat16 x [N, C, ...].
at::Tensor groupNormBf16(const at::Tensor &x, std::int64_t groups, const at::Tensor &weight,
                         const at::Tensor &bias, double eps, bool silu);

// a · gelu(gate) (exact GELU) for bfloat16 a and gate of one shape [..., n]
// whose rows have unit stride and one row stride between them (the two
// chunks of GEGLU's projection); the result is contiguous.
at::Tensor gegluBf16(const at::Tensor &a, const at::Tensor &gate);

} // namespace stipple::core
