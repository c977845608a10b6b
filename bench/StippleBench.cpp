// stipple-bench: per-stage medians of the Stable Diffusion 1.5 pipeline on
// the CPU (model load, text encode, UNet step with CFG batch 2, VAE decode,
// latent preview, peak RSS; opt-in: attention variants, per-layer convolution
// and linear A/B (LayerBenches.h), the model hash) for
// 256² / 512² and float32 / bfloat16, with optional comparisons against
// diffusers (same torch, OpenBLAS) and stable-diffusion.cpp. Random weights: a full-size SD 1.5 checkpoint from
// `stipple-cli export-random` when given, else modules built from the SD 1.5
// configs with torch's default initialisation (timings do not depend on the
// weight values).
//
// Timings are wall-clock medians of N repetitions after W warm-up runs. The
// machine's load average is printed with the results: on shared machines
// the numbers are only comparable at similar load.
#include "bench/BenchHarness.h"
#include "bench/LayerBenches.h"
#include "bench/OpProfiler.h"

#include "core/common/CpuAllocator.h"
#include "core/common/Runtime.h"
#include "core/image/LatentPreview.h"
#include "core/io/Checkpoint.h"
#include "core/io/SafeTensors.h"
#include "core/models/clip/ClipTextModel.h"
#include "core/models/common/Conv2d.h"
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
#include <optional>
#include <sstream>
#include <string>
#include <vector>

using namespace stipple::core;
using namespace stipple::bench;

namespace {


struct Models {
    UNet2DConditionModel unet{nullptr};
    AutoencoderKL vae{nullptr};
    ClipTextModel clip{nullptr};
    double loadSeconds = 0;   // open + build + convert all three
    double openSeconds = 0;   // openCheckpoint alone
    std::string phases;       // "unet 1.07 s, ..." after the open
    std::string source;
};


std::optional<Models> loadModels(const Options &o, at::ScalarType dtype, std::string &error)
{
    Models m;
    const auto t0 = Clock::now();
    auto mark = t0;
    const auto phase = [&](const char *name) {
        const auto now = Clock::now();
        m.phases += fmt::format("{}{} {:.2f} s", m.phases.empty() ? "" : ", ", name, seconds(mark, now));
        mark = now;
    };
    if (!o.checkpoint.empty() && access(o.checkpoint.c_str(), R_OK) == 0) {
        // As Engine::load: UNet and text encoder in `dtype`, the VAE in float32,
        // the UNet's convolutions converted as they are packed, the text
        // encoder's matrices at each use, the VAE at its first decode.
        MappedFilesScope mapped;
        OpenOptions oo = openOptionsForInference(dtype);
        oo.deferVaeWeights = !o.vaePrepacked; // --vae-prepacked packs it at load, as before
        if (o.convertBeforePacking) // the UNet as before session 8 (the text encoder and VAE stay deferred)
            oo.deferUnetConvWeights = oo.deferUnetLinearWeights = false;
        auto ck = openCheckpoint(o.checkpoint, oo);
        if (!ck.ok()) {
            error = ck.error().message;
            return std::nullopt;
        }
        m.openSeconds = seconds(t0, Clock::now());
        mark = Clock::now();
        // --convert-before-packing: the path before session 8 (a plain
        // converted copy of every convolution, packed after the dicts go).
        // --pack-at-load: packed while loading, as before session 14.
        auto unet = o.convertBeforePacking ? loadUNet(ck->unet, dtype)
                     : o.packAtLoad        ? loadUNetForInference(ck->unet, dtype)
                                           : loadUNetPackingLater(ck->unet, dtype, mapped.files());
        phase("UNet");
        auto vae = o.vaePrepacked ? loadVae(ck->vae, at::kFloat) : loadVaeForInference(ck->vae);
        auto clipConfig = ClipTextConfig::fromJson(ck->textEncoder.config);
        if (!unet.ok() || !vae.ok() || !clipConfig.ok()) {
            error = !unet.ok() ? unet.error().message : !vae.ok() ? vae.error().message : clipConfig.error().message;
            return std::nullopt;
        }
        // As TextConditioner::fromCheckpoint: matrices converted at each use.
        auto clip = loadClipTextModel(*clipConfig, ck->textEncoder.weights, dtype, MatrixStorage::AsGiven);
        if (!clip.ok()) {
            error = clip.error().message;
            return std::nullopt;
        }
        phase("VAE + text encoder");
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
    // references to their weights. A checkpoint's UNet packs during its
    // first two steps, as Engine::load's, or was packed while loading
    // (--pack-at-load), unless --convert-before-packing asked for the old
    // order; random modules are packed here.
    if (m.unet->layersAwaitingPacking() == 0) {
        prepareConvolutionsForInference(*m.unet);
        prepareLinearsForInference(*m.unet); // float32 only
    }
    phase("UNet packing after load");
    // As Engine::load: the VAE on channels_last, its 3x3 layers on
    // DnnlConvolution in 4 MiB bands; --vae-prepacked measures NCHW with
    // prepareConvolutionsForInference (3x3 layers on DnnlConvolution in the
    // UNet's 48 MiB bands, the rest pre-packed).
    if (o.vaePrepacked)
        prepareConvolutionsForInference(*m.vae);
    else
        m.vae->prepareForInferenceOnFirstUse(); // as Engine::load: "first VAE decode" shows its cost
    releaseCachedMemory(); // as Engine::load
    phase("VAE preparation");
    m.loadSeconds = seconds(t0, Clock::now());
    return m;
}

// The allocator's fresh mappings so far (MiB; 0 without the allocator).
double freshlyMappedMiB()
{
    const CpuAllocator *a = installedCpuAllocator();
    return a ? a->stats().bytesFreshlyMapped / 1048576.0 : 0.0;
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
    if (wants(o, "linear"))
        benchLinears(o, dtypeName);
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
              fmt::format("open {:.3f} s, {}; RSS after load {:.0f} MiB", models->openSeconds, models->phases,
                          currentRssMiB())};
        report(r);
    }

    const at::Tensor ids = at::randint(0, 49407, {2, 77}, at::kLong);
    at::Tensor context;
    // The first encode alone, as an app's first prompt after opening.
    const auto textStart = Clock::now();
    context = models->clip->encode(ids);
    const double firstEncode = seconds(textStart, Clock::now());
    if (wants(o, "text")) {
        auto runs = timeRuns(o.warmup, o.reps, [&] { context = models->clip->encode(ids); });
        report({"text encode (2x77 tokens)", dtypeName, 0, median(runs), runs, ""});
    }
    context = context.to(at::kFloat);
    discardLastCpu();

    bool firstStepReported = false, firstDecodeReported = false;
    for (int res : o.resolutions) {
        const int h = res / 8;
        const at::Tensor latents = at::randn({2, 4, h, h});
        const at::Tensor t = at::full({2}, 500, at::kLong);
        if (wants(o, "unet")) {
            std::vector<double> runs;
            const bool packsDuringSteps = models->unet->layersAwaitingPacking() > 0;
            const double mappedBefore = freshlyMappedMiB();
            const auto first = Clock::now();
            {
                // The first step at a size pays one-off costs (oneDNN primitives,
                // workspaces, fresh activation memory): --profile shows them apart.
                std::optional<OpProfiler> prof;
                if (o.profile)
                    prof.emplace();
                models->unet->forward(latents, t, context);
                if (prof) {
                    std::printf("    first step at %d² (profiled):\n", res);
                    printProfile(*prof, seconds(first, Clock::now()), 1);
                }
            }
            const double firstStep = seconds(first, Clock::now());
            if (!firstStepReported && wants(o, "load")) {
                firstStepReported = true;
                const double toFirstStep = models->loadSeconds + firstEncode + firstStep;
                report({"open to first step done", dtypeName, res, toFirstStep, {toFirstStep},
                        fmt::format("load {:.3f} s, first text encode {:.3f} s, first step {:.3f} s "
                                    "({:.0f} MiB freshly mapped){}{}",
                                    models->loadSeconds, firstEncode, firstStep, freshlyMappedMiB() - mappedBefore,
                                    packsDuringSteps ? " (each layer packed for its call only)" : "",
                                    o.profile ? " (profiled: includes the profiler's overhead)" : "")});
            }
            if (packsDuringSteps) {
                // The second step packs every layer for good: the fresh
                // memory a load used to write comes here.
                const double mappedBeforeSecond = freshlyMappedMiB();
                const auto second = Clock::now();
                models->unet->forward(latents, t, context);
                const double secondStep = seconds(second, Clock::now());
                report({"second step (packs the UNet)", dtypeName, res, secondStep, {secondStep},
                        fmt::format("{:.0f} MiB freshly mapped; RSS after it {:.0f} MiB",
                                    freshlyMappedMiB() - mappedBeforeSecond, currentRssMiB())});
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
                        else if (o.ab == "trim")
                            setHeapTrimThreshold(variant == 0 ? kHeapTrimThreshold : kGlibcDefaultTrimThreshold);
                        else
                            at::set_num_threads(variant == 0 ? threads : 1);
                        const auto a = Clock::now();
                        models->unet->forward(latents, t, context);
                        (variant == 0 ? on : off).push_back(seconds(a, Clock::now()));
                    }
                }
                installCpuAllocator();
                if (o.ab == "trim") // back to what configureRuntime set (glibc's default when it set none)
                    setHeapTrimThreshold(o.trimThresholdBytes ? o.trimThresholdBytes : kGlibcDefaultTrimThreshold);
                at::set_num_threads(threads);
                const std::string a = o.ab == "allocator" ? "huge-page allocator"
                                      : o.ab == "trim"    ? "heap trim threshold 256 MiB"
                                                          : fmt::format("{} threads", threads);
                const std::string b = o.ab == "allocator" ? "default allocator"
                                      : o.ab == "trim"    ? "glibc's 128 KiB"
                                                          : "1 thread";
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
            if (!firstDecodeReported) {
                firstDecodeReported = true;
                const auto a = Clock::now();
                (void)models->vae->decode(z);
                const double s = seconds(a, Clock::now());
                report({"first VAE decode", dtypeName, res, s, {s}, "includes the VAE's preparation"});
            }
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
    for (const Row &r : reportedRows())
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
    app.add_flag("--pack-at-load", o.packAtLoad,
                 "load: pack the UNet while loading (default: during its first two steps, as the app)");
    app.add_flag("--convert-before-packing", o.convertBeforePacking,
                 "load: convert the UNet's convolutions with the rest, then pack them (default: converted as packed, as the app)");
    app.add_flag("--profile", o.profile, "per-operator profile of one UNet step");
    app.add_flag("--compare", o.compare, "also time diffusers (and sd.cpp with --sd-cpp)");
    app.add_option("--python", o.python, "python with torch for --compare")->capture_default_str();
    app.add_option("--diffusers-path", o.diffusersPath, "PYTHONPATH holding diffusers 0.25")->capture_default_str();
    app.add_option("--compare-reps", o.compareReps, "repetitions for the reference runs")->capture_default_str();
    app.add_option("--ab", o.ab, "interleaved A/B of the UNet step: allocator | threads | trim")
        ->check(CLI::IsMember({"allocator", "threads", "trim"}));
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
    o.trimThresholdBytes = info.trimThresholdBytes;
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
