#include "core/models/common/Linear.h"

#include "core/common/FloatConversion.h"
#include "core/models/common/ModulesOfType.h"
#include "core/models/common/PackedWeight.h"
#include "core/models/common/ParameterInit.h"

#include <ATen/ATen.h>

#include <torch/nn/init.h>

#include <algorithm>
#include <cmath>
#include <vector>

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

namespace {

bool packable(const at::Tensor &weight, at::ScalarType target)
{
    return weight.defined() && weight.dim() == 2 && weight.is_floating_point() && target == at::kFloat &&
           DnnlMatmul::available() && DnnlMatmul::enabled();
}

} // namespace

bool LinearImpl::prepareForInference(std::optional<at::ScalarType> dtype, at::Tensor *scratch)
{
    if (m_dnnl)
        return true;
    if (!packable(weight, dtype.value_or(weight.defined() ? weight.scalar_type() : at::kFloat)))
        return false;
    torch::NoGradGuard noGrad;
    at::Tensor local;
    try {
        const at::Tensor plain = convertedThroughScratch(weight, at::kFloat, scratch ? *scratch : local);
        m_dnnl = std::make_shared<DnnlMatmul>(plain, bias.defined() ? bias.to(at::kFloat) : at::Tensor());
    } catch (const c10::Error &) {
        return false; // oneDNN refused this layer: it keeps at::linear
    }
    dropPlainWeight(weight, at::kFloat);
    // The packed layer keeps its own float32 copy; the parameter follows
    // (a float16 file view would otherwise stay referenced), as Conv2d's.
    if (bias.defined() && bias.scalar_type() != at::kFloat)
        bias.set_data(bias.to(at::kFloat));
    return true;
}

int prepareLinearsForInference(torch::nn::Module &module, std::optional<at::ScalarType> dtype, bool onlyToConvert)
{
    std::vector<LinearImpl *> linears;
    std::int64_t largest = 0; // one conversion buffer for all, sized for the largest
    for (LinearImpl *linear : modulesOfType<LinearImpl>(module)) {
        const at::Tensor &w = linear->weight;
        const bool converts = w.defined() && w.scalar_type() != dtype.value_or(w.scalar_type());
        if (onlyToConvert && !converts)
            continue;
        linears.push_back(linear);
        if (converts && packable(w, *dtype))
            largest = std::max(largest, w.numel());
    }
    at::Tensor scratch;
    if (largest > 0)
        scratch = at::empty({largest}, at::TensorOptions().dtype(at::kFloat));
    int prepared = 0;
    for (LinearImpl *linear : linears)
        prepared += linear->prepareForInference(dtype, &scratch) ? 1 : 0;
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
