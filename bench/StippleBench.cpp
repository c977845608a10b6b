// stipple-bench: per-stage medians of the Stable Diffusion 1.5 pipeline on
// the CPU (model load, text encode, UNet step with CFG batch 2, VAE decode,
// latent preview, peak RSS; opt-in: attention variants, the model hash) for
// 256² / 512² and float32 / bfloat16, with optional comparisons against
// diffusers (same torch, OpenBLAS) and stable-diffusion.cpp. Random weights: a full-size SD 1.5 checkpoint from
// `stipple-cli export-random` when given, else modules built from the SD 1.5
// configs with torch's default initialisation (timings do not depend on the
// weight values).
//
// Timings are wall-clock medians of N repetitions after W warm-up runs. The
// machine's load average is printed with the results: on shared machines
// the numbers are only comparable at similar load.
#include "bench/OpProfiler.h"

#include "core/common/CpuAllocator.h"
#include "core/common/Runtime.h"
#include "core/image/LatentPreview.h"
#include "core/io/Checkpoint.h"
#include "core/io/SafeTensors.h"
#include "core/models/clip/ClipTextModel.h"
#include "core/models/common/Attention.h"
#include "core/models/common/Conv2d.h"
#include "core/models/common/DnnlConvolution.h"
#include "core/models/common/DnnlMatmul.h"
#include "core/models/common/Linear.h"
#include "core/models/unet/UNet2DConditionModel.h"
#include "core/models/vae/AutoencoderKL.h"
#include "core/text/Sha256.h"
#include "core/text/Sha256Ni.h"

#include <ATen/ATen.h>
#include <c10/core/InferenceMode.h>
#include <torch/torch.h>

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <functional>
#include <utility>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

using namespace stipple::core;
using stipple::bench::OpProfiler;
using stipple::bench::OpTotal;

namespace {

using Clock = std::chrono::steady_clock;

double seconds(Clock::time_point a, Clock::time_point b) { return std::chrono::duration<double>(b - a).count(); }

double median(std::vector<double> v)
{
    if (v.empty())
        return 0;
    std::sort(v.begin(), v.end());
    const size_t n = v.size();
    return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

std::string loadAverage()
{
    std::ifstream in("/proc/loadavg");
    std::string a, b, c;
    in >> a >> b >> c;
    return a + " " + b + " " + c;
}

double peakRssMiB()
{
    struct rusage ru {};
    getrusage(RUSAGE_SELF, &ru);
    return ru.ru_maxrss / 1024.0; // KiB on Linux
}

// Resident set now (VmRSS), MiB.
double currentRssMiB()
{
    std::ifstream in("/proc/self/status");
    std::string line;
    while (std::getline(in, line))
        if (line.rfind("VmRSS:", 0) == 0)
            return std::stod(line.substr(6)) / 1024.0;
    return 0;
}

// CPU seconds (user + system) of the whole process. With --threads 1 this
// measures the work itself, unaffected by waiting for a core on a busy machine.
double processCpuSeconds()
{
    struct rusage ru {};
    getrusage(RUSAGE_SELF, &ru);
    return ru.ru_utime.tv_sec + ru.ru_stime.tv_sec + 1e-6 * (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec);
}

std::vector<double> g_lastCpu; // CPU seconds of the last timeRuns() call, per run

// Times `fn` `warmup` + `reps` times; returns the timed runs (wall seconds).
std::vector<double> timeRuns(int warmup, int reps, const std::function<void()> &fn)
{
    for (int i = 0; i < warmup; ++i)
        fn();
    std::vector<double> t;
    g_lastCpu.clear();
    for (int i = 0; i < reps; ++i) {
        const double c = processCpuSeconds();
        const auto a = Clock::now();
        fn();
        t.push_back(seconds(a, Clock::now()));
        g_lastCpu.push_back(processCpuSeconds() - c);
    }
    return t;
}

std::string fmtTimes(const std::vector<double> &t)
{
    std::string s;
    for (double x : t)
        s += fmt::format("{}{:.3f}", s.empty() ? "" : " ", x);
    return s;
}

struct Options {
    std::string checkpoint = "/tmp/sd15-random.safetensors";
    std::vector<int> resolutions{256, 512};
    std::vector<std::string> dtypes{"fp32", "bf16"};
    std::vector<std::string> stages{"load", "text", "unet", "vae", "preview"};
    int reps = 5;
    int warmup = 1;
    int threads = 0;
    bool channelsLast = false;
    bool vaePrepacked = false;
    bool convertBeforePacking = false; // the UNet's convolutions through the arena first (before session 8)
    bool profile = false;
    bool compare = false;
    std::string python = "/usr/bin/python3";
    std::string diffusersPath = "/tmp/sched-ref/src:/tmp/sched-ref/hub";
    int compareReps = 3;
    std::string sdCpp;
    std::string sdCppModel;
    std::string ab; // "allocator" or "threads": interleaved A/B of the UNet step
};

struct Models {
    UNet2DConditionModel unet{nullptr};
    AutoencoderKL vae{nullptr};
    ClipTextModel clip{nullptr};
    double loadSeconds = 0;   // open + build + convert all three
    double openSeconds = 0;   // openCheckpoint alone
    std::string source;
};

at::ScalarType dtypeOf(const std::string &name) { return name == "bf16" ? at::kBFloat16 : at::kFloat; }

std::optional<Models> loadModels(const Options &o, at::ScalarType dtype, std::string &error)
{
    Models m;
    const auto t0 = Clock::now();
    if (!o.checkpoint.empty() && access(o.checkpoint.c_str(), R_OK) == 0) {
        // As Engine::load: UNet and text encoder in `dtype`, the VAE in float32,
        // the UNet's convolutions converted as they are packed.
        MappedFilesScope mapped;
        OpenOptions oo;
        oo.dtype = dtype;
        oo.vaeDtype = at::kFloat;
        oo.deferUnetConvWeights = !o.convertBeforePacking && convolutionPackingEnabled();
        auto ck = openCheckpoint(o.checkpoint, oo);
        if (!ck.ok()) {
            error = ck.error().message;
            return std::nullopt;
        }
        m.openSeconds = seconds(t0, Clock::now());
        // --convert-before-packing: the path before session 8 (a plain
        // converted copy of every convolution, packed after the dicts go).
        auto unet = o.convertBeforePacking ? loadUNet(ck->unet, dtype) : loadUNetForInference(ck->unet, dtype);
        auto vae = loadVae(ck->vae, at::kFloat);
        auto clipConfig = ClipTextConfig::fromJson(ck->textEncoder.config);
        if (!unet.ok() || !vae.ok() || !clipConfig.ok()) {
            error = !unet.ok() ? unet.error().message : !vae.ok() ? vae.error().message : clipConfig.error().message;
            return std::nullopt;
        }
        auto clip = loadClipTextModel(*clipConfig, ck->textEncoder.weights, dtype);
        if (!clip.ok()) {
            error = clip.error().message;
            return std::nullopt;
        }
        m.unet = *unet;
        m.vae = *vae;
        m.clip = *clip;
        m.source = o.checkpoint;
        mapped.releaseResidentPages(); // as Engine::load
    } else {
        torch::NoGradGuard noGrad;
        m.unet = UNet2DConditionModel(UNetConfig::sd15());
        m.vae = AutoencoderKL(VaeConfig::sd15());
        m.clip = ClipTextModel(ClipTextConfig{});
        m.unet->eval();
        m.vae->eval();
        m.clip->eval();
        m.unet->toDtype(dtype);
        m.vae->toDtype(at::kFloat);
        m.clip->to(dtype);
        m.source = "random modules from UNetConfig::sd15(), VaeConfig::sd15(), ClipTextConfig{}";
    }
    // After the checkpoint's dicts are gone, so the modules hold the only
    // references to their weights. A checkpoint's UNet was packed while
    // loading (this is a no-op for it) unless --convert-before-packing asked
    // for the old order; random modules are packed here.
    prepareConvolutionsForInference(*m.unet);
    prepareLinearsForInference(*m.unet); // float32 only, as Engine::load
    // As Engine::load: the VAE on channels_last, its 3x3 layers on
    // DnnlConvolution in 4 MiB bands; --vae-prepacked measures NCHW with
    // prepareConvolutionsForInference (3x3 layers on DnnlConvolution in the
    // UNet's 48 MiB bands, the rest pre-packed).
    if (o.vaePrepacked)
        prepareConvolutionsForInference(*m.vae);
    else
        m.vae->prepareForInference();
    releaseCachedMemory(); // as Engine::load
    m.loadSeconds = seconds(t0, Clock::now());
    return m;
}

struct Row {
    std::string stage, dtype;
    int res = 0;
    double median = 0;
    std::vector<double> runs;
    std::string note;
};

std::vector<Row> g_rows;

void report(Row r)
{
    if (!g_lastCpu.empty() && g_lastCpu.size() == r.runs.size())
        r.note += fmt::format("{}cpu {:.3f} s", r.note.empty() ? "" : ", ", median(g_lastCpu));
    g_lastCpu.clear();
    g_rows.push_back(r);
    if (r.median < 0.01) // sub-10 ms stages (the preview): microseconds
        std::printf("  %-28s %-5s %4d  median %8.1f us  runs [%s ms]%s%s\n", r.stage.c_str(), r.dtype.c_str(), r.res,
                    r.median * 1e6, fmtTimes([&] { auto v = r.runs; for (double &x : v) x *= 1e3; return v; }()).c_str(),
                    r.note.empty() ? "" : "  ", r.note.c_str());
    else
        std::printf("  %-28s %-5s %4d  median %8.3f s   runs [%s]%s%s\n", r.stage.c_str(), r.dtype.c_str(),
                    r.res, r.median, fmtTimes(r.runs).c_str(), r.note.empty() ? "" : "  ", r.note.c_str());
    std::fflush(stdout);
}

const Row *findRow(const std::string &stage, const std::string &dtype, int res)
{
    for (const Row &r : g_rows)
        if (r.stage == stage && r.dtype == dtype && r.res == res)
            return &r;
    return nullptr;
}

bool wants(const Options &o, const std::string &stage)
{
    return std::find(o.stages.begin(), o.stages.end(), stage) != o.stages.end();
}

// Times `a` and `b` one run each in turn, `rounds` times, so the VM's drift
// hits both alike; a first round (plans, caches) is run and not counted.
std::pair<std::vector<double>, std::vector<double>> interleavedRuns(int rounds, const std::function<void()> &a,
                                                                    const std::function<void()> &b)
{
    std::vector<double> ta, tb;
    for (int i = 0; i <= rounds; ++i) {
        const double tB = timeRuns(0, 1, b)[0], tA = timeRuns(0, 1, a)[0];
        if (i > 0) {
            ta.push_back(tA);
            tb.push_back(tB);
        }
    }
    return {ta, tb};
}

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
// it), interleaved; max diff against float64.
void benchConvolutions(const Options &o)
{
    if (!DnnlConvolution::available()) {
        std::printf("  conv: oneDNN's Winograd is not available in this build or on this CPU\n");
        return;
    }
    c10::InferenceMode inference;
    struct Shape {
        std::int64_t ic, oc, div;
    };
    const Shape shapes[] = {{320, 320, 8},    {640, 320, 8},     {640, 640, 16}, {1280, 1280, 16},
                            {1280, 1280, 32}, {2560, 1280, 32}, {1280, 1280, 64}};
    for (int res : o.resolutions)
        for (const Shape &s : shapes) {
            const std::int64_t hw = res / s.div;
            const at::Tensor x = at::randn({2, s.ic, hw, hw});
            const at::Tensor w = at::randn({s.oc, s.ic, 3, 3}) * (1.0 / std::sqrt(9.0 * double(s.ic)));
            const at::Tensor b = at::randn({s.oc}) * 0.1;
            DnnlConvolution dnnl(w, b);
            const at::Tensor packed = at::mkldnn_reorder_conv2d_weight(w.to_mkldnn(), {1, 1}, {1, 1}, {1, 1}, 1);
            auto direct = [&] { return at::mkldnn_convolution(x, packed, b, {1, 1}, {1, 1}, {1, 1}, 1); };
            const auto [ta, tb] =
                interleavedRuns(std::max(3, o.reps), [&] { (void)dnnl.forward(x); }, [&] { (void)direct(); });
            // What the bf16 mode runs for this layer: torch's packed direct kernel in bf16 (AVX512-BF16).
            const at::Tensor xb = x.to(at::kBFloat16), bb = b.to(at::kBFloat16);
            const at::Tensor packedB =
                at::mkldnn_reorder_conv2d_weight(w.to(at::kBFloat16).to_mkldnn(), {1, 1}, {1, 1}, {1, 1}, 1);
            const auto [tc, td] = interleavedRuns(
                std::max(3, o.reps), [&] { (void)dnnl.forward(xb.to(at::kFloat)).to(at::kBFloat16); },
                [&] { (void)at::mkldnn_convolution(xb, packedB, bb, {1, 1}, {1, 1}, {1, 1}, 1); });
            const at::Tensor ref = at::conv2d(x.to(at::kDouble), w.to(at::kDouble), b.to(at::kDouble), 1, 1);
            const double errA = (dnnl.forward(x).to(at::kDouble) - ref).abs().max().item<double>();
            const double errB = (direct().to(at::kDouble) - ref).abs().max().item<double>();
            const bool wino = dnnl.algorithmFor(2, hw, hw) == DnnlConvolution::Algorithm::Winograd;
            const std::string name = fmt::format("conv {}->{} at {}x{}", s.ic, s.oc, hw, hw);
            report({name + (wino ? ", Winograd" : ", oneDNN direct"), "fp32", res, median(ta), ta,
                    fmt::format("{:.2f}x vs torch's packed direct; max err vs float64 {:.2g} (direct {:.2g})",
                                median(tb) / median(ta), errA, errB)});
            report({name + ", torch packed direct", "fp32", res, median(tb), tb, ""});
            report({name + ", torch packed direct", "bf16", res, median(td), td,
                    fmt::format("DnnlConvolution on bf16 input (converted both ways) {:.4f} s: {:.2f}x", median(tc),
                                median(td) / median(tc))});
        }
}

// SD 1.5's float32 linear layers (CFG batch 2), DnnlMatmul (weight packed
// once) against at::linear (OpenBLAS), interleaved; max diff against float64.
void benchLinears(const Options &o)
{
    if (!DnnlMatmul::available()) {
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
            const at::Tensor x = at::randn({s.rows, s.in});
            const at::Tensor w = at::randn({s.out, s.in}) * (1.0 / std::sqrt(double(s.in)));
            const at::Tensor b = at::randn({s.out}) * 0.1;
            DnnlMatmul dnnl(w, b);
            const auto [ta, tb] = interleavedRuns(std::max(3, o.reps), [&] { (void)dnnl.forward(x); },
                                                  [&] { (void)at::linear(x, w, b); });
            const at::Tensor ref = at::linear(x.to(at::kDouble), w.to(at::kDouble), b.to(at::kDouble));
            const double errA = (dnnl.forward(x).to(at::kDouble) - ref).abs().max().item<double>();
            const double errB = (at::linear(x, w, b).to(at::kDouble) - ref).abs().max().item<double>();
            const std::string name = fmt::format("linear {}x{}->{} ({})", s.rows, s.in, s.out, s.what);
            report({name + (dnnl.packedFor(s.rows) ? ", oneDNN packed" : ", at::linear fallback"), "fp32", res,
                    median(ta), ta,
                    fmt::format("{:.2f}x vs at::linear; {:.0f} GFLOP/s; max err vs float64 {:.2g} (at::linear {:.2g})",
                                median(tb) / median(ta), 2e-9 * double(s.rows * s.in * s.out) / median(ta), errA,
                                errB)});
            report({name + ", at::linear", "fp32", res, median(tb), tb, ""});
        }
    }
}

void printProfile(const OpProfiler &p, double stepSeconds, int steps)
{
    const double total = p.totalSeconds() / steps;
    std::printf("    profile per step: %.3f s in top-level ATen ops (wall %.3f s)\n", total, stepSeconds);
    for (const OpTotal &c : p.byCategory())
        std::printf("      %-40s %7.3f s  %5.1f%%  (%lld calls)\n", c.name.c_str(), c.seconds / steps,
                    100.0 * c.seconds / std::max(1e-9, p.totalSeconds()), static_cast<long long>(c.calls / steps));
    std::printf("    top operators:\n");
    int n = 0;
    for (const OpTotal &t : p.byOperator()) {
        if (n++ == 15)
            break;
        std::printf("      %-40s %7.3f s  %5.1f%%  (%lld calls)\n", t.name.c_str(), t.seconds / steps,
                    100.0 * t.seconds / std::max(1e-9, p.totalSeconds()), static_cast<long long>(t.calls / steps));
    }
}

// The infotext's "Model hash": SHA-256 of the whole checkpoint file with the
// CPU's SHA instructions (what ModelHashJob uses) and with the portable code.
void benchModelHash(const Options &o)
{
    std::printf("\n== model hash of %s  (load average %s)\n", o.checkpoint.c_str(), loadAverage().c_str());
    for (const auto impl : {Sha256::Implementation::Fastest, Sha256::Implementation::Portable}) {
        std::string hex;
        const auto runs = timeRuns(0, 1, [&] {
            auto h = Sha256::fileHex(o.checkpoint, impl);
            hex = h ? *h : "(" + h.error().message + ")";
        });
        const bool fastest = impl == Sha256::Implementation::Fastest;
        report({fastest ? "model hash, SHA extensions" : "model hash, portable", "-", 0, median(runs), runs,
                hex.substr(0, 10) + (fastest && !cpuHasShaNi() ? " (no SHA extensions here: portable)" : "")});
    }
}

void benchDtype(const Options &o, const std::string &dtypeName)
{
    const at::ScalarType dtype = dtypeOf(dtypeName);
    std::printf("\n== %s  (load average %s)\n", dtypeName.c_str(), loadAverage().c_str());
    if (wants(o, "attention"))
        benchAttention(o, dtypeName);
    if (wants(o, "conv") && dtype == at::kFloat)
        benchConvolutions(o);
    if (wants(o, "linear") && dtype == at::kFloat)
        benchLinears(o);
    if (!wants(o, "load") && !wants(o, "text") && !wants(o, "unet") && !wants(o, "vae") && !wants(o, "preview"))
        return;
    std::string error;
    auto models = loadModels(o, dtype, error);
    if (!models) {
        std::printf("  load failed: %s\n", error.c_str());
        return;
    }
    std::printf("  weights: %s\n", models->source.c_str());
    if (o.channelsLast)
        models->unet->setChannelsLast(true);
    c10::InferenceMode inference;
    torch::manual_seed(0);
    if (wants(o, "load")) {
        Row r{"model load (open+build)", dtypeName, 0, models->loadSeconds, {models->loadSeconds},
              fmt::format("open {:.3f} s, RSS after load {:.0f} MiB", models->openSeconds, currentRssMiB())};
        report(r);
    }

    const at::Tensor ids = at::randint(0, 49407, {2, 77}, at::kLong);
    at::Tensor context;
    {
        auto runs = timeRuns(wants(o, "text") ? o.warmup : 0, wants(o, "text") ? o.reps : 1,
                             [&] { context = models->clip->encode(ids); });
        if (wants(o, "text"))
            report({"text encode (2x77 tokens)", dtypeName, 0, median(runs), runs, ""});
    }
    context = context.to(at::kFloat);
    g_lastCpu.clear();

    bool firstStepReported = false;
    for (int res : o.resolutions) {
        const int h = res / 8;
        const at::Tensor latents = at::randn({2, 4, h, h});
        const at::Tensor t = at::full({2}, 500, at::kLong);
        if (wants(o, "unet")) {
            std::vector<double> runs;
            const auto first = Clock::now();
            models->unet->forward(latents, t, context);
            const double firstStep = seconds(first, Clock::now());
            if (!firstStepReported && wants(o, "load")) {
                firstStepReported = true;
                report({"load + first step", dtypeName, res, models->loadSeconds + firstStep,
                        {models->loadSeconds + firstStep}, fmt::format("first step {:.3f} s", firstStep)});
            }
            runs = timeRuns(std::max(0, o.warmup - 1), o.reps, [&] { models->unet->forward(latents, t, context); });
            const double med = median(runs);
            std::string note;
            if (res == 512)
                note = fmt::format("{:.0f} GFLOP/s at 1.36 TFLOP/step", 1360.0 / med);
            report({"UNet step (CFG batch 2)", dtypeName, res, med, runs, note});
            if (!o.ab.empty()) {
                // Alternate the two settings step by step so that load drift on
                // a shared machine hits both alike.
                std::vector<double> on, off;
                const int threads = at::get_num_threads();
                for (int i = 0; i < o.reps; ++i) {
                    for (int variant = 0; variant < 2; ++variant) {
                        if (o.ab == "allocator")
                            variant == 0 ? (void)installCpuAllocator() : uninstallCpuAllocator();
                        else
                            at::set_num_threads(variant == 0 ? threads : 1);
                        const auto a = Clock::now();
                        models->unet->forward(latents, t, context);
                        (variant == 0 ? on : off).push_back(seconds(a, Clock::now()));
                    }
                }
                installCpuAllocator();
                at::set_num_threads(threads);
                const std::string a = o.ab == "allocator" ? "huge-page allocator" : fmt::format("{} threads", threads);
                const std::string b = o.ab == "allocator" ? "default allocator" : "1 thread";
                report({"A/B: " + a, dtypeName, res, median(on), on, ""});
                report({"A/B: " + b, dtypeName, res, median(off), off,
                        fmt::format("A is {:.2f}x faster", median(off) / median(on))});
            }
            if (o.profile) {
                OpProfiler prof;
                const auto a = Clock::now();
                models->unet->forward(latents, t, context);
                printProfile(prof, seconds(a, Clock::now()), 1);
            }
        }
        if (wants(o, "preview")) {
            const at::Tensor one = latents.narrow(0, 0, 1);
            auto runs = timeRuns(3, std::max(o.reps, 20), [&] { (void)latentPreview(one); });
            const double med = median(runs);
            std::string note;
            if (const Row *step = findRow("UNet step (CFG batch 2)", dtypeName, res))
                note = fmt::format("{:.4f}% of a step", 100.0 * med / step->median);
            report({"latent preview", dtypeName, res, med, {runs.begin(), runs.begin() + std::min<size_t>(runs.size(), 5)}, note});
        }
        if (wants(o, "vae")) {
            const at::Tensor z = at::randn({1, 4, h, h});
            releaseDnnlWorkspaces(*models->unet); // as Engine::generate after the denoising loop
            AllocatorCacheOff noCache;             // as the pipeline's decode
            const double rssBefore = currentRssMiB();
            auto runs = timeRuns(o.warmup, std::max(1, o.reps / 2 + 1), [&] { (void)models->vae->decode(z); });
            report({"VAE decode (batch 1)", dtypeName, res, median(runs), runs,
                    fmt::format("VAE in float32, as in the app, {}, RSS before {:.0f} MiB",
                                o.vaePrepacked ? "NCHW pre-packed" : "channels_last", rssBefore)});
        }
        std::printf("  peak RSS so far: %.0f MiB\n", peakRssMiB());
    }
    if (auto *a = installedCpuAllocator()) {
        const auto s = a->stats();
        std::printf("  allocator: %llu large allocations, %llu cache hits, %zu MiB mapped in total, peak in use %zu MiB\n",
                    static_cast<unsigned long long>(s.largeAllocations),
                    static_cast<unsigned long long>(s.cacheHits), s.bytesFreshlyMapped >> 20,
                    s.peakBytesInUse >> 20);
    }
}

// Runs a command, returns its stdout (stderr passes through) and exit code.
int runCapture(const std::string &cmd, std::string &out)
{
    std::printf("  $ %s\n", cmd.c_str());
    std::fflush(stdout);
    FILE *p = popen(cmd.c_str(), "r");
    if (!p)
        return -1;
    char buf[4096];
    size_t n;
    while ((n = fread(buf, 1, sizeof buf, p)) > 0)
        out.append(buf, n);
    const int status = pclose(p);
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

std::string benchDir()
{
    // The python script sits next to this source file; the build embeds the path.
    return STIPPLE_BENCH_SOURCE_DIR;
}

void compareDiffusers(const Options &o)
{
    std::printf("\n== diffusers (reference: %s, PYTHONPATH %s)\n", o.python.c_str(), o.diffusersPath.c_str());
    for (int res : o.resolutions) {
        for (const std::string &d : o.dtypes) {
            std::string out;
            const std::string cmd = fmt::format(
                "env OPENBLAS_CORETYPE=SkylakeX PYTHONPATH={} {} {}/diffusers_unet_step.py --res {} --dtype {} "
                "--reps {} --threads {}",
                o.diffusersPath, o.python, benchDir(), res, d, o.compareReps, o.threads > 0 ? o.threads : physicalCoreCount());
            std::printf("  (load average %s)\n", loadAverage().c_str());
            const int rc = runCapture(cmd, out);
            const auto pos = out.find("median_s=");
            if (rc != 0 || pos == std::string::npos) {
                std::printf("  diffusers run failed (exit %d): %s\n", rc, out.c_str());
                continue;
            }
            const double med = std::atof(out.c_str() + pos + 9);
            std::vector<double> runs;
            if (auto rp = out.find("runs="); rp != std::string::npos) {
                std::istringstream in(out.substr(rp + 5, out.find('\n', rp) - rp - 5));
                std::string tok;
                while (std::getline(in, tok, ','))
                    runs.push_back(std::atof(tok.c_str()));
            }
            std::string note;
            if (const Row *ours = findRow("UNet step (CFG batch 2)", d, res))
                note = fmt::format("stipple is {:.2f}x faster", med / ours->median);
            report({"diffusers UNet step", d, res, med, runs, note});
        }
    }
}

// stable-diffusion.cpp: per-step time = (T(k steps) - T(1 step)) / (k - 1),
// so model loading and VAE decoding cancel out without parsing its log. Each
// of its weight types is compared with Stipple's matching precision: f32 with
// float32, f16 and q8_0 with bfloat16 (the pairing).
void compareSdCpp(const Options &o)
{
    std::printf("\n== stable-diffusion.cpp (%s)\n", o.sdCpp.c_str());
    if (o.sdCppModel.empty()) {
        std::printf("  --sd-cpp-model is required (a checkpoint sd can read)\n");
        return;
    }
    const int threads = o.threads > 0 ? o.threads : physicalCoreCount();
    for (int res : o.resolutions) {
        for (const std::string type : {"f32", "f16", "q8_0"}) {
            auto timed = [&](int steps) {
                std::string out;
                const std::string cmd = fmt::format(
                    "{} -m {} --type {} -p 'a photograph of a cat' -W {} -H {} --steps {} -t {} --cfg-scale 7 "
                    "--sampling-method euler -s 1 -o /tmp/stipple-bench-sdcpp.png 2>&1",
                    o.sdCpp, o.sdCppModel, type, res, res, steps, threads);
                const auto a = Clock::now();
                const int rc = runCapture(cmd, out);
                return rc == 0 ? seconds(a, Clock::now()) : -1.0;
            };
            std::printf("  (load average %s)\n", loadAverage().c_str());
            const int k = 1 + std::max(1, o.compareReps);
            const double t1 = timed(1), tk = timed(k);
            if (t1 < 0 || tk < 0) {
                std::printf("  sd.cpp --type %s run failed\n", type.c_str());
                continue;
            }
            const double step = (tk - t1) / (k - 1);
            const std::string ours = type == "f32" ? "fp32" : "bf16";
            std::string note = fmt::format("T(1) {:.2f} s, T({}) {:.2f} s", t1, k, tk);
            if (const Row *row = findRow("UNet step (CFG batch 2)", ours, res))
                note += fmt::format("; stipple {} is {:.2f}x faster", ours, step / row->median);
            report({"sd.cpp step --type " + type, "-", res, step, {t1, tk}, note});
        }
    }
}

void printSummary(const Options &o)
{
    std::printf("\n== summary (medians, seconds; load average now %s)\n", loadAverage().c_str());
    std::printf("  %-30s %-5s %5s %10s\n", "stage", "dtype", "res", "median");
    for (const Row &r : g_rows)
        std::printf("  %-30s %-5s %5d %10.6f  %s\n", r.stage.c_str(), r.dtype.c_str(), r.res, r.median, r.note.c_str());
    const Row *f = findRow("UNet step (CFG batch 2)", "fp32", 256), *b = findRow("UNet step (CFG batch 2)", "bf16", 256);
    if (f && b)
        std::printf("  bf16 speed-up at 256: %.2fx\n", f->median / b->median);
    f = findRow("UNet step (CFG batch 2)", "fp32", 512);
    b = findRow("UNet step (CFG batch 2)", "bf16", 512);
    if (f && b)
        std::printf("  bf16 speed-up at 512: %.2fx\n", f->median / b->median);
    struct Target {
        const char *dtype;
        int res;
        double seconds;
    };
    for (const Target &t : {Target{"fp32", 256, 1.7}, Target{"bf16", 256, 1.0}, Target{"fp32", 512, 6.6},
                            Target{"bf16", 512, 4.0}}) {
        if (const Row *r = findRow("UNet step (CFG batch 2)", t.dtype, t.res))
            std::printf("  target %s %d: %.2f s -> %s (%.2fx of target)\n", t.dtype, t.res, t.seconds,
                        r->median <= t.seconds ? "met" : "NOT met", r->median / t.seconds);
    }
}

} // namespace

int main(int argc, char **argv)
{
    prepareProcessEnvironment(argc, argv);
    Options o;
    std::string resList, dtypeList, stageList;
    CLI::App app{"stipple-bench: per-stage medians of SD 1.5 on the CPU"};
    app.add_option("--checkpoint", o.checkpoint, "SD 1.5 single-file checkpoint (stipple-cli export-random); "
                                                 "empty or missing: random modules")->capture_default_str();
    app.add_option("--res", resList, "resolutions, comma-separated (default 256,512)");
    app.add_option("--dtype", dtypeList, "fp32,bf16 (default both)");
    app.add_option("--stages", stageList, "load,text,unet,vae,preview,attention,conv,linear,hash (default all but attention, conv, linear and hash)");
    app.add_option("--reps", o.reps, "timed repetitions per stage")->capture_default_str();
    app.add_option("--warmup", o.warmup, "untimed runs before timing")->capture_default_str();
    app.add_option("--threads", o.threads, "torch threads (0: physical cores)");
    app.add_flag("--channels-last", o.channelsLast, "UNet convolutions in channels_last");
    app.add_flag("--vae-prepacked", o.vaePrepacked, "VAE in NCHW, prepared like the UNet (default: channels_last, as the app)");
    app.add_flag("--convert-before-packing", o.convertBeforePacking,
                 "load: convert the UNet's convolutions with the rest, then pack them (default: converted as packed, as the app)");
    app.add_flag("--profile", o.profile, "per-operator profile of one UNet step");
    app.add_flag("--compare", o.compare, "also time diffusers (and sd.cpp with --sd-cpp)");
    app.add_option("--python", o.python, "python with torch for --compare")->capture_default_str();
    app.add_option("--diffusers-path", o.diffusersPath, "PYTHONPATH holding diffusers 0.25")->capture_default_str();
    app.add_option("--compare-reps", o.compareReps, "repetitions for the reference runs")->capture_default_str();
    app.add_option("--ab", o.ab, "interleaved A/B of the UNet step: allocator | threads")
        ->check(CLI::IsMember({"allocator", "threads"}));
    app.add_option("--sd-cpp", o.sdCpp, "stable-diffusion.cpp command-line binary (sd or sd-cli)");
    app.add_option("--sd-cpp-model", o.sdCppModel, "model file for sd.cpp");
    CLI11_PARSE(app, argc, argv);
    auto splitList = [](const std::string &s) {
        std::vector<std::string> v;
        std::istringstream in(s);
        std::string tok;
        while (std::getline(in, tok, ','))
            if (!tok.empty())
                v.push_back(tok);
        return v;
    };
    if (!resList.empty()) {
        o.resolutions.clear();
        for (const auto &r : splitList(resList))
            o.resolutions.push_back(std::atoi(r.c_str()));
    }
    if (!dtypeList.empty())
        o.dtypes = splitList(dtypeList);
    if (!stageList.empty())
        o.stages = splitList(stageList);

    RuntimeOptions ro;
    ro.threads = o.threads;
    const RuntimeInfo info = configureRuntime(ro);
    std::string cmdline;
    for (int i = 0; i < argc; ++i)
        cmdline += std::string(i ? " " : "") + argv[i];
    std::printf("command: %s\n", cmdline.c_str());
    std::printf("environment: OPENBLAS_CORETYPE=%s ATEN_CPU_CAPABILITY=%s STIPPLE_HUGEPAGE_ALLOCATOR=%s\n",
                std::getenv("OPENBLAS_CORETYPE") ?: "(unset)", std::getenv("ATEN_CPU_CAPABILITY") ?: "(unset)",
                std::getenv("STIPPLE_HUGEPAGE_ALLOCATOR") ?: "(unset)");
    std::printf("runtime: %s\n", describeRuntime(info).c_str());
    std::printf("reps %d after %d warm-up run(s); load average %s\n", o.reps, o.warmup, loadAverage().c_str());

    if (wants(o, "hash"))
        benchModelHash(o);
    for (const std::string &d : o.dtypes) {
        if (d != "fp32" && d != "bf16") {
            std::fprintf(stderr, "unknown dtype %s\n", d.c_str());
            return 2;
        }
        benchDtype(o, d);
        if (auto *a = installedCpuAllocator())
            a->releaseCached();
    }
    if (o.compare) {
        compareDiffusers(o);
        if (!o.sdCpp.empty())
            compareSdCpp(o);
    }
    printSummary(o);
    std::printf("peak RSS: %.0f MiB\n", peakRssMiB());
    return 0;
}
