// The tensors (diffusers names and shapes) a diffusers config implies, for
// the SD 1.x / 2.x family: UNet2DConditionModel (CrossAttn/plain down and up
// blocks, one transformer layer per block), AutoencoderKL, CLIPTextModel.
// Used to validate opened checkpoints (missing / unexpected / wrong-shaped
// tensors reported by name) and by `stipple-cli export-random`.
// Also the reference SD 1.5 configs (runwayml/stable-diffusion-v1-5, as
// written by diffusers 0.25 / transformers 4.30).
// Thread-safety: pure functions.
#pragma once

#include "core/common/Result.h"
#include "core/io/StateDict.h"

#include <nlohmann/json.hpp>

#include <cstdint>
#include <string>
#include <vector>

namespace stipple::core {

struct TensorSpec {
    std::string name;
    std::vector<std::int64_t> shape;
};

// Errors (InvalidArgument) when the config lacks a needed field.
Result<std::vector<TensorSpec>> unetTensorSpecs(const nlohmann::json &config);
Result<std::vector<TensorSpec>> vaeTensorSpecs(const nlohmann::json &config);
Result<std::vector<TensorSpec>> textEncoderTensorSpecs(const nlohmann::json &config);

std::int64_t specParameterCount(const std::vector<TensorSpec> &specs);

// Compares `weights` with `specs`: MissingKeys / UnexpectedKeys /
// ShapeMismatch naming `component` and `source` and listing up to 10 keys.
Status checkAgainstSpecs(const StateDict &weights, const std::vector<TensorSpec> &specs,
                         const std::string &component, const std::string &source);

nlohmann::json sd15UnetConfig();
nlohmann::json sd15VaeConfig();
nlohmann::json sd15TextEncoderConfig();
nlohmann::json sd15SchedulerConfig(); // PNDM, epsilon

} // namespace stipple::core
