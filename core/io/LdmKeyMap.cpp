#include "core/io/LdmKeyMap.h"

#include <ATen/ATen.h>

#include <algorithm>
#include <cstdlib>
#include <map>
#include <set>
#include <utility>

namespace stipple::core {

namespace {

enum class Inner { Plain, UnetResnet, VaeResnet, VaeAttention };

struct PrefixRule {
    std::string ldm;
    std::string diffusers;
    Inner inner;
};

using RenameList = std::vector<std::pair<const char *, const char *>>; // ldm, diffusers

const RenameList &innerRenames(Inner inner)
{
    static const RenameList none;
    static const RenameList unetResnet = {{"in_layers.0.", "norm1."},     {"in_layers.2.", "conv1."},
                                          {"emb_layers.1.", "time_emb_proj."}, {"out_layers.0.", "norm2."},
                                          {"out_layers.3.", "conv2."},    {"skip_connection.", "conv_shortcut."}};
    static const RenameList vaeResnet = {{"nin_shortcut.", "conv_shortcut."}};
    static const RenameList vaeAttention = {{"norm.", "group_norm."}, {"q.", "to_q."}, {"k.", "to_k."},
                                            {"v.", "to_v."},          {"proj_out.", "to_out.0."}};
    switch (inner) {
    case Inner::UnetResnet: return unetResnet;
    case Inner::VaeResnet: return vaeResnet;
    case Inner::VaeAttention: return vaeAttention;
    case Inner::Plain: break;
    }
    return none;
}

bool startsWith(const std::string &s, const std::string &p) { return s.compare(0, p.size(), p) == 0; }
std::string str(int i) { return std::to_string(i); }

std::vector<PrefixRule> unetRules(const LdmBlockLayout &l)
{
    const int n = l.layersPerBlock;
    std::vector<PrefixRule> r = {
        {"time_embed.0.", "time_embedding.linear_1.", Inner::Plain},
        {"time_embed.2.", "time_embedding.linear_2.", Inner::Plain},
        {"input_blocks.0.0.", "conv_in.", Inner::Plain},
        {"out.0.", "conv_norm_out.", Inner::Plain},
        {"out.2.", "conv_out.", Inner::Plain},
        {"middle_block.0.", "mid_block.resnets.0.", Inner::UnetResnet},
        {"middle_block.1.", "mid_block.attentions.0.", Inner::Plain},
        {"middle_block.2.", "mid_block.resnets.1.", Inner::UnetResnet},
    };
    for (int i = 0; i < l.levels; ++i) {
        const std::string d = "down_blocks." + str(i) + ".";
        for (int j = 0; j < n; ++j) {
            const std::string in = "input_blocks." + str(1 + i * (n + 1) + j) + ".";
            r.push_back({in + "0.", d + "resnets." + str(j) + ".", Inner::UnetResnet});
            r.push_back({in + "1.", d + "attentions." + str(j) + ".", Inner::Plain});
        }
        if (i + 1 < l.levels)
            r.push_back({"input_blocks." + str((i + 1) * (n + 1)) + ".0.op.", d + "downsamplers.0.conv.", Inner::Plain});
        const std::string u = "up_blocks." + str(i) + ".";
        for (int j = 0; j <= n; ++j) {
            const std::string out = "output_blocks." + str(i * (n + 1) + j) + ".";
            r.push_back({out + "0.", u + "resnets." + str(j) + ".", Inner::UnetResnet});
            if (i < static_cast<int>(l.upAttention.size()) && l.upAttention[i])
                r.push_back({out + "1.", u + "attentions." + str(j) + ".", Inner::Plain});
        }
        if (i + 1 < l.levels) {
            const bool attn = i < static_cast<int>(l.upAttention.size()) && l.upAttention[i];
            r.push_back({"output_blocks." + str(i * (n + 1) + n) + "." + (attn ? "2" : "1") + ".conv.",
                         u + "upsamplers.0.conv.", Inner::Plain});
        }
    }
    return r;
}

std::vector<PrefixRule> vaeRules(const LdmBlockLayout &l)
{
    const int n = l.layersPerBlock;
    std::vector<PrefixRule> r = {
        {"quant_conv.", "quant_conv.", Inner::Plain},
        {"post_quant_conv.", "post_quant_conv.", Inner::Plain},
    };
    for (const char *side : {"encoder", "decoder"}) {
        const std::string s = std::string(side) + ".";
        r.push_back({s + "conv_in.", s + "conv_in.", Inner::Plain});
        r.push_back({s + "conv_out.", s + "conv_out.", Inner::Plain});
        r.push_back({s + "norm_out.", s + "conv_norm_out.", Inner::Plain});
        r.push_back({s + "mid.block_1.", s + "mid_block.resnets.0.", Inner::VaeResnet});
        r.push_back({s + "mid.block_2.", s + "mid_block.resnets.1.", Inner::VaeResnet});
        r.push_back({s + "mid.attn_1.", s + "mid_block.attentions.0.", Inner::VaeAttention});
    }
    for (int i = 0; i < l.levels; ++i) {
        const std::string e = "encoder.down." + str(i) + ".";
        const std::string ed = "encoder.down_blocks." + str(i) + ".";
        for (int j = 0; j < n; ++j)
            r.push_back({e + "block." + str(j) + ".", ed + "resnets." + str(j) + ".", Inner::VaeResnet});
        if (i + 1 < l.levels)
            r.push_back({e + "downsample.conv.", ed + "downsamplers.0.conv.", Inner::Plain});
        // The LDM decoder numbers its levels from the lowest resolution up.
        const std::string dcl = "decoder.up." + str(l.levels - 1 - i) + ".";
        const std::string dd = "decoder.up_blocks." + str(i) + ".";
        for (int j = 0; j <= n; ++j)
            r.push_back({dcl + "block." + str(j) + ".", dd + "resnets." + str(j) + ".", Inner::VaeResnet});
        if (i + 1 < l.levels)
            r.push_back({dcl + "upsample.conv.", dd + "upsamplers.0.conv.", Inner::Plain});
    }
    return r;
}

std::string listKeys(const std::vector<std::string> &v)
{
    std::string s;
    for (std::size_t i = 0; i < v.size() && i < 10; ++i)
        s += (i ? ", " : "") + v[i];
    if (v.size() > 10)
        s += ", ... (" + std::to_string(v.size()) + " in all)";
    return s;
}

// toDiffusers: LDM -> diffusers; otherwise the inverse.
Result<StateDict> applyRules(const StateDict &in, const std::vector<PrefixRule> &rules, bool toDiffusers,
                             const std::string &component, const std::string &label)
{
    StateDict out;
    std::vector<std::string> unknown;
    for (const auto &[key, tensor] : in) {
        const PrefixRule *best = nullptr;
        std::size_t bestLen = 0;
        for (const auto &rule : rules) {
            const std::string &p = toDiffusers ? rule.ldm : rule.diffusers;
            if (p.size() > bestLen && startsWith(key, p)) {
                best = &rule;
                bestLen = p.size();
            }
        }
        if (!best) {
            unknown.push_back(key);
            continue;
        }
        std::string rest = key.substr(bestLen);
        bool renamed = false;
        for (const auto &[ldm, diff] : innerRenames(best->inner)) {
            const std::string from = toDiffusers ? ldm : diff;
            const std::string to = toDiffusers ? diff : ldm;
            if (startsWith(rest, from)) {
                rest = to + rest.substr(from.size());
                renamed = true;
                break;
            }
        }
        at::Tensor t = tensor;
        if (best->inner == Inner::VaeAttention && renamed && rest.size() >= 6
            && rest.compare(rest.size() - 6, 6, "weight") == 0 && !startsWith(rest, toDiffusers ? "group_norm." : "norm.")) {
            // 1x1 conv [C,C,1,1] in LDM <-> Linear [C,C] in diffusers.
            if (toDiffusers && t.dim() == 4)
                t = t.reshape({t.size(0), t.size(1)});
            else if (!toDiffusers && t.dim() == 2)
                t = t.reshape({t.size(0), t.size(1), 1, 1});
        }
        const std::string name = (toDiffusers ? best->diffusers : best->ldm) + rest;
        if (!out.emplace(name, t).second)
            unknown.push_back(key + " (duplicate of " + name + ")");
    }
    if (!unknown.empty())
        return makeError(ErrorCode::UnexpectedKeys, "'" + label + "': " + component + ": "
                                                        + std::to_string(unknown.size())
                                                        + " tensor(s) with unknown names: " + listKeys(unknown));
    return out;
}

// Largest N such that a key starts with prefix + N + ".", or -1.
int maxIndex(const StateDict &sd, const std::string &prefix)
{
    int best = -1;
    for (const auto &kv : sd) {
        if (!startsWith(kv.first, prefix))
            continue;
        const char *p = kv.first.c_str() + prefix.size();
        char *end = nullptr;
        const long v = std::strtol(p, &end, 10);
        if (end != p && *end == '.' && v >= 0 && v < 100000)
            best = std::max(best, static_cast<int>(v));
    }
    return best;
}

bool hasPrefix(const StateDict &sd, const std::string &prefix)
{
    const auto it = sd.lower_bound(prefix);
    return it != sd.end() && startsWith(it->first, prefix);
}

} // namespace

Result<LdmBlockLayout> unetLayoutFromLdm(const StateDict &ldm)
{
    std::set<int> ops;
    for (const auto &kv : ldm) {
        const std::string &k = kv.first;
        if (!startsWith(k, "input_blocks.") || k.find(".0.op.") == std::string::npos)
            continue;
        ops.insert(std::atoi(k.c_str() + 13));
    }
    LdmBlockLayout l;
    const int lastInput = maxIndex(ldm, "input_blocks.");
    if (lastInput < 1)
        return makeError(ErrorCode::UnknownModel, "UNet has no input_blocks");
    if (ops.empty()) {
        l.levels = 1;
        l.layersPerBlock = lastInput;
    } else {
        l.layersPerBlock = *ops.begin() - 1;
        l.levels = static_cast<int>(ops.size()) + 1;
    }
    const int n = l.layersPerBlock;
    if (n < 1 || lastInput != l.levels * (n + 1) - 1)
        return makeError(ErrorCode::UnknownModel, "UNet input_blocks do not form a regular layout");
    for (int i = 0; i < l.levels; ++i) {
        l.downAttention.push_back(hasPrefix(ldm, "input_blocks." + str(1 + i * (n + 1)) + ".1."));
        l.upAttention.push_back(hasPrefix(ldm, "output_blocks." + str(i * (n + 1)) + ".1."));
    }
    return l;
}

LdmBlockLayout unetLayoutFromConfig(const nlohmann::json &config)
{
    LdmBlockLayout l;
    const auto down = config.value("down_block_types", std::vector<std::string>{});
    const auto up = config.value("up_block_types", std::vector<std::string>{});
    l.levels = static_cast<int>(down.size());
    l.layersPerBlock = config.value("layers_per_block", 2);
    for (const auto &t : down)
        l.downAttention.push_back(t.find("CrossAttn") != std::string::npos);
    for (const auto &t : up)
        l.upAttention.push_back(t.find("CrossAttn") != std::string::npos);
    return l;
}

Result<LdmBlockLayout> vaeLayoutFromLdm(const StateDict &ldm)
{
    LdmBlockLayout l;
    l.levels = maxIndex(ldm, "encoder.down.") + 1;
    l.layersPerBlock = maxIndex(ldm, "encoder.down.0.block.") + 1;
    if (l.levels < 1 || l.layersPerBlock < 1)
        return makeError(ErrorCode::UnknownModel, "VAE has no encoder.down blocks");
    return l;
}

LdmBlockLayout vaeLayoutFromConfig(const nlohmann::json &config)
{
    LdmBlockLayout l;
    l.levels = static_cast<int>(config.value("block_out_channels", std::vector<int>{}).size());
    l.layersPerBlock = config.value("layers_per_block", 2);
    return l;
}

Result<StateDict> ldmUnetToDiffusers(const StateDict &ldm, const LdmBlockLayout &layout, const std::string &label)
{
    return applyRules(ldm, unetRules(layout), true, "unet", label);
}

Result<StateDict> ldmVaeToDiffusers(const StateDict &ldm, const LdmBlockLayout &layout, const std::string &label)
{
    return applyRules(ldm, vaeRules(layout), true, "vae", label);
}

Result<StateDict> diffusersUnetToLdm(const StateDict &weights, const LdmBlockLayout &layout)
{
    return applyRules(weights, unetRules(layout), false, "unet", "export");
}

Result<StateDict> diffusersVaeToLdm(const StateDict &weights, const LdmBlockLayout &layout)
{
    return applyRules(weights, vaeRules(layout), false, "vae", "export");
}

Result<StateDict> ldmClipToDiffusers(const StateDict &ldm, const std::string &label)
{
    StateDict out;
    for (const auto &[key, t] : ldm) {
        // Older transformers versions saved CLIPTextModel without "text_model.".
        std::string name = startsWith(key, "text_model.") ? key : "text_model." + key;
        if (name == "text_model.embeddings.position_ids")
            continue;
        out.emplace(std::move(name), t);
    }
    return out;
}

Result<StateDict> openClipToDiffusers(const StateDict &ldm, const std::string &label)
{
    const int blocks = maxIndex(ldm, "transformer.resblocks.") + 1;
    if (blocks < 2)
        return makeError(ErrorCode::UnknownModel, "'" + label + "': OpenCLIP text encoder has fewer than 2 blocks");
    const int used = blocks - 1; // SD 2.x conditions on the penultimate block
    static const RenameList blockRenames = {{"ln_1.", "layer_norm1."},
                                            {"ln_2.", "layer_norm2."},
                                            {"attn.out_proj.", "self_attn.out_proj."},
                                            {"mlp.c_fc.", "mlp.fc1."},
                                            {"mlp.c_proj.", "mlp.fc2."}};
    StateDict out;
    std::vector<std::string> unknown;
    for (const auto &[key, t] : ldm) {
        if (key == "text_projection" || key == "logit_scale" || key == "attn_mask")
            continue;
        if (key == "token_embedding.weight") {
            out["text_model.embeddings.token_embedding.weight"] = t;
        } else if (key == "positional_embedding") {
            out["text_model.embeddings.position_embedding.weight"] = t;
        } else if (startsWith(key, "ln_final.")) {
            out["text_model.final_layer_norm." + key.substr(9)] = t;
        } else if (startsWith(key, "transformer.resblocks.")) {
            const int b = std::atoi(key.c_str() + 22);
            const std::string prefix = "transformer.resblocks." + str(b) + ".";
            if (!startsWith(key, prefix)) {
                unknown.push_back(key);
                continue;
            }
            if (b >= used)
                continue; // the unused last block
            const std::string rest = key.substr(prefix.size());
            const std::string dst = "text_model.encoder.layers." + str(b) + ".";
            if (rest == "attn.in_proj_weight" || rest == "attn.in_proj_bias") {
                if (t.size(0) % 3 != 0) {
                    unknown.push_back(key + " (not divisible in q/k/v)");
                    continue;
                }
                const auto parts = t.chunk(3, 0);
                const std::string suffix = rest == "attn.in_proj_weight" ? "weight" : "bias";
                out[dst + "self_attn.q_proj." + suffix] = parts[0];
                out[dst + "self_attn.k_proj." + suffix] = parts[1];
                out[dst + "self_attn.v_proj." + suffix] = parts[2];
                continue;
            }
            bool done = false;
            for (const auto &[from, to] : blockRenames) {
                if (startsWith(rest, from)) {
                    out[dst + to + rest.substr(std::string(from).size())] = t;
                    done = true;
                    break;
                }
            }
            if (!done)
                unknown.push_back(key);
        } else {
            unknown.push_back(key);
        }
    }
    if (!unknown.empty())
        return makeError(ErrorCode::UnexpectedKeys, "'" + label + "': text_encoder (OpenCLIP): "
                                                        + std::to_string(unknown.size())
                                                        + " tensor(s) with unknown names: " + listKeys(unknown));
    return out;
}

bool vaeUsesDiffusersNames(const StateDict &weights)
{
    return hasPrefix(weights, "encoder.down_blocks.") || hasPrefix(weights, "decoder.up_blocks.");
}

} // namespace stipple::core
