// Float tensor conversion into memory the caller owns, faster than ATen
// 1.13's copy_ for the conversions a checkpoint load does most.
// Thread-safety: reentrant; the work is spread with parallelRange.
#pragma once

#include <ATen/core/Tensor.h>

namespace stipple::core {

// Writes `src` converted to `dst`'s dtype into `dst` (same number of
// elements). Contiguous float16 or bfloat16 into float32 take a vectorised
// path over both threads (F16C for float16); anything else is dst.copy_(src).
void convertInto(const at::Tensor &dst, const at::Tensor &src);

// Whether convertInto takes its vectorised path from `src` to `dst` (given
// contiguous tensors): float16 (with F16C) or bfloat16 into float32.
bool convertsVectorised(at::ScalarType dst, at::ScalarType src);
// That path on raw memory, on the calling thread only: n values of `srcType`
// (float16 or bfloat16, as convertsVectorised allows) into float32. For
// callers that split the work themselves.
void convertToFloat(const void *src, at::ScalarType srcType, float *dst, std::int64_t n);

// `t` in `dtype` with t's sizes: `t` itself when already so, otherwise a view
// of `scratch` (grown to fit, kept for the next call) holding the converted
// values. For preparing weights one layer after another: the scratch is
// memory the previous layer already touched (fresh pages cost their zeroing).
at::Tensor convertedThroughScratch(const at::Tensor &t, at::ScalarType dtype, at::Tensor &scratch);

} // namespace stipple::core
