#include "bench/LayerBenches.h"

#include "core/models/common/Attention.h"
#include "core/models/common/DnnlConvolution.h"
#include "core/models/common/DnnlMatmul.h"

#include <ATen/ATen.h>
#include <c10/core/InferenceMode.h>

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <utility>
#include <vector>

namespace stipple::bench {

using namespace stipple::core;

namespace {

// Interleaved A/B of two attention variants on the same inputs; prints both
// medians, the ratio and the largest difference of the outputs.
struct ABNames {
    const char *a, *b, *versus;
};
void attentionAB(const Options &o, const at::Tensor &q, const at::Tensor &k, const at::Tensor &v, double scale,
                 const AttentionOptions &a, const AttentionOptions &b, const std::string &dtypeName, int res,
                 const ABNames &names)
{
    const auto [ta, tb] = interleavedRuns(
        std::max(3, o.reps), [&] { (void)scaledDotProductAttention(q, k, v, scale, a); },
        [&] { (void)scaledDotProductAttention(q, k, v, scale, b); });
    const at::Tensor ref = scaledDotProductAttention(q, k, v, scale, b).to(at::kFloat);
    const double diff = (scaledDotProductAttention(q, k, v, scale, a).to(at::kFloat) - ref).abs().max().item<double>();
    report({names.a, dtypeName, res, median(ta), ta,
            fmt::format("{:.2f}x vs {}, max diff {:.2g} (outputs up to {:.2g})", median(tb) / median(ta), names.versus,
                        diff, ref.abs().max().item<double>())});
    report({names.b, dtypeName, res, median(tb), tb, ""});
}

// SD 1.5 first-level self-attention: 8 heads x 40 dims, CFG batch 2.
} // namespace

void benchAttention(const Options &o, const std::string &dtypeName)
{
    const at::ScalarType dtype = dtypeOf(dtypeName);
    c10::InferenceMode inference;
    for (int res : o.resolutions) {
        const std::int64_t tokens = std::int64_t(res / 8) * (res / 8);
        const at::Tensor q = at::randn({16, tokens, 40}).to(dtype), k = at::randn({16, tokens, 40}).to(dtype),
                         v = at::randn({16, tokens, 40}).to(dtype);
        const double scale = 1.0 / std::sqrt(40.0);
        auto runs = timeRuns(o.warmup, o.reps, [&] { (void)scaledDotProductAttention(q, k, v, scale); });
        report({"attention L1 default options", dtypeName, res, median(runs), runs, "core/models/common/Attention"});
        for (std::int64_t mib : {4, 64}) {
            AttentionOptions ao; // the three-op path's chunking (the fused kernel has none)
            ao.chunkBytes = mib << 20;
            ao.fusedMinScores = -1;
            runs = timeRuns(o.warmup, o.reps, [&] { (void)scaledDotProductAttention(q, k, v, scale, ao); });
            report({fmt::format("attention L1 chunked ({} MiB)", mib), dtypeName, res, median(runs), runs, ""});
        }
        if (dtype == at::kFloat) {
            // The fused AVX-512 kernel (the default for float32) against the three-op path.
            AttentionOptions fused, threeOps;
            threeOps.fusedMinScores = -1;
            attentionAB(o, q, k, v, scale, fused, threeOps, dtypeName, res,
                        {"A/B: fused AVX-512 kernel", "A/B: baddbmm, softmax, bmm", "baddbmm/softmax/bmm"});
        } else {
            // Softmax in the score dtype (the default) against the float32 round trip.
            AttentionOptions direct, roundTrip;
            roundTrip.softmaxInScoreDtype = false;
            attentionAB(o, q, k, v, scale, direct, roundTrip, dtypeName, res,
                        {"A/B: softmax in score dtype", "A/B: float32 softmax round trip", "the float32 round trip"});
        }
        if (res <= 256) { // 512²: 2 GiB of scores and probabilities
            runs = timeRuns(o.warmup, o.reps, [&] { (void)scaledDotProductAttentionPlain(q, k, v, scale); });
            report({"attention L1 plain (full scores)", dtypeName, res, median(runs), runs, ""});
        }
    }
}

// SD 1.5's float32 3x3 convolutions (CFG batch 2), DnnlConvolution (Winograd
// where it pays) against torch's prepacked direct kernel (the path without
// it), interleaved; max diff against float64. The stride-2 rows are the
// downsamplers (input map given).
void benchConvolutions(const Options &o)
{
    if (!DnnlConvolution::available()) {
        std::printf("  conv: oneDNN's Winograd is not available in this build or on this CPU\n");
        return;
    }
    c10::InferenceMode inference;
    struct Shape {
        std::int64_t ic, oc, div, stride = 1;
    };
    const Shape shapes[] = {{320, 320, 8},     {640, 320, 8},       {640, 640, 16},     {1280, 1280, 16},
                            {1280, 1280, 32},  {2560, 1280, 32},    {1280, 1280, 64},   {320, 320, 8, 2},
                            {640, 640, 16, 2}, {1280, 1280, 32, 2}};
    for (int res : o.resolutions)
        for (const Shape &s : shapes) {
            const std::int64_t hw = res / s.div;
            const at::Tensor x = at::randn({2, s.ic, hw, hw});
            const at::Tensor w = at::randn({s.oc, s.ic, 3, 3}) * (1.0 / std::sqrt(9.0 * double(s.ic)));
            const at::Tensor b = at::randn({s.oc}) * 0.1;
            const std::int64_t st = s.stride;
            DnnlConvolution dnnl(w, b, nullptr, st);
            const at::Tensor packed = at::mkldnn_reorder_conv2d_weight(w.to_mkldnn(), {1, 1}, {st, st}, {1, 1}, 1);
            auto direct = [&] { return at::mkldnn_convolution(x, packed, b, {1, 1}, {st, st}, {1, 1}, 1); };
            const auto [ta, tb] =
                interleavedRuns(std::max(3, o.reps), [&] { (void)dnnl.forward(x); }, [&] { (void)direct(); });
            // What the bf16 mode runs for this layer: torch's packed direct kernel in bf16 (AVX512-BF16).
            const at::Tensor xb = x.to(at::kBFloat16), bb = b.to(at::kBFloat16);
            const at::Tensor packedB =
                at::mkldnn_reorder_conv2d_weight(w.to(at::kBFloat16).to_mkldnn(), {1, 1}, {st, st}, {1, 1}, 1);
            const auto [tc, td] = interleavedRuns(
                std::max(3, o.reps), [&] { (void)dnnl.forward(xb.to(at::kFloat)).to(at::kBFloat16); },
                [&] { (void)at::mkldnn_convolution(xb, packedB, bb, {1, 1}, {st, st}, {1, 1}, 1); });
            const at::Tensor ref = at::conv2d(x.to(at::kDouble), w.to(at::kDouble), b.to(at::kDouble), st, 1);
            const double errA = (dnnl.forward(x).to(at::kDouble) - ref).abs().max().item<double>();
            const double errB = (direct().to(at::kDouble) - ref).abs().max().item<double>();
            const bool wino = dnnl.algorithmFor(2, hw, hw) == DnnlConvolution::Algorithm::Winograd;
            const std::string name =
                fmt::format("conv {}->{} at {}x{}{}", s.ic, s.oc, hw, hw, st == 2 ? ", stride 2" : "");
            report({name + (wino ? ", Winograd" : ", oneDNN direct"), "fp32", res, median(ta), ta,
                    fmt::format("{:.2f}x vs torch's packed direct; max err vs float64 {:.2g} (direct {:.2g})",
                                median(tb) / median(ta), errA, errB)});
            report({name + ", torch packed direct", "fp32", res, median(tb), tb, ""});
            report({name + ", torch packed direct", "bf16", res, median(td), td,
                    fmt::format("DnnlConvolution on bf16 input (converted both ways) {:.4f} s: {:.2f}x", median(tc),
                                median(td) / median(tc))});
        }
}

// SD 1.5's linear layers (CFG batch 2). float32: DnnlMatmul (weight packed
// once) against at::linear (OpenBLAS), interleaved; bf16: at::linear (oneDNN
// inside torch), as the bf16 mode runs them. Max diff against float64.
void benchLinears(const Options &o, const std::string &dtypeName)
{
    const at::ScalarType dtype = dtypeOf(dtypeName);
    if (dtype == at::kFloat && !DnnlMatmul::available()) {
        std::printf("  linear: oneDNN's matmul is not available in this build or on this CPU\n");
        return;
    }
    c10::InferenceMode inference;
    struct Shape {
        std::int64_t rows, in, out;
        const char *what;
    };
    for (int res : o.resolutions) {
        std::vector<Shape> shapes;
        const std::int64_t tokens1 = std::int64_t(res / 8) * (res / 8);
        for (const auto &[c, div] : {std::pair<std::int64_t, std::int64_t>{320, 1}, {640, 2}, {1280, 4}}) {
            const std::int64_t rows = 2 * tokens1 / (div * div);
            shapes.push_back({rows, c, c, "q/k/v/out, proj_in/out"});
            shapes.push_back({rows, c, 8 * c, "GEGLU proj"});
            shapes.push_back({rows, 4 * c, c, "feed-forward out"});
            shapes.push_back({2 * 77, 768, c, "cross-attention k/v"});
        }
        shapes.push_back({2, 1280, 1280, "time embedding"});
        for (const Shape &s : shapes) {
            const at::Tensor x = at::randn({s.rows, s.in}).to(dtype);
            const at::Tensor w = (at::randn({s.out, s.in}) * (1.0 / std::sqrt(double(s.in)))).to(dtype);
            const at::Tensor b = (at::randn({s.out}) * 0.1).to(dtype);
            const at::Tensor ref = at::linear(x.to(at::kDouble), w.to(at::kDouble), b.to(at::kDouble));
            const auto errOf = [&](const at::Tensor &y) { return (y.to(at::kDouble) - ref).abs().max().item<double>(); };
            const double flop = 2.0 * double(s.rows * s.in * s.out);
            const std::string name = fmt::format("linear {}x{}->{} ({})", s.rows, s.in, s.out, s.what);
            if (dtype != at::kFloat) {
                const auto t = timeRuns(o.warmup, std::max(3, o.reps), [&] { (void)at::linear(x, w, b); });
                report({name + ", at::linear", dtypeName, res, median(t), t,
                        fmt::format("{:.0f} GFLOP/s; max err vs float64 {:.2g}", 1e-9 * flop / median(t),
                                    errOf(at::linear(x, w, b)))});
                continue;
            }
            DnnlMatmul dnnl(w, b);
            const auto [ta, tb] = interleavedRuns(std::max(3, o.reps), [&] { (void)dnnl.forward(x); },
                                                  [&] { (void)at::linear(x, w, b); });
            report({name + (dnnl.packedFor(s.rows) ? ", oneDNN packed" : ", at::linear fallback"), "fp32", res,
                    median(ta), ta,
                    fmt::format("{:.2f}x vs at::linear; {:.0f} GFLOP/s; max err vs float64 {:.2g} (at::linear {:.2g})",
                                median(tb) / median(ta), 1e-9 * flop / median(ta), errOf(dnnl.forward(x)),
                                errOf(at::linear(x, w, b)))});
            report({name + ", at::linear", "fp32", res, median(tb), tb, ""});
        }
    }
}

} // namespace stipple::bench
