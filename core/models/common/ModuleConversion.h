// Replacing a parameter's data without breaking its InferenceMode state, and
// converting a module's floating parameters and buffers to one dtype in
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

// param.set_data(make()), with make() run in the InferenceMode state that
// param.is_inference() reports. A module built under InferenceMode (the
// GUI's inference thread loads there) has inference tensors for parameters;
// set_data with a normal tensor would leave one flagged normal but without a
// version counter, and the next view of it throws "Inference tensors do not
// track version counter". The reverse would strip a normal parameter of its
// autograd keys, so training would silently get no gradients. Grad mode is
// off throughout.
void replaceData(at::Tensor &param, const std::function<at::Tensor()> &make);

// A floating `t` not in `dtype` gets its values converted into memory of its
// own (convertInto, both cores; replaceData), its identity unchanged; other
// tensors (undefined, integer, already in `dtype`) are left. For a layer's
// bias when its weight is packed or converted elsewhere.
void convertTensor(at::Tensor &t, at::ScalarType dtype);

// convertTensor on every parameter and buffer of `module` (recursively),
// names unchanged; `keep` (optional) spares tensors that stay as they are.
void convertFloatTensors(torch::nn::Module &module, at::ScalarType dtype,
                         const std::function<bool(const at::Tensor &)> &keep = {});

} // namespace stipple::core
