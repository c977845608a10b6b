#include "core/io/ConfigSynthesis.h"

#include "core/io/ArchitectureSpec.h"

#include <ATen/ATen.h>

#include <cctype>
#include <cstdlib>
#include <fstream>
#include <sstream>

namespace stipple::core {

namespace {

std::string trim(const std::string &s)
{
    std::size_t b = 0, e = s.size();
    while (b < e && std::isspace(static_cast<unsigned char>(s[b])))
        ++b;
    while (e > b && std::isspace(static_cast<unsigned char>(s[e - 1])))
        --e;
    return s.substr(b, e - b);
}

bool startsWith(const std::string &s, const std::string &p) { return s.compare(0, p.size(), p) == 0; }

std::int64_t dim(const StateDict &sd, const std::string &key, int d, std::int64_t fallback)
{
    const auto it = sd.find(key);
    if (it == sd.end() || it->second.dim() <= d)
        return fallback;
    return it->second.size(d);
}

int countIndices(const StateDict &sd, const std::string &prefix)
{
    int best = -1;
    for (auto it = sd.lower_bound(prefix); it != sd.end() && startsWith(it->first, prefix); ++it) {
        const int v = std::atoi(it->first.c_str() + prefix.size());
        best = std::max(best, v);
    }
    return best + 1;
}

bool has(const StateDict &sd, const std::string &prefix)
{
    const auto it = sd.lower_bound(prefix);
    return it != sd.end() && startsWith(it->first, prefix);
}

} // namespace

std::optional<std::string> LdmYaml::get(const std::string &key) const
{
    const auto it = values.find(key);
    if (it == values.end())
        return std::nullopt;
    return it->second;
}

std::optional<double> LdmYaml::number(const std::string &key) const
{
    const auto v = get(key);
    if (!v)
        return std::nullopt;
    char *end = nullptr;
    const double d = std::strtod(v->c_str(), &end);
    if (end == v->c_str())
        return std::nullopt;
    return d;
}

LdmYaml parseLdmYaml(const std::string &text, const std::string &path)
{
    LdmYaml y;
    y.present = true;
    y.path = path;
    std::istringstream in(text);
    std::string line;
    while (std::getline(in, line)) {
        const std::string t = trim(line);
        if (t.empty())
            continue;
        if (t[0] == '#') {
            // e.g. "# tiny: width 32, heads 4, mlp 37, ..." describing the text encoder.
            const auto h = t.find("heads ");
            if (h != std::string::npos && y.textEncoderHeads == 0)
                y.textEncoderHeads = std::atoi(t.c_str() + h + 6);
            continue;
        }
        const auto colon = t.find(':');
        if (colon == std::string::npos || colon == 0)
            continue;
        const std::string key = trim(t.substr(0, colon));
        std::string value = t.substr(colon + 1);
        const auto hash = value.find(" #");
        if (hash != std::string::npos)
            value = value.substr(0, hash);
        value = trim(value);
        if (value.size() >= 2 && (value.front() == '"' || value.front() == '\'') && value.back() == value.front())
            value = value.substr(1, value.size() - 2);
        if (!value.empty() && !y.values.count(key))
            y.values[key] = value;
    }
    return y;
}

LdmYaml readSiblingYaml(const std::string &checkpointPath)
{
    const auto slash = checkpointPath.find_last_of('/');
    const auto dot = checkpointPath.find_last_of('.');
    const std::string stem = (dot != std::string::npos && (slash == std::string::npos || dot > slash))
                                 ? checkpointPath.substr(0, dot)
                                 : checkpointPath;
    for (const char *ext : {".yaml", ".yml"}) {
        std::ifstream f(stem + ext);
        if (!f)
            continue;
        std::ostringstream s;
        s << f.rdbuf();
        if (s.str().size() > (1u << 20))
            break; // not an inference config
        return parseLdmYaml(s.str(), stem + ext);
    }
    return {};
}

nlohmann::json synthUnetConfig(const StateDict &unet, ModelFamily family, PredictionType prediction,
                               const LdmYaml &yaml)
{
    nlohmann::json cfg = sd15UnetConfig();
    const int levels = countIndices(unet, "down_blocks.");
    std::vector<std::int64_t> ch;
    std::vector<std::string> down, up;
    for (int i = 0; i < levels; ++i) {
        const std::string d = "down_blocks." + std::to_string(i) + ".";
        ch.push_back(dim(unet, d + "resnets.0.conv1.weight", 0, 0));
        down.push_back(has(unet, d + "attentions.") ? "CrossAttnDownBlock2D" : "DownBlock2D");
        const std::string u = "up_blocks." + std::to_string(i) + ".";
        up.push_back(has(unet, u + "attentions.") ? "CrossAttnUpBlock2D" : "UpBlock2D");
    }
    cfg["block_out_channels"] = ch;
    cfg["down_block_types"] = down;
    cfg["up_block_types"] = up;
    cfg["layers_per_block"] = countIndices(unet, "down_blocks.0.resnets.");
    cfg["in_channels"] = dim(unet, "conv_in.weight", 1, 4);
    cfg["out_channels"] = dim(unet, "conv_out.weight", 0, 4);
    cfg["cross_attention_dim"] = dim(unet, "mid_block.attentions.0.transformer_blocks.0.attn2.to_k.weight", 1, 768);
    const auto proj = unet.find("mid_block.attentions.0.proj_in.weight");
    cfg["use_linear_projection"] = proj != unet.end() && proj->second.dim() == 2;

    const double headChannels = yaml.number("num_head_channels").value_or(-1);
    const double heads = yaml.number("num_heads").value_or(-1);
    if (headChannels > 0) {
        std::vector<std::int64_t> perLevel;
        for (auto c : ch)
            perLevel.push_back(c / static_cast<std::int64_t>(headChannels));
        cfg["attention_head_dim"] = perLevel;
    } else if (heads > 0) {
        cfg["attention_head_dim"] = static_cast<std::int64_t>(heads);
    } else if (family == ModelFamily::SD2) {
        std::vector<std::int64_t> perLevel;
        for (auto c : ch)
            perLevel.push_back(std::max<std::int64_t>(1, c / 64));
        cfg["attention_head_dim"] = perLevel;
    } else {
        cfg["attention_head_dim"] = 8;
    }
    if (const auto s = yaml.number("image_size"))
        cfg["sample_size"] = static_cast<std::int64_t>(*s);
    else
        cfg["sample_size"] = (family == ModelFamily::SD2 && prediction == PredictionType::VPrediction) ? 96 : 64;
    return cfg;
}

nlohmann::json synthVaeConfig(const StateDict &vae, ModelFamily family, PredictionType prediction,
                              const LdmYaml &yaml)
{
    nlohmann::json cfg = sd15VaeConfig();
    const int levels = countIndices(vae, "encoder.down_blocks.");
    std::vector<std::int64_t> ch;
    std::vector<std::string> down, up;
    for (int i = 0; i < levels; ++i) {
        ch.push_back(dim(vae, "encoder.down_blocks." + std::to_string(i) + ".resnets.0.conv1.weight", 0, 0));
        down.push_back("DownEncoderBlock2D");
        up.push_back("UpDecoderBlock2D");
    }
    cfg["block_out_channels"] = ch;
    cfg["down_block_types"] = down;
    cfg["up_block_types"] = up;
    cfg["layers_per_block"] = countIndices(vae, "encoder.down_blocks.0.resnets.");
    cfg["in_channels"] = dim(vae, "encoder.conv_in.weight", 1, 3);
    cfg["out_channels"] = dim(vae, "decoder.conv_out.weight", 0, 3);
    cfg["latent_channels"] = dim(vae, "post_quant_conv.weight", 0, 4);
    if (const auto s = yaml.number("scale_factor"))
        cfg["scaling_factor"] = *s;
    // The VAE works in pixels: 8 x the latent image_size of the yaml.
    if (const auto r = yaml.number("image_size"))
        cfg["sample_size"] = 8 * static_cast<std::int64_t>(*r);
    else
        cfg["sample_size"] = (family == ModelFamily::SD2 && prediction == PredictionType::VPrediction) ? 768 : 512;
    return cfg;
}

nlohmann::json synthTextEncoderConfig(const StateDict &text, ModelFamily family, const LdmYaml &yaml)
{
    nlohmann::json cfg = sd15TextEncoderConfig();
    const std::int64_t hidden = dim(text, "text_model.embeddings.token_embedding.weight", 1, 768);
    cfg["hidden_size"] = hidden;
    cfg["vocab_size"] = dim(text, "text_model.embeddings.token_embedding.weight", 0, 49408);
    cfg["max_position_embeddings"] = dim(text, "text_model.embeddings.position_embedding.weight", 0, 77);
    cfg["intermediate_size"] = dim(text, "text_model.encoder.layers.0.mlp.fc1.weight", 0, 4 * hidden);
    cfg["num_hidden_layers"] = countIndices(text, "text_model.encoder.layers.");
    std::int64_t heads = 0;
    if (hidden >= 256 && hidden % 64 == 0)
        heads = hidden / 64;
    else if (yaml.textEncoderHeads > 0 && hidden % yaml.textEncoderHeads == 0)
        heads = yaml.textEncoderHeads;
    else
        heads = std::max<std::int64_t>(1, hidden / 8);
    cfg["num_attention_heads"] = heads;
    if (family == ModelFamily::SD2) {
        cfg["hidden_act"] = "gelu";
        cfg["projection_dim"] = hidden >= 1024 ? 512 : hidden;
    } else {
        cfg["projection_dim"] = hidden;
    }
    return cfg;
}

nlohmann::json synthSchedulerConfig(PredictionType prediction, const LdmYaml &yaml)
{
    nlohmann::json cfg = sd15SchedulerConfig();
    if (const auto v = yaml.number("linear_start"))
        cfg["beta_start"] = *v;
    if (const auto v = yaml.number("linear_end"))
        cfg["beta_end"] = *v;
    if (const auto v = yaml.number("timesteps"))
        cfg["num_train_timesteps"] = static_cast<std::int64_t>(*v);
    cfg["prediction_type"] = predictionTypeName(prediction);
    return cfg;
}

} // namespace stipple::core
