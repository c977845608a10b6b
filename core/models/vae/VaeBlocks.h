// The VAE's encoder and decoder, diffusers 0.25 models/autoencoders/vae.py
// (Encoder/Decoder with DownEncoderBlock2D / UpDecoderBlock2D and
// UNetMidBlock2D with one single-head self-attention). All GroupNorms use
// eps 1e-6. Submodule names equal diffusers' keys (conv_in, down_blocks.i.
// resnets.j, down_blocks.i.downsamplers.0.conv, mid_block.resnets.{0,1},
// mid_block.attentions.0.{group_norm,to_q,to_k,to_v,to_out.0}, up_blocks...,
// conv_norm_out, conv_out).
// Thread-safety: a module instance is used by one thread at a time.
#pragma once

#include "core/models/common/Conv2d.h"
#include "core/models/common/Linear.h"
#include "core/models/common/Resampling2D.h"
#include "core/models/common/ResnetBlock2D.h"
#include "core/models/vae/VaeConfig.h"

#include <torch/nn/module.h>
#include <torch/nn/modules/normalization.h>
#include <torch/nn/pimpl.h>

#include <functional>
#include <string>
#include <vector>

namespace stipple::core {

// Called with (module name, output) for debugging; may be empty.
using VaeActivationHook = std::function<void(const std::string &, const at::Tensor &)>;

// diffusers Attention as configured by UNetMidBlock2D for the VAE: one head,
// GroupNorm first, biases, residual connection, softmax in float32.
class VaeAttentionImpl : public torch::nn::Module {
public:
    VaeAttentionImpl(std::int64_t channels, std::int64_t groups);
    at::Tensor forward(const at::Tensor &x);

private:
    torch::nn::GroupNorm m_norm{nullptr};
    Linear m_q{nullptr}, m_k{nullptr}, m_v{nullptr}, m_out{nullptr};
};
TORCH_MODULE(VaeAttention);

// resnets.0 -> attentions.0 -> resnets.1, no time embedding.
class VaeMidBlockImpl : public torch::nn::Module {
public:
    VaeMidBlockImpl(std::int64_t channels, std::int64_t groups);
    at::Tensor forward(const at::Tensor &x);

private:
    ResnetBlock2D m_resnet0{nullptr}, m_resnet1{nullptr};
    VaeAttention m_attention{nullptr};
};
TORCH_MODULE(VaeMidBlock);

// One level: resnets then an optional down/upsampler.
class VaeLevelImpl : public torch::nn::Module {
public:
    VaeLevelImpl(std::int64_t in, std::int64_t out, std::int64_t layers, std::int64_t groups,
                 bool down, bool resample);
    // x handed over with std::move is released (or reused) as soon as it is consumed.
    at::Tensor forward(at::Tensor x);

private:
    std::vector<ResnetBlock2D> m_resnets;
    Downsample2D m_down{nullptr};
    Upsample2D m_up{nullptr};
};
TORCH_MODULE(VaeLevel);

class VaeEncoderImpl : public torch::nn::Module {
public:
    explicit VaeEncoderImpl(const VaeConfig &config);
    // [B, 3, H, W] -> [B, 2·latent, H/f, W/f]
    at::Tensor forward(const at::Tensor &x, const VaeActivationHook &hook = {});

private:
    Conv2d m_convIn{nullptr}, m_convOut{nullptr};
    std::vector<VaeLevel> m_levels;
    VaeMidBlock m_mid{nullptr};
    torch::nn::GroupNorm m_normOut{nullptr};
};
TORCH_MODULE(VaeEncoder);

class VaeDecoderImpl : public torch::nn::Module {
public:
    explicit VaeDecoderImpl(const VaeConfig &config);
    // [B, latent, h, w] -> [B, 3, h·f, w·f]
    at::Tensor forward(const at::Tensor &z, const VaeActivationHook &hook = {});

private:
    Conv2d m_convIn{nullptr}, m_convOut{nullptr};
    std::vector<VaeLevel> m_levels;
    VaeMidBlock m_mid{nullptr};
    torch::nn::GroupNorm m_normOut{nullptr};
};
TORCH_MODULE(VaeDecoder);

} // namespace stipple::core
