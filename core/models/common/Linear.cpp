#include "core/models/common/Linear.h"

#include "core/common/CpuAllocator.h"
#include "core/common/FloatConversion.h"
#include "core/models/common/ModuleConversion.h"
#include "core/models/common/ModulesOfType.h"
#include "core/models/common/PackedWeight.h"
#include "core/models/common/ParameterInit.h"

#include <ATen/ATen.h>
#include <c10/core/InferenceMode.h>

#include <torch/nn/init.h>
#include <torch/utils.h>

#include <cmath>
#include <memory>

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

namespace {

// `weight` in `dtype`, converted into a buffer this thread reuses for every
// layer (the layers run one after another), or into its own tensor while
// autograd may keep it for the backward pass.
at::Tensor convertedForThisCall(const at::Tensor &weight, at::ScalarType dtype)
{
    if (weight.scalar_type() == dtype)
        return weight;
    if (at::GradMode::is_enabled())
        return weight.to(dtype);
    // A normal tensor even under InferenceMode: the buffer is written in
    // place at later calls, which InferenceMode forbids for its own tensors
    // once it is off. InferenceMode(false) turns grad mode back on, and the
    // weights still require grad: without the NoGradGuard the copy into the
    // buffer would be recorded, chaining every call's graph to the buffer
    // and keeping the weights (and their file mapping) alive.
    c10::InferenceMode normalTensors(false);
    torch::NoGradGuard noGrad;
    thread_local at::Tensor scratch;
    return convertedThroughScratch(weight, dtype, scratch);
}

} // namespace

void LinearImpl::convertWeightPerCall(at::ScalarType dtype)
{
    TORCH_CHECK(!m_dnnl, "Linear: already packed for inference");
    m_computeDtype = dtype;
    convertTensor(bias, dtype);
}

bool LinearImpl::deferPacking(const std::shared_ptr<DeferredPacking> &packing)
{
    if (m_dnnl || m_computeDtype || m_deferred || !packing || !weight.defined() || weight.dim() != 2 ||
        !weight.is_floating_point())
        return false;
    m_deferredWeight = packing->adopt(weight, bias);
    m_deferred = packing;
    return true;
}

void LinearImpl::packDeferred()
{
    const at::ScalarType target = m_deferred->dtype();
    if (linearPackingApplies(target)) {
        const at::Tensor plain = m_deferred->converted(m_deferredWeight);
        torch::NoGradGuard noGrad;
        try {
            m_dnnl = std::make_shared<DnnlMatmul>(plain, bias);
        } catch (const c10::Error &) {
            m_dnnl.reset(); // oneDNN refused this layer: it keeps at::linear on a converted copy
        }
    }
    if (!m_dnnl) {
        // The view itself when it is in `target` already (its pages then stay
        // the file's), otherwise a converted copy of its own.
        replaceData(weight, [&] { return m_deferred->ownCopy(m_deferredWeight); });
    }
    if (!weight.is_alias_of(m_deferredWeight))
        m_deferred->releaseFilePagesOf(m_deferredWeight);
    m_deferredWeight = at::Tensor();
    m_deferred->removePending();
    m_deferred.reset();
}

at::Tensor LinearImpl::forwardPackedForThisCall(const at::Tensor &x)
{
    const at::ScalarType target = m_deferred->dtype();
    std::unique_ptr<DnnlMatmul> packed; // back to the allocator's cache after this call, for the next layer's
    {
        torch::NoGradGuard noGrad;
        if (linearPackingApplies(target)) {
            AllocatorLooseFit looseFit; // see Conv2dImpl::runPacked
            try {
                // Packed from the file a chunk of rows at a time (see
                // DnnlMatmul's Rows constructor): the bytes packDeferred's
                // DnnlMatmul will hold.
                packed = std::make_unique<DnnlMatmul>(
                    DnnlMatmul::Rows{},
                    [&](std::int64_t n0, std::int64_t count) { return m_deferred->rowsOf(m_deferredWeight, n0, count); },
                    m_deferredWeight.size(0), m_deferredWeight.size(1), bias, m_deferred->roomForThisCall());
            } catch (const c10::Error &) {
                packed.reset(); // refused, as packDeferred would be: at::linear below
            }
        }
    }
    return packed ? packed->forward(x) : at::linear(x, m_deferred->converted(m_deferredWeight), bias);
}

at::Tensor LinearImpl::forward(const at::Tensor &x)
{
    if (m_deferred) {
        TORCH_CHECK(!at::GradMode::is_enabled(), "Linear: deferred for inference; gradients are not available");
        if (!m_deferred->packsForGood())
            return forwardPackedForThisCall(x);
        packDeferred();
    }
    if (m_computeDtype)
        return at::linear(x, convertedForThisCall(weight, *m_computeDtype), bias);
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
    return weight.defined() && weight.dim() == 2 && weight.is_floating_point() && linearPackingApplies(target);
}

} // namespace

bool linearPackingApplies(at::ScalarType dtype)
{
    return dtype == at::kFloat && DnnlMatmul::available() && DnnlMatmul::enabled();
}

bool LinearImpl::prepareForInference(std::optional<at::ScalarType> dtype, at::Tensor *scratch)
{
    if (m_deferred)
        packDeferred();
    if (m_dnnl)
        return true;
    if (m_computeDtype)
        return false; // its weight stays as given (convertWeightPerCall)
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
    convertTensor(bias, at::kFloat);
    return true;
}

int deferLinearPacking(torch::nn::Module &module, const std::shared_ptr<DeferredPacking> &packing)
{
    int deferred = 0;
    for (LinearImpl *linear : modulesOfType<LinearImpl>(module))
        deferred += linear->deferPacking(packing) ? 1 : 0;
    return deferred;
}

int prepareLinearsForInference(torch::nn::Module &module, std::optional<at::ScalarType> dtype, bool onlyToConvert,
                               at::Tensor *scratch)
{
    at::Tensor local; // grown by convertedThroughScratch to the largest weight converted
    int prepared = 0;
    for (LinearImpl *linear : modulesOfType<LinearImpl>(module)) {
        const at::Tensor &w = linear->weight;
        if (onlyToConvert && !(w.defined() && w.scalar_type() != dtype.value_or(w.scalar_type())))
            continue;
        prepared += linear->prepareForInference(dtype, scratch ? scratch : &local) ? 1 : 0;
    }
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

at::Tensor EmbeddingImpl::forward(const at::Tensor &ids)
{
    if (m_computeDtype && weight.scalar_type() != *m_computeDtype)
        return at::embedding(weight, ids).to(*m_computeDtype);
    return at::embedding(weight, ids);
}

} // namespace stipple::core
