// UNet level blocks (see UNetBlocks.h).
#include "core/models/unet/UNetBlocks.h"

#include <ATen/ATen.h>
#include <torch/nn/modules/container/modulelist.h>

namespace stipple::core {

namespace nn = torch::nn;

namespace {

ResnetBlock2D makeResnet(const UNetBlockOptions &o, std::int64_t in, std::int64_t out)
{
    ResnetBlock2DOptions r;
    r.inChannels = in;
    r.outChannels = out;
    r.tembChannels = o.tembChannels;
    r.groups = o.groups;
    r.eps = o.eps;
    return ResnetBlock2D(r);
}

Transformer2DModel makeTransformer(const UNetBlockOptions &o)
{
    Transformer2DOptions t;
    t.channels = o.outChannels;
    t.heads = o.heads;
    t.contextDim = o.contextDim;
    t.groups = o.groups;
    t.useLinearProjection = o.useLinearProjection;
    t.upcastAttention = o.upcastAttention;
    return Transformer2DModel(t);
}

} // namespace

UNetDownBlockImpl::UNetDownBlockImpl(const UNetBlockOptions &o)
{
    nn::ModuleList resnets, attentions;
    for (std::int64_t j = 0; j < o.layers; ++j) {
        m_resnets.push_back(makeResnet(o, j == 0 ? o.inChannels : o.outChannels, o.outChannels));
        resnets->push_back(m_resnets.back());
        if (o.crossAttention) {
            m_attentions.push_back(makeTransformer(o));
            attentions->push_back(m_attentions.back());
        }
    }
    register_module("resnets", resnets);
    if (o.crossAttention)
        register_module("attentions", attentions);
    if (o.resample) {
        nn::ModuleList downs;
        m_down = Downsample2D(o.outChannels, o.outChannels, o.downsamplePadding);
        downs->push_back(m_down);
        register_module("downsamplers", downs);
    }
}

at::Tensor UNetDownBlockImpl::forward(const at::Tensor &x, const at::Tensor &temb,
                                      const at::Tensor &context, std::vector<at::Tensor> &skips)
{
    at::Tensor h = x;
    for (std::size_t j = 0; j < m_resnets.size(); ++j) {
        h = m_resnets[j]->forward(h, temb);
        if (!m_attentions.empty())
            h = m_attentions[j]->forward(h, context);
        skips.push_back(h);
    }
    if (m_down) {
        h = m_down->forward(h);
        skips.push_back(h);
    }
    return h;
}

UNetUpBlockImpl::UNetUpBlockImpl(const UNetBlockOptions &o)
{
    // diffusers get_up_block: layers = layers_per_block + 1 (passed in);
    // resnet j takes the previous output (j == 0: from below) concatenated
    // with a skip of in_channels (last layer) or out_channels.
    nn::ModuleList resnets, attentions;
    for (std::int64_t j = 0; j < o.layers; ++j) {
        const std::int64_t skipChannels = (j == o.layers - 1) ? o.inChannels : o.outChannels;
        const std::int64_t resIn = (j == 0) ? o.prevOutputChannels : o.outChannels;
        m_resnets.push_back(makeResnet(o, resIn + skipChannels, o.outChannels));
        resnets->push_back(m_resnets.back());
        if (o.crossAttention) {
            m_attentions.push_back(makeTransformer(o));
            attentions->push_back(m_attentions.back());
        }
    }
    register_module("resnets", resnets);
    if (o.crossAttention)
        register_module("attentions", attentions);
    if (o.resample) {
        nn::ModuleList ups;
        m_up = Upsample2D(o.outChannels, o.outChannels);
        ups->push_back(m_up);
        register_module("upsamplers", ups);
    }
}

at::Tensor UNetUpBlockImpl::forward(const at::Tensor &x, const at::Tensor &temb,
                                    const at::Tensor &context, std::vector<at::Tensor> &skips,
                                    const std::vector<std::int64_t> &upsampleSize)
{
    at::Tensor h = x;
    for (std::size_t j = 0; j < m_resnets.size(); ++j) {
        TORCH_CHECK(!skips.empty(), "UNet up block: no skip connection left");
        at::Tensor skip = std::move(skips.back());
        skips.pop_back();
        h = m_resnets[j]->forward(at::cat({h, skip}, 1), temb);
        if (!m_attentions.empty())
            h = m_attentions[j]->forward(h, context);
    }
    if (m_up)
        h = m_up->forward(h, upsampleSize);
    return h;
}

UNetMidBlockImpl::UNetMidBlockImpl(const UNetBlockOptions &o)
{
    nn::ModuleList resnets, attentions;
    m_resnet0 = makeResnet(o, o.inChannels, o.inChannels);
    m_resnet1 = makeResnet(o, o.inChannels, o.inChannels);
    resnets->push_back(m_resnet0);
    resnets->push_back(m_resnet1);
    UNetBlockOptions t = o;
    t.outChannels = o.inChannels;
    m_attention = makeTransformer(t);
    attentions->push_back(m_attention);
    register_module("attentions", attentions);
    register_module("resnets", resnets);
}

at::Tensor UNetMidBlockImpl::forward(const at::Tensor &x, const at::Tensor &temb,
                                     const at::Tensor &context)
{
    at::Tensor h = m_resnet0->forward(x, temb);
    h = m_attention->forward(h, context);
    return m_resnet1->forward(h, temb);
}

} // namespace stipple::core
