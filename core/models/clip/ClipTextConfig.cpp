// CLIPTextConfig json parsing (see ClipTextConfig.h).
#include "core/models/clip/ClipTextConfig.h"

#include <nlohmann/json.hpp>

namespace stipple::core {

namespace {

Error configError(const std::string &what)
{
    return makeError(ErrorCode::CorruptFile, "text encoder config: " + what);
}

// Reads a positive integer field when present.
bool readPositive(const nlohmann::json &j, const char *key, int *out, std::string *error)
{
    const auto it = j.find(key);
    if (it == j.end() || it->is_null())
        return true;
    if (!it->is_number_integer() || it->get<long long>() <= 0 || it->get<long long>() > (1LL << 30)) {
        *error = std::string(key) + " must be a positive integer, got " + it->dump();
        return false;
    }
    *out = it->get<int>();
    return true;
}

} // namespace

Result<ClipTextConfig> ClipTextConfig::fromJson(const nlohmann::json &json)
{
    if (!json.is_object())
        return configError("not a JSON object");
    ClipTextConfig c;
    std::string error;
    if (!readPositive(json, "hidden_size", &c.hiddenSize, &error) ||
        !readPositive(json, "num_hidden_layers", &c.numHiddenLayers, &error) ||
        !readPositive(json, "num_attention_heads", &c.numAttentionHeads, &error) ||
        !readPositive(json, "intermediate_size", &c.intermediateSize, &error) ||
        !readPositive(json, "max_position_embeddings", &c.maxPositionEmbeddings, &error) ||
        !readPositive(json, "vocab_size", &c.vocabSize, &error))
        return configError(error);
    if (c.hiddenSize % c.numAttentionHeads != 0)
        return configError("hidden_size " + std::to_string(c.hiddenSize) +
                           " is not divisible by num_attention_heads " +
                           std::to_string(c.numAttentionHeads));
    if (const auto it = json.find("hidden_act"); it != json.end() && !it->is_null()) {
        if (!it->is_string())
            return configError("hidden_act must be a string");
        const auto act = it->get<std::string>();
        if (act == "quick_gelu")
            c.hiddenAct = ClipActivation::QuickGelu;
        else if (act == "gelu")
            c.hiddenAct = ClipActivation::Gelu;
        else
            return configError("unsupported hidden_act \"" + act + "\" (quick_gelu or gelu)");
    }
    if (const auto it = json.find("layer_norm_eps"); it != json.end() && !it->is_null()) {
        if (!it->is_number() || it->get<double>() <= 0)
            return configError("layer_norm_eps must be a positive number");
        c.layerNormEps = it->get<double>();
    }
    return c;
}

} // namespace stipple::core
