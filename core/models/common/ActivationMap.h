// Named intermediate activations, recorded on request for debugging and
// parity tests (keys are diffusers module names, e.g. "down_blocks.0").
// Thread-safety: plain value.
#pragma once

#include <ATen/core/Tensor.h>

#include <map>
#include <string>

namespace stipple::core {

using ActivationMap = std::map<std::string, at::Tensor>;

} // namespace stipple::core
