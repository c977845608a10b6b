#include "core/io/ArchitectureSpec.h"

#include <ATen/ATen.h>

#include <algorithm>
#include <set>
#include <sstream>

namespace stipple::core {

namespace {

using Shape = std::vector<std::int64_t>;

struct Builder {
    std::vector<TensorSpec> specs;
    void add(const std::string &name, Shape shape) { specs.push_back({name, std::move(shape)}); }
    void linear(const std::string &p, std::int64_t out, std::int64_t in, bool bias = true)
    {
        add(p + ".weight", {out, in});
        if (bias)
            add(p + ".bias", {out});
    }
    void conv(const std::string &p, std::int64_t out, std::int64_t in, std::int64_t k)
    {
        add(p + ".weight", {out, in, k, k});
        add(p + ".bias", {out});
    }
    void norm(const std::string &p, std::int64_t c)
    {
        add(p + ".weight", {c});
        add(p + ".bias", {c});
    }
    // diffusers ResnetBlock2D (temb = 0: no time embedding projection).
    void resnet(const std::string &p, std::int64_t in, std::int64_t out, std::int64_t temb)
    {
        norm(p + ".norm1", in);
        conv(p + ".conv1", out, in, 3);
        if (temb > 0)
            linear(p + ".time_emb_proj", out, temb);
        norm(p + ".norm2", out);
        conv(p + ".conv2", out, out, 3);
        if (in != out)
            conv(p + ".conv_shortcut", out, in, 1);
    }
    // diffusers Transformer2DModel with one BasicTransformerBlock (GEGLU ff, mult 4).
    void transformer(const std::string &p, std::int64_t c, std::int64_t ctx, bool linearProj)
    {
        norm(p + ".norm", c);
        if (linearProj)
            linear(p + ".proj_in", c, c);
        else
            conv(p + ".proj_in", c, c, 1);
        const std::string b = p + ".transformer_blocks.0";
        linear(b + ".attn1.to_q", c, c, false);
        linear(b + ".attn1.to_k", c, c, false);
        linear(b + ".attn1.to_v", c, c, false);
        linear(b + ".attn1.to_out.0", c, c);
        linear(b + ".attn2.to_q", c, c, false);
        linear(b + ".attn2.to_k", c, ctx, false);
        linear(b + ".attn2.to_v", c, ctx, false);
        linear(b + ".attn2.to_out.0", c, c);
        linear(b + ".ff.net.0.proj", 8 * c, c);
        linear(b + ".ff.net.2", c, 4 * c);
        norm(b + ".norm1", c);
        norm(b + ".norm2", c);
        norm(b + ".norm3", c);
        if (linearProj)
            linear(p + ".proj_out", c, c);
        else
            conv(p + ".proj_out", c, c, 1);
    }
};

Error badConfig(const std::string &what)
{
    return makeError(ErrorCode::InvalidArgument, "config: " + what);
}

bool intList(const nlohmann::json &j, std::vector<std::int64_t> &out)
{
    if (!j.is_array() || j.empty())
        return false;
    for (const auto &v : j) {
        if (!v.is_number_integer() || v.get<std::int64_t>() <= 0)
            return false;
        out.push_back(v.get<std::int64_t>());
    }
    return true;
}

bool positive(const nlohmann::json &cfg, const char *key, std::int64_t &out)
{
    const auto it = cfg.find(key);
    if (it == cfg.end() || !it->is_number_integer() || it->get<std::int64_t>() <= 0)
        return false;
    out = it->get<std::int64_t>();
    return true;
}

std::string shapeText(const Shape &s)
{
    std::ostringstream o;
    o << '[';
    for (std::size_t i = 0; i < s.size(); ++i)
        o << (i ? ", " : "") << s[i];
    o << ']';
    return o.str();
}

} // namespace

Result<std::vector<TensorSpec>> unetTensorSpecs(const nlohmann::json &cfg)
{
    try {
        std::vector<std::int64_t> ch;
        std::int64_t n = 0, in = 0, out = 0, ctx = 0;
        if (!intList(cfg.value("block_out_channels", nlohmann::json()), ch))
            return badConfig("unet block_out_channels missing or invalid");
        if (!positive(cfg, "layers_per_block", n) || !positive(cfg, "in_channels", in)
            || !positive(cfg, "out_channels", out) || !positive(cfg, "cross_attention_dim", ctx))
            return badConfig("unet layers_per_block/in_channels/out_channels/cross_attention_dim missing");
        const auto down = cfg.value("down_block_types", std::vector<std::string>{});
        const auto up = cfg.value("up_block_types", std::vector<std::string>{});
        const std::size_t L = ch.size();
        if (down.size() != L || up.size() != L)
            return badConfig("unet block type lists do not match block_out_channels");
        const bool linearProj = cfg.value("use_linear_projection", false);
        const std::int64_t temb = 4 * ch[0];

        Builder b;
        b.conv("conv_in", ch[0], in, 3);
        b.linear("time_embedding.linear_1", temb, ch[0]);
        b.linear("time_embedding.linear_2", temb, temb);
        for (std::size_t i = 0; i < L; ++i) {
            const std::string p = "down_blocks." + std::to_string(i);
            const bool attn = down[i] == "CrossAttnDownBlock2D";
            if (!attn && down[i] != "DownBlock2D")
                return badConfig("unsupported down block type '" + down[i] + "'");
            for (std::int64_t j = 0; j < n; ++j) {
                const std::int64_t rin = j == 0 ? (i == 0 ? ch[0] : ch[i - 1]) : ch[i];
                b.resnet(p + ".resnets." + std::to_string(j), rin, ch[i], temb);
                if (attn)
                    b.transformer(p + ".attentions." + std::to_string(j), ch[i], ctx, linearProj);
            }
            if (i + 1 < L)
                b.conv(p + ".downsamplers.0.conv", ch[i], ch[i], 3);
        }
        const std::int64_t cl = ch[L - 1];
        b.resnet("mid_block.resnets.0", cl, cl, temb);
        b.transformer("mid_block.attentions.0", cl, ctx, linearProj);
        b.resnet("mid_block.resnets.1", cl, cl, temb);
        std::vector<std::int64_t> rc(ch.rbegin(), ch.rend());
        for (std::size_t i = 0; i < L; ++i) {
            const std::string p = "up_blocks." + std::to_string(i);
            const bool attn = up[i] == "CrossAttnUpBlock2D";
            if (!attn && up[i] != "UpBlock2D")
                return badConfig("unsupported up block type '" + up[i] + "'");
            const std::int64_t o = rc[i];
            const std::int64_t prev = i == 0 ? rc[0] : rc[i - 1];
            const std::int64_t skipIn = rc[std::min(i + 1, L - 1)];
            for (std::int64_t j = 0; j <= n; ++j) {
                const std::int64_t skip = j == n ? skipIn : o;
                const std::int64_t rin = (j == 0 ? prev : o) + skip;
                b.resnet(p + ".resnets." + std::to_string(j), rin, o, temb);
                if (attn)
                    b.transformer(p + ".attentions." + std::to_string(j), o, ctx, linearProj);
            }
            if (i + 1 < L)
                b.conv(p + ".upsamplers.0.conv", o, o, 3);
        }
        b.norm("conv_norm_out", ch[0]);
        b.conv("conv_out", out, ch[0], 3);
        return b.specs;
    } catch (const std::exception &e) {
        return badConfig(std::string("unet: ") + e.what());
    }
}

Result<std::vector<TensorSpec>> vaeTensorSpecs(const nlohmann::json &cfg)
{
    try {
        std::vector<std::int64_t> ch;
        std::int64_t n = 0, in = 0, out = 0, lat = 0;
        if (!intList(cfg.value("block_out_channels", nlohmann::json()), ch))
            return badConfig("vae block_out_channels missing or invalid");
        if (!positive(cfg, "layers_per_block", n) || !positive(cfg, "in_channels", in)
            || !positive(cfg, "out_channels", out) || !positive(cfg, "latent_channels", lat))
            return badConfig("vae layers_per_block/in_channels/out_channels/latent_channels missing");
        const std::size_t L = ch.size();
        const std::int64_t cl = ch[L - 1];
        Builder b;
        auto mid = [&](const std::string &p) {
            b.resnet(p + ".mid_block.resnets.0", cl, cl, 0);
            b.norm(p + ".mid_block.attentions.0.group_norm", cl);
            for (const char *q : {"to_q", "to_k", "to_v", "to_out.0"})
                b.linear(p + ".mid_block.attentions.0." + q, cl, cl);
            b.resnet(p + ".mid_block.resnets.1", cl, cl, 0);
        };
        b.conv("encoder.conv_in", ch[0], in, 3);
        for (std::size_t i = 0; i < L; ++i) {
            const std::string p = "encoder.down_blocks." + std::to_string(i);
            for (std::int64_t j = 0; j < n; ++j) {
                const std::int64_t rin = j == 0 ? (i == 0 ? ch[0] : ch[i - 1]) : ch[i];
                b.resnet(p + ".resnets." + std::to_string(j), rin, ch[i], 0);
            }
            if (i + 1 < L)
                b.conv(p + ".downsamplers.0.conv", ch[i], ch[i], 3);
        }
        mid("encoder");
        b.norm("encoder.conv_norm_out", cl);
        b.conv("encoder.conv_out", 2 * lat, cl, 3);
        b.conv("quant_conv", 2 * lat, 2 * lat, 1);
        b.conv("post_quant_conv", lat, lat, 1);
        b.conv("decoder.conv_in", cl, lat, 3);
        mid("decoder");
        std::vector<std::int64_t> rc(ch.rbegin(), ch.rend());
        for (std::size_t i = 0; i < L; ++i) {
            const std::string p = "decoder.up_blocks." + std::to_string(i);
            const std::int64_t prev = i == 0 ? rc[0] : rc[i - 1];
            for (std::int64_t j = 0; j <= n; ++j)
                b.resnet(p + ".resnets." + std::to_string(j), j == 0 ? prev : rc[i], rc[i], 0);
            if (i + 1 < L)
                b.conv(p + ".upsamplers.0.conv", rc[i], rc[i], 3);
        }
        b.norm("decoder.conv_norm_out", ch[0]);
        b.conv("decoder.conv_out", out, ch[0], 3);
        return b.specs;
    } catch (const std::exception &e) {
        return badConfig(std::string("vae: ") + e.what());
    }
}

Result<std::vector<TensorSpec>> textEncoderTensorSpecs(const nlohmann::json &cfg)
{
    std::int64_t h = 0, inter = 0, layers = 0, vocab = 0, pos = 0;
    if (!positive(cfg, "hidden_size", h) || !positive(cfg, "intermediate_size", inter)
        || !positive(cfg, "num_hidden_layers", layers) || !positive(cfg, "vocab_size", vocab)
        || !positive(cfg, "max_position_embeddings", pos))
        return badConfig("text encoder hidden_size/intermediate_size/num_hidden_layers/vocab_size/"
                         "max_position_embeddings missing");
    Builder b;
    b.add("text_model.embeddings.token_embedding.weight", {vocab, h});
    b.add("text_model.embeddings.position_embedding.weight", {pos, h});
    for (std::int64_t l = 0; l < layers; ++l) {
        const std::string p = "text_model.encoder.layers." + std::to_string(l);
        for (const char *q : {"q_proj", "k_proj", "v_proj", "out_proj"})
            b.linear(p + ".self_attn." + q, h, h);
        b.norm(p + ".layer_norm1", h);
        b.linear(p + ".mlp.fc1", inter, h);
        b.linear(p + ".mlp.fc2", h, inter);
        b.norm(p + ".layer_norm2", h);
    }
    b.norm("text_model.final_layer_norm", h);
    return b.specs;
}

std::int64_t specParameterCount(const std::vector<TensorSpec> &specs)
{
    std::int64_t n = 0;
    for (const auto &s : specs) {
        std::int64_t k = 1;
        for (auto d : s.shape)
            k *= d;
        n += k;
    }
    return n;
}

Status checkAgainstSpecs(const StateDict &weights, const std::vector<TensorSpec> &specs,
                         const std::string &component, const std::string &source)
{
    std::vector<std::string> missing, unexpected, wrong;
    std::set<std::string> expected;
    for (const auto &s : specs) {
        expected.insert(s.name);
        const auto it = weights.find(s.name);
        if (it == weights.end())
            missing.push_back(s.name);
        else if (it->second.sizes().vec() != s.shape)
            wrong.push_back(s.name + ": expected " + shapeText(s.shape) + " got "
                            + shapeText(it->second.sizes().vec()));
    }
    for (const auto &[name, t] : weights)
        if (!expected.count(name))
            unexpected.push_back(name);
    auto list = [](const std::vector<std::string> &v) {
        std::string s;
        for (std::size_t i = 0; i < v.size() && i < 10; ++i)
            s += (i ? ", " : "") + v[i];
        if (v.size() > 10)
            s += ", ... (" + std::to_string(v.size()) + " in all)";
        return s;
    };
    const std::string where = component + " ('" + source + "')";
    if (!missing.empty())
        return makeError(ErrorCode::MissingKeys, where + ": " + std::to_string(missing.size())
                                                     + " missing tensor(s): " + list(missing));
    if (!unexpected.empty())
        return makeError(ErrorCode::UnexpectedKeys, where + ": " + std::to_string(unexpected.size())
                                                        + " unexpected tensor(s): " + list(unexpected));
    if (!wrong.empty())
        return makeError(ErrorCode::ShapeMismatch, where + ": " + std::to_string(wrong.size())
                                                       + " tensor(s) with the wrong shape: " + list(wrong));
    return {};
}

nlohmann::json sd15UnetConfig()
{
    return nlohmann::json{
        {"_class_name", "UNet2DConditionModel"}, {"_diffusers_version", "0.25.0"},
        {"act_fn", "silu"}, {"addition_embed_type", nullptr}, {"addition_embed_type_num_heads", 64},
        {"addition_time_embed_dim", nullptr}, {"attention_head_dim", 8}, {"attention_type", "default"},
        {"block_out_channels", {320, 640, 1280, 1280}}, {"center_input_sample", false},
        {"class_embed_type", nullptr}, {"class_embeddings_concat", false}, {"conv_in_kernel", 3},
        {"conv_out_kernel", 3}, {"cross_attention_dim", 768}, {"cross_attention_norm", nullptr},
        {"down_block_types", {"CrossAttnDownBlock2D", "CrossAttnDownBlock2D", "CrossAttnDownBlock2D", "DownBlock2D"}},
        {"downsample_padding", 1}, {"dropout", 0.0}, {"dual_cross_attention", false},
        {"encoder_hid_dim", nullptr}, {"encoder_hid_dim_type", nullptr}, {"flip_sin_to_cos", true},
        {"freq_shift", 0}, {"in_channels", 4}, {"layers_per_block", 2},
        {"mid_block_only_cross_attention", nullptr}, {"mid_block_scale_factor", 1},
        {"mid_block_type", "UNetMidBlock2DCrossAttn"}, {"norm_eps", 1e-05}, {"norm_num_groups", 32},
        {"num_attention_heads", nullptr}, {"num_class_embeds", nullptr}, {"only_cross_attention", false},
        {"out_channels", 4}, {"projection_class_embeddings_input_dim", nullptr},
        {"resnet_out_scale_factor", 1.0}, {"resnet_skip_time_act", false},
        {"resnet_time_scale_shift", "default"}, {"reverse_transformer_layers_per_block", nullptr},
        {"sample_size", 64}, {"time_cond_proj_dim", nullptr}, {"time_embedding_act_fn", nullptr},
        {"time_embedding_dim", nullptr}, {"time_embedding_type", "positional"},
        {"timestep_post_act", nullptr}, {"transformer_layers_per_block", 1},
        {"up_block_types", {"UpBlock2D", "CrossAttnUpBlock2D", "CrossAttnUpBlock2D", "CrossAttnUpBlock2D"}},
        {"upcast_attention", false}, {"use_linear_projection", false}};
}

nlohmann::json sd15VaeConfig()
{
    return nlohmann::json{
        {"_class_name", "AutoencoderKL"}, {"_diffusers_version", "0.25.0"}, {"act_fn", "silu"},
        {"block_out_channels", {128, 256, 512, 512}},
        {"down_block_types", {"DownEncoderBlock2D", "DownEncoderBlock2D", "DownEncoderBlock2D", "DownEncoderBlock2D"}},
        {"force_upcast", true}, {"in_channels", 3}, {"latent_channels", 4}, {"layers_per_block", 2},
        {"norm_num_groups", 32}, {"out_channels", 3}, {"sample_size", 512}, {"scaling_factor", 0.18215},
        {"up_block_types", {"UpDecoderBlock2D", "UpDecoderBlock2D", "UpDecoderBlock2D", "UpDecoderBlock2D"}}};
}

nlohmann::json sd15TextEncoderConfig()
{
    return nlohmann::json{
        {"architectures", {"CLIPTextModel"}}, {"attention_dropout", 0.0}, {"bos_token_id", 0},
        {"eos_token_id", 2}, {"hidden_act", "quick_gelu"}, {"hidden_size", 768},
        {"initializer_factor", 1.0}, {"initializer_range", 0.02}, {"intermediate_size", 3072},
        {"layer_norm_eps", 1e-05}, {"max_position_embeddings", 77}, {"model_type", "clip_text_model"},
        {"num_attention_heads", 12}, {"num_hidden_layers", 12}, {"pad_token_id", 1},
        {"projection_dim", 768}, {"torch_dtype", "float32"}, {"transformers_version", "4.30.2"},
        {"vocab_size", 49408}};
}

nlohmann::json sd15SchedulerConfig()
{
    return nlohmann::json{
        {"_class_name", "PNDMScheduler"}, {"_diffusers_version", "0.25.0"}, {"beta_end", 0.012},
        {"beta_schedule", "scaled_linear"}, {"beta_start", 0.00085}, {"clip_sample", false},
        {"num_train_timesteps", 1000}, {"prediction_type", "epsilon"}, {"set_alpha_to_one", false},
        {"skip_prk_steps", true}, {"steps_offset", 1}, {"timestep_spacing", "leading"},
        {"trained_betas", nullptr}};
}

} // namespace stipple::core
