// Normalisation helpers (see Normalization.h).
#include "core/models/common/Normalization.h"

#include "core/common/ParallelRange.h"
#include "core/models/common/Bf16Elementwise.h"

#include <ATen/ATen.h>
#include <c10/core/GradMode.h>

#include <algorithm>
#include <cmath>
#include <vector>

namespace stipple::core {

namespace nn = torch::nn;

namespace {

bool isWide(const at::Tensor &x) { return x.scalar_type() == at::kFloat || x.scalar_type() == at::kDouble; }

// An optional affine parameter in float32 (undefined stays undefined).
at::Tensor asFloat(const at::Tensor &t) { return t.defined() ? t.to(at::kFloat) : at::Tensor(); }

// GroupNorm computed in float32 (or the input's float64); the caller converts back.
at::Tensor groupNormWide(const at::Tensor &x, std::int64_t groups, const at::Tensor &weight,
                         const at::Tensor &bias, double eps)
{
    if (isWide(x))
        return at::group_norm(x, groups, weight, bias, eps);
    return at::group_norm(x.to(at::kFloat), groups, asFloat(weight), asFloat(bias), eps);
}

at::Tensor narrowed(const at::Tensor &t, std::int64_t start, std::int64_t length)
{
    return t.defined() ? t.narrow(0, start, length) : at::Tensor();
}

} // namespace

at::Tensor layerNormStable(const nn::LayerNorm &norm, const at::Tensor &x)
{
    const auto &o = norm->options;
    if (isWide(x))
        return at::layer_norm(x, o.normalized_shape(), norm->weight, norm->bias, o.eps());
    if (o.normalized_shape().size() == 1 && x.dim() >= 1 && o.normalized_shape()[0] == x.size(-1))
        if (at::Tensor y = layerNormBf16(x, norm->weight, norm->bias, o.eps()); y.defined())
            return y;
    return at::layer_norm(x.to(at::kFloat), o.normalized_shape(), asFloat(norm->weight), asFloat(norm->bias), o.eps())
        .to(x.scalar_type());
}

at::Tensor groupNormStable(const nn::GroupNorm &norm, const at::Tensor &x)
{
    const auto &o = norm->options;
    if (at::Tensor y = groupNormBf16(x, o.num_groups(), norm->weight, norm->bias, o.eps(), false); y.defined())
        return y;
    return groupNormWide(x, o.num_groups(), norm->weight, norm->bias, o.eps()).to(x.scalar_type());
}

at::Tensor groupNormSilu(const nn::GroupNorm &norm, const at::Tensor &x)
{
    // SiLU on the float32 GroupNorm output, in place, before the conversion:
    // torch 1.13's bfloat16 SiLU runs at a third of float32's speed (5.05 vs
    // 1.76 + 0.55 ms for convert on 2.6 M elements, docs/performance.md).
    // float32 inputs get exactly GroupNorm then SiLU.
    const auto &o = norm->options;
    if (at::Tensor y = groupNormBf16(x, o.num_groups(), norm->weight, norm->bias, o.eps(), true); y.defined())
        return y;
    at::Tensor y = groupNormWide(x, o.num_groups(), norm->weight, norm->bias, o.eps());
    at::silu_(y);
    return y.to(x.scalar_type());
}

bool canOverwrite(const at::Tensor &x)
{
    return x.defined() && !c10::GradMode::is_enabled() && !x.requires_grad() && x.use_count() == 1
           && x.has_storage() && x.storage().use_count() == 1;
}

namespace {

// Per-sample, per-channel sums of x and x^2 in double, for a float32 tensor
// that is contiguous as NCHW or as NHWC (channels_last): sums at [(n * 2) * C + c],
// squares at [(n * 2 + 1) * C + c].
// Fixed parts summed in order, so the result does not depend on the thread count.
std::vector<double> channelMoments(const at::Tensor &x, bool channelsLast)
{
    const std::int64_t n = x.size(0), c = x.size(1), hw = x.size(2) * x.size(3);
    const float *data = x.data_ptr<float>();
    constexpr std::int64_t kParts = 16;
    std::vector<double> partial(static_cast<std::size_t>(kParts * n * c * 2), 0.0);
    parallelRange(0, kParts, 1, [&](std::int64_t p0, std::int64_t p1, int) {
        for (std::int64_t p = p0; p < p1; ++p) {
            double *acc = partial.data() + p * n * c * 2;
            for (std::int64_t s = 0; s < n; ++s) {
                const float *sample = data + s * c * hw;
                double *sums = acc + s * c * 2;
                double *squares = sums + c;
                if (channelsLast) { // pixels [begin, end) of this part, channels innermost
                    const std::int64_t begin = hw * p / kParts, end = hw * (p + 1) / kParts;
                    for (std::int64_t i = begin; i < end; ++i) {
                        const float *pixel = sample + i * c;
                        for (std::int64_t ch = 0; ch < c; ++ch) {
                            const double v = pixel[ch];
                            sums[ch] += v;
                            squares[ch] += v * v;
                        }
                    }
                } else { // channels [begin, end) of this part, pixels innermost
                    const std::int64_t begin = c * p / kParts, end = c * (p + 1) / kParts;
                    for (std::int64_t ch = begin; ch < end; ++ch) {
                        double sum = 0, sq = 0;
                        for (std::int64_t i = 0; i < hw; ++i) {
                            const double v = sample[ch * hw + i];
                            sum += v;
                            sq += v * v;
                        }
                        sums[ch] = sum;
                        squares[ch] = sq;
                    }
                }
            }
        }
    });
    std::vector<double> total(static_cast<std::size_t>(n * c * 2), 0.0);
    for (std::int64_t p = 0; p < kParts; ++p)
        for (std::size_t i = 0; i < total.size(); ++i)
            total[i] += partial[p * total.size() + i];
    return total;
}

// Normalise-then-SiLU in place from precomputed moments: per channel
// y = x * scale + shift with scale = rstd * gamma, shift = beta - mean * scale
// (the form of ATen's GroupNorm kernel), a band at a time so that the affine
// pass and the SiLU pass meet the band in cache.
void applyGroupNormSilu(const nn::GroupNorm &norm, at::Tensor &x, const std::vector<double> &moments,
                        bool channelsLast)
{
    const auto &o = norm->options;
    const std::int64_t n = x.size(0), c = x.size(1), hw = x.size(2) * x.size(3);
    const std::int64_t groups = o.num_groups(), perGroup = c / groups;
    const double count = static_cast<double>(perGroup * hw);
    at::Tensor scale = at::empty({n, c}, at::kDouble), shift = at::empty({n, c}, at::kDouble);
    const at::Tensor gamma = norm->weight.defined() ? norm->weight.to(at::kDouble) : at::ones({c}, at::kDouble);
    const at::Tensor beta = norm->bias.defined() ? norm->bias.to(at::kDouble) : at::zeros({c}, at::kDouble);
    auto sc = scale.accessor<double, 2>(), sh = shift.accessor<double, 2>();
    auto ga = gamma.accessor<double, 1>(), be = beta.accessor<double, 1>();
    for (std::int64_t s = 0; s < n; ++s)
        for (std::int64_t g = 0; g < groups; ++g) {
            double sum = 0, sq = 0;
            for (std::int64_t ch = g * perGroup; ch < (g + 1) * perGroup; ++ch) {
                sum += moments[s * 2 * c + ch];
                sq += moments[(s * 2 + 1) * c + ch];
            }
            const double mean = sum / count;
            const double var = std::max(0.0, sq / count - mean * mean);
            const double rstd = 1.0 / std::sqrt(var + o.eps());
            for (std::int64_t ch = g * perGroup; ch < (g + 1) * perGroup; ++ch) {
                sc[s][ch] = rstd * ga[ch];
                sh[s][ch] = be[ch] - mean * sc[s][ch];
            }
        }
    const at::Tensor scaleF = scale.to(at::kFloat), shiftF = shift.to(at::kFloat);
    constexpr std::int64_t kBandBytes = std::int64_t(2) << 20;
    for (std::int64_t s = 0; s < n; ++s) {
        if (channelsLast) {
            at::Tensor rows = x[s].permute({1, 2, 0}).reshape({hw, c}); // a view: NHWC is contiguous
            const at::Tensor a = scaleF[s], b = shiftF[s];
            const std::int64_t band = std::max<std::int64_t>(1, kBandBytes / (c * 4));
            for (std::int64_t i = 0; i < hw; i += band) {
                at::Tensor part = rows.narrow(0, i, std::min(band, hw - i));
                at::addcmul_out(part, b, part, a);
                at::silu_(part);
            }
        } else {
            at::Tensor rows = x[s].view({c, hw});
            for (std::int64_t ch = 0; ch < c; ++ch) {
                at::Tensor part = rows[ch];
                part.mul_(scaleF[s][ch].item<float>()).add_(shiftF[s][ch].item<float>());
                at::silu_(part);
            }
        }
    }
}

} // namespace

void groupNormSiluInPlace(const nn::GroupNorm &norm, at::Tensor &x)
{
    TORCH_CHECK(x.dim() == 4 && x.size(1) % norm->options.num_groups() == 0, "GroupNorm in place: bad shape");
    const bool channelsLast = x.is_contiguous(at::MemoryFormat::ChannelsLast) && !x.is_contiguous();
    if (x.scalar_type() == at::kFloat && (channelsLast || x.is_contiguous())) {
        applyGroupNormSilu(norm, x, channelMoments(x, channelsLast), channelsLast);
        return;
    }
    // Other dtypes and layouts: whole groups a few at a time through the plain
    // path (GroupNorm statistics never cross a group).
    const auto &o = norm->options;
    const std::int64_t groups = o.num_groups();
    const std::int64_t perGroup = x.size(1) / groups;
    const std::int64_t groupBytes = std::max<std::int64_t>(1, x.nbytes() / groups);
    const std::int64_t step = std::clamp<std::int64_t>((std::int64_t(16) << 20) / groupBytes, 1, groups);
    for (std::int64_t g = 0; g < groups; g += step) {
        const std::int64_t k = std::min(step, groups - g);
        at::Tensor part = x.narrow(1, g * perGroup, k * perGroup);
        at::Tensor y = groupNormWide(part, k, narrowed(norm->weight, g * perGroup, k * perGroup),
                                     narrowed(norm->bias, g * perGroup, k * perGroup), o.eps());
        at::silu_(y);
        part.copy_(y);
    }
}

bool normalisesInPlace(const at::Tensor &x, std::int64_t minInPlaceBytes)
{
    return x.defined() && static_cast<std::int64_t>(x.nbytes()) >= minInPlaceBytes && canOverwrite(x);
}

at::Tensor groupNormSiluConsuming(const nn::GroupNorm &norm, at::Tensor x, std::int64_t minInPlaceBytes)
{
    if (!normalisesInPlace(x, minInPlaceBytes))
        return groupNormSilu(norm, x);
    groupNormSiluInPlace(norm, x);
    return x;
}

} // namespace stipple::core
