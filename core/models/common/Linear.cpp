#include "core/models/common/Linear.h"

#include "core/models/common/ModulesOfType.h"
#include "core/models/common/PackedWeight.h"
#include "core/models/common/ParameterInit.h"

#include <ATen/ATen.h>

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

at::Tensor LinearImpl::forward(const at::Tensor &x)
{
    if (!m_dnnl)
        return at::linear(x, weight, bias);
    TORCH_CHECK(!at::GradMode::is_enabled(), "Linear: prepared for inference; gradients are not available");
    TORCH_CHECK(x.scalar_type() == at::kFloat, "Linear: prepared for float32 inference, got ", x.scalar_type(),
                " input (reload the model to change its precision)");
    return m_dnnl->forward(x);
}

bool LinearImpl::prepareForInference()
{
    if (m_dnnl)
        return true;
    if (!weight.defined() || weight.scalar_type() != at::kFloat || weight.dim() != 2 ||
        !DnnlMatmul::available() || !DnnlMatmul::enabled())
        return false;
    torch::NoGradGuard noGrad;
    try {
        m_dnnl = std::make_shared<DnnlMatmul>(weight, bias);
    } catch (const c10::Error &) {
        return false; // oneDNN refused this layer: it keeps at::linear
    }
    dropPlainWeight(weight, at::kFloat);
    return true;
}

int prepareLinearsForInference(torch::nn::Module &module)
{
    int prepared = 0;
    for (LinearImpl *linear : modulesOfType<LinearImpl>(module))
        prepared += linear->prepareForInference() ? 1 : 0;
    return prepared;
}

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
