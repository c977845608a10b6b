#include "core/models/common/Linear.h"

#include "core/models/common/ParameterInit.h"

#include <torch/nn/init.h>

#include <cmath>

namespace stipple::core {

LinearImpl::LinearImpl(torch::nn::LinearOptions o) : options(std::move(o)) { reset(); }

void LinearImpl::reset()
{
    weight = register_parameter("weight", at::empty({options.out_features(), options.in_features()}));
    if (options.bias())
        bias = register_parameter("bias", at::empty({options.out_features()}));
    else
        bias = register_parameter("bias", at::Tensor(), /*requires_grad=*/false);
    initLikeTorch(weight, bias); // torch's draws (training); skipped when loading
}

at::Tensor LinearImpl::forward(const at::Tensor &x) { return at::linear(x, weight, bias); }

EmbeddingImpl::EmbeddingImpl(std::int64_t n, std::int64_t d) : count(n), dim(d) { reset(); }

void EmbeddingImpl::reset()
{
    weight = register_parameter("weight", at::empty({count, dim}));
    if (!parameterInitEnabled())
        return;
    // torch::nn::EmbeddingImpl::reset_parameters: N(0, 1).
    torch::NoGradGuard noGrad;
    torch::nn::init::normal_(weight);
}

at::Tensor EmbeddingImpl::forward(const at::Tensor &ids) { return at::embedding(weight, ids); }

} // namespace stipple::core
