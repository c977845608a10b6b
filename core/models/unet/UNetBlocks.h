// The UNet's level blocks, diffusers 0.25 unet_2d_blocks.py:
// CrossAttnDownBlock2D / DownBlock2D (one class, attentions optional),
// CrossAttnUpBlock2D / UpBlock2D, UNetMidBlock2DCrossAttn.
// Submodule names: resnets.j, attentions.j, downsamplers.0 / upsamplers.0.
// Thread-safety: a module instance is used by one thread at a time.
#pragma once

#include "core/models/common/ResnetBlock2D.h"
#include "core/models/common/Resampling2D.h"
#include "core/models/unet/Transformer2D.h"

#include <torch/nn/module.h>
#include <torch/nn/pimpl.h>

#include <cstdint>
#include <vector>

namespace stipple::core {

struct UNetBlockOptions {
    std::int64_t inChannels = 0;
    std::int64_t outChannels = 0;
    std::int64_t prevOutputChannels = 0; // up blocks: channels coming from below
    std::int64_t tembChannels = 0;
    std::int64_t layers = 2;
    bool crossAttention = false;
    bool resample = false;               // add a down/upsampler
    std::int64_t heads = 8;
    std::int64_t contextDim = 768;
    std::int64_t groups = 32;
    double eps = 1e-5;
    bool useLinearProjection = false;
    bool upcastAttention = false;
    std::int64_t downsamplePadding = 1;
};

class UNetDownBlockImpl : public torch::nn::Module {
public:
    explicit UNetDownBlockImpl(const UNetBlockOptions &options);
    // Appends the skip tensors (after each layer and after the downsampler)
    // to `skips`; returns the block output.
    at::Tensor forward(const at::Tensor &x, const at::Tensor &temb, const at::Tensor &context,
                       std::vector<at::Tensor> &skips);

private:
    std::vector<ResnetBlock2D> m_resnets;
    std::vector<Transformer2DModel> m_attentions;
    Downsample2D m_down{nullptr};
};
TORCH_MODULE(UNetDownBlock);

class UNetUpBlockImpl : public torch::nn::Module {
public:
    explicit UNetUpBlockImpl(const UNetBlockOptions &options);
    std::int64_t layers() const { return static_cast<std::int64_t>(m_resnets.size()); }
    // Consumes layers() skip tensors from the back of `skips`. `upsampleSize`
    // is the spatial size of the next skip (handles odd sizes); empty = x2.
    at::Tensor forward(const at::Tensor &x, const at::Tensor &temb, const at::Tensor &context,
                       std::vector<at::Tensor> &skips,
                       const std::vector<std::int64_t> &upsampleSize);

private:
    std::vector<ResnetBlock2D> m_resnets;
    std::vector<Transformer2DModel> m_attentions;
    Upsample2D m_up{nullptr};
};
TORCH_MODULE(UNetUpBlock);

class UNetMidBlockImpl : public torch::nn::Module {
public:
    explicit UNetMidBlockImpl(const UNetBlockOptions &options);
    at::Tensor forward(const at::Tensor &x, const at::Tensor &temb, const at::Tensor &context);

private:
    ResnetBlock2D m_resnet0{nullptr}, m_resnet1{nullptr};
    Transformer2DModel m_attention{nullptr};
};
TORCH_MODULE(UNetMidBlock);

} // namespace stipple::core
