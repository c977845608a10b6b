// Converting a module's floating parameters and buffers to one dtype in
// place, for modules whose weights arrive in another dtype (float16 file
// views) and are converted later than at load.
// Thread-safety: call from the thread that owns the module.
#pragma once

#include <ATen/core/Tensor.h>

#include <functional>

namespace torch::nn {
class Module;
}

namespace stipple::core {

// Every floating parameter and buffer of `module` (recursively) not in
// `dtype` gets converted values in memory of its own (convertInto, both
// cores), its name and identity unchanged; `keep` (optional) spares tensors
// that stay as they are. Empty placeholders already in `dtype` are left.
void convertFloatTensors(torch::nn::Module &module, at::ScalarType dtype,
                         const std::function<bool(const at::Tensor &)> &keep = {});

} // namespace stipple::core
