// Downsample2D / Upsample2D (see Resampling2D.h).
#include "core/models/common/Resampling2D.h"

#include <ATen/ATen.h>

namespace stipple::core {

namespace nn = torch::nn;

Downsample2DImpl::Downsample2DImpl(std::int64_t channels, std::int64_t outChannels,
                                   std::int64_t padding)
    : m_padding(padding)
{
    m_conv = register_module(
        "conv", Conv2d(nn::Conv2dOptions(channels, outChannels, 3).stride(2).padding(padding)));
}

at::Tensor Downsample2DImpl::forward(const at::Tensor &x)
{
    if (m_padding == 0) // diffusers: F.pad(x, (0, 1, 0, 1)) before an unpadded conv
        return m_conv->forward(at::constant_pad_nd(x, {0, 1, 0, 1}, 0.0));
    return m_conv->forward(x);
}

Upsample2DImpl::Upsample2DImpl(std::int64_t channels, std::int64_t outChannels)
{
    m_conv = register_module("conv",
                             Conv2d(nn::Conv2dOptions(channels, outChannels, 3).padding(1)));
}

at::Tensor Upsample2DImpl::forward(at::Tensor x, const std::vector<std::int64_t> &size)
{
    const std::vector<std::int64_t> target =
        size.empty() ? std::vector<std::int64_t>{x.size(2) * 2, x.size(3) * 2} : size;
    // Nearest-neighbour copies values, so any dtype gives identical results.
    at::Tensor up = at::upsample_nearest2d(x, target);
    x.reset(); // the VAE's last upsampler: 64 MiB that need not live through a 256 MiB conv
    return m_conv->forward(up);
}

} // namespace stipple::core
