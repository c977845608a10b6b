// stipple-train: trains the built-in model (see core/train/Trainer.h).
// Resumable: rerun the same command and it continues from the last checkpoint.
#include "core/common/Log.h"
#include "core/common/Runtime.h"
#include "core/train/Trainer.h"

#include <CLI/CLI.hpp>

#include <cstdio>
#include <csignal>

namespace {
stipple::core::CancelToken g_cancel; // set by SIGINT so a checkpoint is written

void onSignal(int)
{
    g_cancel.cancel();
}

std::string formatDuration(double s)
{
    char buf[32];
    const int t = int(s);
    std::snprintf(buf, sizeof buf, "%d:%02d:%02d", t / 3600, (t / 60) % 60, t % 60);
    return buf;
}
} // namespace

int main(int argc, char **argv)
{
    stipple::core::prepareProcessEnvironment(argc, argv);
    CLI::App app{"stipple-train: train Stipple's built-in model from the synthetic shapes data set"};
    std::string out = "resources/builtin-model", work = "build/train-work";
    bool quick = false, inpainting = false;
    int threads = 0;
    stipple::core::TrainOptions defaults;
    int vaeSteps = defaults.vaeSteps, unetSteps = defaults.unetSteps, batch = defaults.batchSize,
        vaeBatch = defaults.vaeBatchSize, unetStopAt = 0;
    std::uint64_t seed = defaults.seed;
    float vaeLr = defaults.vaeLearningRate, unetLr = defaults.unetLearningRate;
    float offsetNoise = defaults.offsetNoise, latentStd = defaults.latentStd,
          highNoiseWeight = defaults.highNoiseWeight, contextObjects = defaults.contextObjectProbability;
    std::string unetInit, unetConfig;
    app.add_option("-o,--out", out, "exported diffusers folder")->capture_default_str();
    app.add_option("-w,--work", work, "checkpoints and logs (resume from here)")->capture_default_str();
    app.add_option("--vae-steps", vaeSteps)->capture_default_str();
    app.add_option("--unet-steps", unetSteps, "UNet steps; the learning rate's cosine spans them")->capture_default_str();
    app.add_option("--unet-stop-at", unetStopAt, "stop the UNet phase at this step, schedule unchanged (0: at --unet-steps)");
    app.add_option("--batch", batch, "UNet phase batch size")->capture_default_str();
    app.add_option("--vae-batch", vaeBatch, "VAE phase batch size")->capture_default_str();
    app.add_option("--seed", seed)->capture_default_str();
    app.add_option("--vae-lr", vaeLr, "VAE learning rate (Adam)")->capture_default_str();
    app.add_option("--offset-noise", offsetNoise, "per-channel constant in the UNet's training noise")
        ->capture_default_str();
    app.add_option("--latent-std", latentStd, "std of the scaled latents (SD: 1; lower = noisier schedule)")
        ->capture_default_str();
    app.add_option("--high-noise-weight", highNoiseWeight,
                   "weight the epsilon loss by clamp(1/SNR, 1, this): the caption counts where the layout forms")
        ->capture_default_str();
    app.add_option("--unet-config", unetConfig, "train this diffusers UNet config.json instead of the built-in one");
    app.add_option("--context-objects", contextObjects,
                   "probability of a second, unmentioned object in single-object images (for inpainting)")
        ->capture_default_str();
    app.add_option("--unet-init", unetInit, "start the text encoder + UNet from this unet.safetensors checkpoint");
    app.add_option("--unet-lr", unetLr, "text encoder + UNet learning rate (Adam)")->capture_default_str();
    app.add_option("-t,--threads", threads, "torch threads (default: physical cores)");
    app.add_flag("--inpainting", inpainting,
                 "train a 9-channel inpainting UNet (with --unet-init: widen a 4-channel one)");
    app.add_flag("--quick", quick, "a few steps at 64 px, for CI");
    CLI11_PARSE(app, argc, argv);

    stipple::core::RuntimeOptions ro;
    ro.threads = threads;
    std::fprintf(stderr, "%s\n", stipple::core::describeRuntime(stipple::core::configureRuntime(ro)).c_str());

    stipple::core::TrainOptions o = quick ? stipple::core::quickTrainOptions(out, work) : defaults;
    o.outDir = out;
    o.workDir = work;
    if (!quick) {
        o.vaeSteps = vaeSteps;
        o.unetSteps = unetSteps;
        o.unetStopAt = unetStopAt;
        o.batchSize = batch;
        o.vaeBatchSize = vaeBatch;
        o.vaeLearningRate = vaeLr;
        o.unetLearningRate = unetLr;
        o.offsetNoise = offsetNoise;
        o.latentStd = latentStd;
        o.highNoiseWeight = highNoiseWeight;
        o.contextObjectProbability = contextObjects;
        o.unetInit = unetInit;
        o.unetConfigPath = unetConfig;
    }
    o.seed = seed;
    o.inpainting = inpainting;
    o.cancel = g_cancel;
    std::signal(SIGINT, onSignal);
    std::signal(SIGTERM, onSignal);
    o.onProgress = [](const stipple::core::TrainProgress &p) {
        const double rate = p.elapsedSec > 0 ? (p.step - p.firstStep) / p.elapsedSec : 0;
        const double eta = rate > 0 ? (p.total - p.step) / rate : 0;
        const int width = 30;
        const int filled = p.total ? width * p.step / p.total : 0;
        std::fprintf(stderr, "\r%-5s [%.*s%*s] %d/%d loss %.5f  %.2f it/s  ETA %s   ", p.phase.c_str(), filled,
                     "##############################", width - filled, "", p.step, p.total, p.loss, rate,
                     formatDuration(eta).c_str());
        if (p.step == p.total)
            std::fprintf(stderr, "\n");
        std::fflush(stderr);
    };
    auto r = stipple::core::trainBuiltinModel(o);
    std::fprintf(stderr, "\n");
    if (!r) {
        std::fprintf(stderr, "stipple-train: %s\n", r.error().message.c_str());
        return 1;
    }
    if (r->cancelled) {
        std::fprintf(stderr, "stipple-train: interrupted; checkpoint kept in %s, rerun to resume\n", work.c_str());
        return 130;
    }
    auto last = [](const std::vector<float> &v) {
        double s = 0;
        const size_t n = std::min<size_t>(100, v.size());
        for (size_t i = v.size() - n; i < v.size(); ++i)
            s += v[i];
        return n ? s / n : 0.0;
    };
    std::printf("trained in %s: final VAE L1 %.5f, final UNet eps MSE %.5f (mean of last 100 steps)\n"
                "model: %s\nloss plot: %s\n",
                formatDuration(r->seconds).c_str(), last(r->vaeLoss), last(r->unetLoss), out.c_str(),
                r->lossPlotPath.c_str());
    return 0;
}
