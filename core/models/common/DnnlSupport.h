// What the classes that call oneDNN directly share: the CPU engine and the
// translation of oneDNN's errors. Included only by files compiled with
// STIPPLE_HAVE_DNNL=1 (core/models/CMakeLists.txt), as it needs oneDNN's
// headers.
// Thread-safety: the engine is created once (a function-local static) and
// oneDNN engines may be used from any thread.
#pragma once

#include <dnnl.hpp>

#include <ATen/core/Tensor.h>

#include <cstddef>

namespace stipple::core {

dnnl::engine &dnnlCpuEngine();

// oneDNN reports failures (out of memory, an unsupported shape) as
// dnnl::error; the core boundary and the callers' guards expect c10::Error.
// `what` names the operation ("oneDNN convolution").
[[noreturn]] void rethrowAsTorchError(const dnnl::error &e, const char *what);

// A float32 tensor of at least `bytes` bytes, for oneDNN's own layouts.
at::Tensor dnnlBuffer(std::size_t bytes);

} // namespace stipple::core
