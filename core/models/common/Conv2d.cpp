#include "core/models/common/Conv2d.h"

#include "core/models/common/ParameterInit.h"

#include <torch/nn/init.h>

#include <cmath>

namespace stipple::core {

Conv2dImpl::Conv2dImpl(torch::nn::Conv2dOptions o) : options(std::move(o)) { reset(); }

void Conv2dImpl::reset()
{
    TORCH_CHECK(c10::holds_alternative<torch::ExpandingArray<2>>(options.padding()),
                "Conv2d: only explicit padding is supported");
    TORCH_CHECK(c10::holds_alternative<torch::enumtype::kZeros>(options.padding_mode()),
                "Conv2d: only zero padding is supported");
    const auto k = *options.kernel_size();
    weight = register_parameter(
        "weight", at::empty({options.out_channels(), options.in_channels() / options.groups(), k[0], k[1]}));
    if (options.bias())
        bias = register_parameter("bias", at::empty({options.out_channels()}));
    else
        bias = register_parameter("bias", at::Tensor(), /*requires_grad=*/false);
    if (!parameterInitEnabled())
        return;
    // torch::nn::ConvNdImpl::reset_parameters (libtorch 1.13), draw for draw.
    torch::NoGradGuard noGrad;
    torch::nn::init::kaiming_uniform_(weight, std::sqrt(5.0));
    if (bias.defined()) {
        const auto fan = torch::nn::init::_calculate_fan_in_and_fan_out(weight);
        const double bound = 1 / std::sqrt(double(std::get<0>(fan)));
        torch::nn::init::uniform_(bias, -bound, bound);
    }
}

at::Tensor Conv2dImpl::forward(const at::Tensor &x)
{
    const auto &pad = c10::get<torch::ExpandingArray<2>>(options.padding());
    return at::conv2d(x, weight, bias, *options.stride(), *pad, *options.dilation(), options.groups());
}

} // namespace stipple::core
