// UNetConfig parsing (see UNetConfig.h).
#include "core/models/unet/UNetConfig.h"

#include <nlohmann/json.hpp>

#include <algorithm>

namespace stipple::core {

namespace {

Error bad(const std::string &what)
{
    return makeError(ErrorCode::UnsupportedModel, "unet config: " + what);
}

bool isNullOrMissing(const nlohmann::json &j, const char *key)
{
    return !j.contains(key) || j.at(key).is_null();
}

} // namespace

UNetConfig UNetConfig::sd15() { return UNetConfig{}; }

Result<UNetConfig> UNetConfig::fromJson(const nlohmann::json &j)
{
    if (!j.is_object())
        return makeError(ErrorCode::CorruptFile, "unet config: not a JSON object");
    UNetConfig c;
    try {
        c.inChannels = j.value("in_channels", c.inChannels);
        c.outChannels = j.value("out_channels", c.outChannels);
        if (j.contains("block_out_channels"))
            c.blockOutChannels = j.at("block_out_channels").get<std::vector<std::int64_t>>();
        c.layersPerBlock = j.value("layers_per_block", c.layersPerBlock);
        if (j.contains("down_block_types"))
            c.downBlockTypes = j.at("down_block_types").get<std::vector<std::string>>();
        if (j.contains("up_block_types"))
            c.upBlockTypes = j.at("up_block_types").get<std::vector<std::string>>();
        if (j.contains("cross_attention_dim") && j.at("cross_attention_dim").is_number())
            c.crossAttentionDim = j.at("cross_attention_dim").get<std::int64_t>();
        else if (j.contains("cross_attention_dim") && !j.at("cross_attention_dim").is_null())
            return bad("per-block cross_attention_dim is not supported");
        c.useLinearProjection = j.value("use_linear_projection", false);
        c.upcastAttention = j.value("upcast_attention", false);
        if (!isNullOrMissing(j, "norm_num_groups"))
            c.normNumGroups = j.at("norm_num_groups").get<std::int64_t>();
        if (!isNullOrMissing(j, "norm_eps"))
            c.normEps = j.at("norm_eps").get<double>();
        c.flipSinToCos = j.value("flip_sin_to_cos", true);
        if (!isNullOrMissing(j, "freq_shift"))
            c.freqShift = j.at("freq_shift").get<double>();
        if (!isNullOrMissing(j, "downsample_padding"))
            c.downsamplePadding = j.at("downsample_padding").get<std::int64_t>();

        const std::size_t levels = c.blockOutChannels.size();
        // diffusers 0.25: num_attention_heads = num_attention_heads or attention_head_dim.
        const nlohmann::json *heads = nullptr;
        if (!isNullOrMissing(j, "num_attention_heads"))
            heads = &j.at("num_attention_heads");
        else if (!isNullOrMissing(j, "attention_head_dim"))
            heads = &j.at("attention_head_dim");
        if (heads && heads->is_number())
            c.numHeads.assign(levels, heads->get<std::int64_t>());
        else if (heads && heads->is_array())
            c.numHeads = heads->get<std::vector<std::int64_t>>();
        else
            c.numHeads.assign(levels, 8);

        if (j.contains("transformer_layers_per_block")) {
            const auto &t = j.at("transformer_layers_per_block");
            const bool one = (t.is_number() && t.get<int>() == 1) ||
                             (t.is_array() && std::all_of(t.begin(), t.end(), [](const auto &v) {
                                  return v.is_number() && v.template get<int>() == 1;
                              }));
            if (!one)
                return bad("transformer_layers_per_block other than 1 (SDXL) is not supported");
        }
        for (const char *key : {"class_embed_type", "addition_embed_type", "encoder_hid_dim",
                                "time_cond_proj_dim", "num_class_embeds"}) {
            if (!isNullOrMissing(j, key))
                return bad(std::string(key) + " is not supported");
        }
        if (j.value("time_embedding_type", std::string("positional")) != "positional")
            return bad("time_embedding_type must be positional");
        if (j.value("mid_block_type", std::string("UNetMidBlock2DCrossAttn")) !=
            "UNetMidBlock2DCrossAttn")
            return bad("mid_block_type must be UNetMidBlock2DCrossAttn");
        if (j.value("resnet_time_scale_shift", std::string("default")) != "default")
            return bad("resnet_time_scale_shift must be default");
        if (j.value("only_cross_attention", false) || j.value("dual_cross_attention", false))
            return bad("only/dual cross attention is not supported");
        if (j.value("act_fn", std::string("silu")) != "silu")
            return bad("act_fn must be silu");
    } catch (const nlohmann::json::exception &e) {
        return makeError(ErrorCode::CorruptFile, std::string("unet config: ") + e.what());
    }

    const std::size_t levels = c.blockOutChannels.size();
    if (levels == 0 || c.downBlockTypes.size() != levels || c.upBlockTypes.size() != levels ||
        c.numHeads.size() != levels)
        return bad("block_out_channels, block types and heads must have one entry per level");
    for (const auto &t : c.downBlockTypes)
        if (t != "CrossAttnDownBlock2D" && t != "DownBlock2D")
            return bad("unsupported down block type " + t);
    for (const auto &t : c.upBlockTypes)
        if (t != "CrossAttnUpBlock2D" && t != "UpBlock2D")
            return bad("unsupported up block type " + t);
    for (std::size_t i = 0; i < levels; ++i) {
        if (c.numHeads[i] <= 0 || c.blockOutChannels[i] % c.numHeads[i] != 0)
            return bad("channels must be divisible by the number of heads");
        if (c.blockOutChannels[i] % c.normNumGroups != 0)
            return bad("channels must be divisible by norm_num_groups");
    }
    if (c.inChannels <= 0 || c.outChannels <= 0 || c.layersPerBlock <= 0 || c.crossAttentionDim <= 0)
        return bad("channel counts must be positive");
    return c;
}

} // namespace stipple::core
