// bfloat16 element-wise functions (see Bf16Elementwise.h).
#include "core/models/common/Bf16Elementwise.h"

#include "core/common/ParallelRange.h"
#include "core/common/Runtime.h"
#include "core/models/common/Bf16KernelsAvx512.h"

#include <ATen/ATen.h>
#include <c10/core/GradMode.h>

namespace stipple::core {
namespace {

const std::uint16_t *bits(const at::Tensor &t) { return static_cast<const std::uint16_t *>(t.data_ptr()); }
std::uint16_t *bits(at::Tensor &t) { return static_cast<std::uint16_t *>(t.data_ptr()); }

// An affine parameter as contiguous float32 (undefined stays undefined).
at::Tensor floatParameter(const at::Tensor &t)
{
    return t.defined() ? t.to(at::kFloat).contiguous() : at::Tensor();
}

const float *floatsOrNull(const at::Tensor &t) { return t.defined() ? t.data_ptr<float>() : nullptr; }

bool needsGrad(const at::Tensor &t) { return t.defined() && t.requires_grad(); }

// The kernels record no autograd graph: anything that needs one (training
// with grad mode on) takes the ATen path.
bool applies(const at::Tensor &x, const at::Tensor &weight = {}, const at::Tensor &bias = {})
{
    const bool grad = c10::GradMode::is_enabled() && (needsGrad(x) || needsGrad(weight) || needsGrad(bias));
    return bf16ElementwiseAvailable() && !grad && x.defined() && x.scalar_type() == at::kBFloat16 &&
           x.device().is_cpu() && x.layout() == at::kStrided;
}

} // namespace

bool bf16ElementwiseAvailable()
{
    static const bool available = cpuRunsBf16Kernels() && envSwitch("STIPPLE_BF16_ELEMENTWISE") != 0;
    return available;
}

at::Tensor layerNormBf16(const at::Tensor &x, const at::Tensor &weight, const at::Tensor &bias, double eps)
{
    if (!applies(x, weight, bias) || x.dim() < 1 || !x.is_contiguous() || x.numel() == 0)
        return {};
    const std::int64_t c = x.size(-1), rows = x.numel() / c;
    if ((weight.defined() && weight.numel() != c) || (bias.defined() && bias.numel() != c))
        return {};
    const at::Tensor gamma = floatParameter(weight), beta = floatParameter(bias);
    at::Tensor out = at::empty(x.sizes(), x.options()); // contiguous, as x
    const std::uint16_t *in = bits(x);
    std::uint16_t *dst = bits(out);
    const float *g = floatsOrNull(gamma), *b = floatsOrNull(beta);
    parallelRange(0, rows, 64, [&](std::int64_t r0, std::int64_t r1, int) {
        kernels::layerNormRowsBf16(in + r0 * c, c, r1 - r0, c, g, b, static_cast<float>(eps), dst + r0 * c, c);
    });
    return out;
}

at::Tensor groupNormBf16(const at::Tensor &x, std::int64_t groups, const at::Tensor &weight,
                         const at::Tensor &bias, double eps, bool silu)
{
    if (!applies(x, weight, bias) || x.dim() < 2 || !x.is_contiguous() || x.numel() == 0 || groups <= 0 || x.size(1) % groups != 0)
        return {};
    const std::int64_t n = x.size(0), c = x.size(1), pixels = x.numel() / (n * c), perGroup = c / groups;
    if ((weight.defined() && weight.numel() != c) || (bias.defined() && bias.numel() != c))
        return {};
    const at::Tensor gamma = floatParameter(weight), beta = floatParameter(bias);
    at::Tensor out = at::empty(x.sizes(), x.options()); // contiguous NCHW, as x
    const std::uint16_t *in = bits(x);
    std::uint16_t *dst = bits(out);
    const float *g = floatsOrNull(gamma), *b = floatsOrNull(beta);
    // One task per (sample, group): its channels are contiguous in NCHW.
    parallelRange(0, n * groups, 1, [&](std::int64_t t0, std::int64_t t1, int) {
        for (std::int64_t t = t0; t < t1; ++t) {
            const std::int64_t channel0 = (t % groups) * perGroup;
            const std::int64_t offset = (t / groups) * c * pixels + channel0 * pixels;
            kernels::groupNormGroupBf16(in + offset, perGroup, pixels, g ? g + channel0 : nullptr,
                                        b ? b + channel0 : nullptr, static_cast<float>(eps), silu, dst + offset);
        }
    });
    return out;
}

at::Tensor gegluBf16(const at::Tensor &aIn, const at::Tensor &gateIn)
{
    if (!applies(aIn) || !applies(gateIn) || aIn.dim() < 1 || aIn.sizes() != gateIn.sizes() || aIn.numel() == 0)
        return {};
    // Leading dimensions merged into rows (a view for chunks of a contiguous tensor).
    const std::int64_t n = aIn.size(-1);
    const at::Tensor a = aIn.reshape({-1, n}), gate = gateIn.reshape({-1, n});
    if (a.stride(1) != 1 || gate.stride(1) != 1 || a.stride(0) != gate.stride(0))
        return {};
    const std::int64_t rows = a.size(0), stride = a.stride(0);
    at::Tensor out = at::empty(aIn.sizes(), aIn.options());
    const std::uint16_t *pa = bits(a), *pg = bits(gate);
    std::uint16_t *dst = bits(out);
    parallelRange(0, rows, 16, [&](std::int64_t r0, std::int64_t r1, int) {
        kernels::gegluRowsBf16(pa + r0 * stride, pg + r0 * stride, stride, r1 - r0, n, dst + r0 * n, n);
    });
    return out;
}

} // namespace stipple::core
