// stipple-train's engine: trains the built-in model from scratch on the
// synthetic shapes data set, with libtorch autograd on the very modules the
// inference engine runs (AutoencoderKL, CLIP text transformer,
// UNet2DConditionModel):
//   1. a sentencepiece tokenizer trained on the captions (spm_train);
//   2. the VAE: reconstruction (L1) + KL (weight 1e-6, as LDM's KL-f8);
//   3. the text encoder and the UNet together: epsilon prediction on SD 1.x's
//      scaled-linear schedule (so every sampler works unchanged), with the
//      caption dropped 10% of the time for classifier-free guidance.
// Each phase checkpoints to the work folder and resumes from it. The result
// is exported as a diffusers folder with fp16 safetensors.
// Thread-safety: run from one thread; the cancel token may be set from any.
#pragma once

#include "core/common/CancelToken.h"
#include "core/common/Result.h"

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace stipple::core {

struct TrainProgress {
    std::string phase; // "tokenizer", "vae", "unet", "export"
    int step = 0;
    int total = 0;
    int firstStep = 0; // step this invocation resumed from (rates count from here)
    float loss = 0;    // smoothed
    double elapsedSec = 0;
};

struct TrainOptions {
    std::string outDir;      // exported diffusers folder
    std::string workDir;     // checkpoints, corpus, tokenizer, loss plot
    // Defaults: the first of the two invocations that made resources/builtin-model
    // (the README gives both commands and the times).
    int vaeSteps = 4000;
    int unetSteps = 4500;
    // > 0: stop the UNet phase at this step (checkpoint, export) while the
    // learning-rate schedule still spans unetSteps, to repeat a run that was
    // stopped part-way and continued with another total (README).
    int unetStopAt = 0;
    int batchSize = 16;       // UNet phase
    int vaeBatchSize = 8;     // VAE phase (full-resolution images; x4 at low resolution)
    float vaeLearningRate = 2e-3f;
    float unetLearningRate = 6e-4f;
    float captionDropout = 0.1f;
    // Offset noise (N. Guttenberg, "Diffusion with offset noise", Crosslabs 2023):
    // a per-channel constant added to the training noise. SD's schedule keeps a
    // trace of the image at t = 999, so without it the model learns to keep the
    // start noise's mean colour and ignores "on a blue background".
    float offsetNoise = 0.1f;
    // Standard deviation of the scaled latents (the VAE's scaling_factor is
    // latentStd / std of the raw latents). SD uses 1. Below 1 shifts the whole
    // scaled-linear schedule towards noise (T. Chen, "On the importance of noise
    // scheduling for diffusion models", 2023, input scaling b): at 1, SD's
    // terminal SNR (alpha_bar_999 = 0.0047) leaves a large object visible in
    // x_999, so the model can place the object where the start noise hints
    // instead of where the caption says. Fine-tuning the built-in model at 0.3
    // (1,000 steps) and 0.12 (500 steps) did not make positions follow the
    // prompt (README), so the default stays SD's.
    float latentStd = 1.0f;
    // Loss weight for the noisiest timesteps: each sample's epsilon MSE is
    // weighted by clamp(1/SNR(t), 1, highNoiseWeight). The epsilon loss weights
    // the error of the implied x_0 by SNR(t) (Ho et al. 2020, eq. 12 and
    // Salimans & Ho 2022, sec. 4), which at t > 800 is below 1/26: the caption
    // barely matters to the loss exactly where the sampler decides the layout.
    // The clamp is the inverse of min-SNR-gamma (Hang et al. 2023). 1 = off.
    // 10 made the built-in model (with attention at every UNet level) follow
    // positions; which of the two changes mattered is not separated (README).
    float highNoiseWeight = 10.0f;
    // Probability that a single-object training image gets a second object its
    // caption does not mention (shapes::DatasetOptions::contextObjectProbability),
    // for inpainting. 0 = the data set the built-in model's first 9,000 UNet
    // steps saw.
    float contextObjectProbability = 0.0f;
    // Train a 9-channel inpainting UNet (noisy latents + mask + masked-image
    // latents) on core/train/InpaintingExamples' masks and captions. With
    // unetInit, a 4-channel checkpoint's conv_in is widened with zero weights.
    bool inpainting = false;
    // Optional: start the text encoder + UNet from this checkpoint
    // (a work folder's unet.safetensors) instead of random weights, with a
    // fresh optimiser and learning-rate schedule.
    std::string unetInit;
    // Optional: a diffusers UNet config.json to train instead of the built-in
    // spec (builtin::unetConfig()); exported as the model's unet/config.json.
    // For architecture experiments, e.g. text attention at every level.
    std::string unetConfigPath;
    std::uint64_t seed = 1;
    int checkpointEvery = 250;
    int imageSize = 128;
    // The VAE is fully convolutional: it learns colours and edges 4x faster on
    // small renders of the same scenes, then finishes at imageSize.
    int vaeLowResSize = 64;
    float vaeLowResFraction = 0.75f;
    bool fixedBatch = false;  // train on one batch (smoke test: the loss must fall)
    std::function<void(const TrainProgress &)> onProgress;
    CancelToken cancel;
};

struct TrainResult {
    std::vector<float> vaeLoss;  // per step, whole run including resumed steps
    std::vector<float> unetLoss;
    double seconds = 0;          // this invocation
    bool cancelled = false;
    std::string lossPlotPath;
};

// Quick preset for CI: a few steps of each phase at 64 px on one fixed
// batch, so the loss falls within seconds.
TrainOptions quickTrainOptions(const std::string &outDir, const std::string &workDir);

Result<TrainResult> trainBuiltinModel(const TrainOptions &options);

} // namespace stipple::core
