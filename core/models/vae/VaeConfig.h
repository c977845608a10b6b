// AutoencoderKL hyper-parameters from a diffusers 0.25 vae/config.json.
// Thread-safety: plain value.
#pragma once

#include "core/common/Result.h"

#include <nlohmann/json_fwd.hpp>

#include <cstdint>
#include <vector>

namespace stipple::core {

struct VaeConfig {
    std::int64_t inChannels = 3;
    std::int64_t outChannels = 3;
    std::int64_t latentChannels = 4;
    std::vector<std::int64_t> blockOutChannels{128, 256, 512, 512};
    std::int64_t layersPerBlock = 2;
    std::int64_t normNumGroups = 32;
    double scalingFactor = 0.18215;
    std::int64_t sampleSize = 512; // pixels; the default tile size for tiled work

    static Result<VaeConfig> fromJson(const nlohmann::json &json);
    static VaeConfig sd15() { return VaeConfig{}; }

    // Pixels per latent pixel: 2^(levels - 1).
    std::int64_t spatialFactor() const { return std::int64_t(1) << (blockOutChannels.size() - 1); }
};

} // namespace stipple::core
