#include "core/models/common/Conv2d.h"

#include "core/common/CpuAllocator.h"
#include "core/common/FloatConversion.h"
#include "core/common/Runtime.h"
#include "core/models/common/DnnlConvolution.h"
#include "core/models/common/ModuleConversion.h"
#include "core/models/common/ModulesOfType.h"
#include "core/models/common/PackedWeight.h"
#include "core/models/common/ParameterInit.h"

#include <ATen/ATen.h>
#include <ATen/Context.h>
#include <torch/utils.h>

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <functional>
#include <string>
#include <vector>

namespace stipple::core {
namespace {

bool isPackableDtype(at::ScalarType t) { return t == at::kFloat || t == at::kBFloat16; }

} // namespace

bool convolutionPackingEnabled()
{
    static const bool allowed = envSwitch("STIPPLE_CONV_PREPACK") != 0;
    return allowed && at::hasMKLDNN() && at::globalContext().userEnabledMkldnn();
}

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
    initLikeTorch(weight, bias); // torch's draws (training); skipped when loading
}

bool Conv2dImpl::prepareForInference(std::optional<at::ScalarType> dtype, at::Tensor *scratch,
                                     std::shared_ptr<DnnlConvolution::Workspace> workspace)
{
    if (m_deferred)
        packDeferred();
    if (preparedForInference())
        return true;
    const at::ScalarType target = dtype.value_or(weight.defined() ? weight.scalar_type() : at::kFloat);
    if (!convolutionPackingEnabled() || !weight.defined() || weight.dim() != 4 || !weight.is_floating_point() ||
        !isPackableDtype(target))
        return false;
    torch::NoGradGuard noGrad;
    // A weight in another dtype (a float16 view of the file, see
    // OpenOptions::deferUnetConvWeights) is converted into `scratch`, memory
    // already touched by the previous layer, so the packed copy is the only
    // fresh memory this layer writes (fresh pages cost their zeroing too).
    at::Tensor local;
    packFrom(convertedThroughScratch(weight, target, scratch ? *scratch : local), target, std::move(workspace));
    dropPlainWeight(weight, target);
    convertTensor(bias, target);
    return true;
}

void Conv2dImpl::packFrom(const at::Tensor &plain, at::ScalarType target,
                          std::shared_ptr<DnnlConvolution::Workspace> workspace, const at::Tensor &room)
{
    const auto &pad = c10::get<torch::ExpandingArray<2>>(options.padding());
    if (target == at::kFloat && !adoptDnnlMatmul(plain, room))
        adoptDnnlConvolution(plain, std::move(workspace));
    if (!m_dnnl && !m_matmul)
        m_packed = at::mkldnn_reorder_conv2d_weight(plain.to_mkldnn(), *pad, *options.stride(), *options.dilation(),
                                                    options.groups());
}

bool Conv2dImpl::deferPacking(const std::shared_ptr<DeferredPacking> &packing)
{
    if (preparedForInference() || m_deferred || !packing)
        return false;
    if (!convolutionPackingEnabled() || !weight.defined() || weight.dim() != 4 || !weight.is_floating_point() ||
        !isPackableDtype(packing->dtype()))
        return false;
    m_deferredWeight = packing->adopt(weight, bias);
    m_deferred = packing;
    return true;
}

void Conv2dImpl::packDeferred()
{
    const at::Tensor plain = m_deferred->converted(m_deferredWeight);
    {
        torch::NoGradGuard noGrad;
        packFrom(plain, m_deferred->dtype(), m_deferred->workspace());
    }
    m_deferred->releaseFilePagesOf(m_deferredWeight);
    m_deferredWeight = at::Tensor();
    m_deferred->removePending();
    m_deferred.reset();
}

at::Tensor Conv2dImpl::runPacked(const std::function<at::Tensor()> &run)
{
    if (!m_deferred)
        return run();
    TORCH_CHECK(!at::GradMode::is_enabled(), "Conv2d: deferred for inference; gradients are not available");
    if (m_deferred->packsForGood()) {
        packDeferred();
        return run();
    }
    if (!adoptStreamedForThisCall()) {
        const at::Tensor plain = m_deferred->converted(m_deferredWeight);
        torch::NoGradGuard noGrad;
        // The packed copy lives for this call only: it may take any cached
        // block that fits, memory an earlier layer's copy already touched.
        AllocatorLooseFit looseFit;
        packFrom(plain, m_deferred->dtype(), m_deferred->workspace(), m_deferred->roomForThisCall());
    }
    // The packed copy goes back to the allocator's cache after this call
    // (serving the next layer's), even when the forward throws.
    struct Unpack {
        Conv2dImpl &layer;
        ~Unpack()
        {
            layer.m_packed = at::Tensor();
            layer.m_dnnl.reset();
            layer.m_matmul.reset();
        }
    } unpack{*this};
    return run();
}

bool Conv2dImpl::adoptStreamedForThisCall()
{
    // packFrom's choice for a float32 layer: a 3x3 layer that suits
    // DnnlConvolution is never a token projection (1x1).
    if (m_deferred->dtype() != at::kFloat || !dnnlSuits(m_deferredWeight.sizes()))
        return false;
    torch::NoGradGuard noGrad;
    try {
        m_dnnl = m_deferred->streamedConvolution(m_deferredWeight, bias, (*options.stride())[0]);
    } catch (const c10::Error &) {
        m_dnnl.reset(); // the caller packs as packFrom would (and falls back as it does)
    }
    return m_dnnl != nullptr;
}

bool Conv2dImpl::runsOnTokens() const
{
    if (m_matmul)
        return true;
    // Deferred: what packFrom will make of it.
    return m_deferred && m_deferred->dtype() == at::kFloat && pointwiseTokenProjection() && DnnlMatmul::available() &&
           DnnlMatmul::enabled();
}

at::Tensor Conv2dImpl::forwardTokens(const at::Tensor &tokens, std::int64_t h, std::int64_t w)
{
    TORCH_CHECK(tokens.dim() == 3 && tokens.size(1) == h * w, "Conv2d: expected [N, H*W, C] tokens, got ",
                tokens.sizes());
    return runPacked([&] {
        if (m_matmul)
            return m_matmul->forward(tokens);
        // oneDNN refused the matmul when the layer was packed (runsOnTokens
        // only predicts it): as a convolution on the image.
        const std::int64_t n = tokens.size(0), c = tokens.size(2);
        const at::Tensor image = tokens.reshape({n, h, w, c}).permute({0, 3, 1, 2}).contiguous();
        return forwardPrepared(image).permute({0, 2, 3, 1}).reshape({n, h * w, options.out_channels()});
    });
}

bool Conv2dImpl::dnnlSuits(at::IntArrayRef weightSizes) const
{
    const auto &pad = c10::get<torch::ExpandingArray<2>>(options.padding());
    return weightSizes.size() == 4 && DnnlConvolution::available() && DnnlConvolution::enabled() &&
           DnnlConvolution::suits(weightSizes, *options.stride(), *pad, *options.dilation(), options.groups());
}

bool Conv2dImpl::adoptDnnlConvolution(const at::Tensor &plain, std::shared_ptr<DnnlConvolution::Workspace> workspace)
{
    if (!dnnlSuits(plain.sizes()))
        return false;
    try {
        m_dnnl = std::make_shared<DnnlConvolution>(plain, bias.defined() ? bias.to(at::kFloat) : at::Tensor(),
                                                   std::move(workspace), (*options.stride())[0]);
    } catch (const c10::Error &) {
        m_dnnl.reset(); // oneDNN refused this layer: the caller keeps torch's kernel
    }
    return m_dnnl != nullptr;
}

bool Conv2dImpl::pointwiseTokenProjection() const
{
    const auto &pad = c10::get<torch::ExpandingArray<2>>(options.padding());
    const auto k = *options.kernel_size(), stride = *options.stride();
    return m_tokenProjection && k[0] == 1 && k[1] == 1 && stride[0] == 1 && stride[1] == 1 && (*pad)[0] == 0 &&
           (*pad)[1] == 0 && options.groups() == 1;
}

bool Conv2dImpl::adoptDnnlMatmul(const at::Tensor &plain, const at::Tensor &room)
{
    if (!pointwiseTokenProjection() || !DnnlMatmul::available() || !DnnlMatmul::enabled())
        return false;
    try {
        m_matmul = std::make_shared<DnnlMatmul>(plain.reshape({plain.size(0), plain.size(1)}),
                                                bias.defined() ? bias.to(at::kFloat) : at::Tensor(), room);
    } catch (const c10::Error &) {
        m_matmul.reset(); // oneDNN refused this layer: the caller packs it for torch's kernel
    }
    return m_matmul != nullptr;
}

bool Conv2dImpl::prepareDnnlConvolution(std::shared_ptr<DnnlConvolution::Workspace> workspace,
                                        at::Tensor *convertScratch)
{
    if (preparedForInference())
        return m_dnnl != nullptr;
    if (!weight.defined() || !weight.is_floating_point() || (!convertScratch && weight.scalar_type() != at::kFloat) ||
        !dnnlSuits(weight.sizes()))
        return false;
    torch::NoGradGuard noGrad;
    // A float16 file view (AutoencoderKL converting at its first use) goes
    // through the scratch, so the packed copy is its only float32 copy.
    if (!adoptDnnlConvolution(convertScratch ? convertedThroughScratch(weight, at::kFloat, *convertScratch) : weight,
                              std::move(workspace)))
        return false;
    dropPlainWeight(weight, at::kFloat);
    convertTensor(bias, at::kFloat);
    return true;
}

at::Tensor Conv2dImpl::forward(const at::Tensor &x)
{
    if (!m_deferred && !preparedForInference()) {
        const auto &pad = c10::get<torch::ExpandingArray<2>>(options.padding());
        return at::conv2d(x, weight, bias, *options.stride(), *pad, *options.dilation(), options.groups());
    }
    return runPacked([&] { return forwardPrepared(x); });
}

at::Tensor Conv2dImpl::forwardPrepared(const at::Tensor &x)
{
    const auto &pad = c10::get<torch::ExpandingArray<2>>(options.padding());
    TORCH_CHECK(!at::GradMode::is_enabled(), "Conv2d: prepared for inference; gradients are not available");
    const at::ScalarType prepared = m_dnnl || m_matmul ? at::kFloat : m_packed.scalar_type();
    TORCH_CHECK(x.scalar_type() == prepared, "Conv2d: prepared for ", prepared, " inference, got ", x.scalar_type(),
                " input (reload the model to change its precision)");
    if (m_dnnl)
        return m_dnnl->forward(x);
    if (m_matmul) {
        TORCH_CHECK(x.dim() == 4, "Conv2d: expected [N, C, H, W] input, got ", x.sizes());
        const at::Tensor tokens = x.permute({0, 2, 3, 1}); // a view when x is channels_last
        return m_matmul->forward(tokens).permute({0, 3, 1, 2});
    }
    TORCH_CHECK(x.layout() == at::kStrided && x.device().is_cpu(), "Conv2d: prepared for dense CPU input");
    return at::mkldnn_convolution(x, m_packed, bias.defined() ? c10::optional<at::Tensor>(bias) : c10::nullopt,
                                  *pad, *options.stride(), *options.dilation(), options.groups());
}

void releaseDnnlWorkspaces(torch::nn::Module &module)
{
    const DeferredPacking *released = nullptr; // the deferred layers share one
    for (Conv2dImpl *conv : modulesOfType<Conv2dImpl>(module))
        if (conv->dnnlConvolution())
            conv->dnnlConvolution()->releaseWorkspace(); // shared: the first call does the work
        else if (DeferredPacking *packing = conv->deferredPacking(); packing && packing != released) {
            packing->workspace()->release();
            packing->releaseIdlePages();
            released = packing;
        }
}

int deferConvolutionPacking(torch::nn::Module &module, const std::shared_ptr<DeferredPacking> &packing)
{
    int deferred = 0;
    for (Conv2dImpl *conv : modulesOfType<Conv2dImpl>(module))
        deferred += conv->deferPacking(packing) ? 1 : 0;
    return deferred;
}

int countDnnlConvolutions(torch::nn::Module &module)
{
    int n = 0;
    for (const Conv2dImpl *conv : modulesOfType<Conv2dImpl>(module))
        n += conv->dnnlConvolution() ? 1 : 0;
    return n;
}

int countDnnlMatmulConvolutions(torch::nn::Module &module)
{
    int n = 0;
    for (const Conv2dImpl *conv : modulesOfType<Conv2dImpl>(module))
        n += conv->dnnlMatmul() ? 1 : 0;
    return n;
}

int prepareDnnlConvolutions(torch::nn::Module &module, const std::shared_ptr<DnnlConvolution::Workspace> &workspace,
                            bool convertToFloat)
{
    at::Tensor scratch; // weights in another dtype, one after another
    int prepared = 0;
    for (Conv2dImpl *conv : modulesOfType<Conv2dImpl>(module))
        prepared += conv->prepareDnnlConvolution(workspace, convertToFloat ? &scratch : nullptr) ? 1 : 0;
    return prepared;
}

int prepareConvolutionsForInference(torch::nn::Module &module, std::optional<at::ScalarType> dtype,
                                    at::Tensor *scratchOut)
{
    const std::vector<Conv2dImpl *> convs = modulesOfType<Conv2dImpl>(module);
    // One conversion buffer for all, sized up front for the largest weight
    // that needs converting (none: no buffer).
    std::int64_t largest = 0;
    if (dtype && isPackableDtype(*dtype) && convolutionPackingEnabled())
        for (const Conv2dImpl *conv : convs)
            if (conv->weight.defined() && conv->weight.scalar_type() != *dtype)
                largest = std::max(largest, conv->weight.numel());
    at::Tensor local;
    at::Tensor &scratch = scratchOut ? *scratchOut : local;
    if (largest > 0 && (!scratch.defined() || scratch.scalar_type() != *dtype || scratch.numel() < largest))
        scratch = at::empty({largest}, at::TensorOptions().dtype(*dtype));
    const auto workspace = std::make_shared<DnnlConvolution::Workspace>();
    int prepared = 0;
    for (Conv2dImpl *conv : convs)
        prepared += conv->prepareForInference(dtype, &scratch, workspace) ? 1 : 0;
    return prepared;
}

} // namespace stipple::core
