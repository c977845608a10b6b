// A 2-D convolution module with torch::nn::Conv2d's parameters ("weight",
// "bias"), options and forward (zero padding only, as every SD layer), whose
// random initialisation can be skipped (ParameterInit.h). With init enabled it
// draws exactly what torch::nn::Conv2d draws, in the same order, so training
// runs are unchanged.
// Thread-safety: a module instance is used by one thread at a time.
#pragma once

#include <torch/nn/cloneable.h>
#include <torch/nn/options/conv.h>
#include <torch/nn/pimpl.h>

namespace stipple::core {

class Conv2dImpl : public torch::nn::Cloneable<Conv2dImpl> {
public:
    explicit Conv2dImpl(torch::nn::Conv2dOptions options);
    void reset() override;
    at::Tensor forward(const at::Tensor &x);

    torch::nn::Conv2dOptions options;
    at::Tensor weight;
    at::Tensor bias;
};
TORCH_MODULE(Conv2d);

} // namespace stipple::core
