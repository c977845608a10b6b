// Strict loading of a StateDict into a torch::nn::Module by diffusers names.
// Every parameter and buffer of the module must be present with the same
// shape (missing keys / shape mismatches are errors), and every tensor in the
// dict must be used (unexpected keys are errors). Values are copied into the
// module's parameters (converting dtype as needed).
// Thread-safety: call from the thread that owns the module.
#pragma once

#include "core/common/Result.h"
#include "core/io/StateDict.h"

#include <torch/nn/module.h>

#include <string>
#include <vector>

namespace stipple::core {

struct WeightLoadReport {
    std::vector<std::string> missing;
    std::vector<std::string> unexpected;
    std::vector<std::string> shapeMismatches; // "name: expected [..] got [..]"
};

// `component` names the part in messages ("unet", "vae", "text_encoder").
// The error message lists up to ~10 offending keys of each kind and the counts.
Status loadWeightsStrict(torch::nn::Module &module, const StateDict &weights,
                         const std::string &component, WeightLoadReport *report = nullptr);

} // namespace stipple::core
