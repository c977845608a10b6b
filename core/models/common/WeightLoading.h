// Strict loading of a StateDict into a torch::nn::Module by diffusers names.
// Every parameter and buffer of the module must be present with the same
// shape (missing keys / shape mismatches are errors), and every tensor in the
// dict must be used (unexpected keys are errors). Values are copied into the
// module's parameters (converting dtype as needed), or adopted.
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

enum class WeightTransfer {
    Copy,  // copy_ into the module's own storage (the dict stays independent)
    Adopt, // the parameter takes the dict's tensor as its data (set_data): no
           // copy and no second copy in memory. The module then shares storage
           // with the dict (for a checkpoint: the converted arena or the
           // copy-on-write file mapping), so use it for dicts made for this build.
};

// `component` names the part in messages ("unet", "vae", "text_encoder").
// The error message lists up to ~10 offending keys of each kind and the counts.
Status loadWeightsStrict(torch::nn::Module &module, const StateDict &weights,
                         const std::string &component, WeightLoadReport *report = nullptr,
                         WeightTransfer transfer = WeightTransfer::Copy);

} // namespace stipple::core
