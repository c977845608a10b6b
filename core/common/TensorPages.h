// Returning a tensor's memory to the OS before the tensor is dropped, for
// weights that have been copied into another layout.
// Thread-safety: stateless.
#pragma once

#include <ATen/core/Tensor.h>

namespace stipple::core {

// releaseWholePages on `t`'s bytes, only when `t` is its storage's sole
// user: its bytes may be a slice of a shared conversion arena
// (openCheckpoint), which dropping the tensor alone would not free.
// The caller must not need the contents any more.
void releaseSoleTensorPages(const at::Tensor &t);

} // namespace stipple::core
