// VAE encoder/decoder (see VaeBlocks.h).
#include "core/models/vae/VaeBlocks.h"

#include "core/models/common/Attention.h"

#include <ATen/ATen.h>
#include <torch/nn/modules/container/modulelist.h>

#include <cmath>

namespace stipple::core {

namespace nn = torch::nn;

namespace {
constexpr double kVaeEps = 1e-6;

ResnetBlock2D vaeResnet(std::int64_t in, std::int64_t out, std::int64_t groups)
{
    ResnetBlock2DOptions o;
    o.inChannels = in;
    o.outChannels = out;
    o.groups = groups;
    o.eps = kVaeEps;
    return ResnetBlock2D(o);
}
} // namespace

VaeAttentionImpl::VaeAttentionImpl(std::int64_t channels, std::int64_t groups)
{
    m_norm = register_module("group_norm",
                             nn::GroupNorm(nn::GroupNormOptions(groups, channels).eps(kVaeEps)));
    m_q = register_module("to_q", Linear(channels, channels));
    m_k = register_module("to_k", Linear(channels, channels));
    m_v = register_module("to_v", Linear(channels, channels));
    nn::ModuleList toOut;
    m_out = Linear(channels, channels);
    toOut->push_back(m_out);
    register_module("to_out", toOut);
}

at::Tensor VaeAttentionImpl::forward(const at::Tensor &x)
{
    const std::int64_t b = x.size(0), c = x.size(1), h = x.size(2), w = x.size(3);
    // GroupNorm on [B, C, HW], then tokens [B, HW, C].
    at::Tensor t = groupNormStable(m_norm, x.reshape({b, c, h * w})).transpose(1, 2);
    at::Tensor q = m_q->forward(t), k = m_k->forward(t), v = m_v->forward(t);
    AttentionOptions opt;
    at::Tensor o = scaledDotProductAttention(q, k, v, 1.0 / std::sqrt(static_cast<double>(c)), opt);
    o = m_out->forward(o);
    return o.transpose(1, 2).reshape({b, c, h, w}) + x;
}

VaeMidBlockImpl::VaeMidBlockImpl(std::int64_t channels, std::int64_t groups)
{
    nn::ModuleList resnets, attentions;
    m_resnet0 = vaeResnet(channels, channels, groups);
    m_resnet1 = vaeResnet(channels, channels, groups);
    m_attention = VaeAttention(channels, groups);
    resnets->push_back(m_resnet0);
    resnets->push_back(m_resnet1);
    attentions->push_back(m_attention);
    register_module("resnets", resnets);
    register_module("attentions", attentions);
}

at::Tensor VaeMidBlockImpl::forward(const at::Tensor &x)
{
    return m_resnet1->forward(m_attention->forward(m_resnet0->forward(x)));
}

VaeLevelImpl::VaeLevelImpl(std::int64_t in, std::int64_t out, std::int64_t layers,
                           std::int64_t groups, bool down, bool resample)
{
    nn::ModuleList resnets;
    for (std::int64_t j = 0; j < layers; ++j) {
        m_resnets.push_back(vaeResnet(j == 0 ? in : out, out, groups));
        resnets->push_back(m_resnets.back());
    }
    register_module("resnets", resnets);
    if (resample) {
        nn::ModuleList list;
        if (down) {
            m_down = Downsample2D(out, out, /*padding=*/0);
            list->push_back(m_down);
            register_module("downsamplers", list);
        } else {
            m_up = Upsample2D(out, out);
            list->push_back(m_up);
            register_module("upsamplers", list);
        }
    }
}

at::Tensor VaeLevelImpl::forward(at::Tensor x)
{
    // Each activation is handed to the next block, so the decoder's 512x512
    // levels never hold a spent input next to the new one.
    for (auto &r : m_resnets)
        x = r->forward(std::move(x));
    if (m_down)
        x = m_down->forward(x);
    if (m_up)
        x = m_up->forward(std::move(x));
    return x;
}

VaeEncoderImpl::VaeEncoderImpl(const VaeConfig &c)
{
    const auto &ch = c.blockOutChannels;
    m_convIn = register_module("conv_in",
                               Conv2d(nn::Conv2dOptions(c.inChannels, ch[0], 3).padding(1)));
    nn::ModuleList levels;
    std::int64_t out = ch[0];
    for (std::size_t i = 0; i < ch.size(); ++i) {
        const std::int64_t in = out;
        out = ch[i];
        m_levels.push_back(VaeLevel(in, out, c.layersPerBlock, c.normNumGroups, /*down=*/true,
                                    /*resample=*/i + 1 < ch.size()));
        levels->push_back(m_levels.back());
    }
    register_module("down_blocks", levels);
    m_mid = register_module("mid_block", VaeMidBlock(ch.back(), c.normNumGroups));
    m_normOut = register_module(
        "conv_norm_out",
        nn::GroupNorm(nn::GroupNormOptions(c.normNumGroups, ch.back()).eps(kVaeEps)));
    m_convOut = register_module(
        "conv_out",
        Conv2d(nn::Conv2dOptions(ch.back(), 2 * c.latentChannels, 3).padding(1)));
}

at::Tensor VaeEncoderImpl::forward(const at::Tensor &x, const VaeActivationHook &hook)
{
    auto rec = [&](const std::string &name, const at::Tensor &t) {
        if (hook)
            hook(name, t);
    };
    at::Tensor h = m_convIn->forward(x);
    rec("conv_in", h);
    for (std::size_t i = 0; i < m_levels.size(); ++i) {
        h = m_levels[i]->forward(std::move(h));
        rec("down_blocks." + std::to_string(i), h);
    }
    h = m_mid->forward(h);
    rec("mid_block", h);
    h = m_convOut->forward(groupNormSilu(m_normOut, h));
    rec("conv_out", h);
    return h;
}

VaeDecoderImpl::VaeDecoderImpl(const VaeConfig &c)
{
    const auto &ch = c.blockOutChannels;
    m_convIn = register_module(
        "conv_in", Conv2d(nn::Conv2dOptions(c.latentChannels, ch.back(), 3).padding(1)));
    m_mid = register_module("mid_block", VaeMidBlock(ch.back(), c.normNumGroups));
    nn::ModuleList levels;
    std::int64_t out = ch.back();
    const std::size_t n = ch.size();
    for (std::size_t i = 0; i < n; ++i) {
        const std::int64_t in = out;
        out = ch[n - 1 - i];
        m_levels.push_back(VaeLevel(in, out, c.layersPerBlock + 1, c.normNumGroups,
                                    /*down=*/false, /*resample=*/i + 1 < n));
        levels->push_back(m_levels.back());
    }
    register_module("up_blocks", levels);
    m_normOut = register_module(
        "conv_norm_out", nn::GroupNorm(nn::GroupNormOptions(c.normNumGroups, ch[0]).eps(kVaeEps)));
    m_convOut = register_module(
        "conv_out", Conv2d(nn::Conv2dOptions(ch[0], c.outChannels, 3).padding(1)));
}

at::Tensor VaeDecoderImpl::forward(const at::Tensor &z, const VaeActivationHook &hook)
{
    auto rec = [&](const std::string &name, const at::Tensor &t) {
        if (hook)
            hook(name, t);
    };
    at::Tensor h = m_convIn->forward(z);
    rec("conv_in", h);
    h = m_mid->forward(h);
    rec("mid_block", h);
    for (std::size_t i = 0; i < m_levels.size(); ++i) {
        h = m_levels[i]->forward(std::move(h));
        rec("up_blocks." + std::to_string(i), h);
    }
    h = m_convOut->forward(groupNormSiluConsuming(m_normOut, std::move(h)));
    rec("conv_out", h);
    return h;
}

} // namespace stipple::core
