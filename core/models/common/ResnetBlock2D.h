// ResnetBlock2D as in diffusers 0.25 (models/resnet.py, "default" time
// scale-shift, output_scale_factor 1): GroupNorm -> SiLU -> conv3x3
// (+ time embedding projection) -> GroupNorm -> SiLU -> conv3x3, plus a 1x1
// conv shortcut when the channel count changes. Used by the UNet (with a time
// embedding) and the VAE (without one, temb channels = 0).
// Submodule names equal diffusers' state-dict keys: norm1, conv1,
// time_emb_proj, norm2, conv2, conv_shortcut.
// Thread-safety: a module instance is used by one thread at a time.
#pragma once

#include "core/models/common/Conv2d.h"
#include "core/models/common/Normalization.h"
#include "core/models/common/Linear.h"

#include <torch/nn/module.h>
#include <torch/nn/modules/normalization.h>
#include <torch/nn/pimpl.h>

#include <cstdint>

namespace stipple::core {

struct ResnetBlock2DOptions {
    std::int64_t inChannels = 0;
    std::int64_t outChannels = 0;
    std::int64_t tembChannels = 0; // 0: no time embedding (VAE)
    std::int64_t groups = 32;
    double eps = 1e-5;
};

class ResnetBlock2DImpl : public torch::nn::Module {
public:
    explicit ResnetBlock2DImpl(const ResnetBlock2DOptions &options);
    // temb: [B, tembChannels] (already the time-embedding MLP output; SiLU is
    // applied here) or undefined when tembChannels == 0. A large x handed over
    // with std::move is reused as scratch (see forward); otherwise x is untouched.
    at::Tensor forward(at::Tensor x, const at::Tensor &temb = {});

private:
    torch::nn::GroupNorm m_norm1{nullptr}, m_norm2{nullptr};
    Conv2d m_conv1{nullptr}, m_conv2{nullptr}, m_shortcut{nullptr};
    Linear m_timeProj{nullptr};
};
TORCH_MODULE(ResnetBlock2D);

} // namespace stipple::core
