// VaeConfig parsing (see VaeConfig.h).
#include "core/models/vae/VaeConfig.h"

#include <nlohmann/json.hpp>

#include <string>

namespace stipple::core {

Result<VaeConfig> VaeConfig::fromJson(const nlohmann::json &j)
{
    if (!j.is_object())
        return makeError(ErrorCode::CorruptFile, "vae config: not a JSON object");
    VaeConfig c;
    try {
        c.inChannels = j.value("in_channels", c.inChannels);
        c.outChannels = j.value("out_channels", c.outChannels);
        c.latentChannels = j.value("latent_channels", c.latentChannels);
        if (j.contains("block_out_channels"))
            c.blockOutChannels = j.at("block_out_channels").get<std::vector<std::int64_t>>();
        c.layersPerBlock = j.value("layers_per_block", c.layersPerBlock);
        c.normNumGroups = j.value("norm_num_groups", c.normNumGroups);
        if (j.contains("scaling_factor") && j.at("scaling_factor").is_number())
            c.scalingFactor = j.at("scaling_factor").get<double>();
        if (j.contains("sample_size") && j.at("sample_size").is_number())
            c.sampleSize = j.at("sample_size").get<std::int64_t>();
        for (const char *key : {"down_block_types", "up_block_types"}) {
            if (!j.contains(key))
                continue;
            for (const auto &t : j.at(key)) {
                const std::string s = t.get<std::string>();
                if (s != "DownEncoderBlock2D" && s != "UpDecoderBlock2D")
                    return makeError(ErrorCode::UnsupportedModel, "vae config: block type " + s);
            }
        }
        if (j.value("act_fn", std::string("silu")) != "silu")
            return makeError(ErrorCode::UnsupportedModel, "vae config: act_fn must be silu");
        if (j.contains("latents_mean") && !j.at("latents_mean").is_null())
            return makeError(ErrorCode::UnsupportedModel, "vae config: latents_mean (SDXL/SD3 VAE)");
    } catch (const nlohmann::json::exception &e) {
        return makeError(ErrorCode::CorruptFile, std::string("vae config: ") + e.what());
    }
    if (c.blockOutChannels.empty() || c.layersPerBlock <= 0 || c.latentChannels <= 0)
        return makeError(ErrorCode::UnsupportedModel, "vae config: invalid sizes");
    for (auto ch : c.blockOutChannels)
        if (ch <= 0 || ch % c.normNumGroups != 0)
            return makeError(ErrorCode::UnsupportedModel,
                             "vae config: channels must be divisible by norm_num_groups");
    return c;
}

} // namespace stipple::core
