// What a layer does with its plain weight once a packed copy serves it
// (Conv2d, Linear prepared for inference).
// Thread-safety: call from the thread that owns the module.
#pragma once

#include <ATen/core/Tensor.h>

namespace stipple::core {

// Releases the plain weight's memory and leaves `param` an empty tensor of
// `dtype` (its registered name stays). A view of a mapped checkpoint file
// drops its pages under the current MappedFilesScope (re-read from the page
// cache if ever needed); memory of its own goes back to the OS when `param`
// is its storage's only user (releaseSoleTensorPages).
void dropPlainWeight(at::Tensor &param, at::ScalarType dtype);

} // namespace stipple::core
