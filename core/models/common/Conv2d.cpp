#include "core/models/common/Conv2d.h"

#include "core/common/MemoryPages.h"
#include "core/models/common/ParameterInit.h"

#include <ATen/ATen.h>
#include <ATen/Context.h>

#include <cstdint>
#include <cstdlib>
#include <string>

namespace stipple::core {
namespace {

bool prepackAllowed()
{
    static const bool allowed = [] {
        const char *env = std::getenv("STIPPLE_CONV_PREPACK");
        return !(env && std::string(env) == "0");
    }();
    return allowed && at::hasMKLDNN() && at::globalContext().userEnabledMkldnn();
}

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

bool Conv2dImpl::prepareForInference()
{
    if (m_packed.defined())
        return true;
    if (!prepackAllowed() || !weight.defined() || weight.dim() != 4 ||
        (weight.scalar_type() != at::kFloat && weight.scalar_type() != at::kBFloat16))
        return false;
    torch::NoGradGuard noGrad;
    const auto &pad = c10::get<torch::ExpandingArray<2>>(options.padding());
    m_packed = at::mkldnn_reorder_conv2d_weight(weight.to_mkldnn(), *pad, *options.stride(), *options.dilation(),
                                                options.groups());
    releasePages(weight);
    weight.set_data(at::empty({0}, weight.options()));
    return true;
}

at::Tensor Conv2dImpl::forward(const at::Tensor &x)
{
    const auto &pad = c10::get<torch::ExpandingArray<2>>(options.padding());
    if (!m_packed.defined())
        return at::conv2d(x, weight, bias, *options.stride(), *pad, *options.dilation(), options.groups());
    TORCH_CHECK(!at::GradMode::is_enabled(), "Conv2d: prepared for inference; gradients are not available");
    TORCH_CHECK(x.scalar_type() == m_packed.scalar_type(), "Conv2d: prepared for ", m_packed.scalar_type(),
                " inference, got ", x.scalar_type(), " input (reload the model to change its precision)");
    TORCH_CHECK(x.layout() == at::kStrided && x.device().is_cpu(), "Conv2d: prepared for dense CPU input");
    return at::mkldnn_convolution(x, m_packed, bias.defined() ? c10::optional<at::Tensor>(bias) : c10::nullopt,
                                  *pad, *options.stride(), *options.dilation(), options.groups());
}

int prepareConvolutionsForInference(torch::nn::Module &module)
{
    // include_self=false: `module` need not be held by a shared_ptr.
    int prepared = 0;
    if (auto *self = module.as<Conv2dImpl>())
        prepared += self->prepareForInference() ? 1 : 0;
    for (const auto &m : module.modules(/*include_self=*/false))
        if (auto *conv = m->as<Conv2dImpl>())
            prepared += conv->prepareForInference() ? 1 : 0;
    return prepared;
}

} // namespace stipple::core
