// StateDict: tensors by diffusers state-dict name ("down_blocks.0.resnets.0.conv1.weight").
// Ordered so that reports (missing/unexpected keys) are deterministic.
// Thread-safety: plain value (tensors share storage; do not mutate in place).
#pragma once

#include <ATen/core/Tensor.h>

#include <map>
#include <string>

namespace stipple::core {

using StateDict = std::map<std::string, at::Tensor>;

} // namespace stipple::core
