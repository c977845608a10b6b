// UNet2DConditionModel hyper-parameters, read from a diffusers 0.25
// unet/config.json (the subset SD 1.x / 2.x / inpaint models use).
// Thread-safety: plain value.
#pragma once

#include "core/common/Result.h"

#include <nlohmann/json_fwd.hpp>

#include <cstdint>
#include <string>
#include <vector>

namespace stipple::core {

struct UNetConfig {
    std::int64_t inChannels = 4;  // 4, 9 (inpaint), 5 (depth)
    std::int64_t outChannels = 4;
    std::vector<std::int64_t> blockOutChannels{320, 640, 1280, 1280};
    std::int64_t layersPerBlock = 2;
    // Heads per level. diffusers' `attention_head_dim` is (mis)named: for SD1
    // it is the number of heads (int), for SD2 a per-level list of heads;
    // `num_attention_heads` wins when present.
    std::vector<std::int64_t> numHeads{8, 8, 8, 8};
    std::int64_t crossAttentionDim = 768;
    std::vector<std::string> downBlockTypes{"CrossAttnDownBlock2D", "CrossAttnDownBlock2D",
                                            "CrossAttnDownBlock2D", "DownBlock2D"};
    std::vector<std::string> upBlockTypes{"UpBlock2D", "CrossAttnUpBlock2D", "CrossAttnUpBlock2D",
                                          "CrossAttnUpBlock2D"};
    bool useLinearProjection = false; // SD2: Linear proj_in/out instead of 1x1 convs
    bool upcastAttention = false;     // SD 2.1: q·kᵀ in float32
    std::int64_t normNumGroups = 32;
    double normEps = 1e-5;
    bool flipSinToCos = true;
    double freqShift = 0;
    std::int64_t downsamplePadding = 1;

    // Parses config.json; rejects features this model does not implement
    // (class/addition embeddings, SDXL, transformer_layers_per_block != 1...).
    static Result<UNetConfig> fromJson(const nlohmann::json &json);

    // Stable Diffusion 1.5's UNet (860M parameters).
    static UNetConfig sd15();

    std::int64_t timeEmbedDim() const { return blockOutChannels.front() * 4; }
};

} // namespace stipple::core
