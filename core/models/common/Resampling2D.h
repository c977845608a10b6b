// Downsample2D / Upsample2D as in diffusers 0.25 (models/downsampling.py,
// upsampling.py) with use_conv=True; the only submodule is `conv`.
// Downsample: 3x3 stride-2 conv; padding 1 (UNet) or padding 0 after an
// asymmetric (0,1,0,1) zero pad (VAE encoder, downsample_padding=0).
// Upsample: nearest-neighbour x2 (or to an explicit size) then 3x3 conv.
// Thread-safety: a module instance is used by one thread at a time.
#pragma once

#include "core/models/common/Conv2d.h"

#include <torch/nn/module.h>
#include <torch/nn/pimpl.h>

#include <cstdint>
#include <vector>

namespace stipple::core {

class Downsample2DImpl : public torch::nn::Module {
public:
    Downsample2DImpl(std::int64_t channels, std::int64_t outChannels, std::int64_t padding);
    at::Tensor forward(const at::Tensor &x);

private:
    Conv2d m_conv{nullptr};
    std::int64_t m_padding;
};
TORCH_MODULE(Downsample2D);

class Upsample2DImpl : public torch::nn::Module {
public:
    Upsample2DImpl(std::int64_t channels, std::int64_t outChannels);
    // size: target [h, w]; empty = twice the input size. x handed over with
    // std::move is released before the convolution runs.
    at::Tensor forward(at::Tensor x, const std::vector<std::int64_t> &size = {});

private:
    Conv2d m_conv{nullptr};
};
TORCH_MODULE(Upsample2D);

} // namespace stipple::core
