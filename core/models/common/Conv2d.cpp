#include "core/models/common/Conv2d.h"

#include "core/common/FloatConversion.h"
#include "core/common/MemoryPages.h"
#include "core/common/Runtime.h"
#include "core/io/SafeTensors.h"
#include "core/models/common/DnnlConvolution.h"
#include "core/models/common/ParameterInit.h"

#include <ATen/ATen.h>
#include <ATen/Context.h>

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <vector>

namespace stipple::core {
namespace {

bool isPackableDtype(at::ScalarType t) { return t == at::kFloat || t == at::kBFloat16; }

// Returns the whole pages inside a tensor's bytes to the OS before the
// tensor is dropped. Only when this tensor is the storage's sole user: its
// bytes may be a slice of a shared conversion arena (openCheckpoint), which
// dropping the tensor alone would not free.
void releasePages(const at::Tensor &t)
{
    if (!t.defined() || t.storage().use_count() != 1)
        return;
    releaseWholePages(t.data_ptr(), t.nbytes());
}

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
    at::Tensor plain = weight;
    if (weight.scalar_type() != target) {
        const std::int64_t n = weight.numel();
        at::Tensor local;
        at::Tensor &buffer = scratch ? *scratch : local;
        if (!buffer.defined() || buffer.scalar_type() != target || buffer.numel() < n)
            buffer = at::empty({n}, weight.options().dtype(target));
        plain = buffer.narrow(0, 0, n).view(weight.sizes());
        convertInto(plain, weight.contiguous());
    }
    const auto &pad = c10::get<torch::ExpandingArray<2>>(options.padding());
    if (target == at::kFloat)
        adoptDnnlConvolution(plain, std::move(workspace));
    if (!m_dnnl)
        m_packed = at::mkldnn_reorder_conv2d_weight(plain.to_mkldnn(), *pad, *options.stride(), *options.dilation(),
                                                    options.groups());
    plain = at::Tensor();
    if (const MappedFilesScope *scope = MappedFilesScope::current())
        scope->releasePagesOf(weight); // a file view: re-read from the page cache if ever needed
    releasePages(weight);
    weight.set_data(at::empty({0}, weight.options().dtype(target)));
    if (bias.defined() && bias.scalar_type() != target)
        bias.set_data(bias.to(target));
    return true;
}

bool Conv2dImpl::dnnlSuits() const
{
    const auto &pad = c10::get<torch::ExpandingArray<2>>(options.padding());
    return weight.defined() && weight.dim() == 4 && DnnlConvolution::available() &&
           DnnlConvolution::enabled() &&
           DnnlConvolution::suits(weight.sizes(), *options.stride(), *pad, *options.dilation(), options.groups());
}

bool Conv2dImpl::adoptDnnlConvolution(const at::Tensor &plain, std::shared_ptr<DnnlConvolution::Workspace> workspace)
{
    if (!dnnlSuits())
        return false;
    try {
        m_dnnl = std::make_shared<DnnlConvolution>(plain, bias.defined() ? bias.to(at::kFloat) : at::Tensor(),
                                                   std::move(workspace));
    } catch (const c10::Error &) {
        m_dnnl.reset(); // oneDNN refused this layer: the caller keeps torch's kernel
    }
    return m_dnnl != nullptr;
}

bool Conv2dImpl::prepareDnnlConvolution(std::shared_ptr<DnnlConvolution::Workspace> workspace)
{
    if (preparedForInference())
        return m_dnnl != nullptr;
    if (!weight.defined() || weight.scalar_type() != at::kFloat)
        return false;
    torch::NoGradGuard noGrad;
    if (!adoptDnnlConvolution(weight, std::move(workspace)))
        return false;
    releasePages(weight);
    weight.set_data(at::empty({0}, weight.options()));
    return true;
}

at::Tensor Conv2dImpl::forward(const at::Tensor &x)
{
    const auto &pad = c10::get<torch::ExpandingArray<2>>(options.padding());
    if (!preparedForInference())
        return at::conv2d(x, weight, bias, *options.stride(), *pad, *options.dilation(), options.groups());
    TORCH_CHECK(!at::GradMode::is_enabled(), "Conv2d: prepared for inference; gradients are not available");
    const at::ScalarType prepared = m_dnnl ? at::kFloat : m_packed.scalar_type();
    TORCH_CHECK(x.scalar_type() == prepared, "Conv2d: prepared for ", prepared, " inference, got ", x.scalar_type(),
                " input (reload the model to change its precision)");
    if (m_dnnl)
        return m_dnnl->forward(x);
    TORCH_CHECK(x.layout() == at::kStrided && x.device().is_cpu(), "Conv2d: prepared for dense CPU input");
    return at::mkldnn_convolution(x, m_packed, bias.defined() ? c10::optional<at::Tensor>(bias) : c10::nullopt,
                                  *pad, *options.stride(), *options.dilation(), options.groups());
}

namespace {

std::vector<Conv2dImpl *> convolutionsIn(torch::nn::Module &module)
{
    // include_self=false: `module` need not be held by a shared_ptr.
    std::vector<Conv2dImpl *> convs;
    if (auto *self = module.as<Conv2dImpl>())
        convs.push_back(self);
    for (const auto &m : module.modules(/*include_self=*/false))
        if (auto *conv = m->as<Conv2dImpl>())
            convs.push_back(conv);
    return convs;
}

} // namespace

void releaseDnnlWorkspaces(torch::nn::Module &module)
{
    for (Conv2dImpl *conv : convolutionsIn(module))
        if (conv->dnnlConvolution())
            conv->dnnlConvolution()->releaseWorkspace(); // shared: the first call does the work
}

int countDnnlConvolutions(torch::nn::Module &module)
{
    int n = 0;
    for (const Conv2dImpl *conv : convolutionsIn(module))
        n += conv->dnnlConvolution() ? 1 : 0;
    return n;
}

int prepareDnnlConvolutions(torch::nn::Module &module, const std::shared_ptr<DnnlConvolution::Workspace> &workspace)
{
    int prepared = 0;
    for (Conv2dImpl *conv : convolutionsIn(module))
        prepared += conv->prepareDnnlConvolution(workspace) ? 1 : 0;
    return prepared;
}

int prepareConvolutionsForInference(torch::nn::Module &module, std::optional<at::ScalarType> dtype)
{
    const std::vector<Conv2dImpl *> convs = convolutionsIn(module);
    // One conversion buffer for all, sized up front for the largest weight
    // that needs converting (none: no buffer).
    std::int64_t largest = 0;
    if (dtype && isPackableDtype(*dtype) && convolutionPackingEnabled())
        for (const Conv2dImpl *conv : convs)
            if (conv->weight.defined() && conv->weight.scalar_type() != *dtype)
                largest = std::max(largest, conv->weight.numel());
    at::Tensor scratch;
    if (largest > 0)
        scratch = at::empty({largest}, at::TensorOptions().dtype(*dtype));
    const auto workspace = std::make_shared<DnnlConvolution::Workspace>();
    int prepared = 0;
    for (Conv2dImpl *conv : convs)
        prepared += conv->prepareForInference(dtype, &scratch, workspace) ? 1 : 0;
    return prepared;
}

} // namespace stipple::core
