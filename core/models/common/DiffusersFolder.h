// Helpers for reading a diffusers component folder (config.json +
// diffusion_pytorch_model.safetensors / model.safetensors).
// Thread-safety: free functions without shared state.
#pragma once

#include "core/common/Result.h"
#include "core/io/StateDict.h"

#include <nlohmann/json.hpp>

#include <string>

namespace stipple::core {

// Parses a JSON file; FileNotFound / CorruptFile errors name the path.
Result<nlohmann::json> readJsonFile(const std::string &path);

// All tensors of a safetensors file, floating ones converted to float32.
Result<StateDict> readSafeTensorsFloat(const std::string &path);

// <dir>/diffusion_pytorch_model.safetensors or <dir>/model.safetensors.
Result<std::string> findDiffusersWeights(const std::string &dir);

} // namespace stipple::core
