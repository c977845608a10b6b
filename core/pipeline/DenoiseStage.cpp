// Stages 3 and 4: the denoising loop with classifier-free guidance, previews,
// progress and cancellation, and the VAE decode (see Stages.h).
// CFG (Ho & Salimans 2022; diffusers): noise = uncond + g * (cond - uncond),
// UNet batch [uncond; cond].
#include "core/pipeline/Stages.h"

#include "core/common/CpuAllocator.h"
#include "core/image/LatentPreview.h"
#include "core/models/unet/UNet2DConditionModel.h"
#include "core/models/vae/AutoencoderKL.h"
#include "core/models/vae/TiledVae.h"

#include <ATen/ATen.h>

#include <chrono>

namespace stipple::core {

namespace {

constexpr std::int64_t kTileAboveLatent = 128; // as LatentStage.cpp

double secondsSince(std::chrono::steady_clock::time_point t0)
{
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

} // namespace

Result<DenoiseResult> denoise(const StageModels &models, const GenerationRequest &request,
                              const PromptConditioning &cond, const LatentSetup &setup,
                              const SamplingPlan &plan, at::Generator &generator, const Observer &observer)
{
    UNet2DConditionModel &unet = *models.unet;
    const float guidance = request.cfgScale;
    const at::Tensor extra = setup.extra.defined() && cond.cfg ? at::cat({setup.extra, setup.extra}, 0)
                                                               : setup.extra;
    const PlanModelFn model = [&](const at::Tensor &scaled, double t) -> at::Tensor {
        if (observer.cancel.isCancelled())
            throw GenerationCancelled{};
        at::Tensor x = cond.cfg ? at::cat({scaled, scaled}, 0) : scaled;
        if (extra.defined())
            x = at::cat({x, extra.to(x.scalar_type())}, 1);
        const at::Tensor timestep = at::scalar_tensor(t, at::kFloat);
        at::Tensor out = unet->forward(x, timestep, cond.context);
        models.emit("unet_out", out);
        if (!cond.cfg)
            return out;
        const auto parts = out.chunk(2, 0);
        return parts[0] + guidance * (parts[1] - parts[0]);
    };

    DenoiseResult result;
    const int total = plan.size() - setup.startIndex;
    const auto t0 = std::chrono::steady_clock::now();
    if (observer.onProgress)
        observer.onProgress({Stage::Denoise, 0, total, 0.0});
    const PlanStepFn onStep = [&](int step, int, at::Tensor &latents, const at::Tensor &denoised) {
        if (setup.blends()) {
            // diffusers legacy inpaint: keep the known area at the current noise level.
            const at::Tensor known = plan.addNoise(setup.blendInit, setup.blendNoise, step);
            latents = known * setup.blendKeep + latents * (1 - setup.blendKeep);
        }
        models.emit("latents_per_step", latents);
        const int done = step + 1 - setup.startIndex;
        result.steps = done;
        result.lastPreview = latentPreview(denoised.defined() ? denoised : latents);
        if (observer.onPreview)
            observer.onPreview(*result.lastPreview, done, total);
        if (observer.onProgress)
            observer.onProgress({Stage::Denoise, done, total, secondsSince(t0)});
        return !observer.cancel.isCancelled();
    };

    try {
        auto run = plan.run(setup.latents, model, setup.startIndex, generator, onStep);
        if (!run)
            return run.error();
        result.latents = run->latents;
        result.cancelled = run->cancelled;
    } catch (const GenerationCancelled &) {
        result.cancelled = true;
    }
    if (!result.cancelled && setup.blends())
        result.latents = setup.blendInit * setup.blendKeep + result.latents * (1 - setup.blendKeep);
    return result;
}

Result<DecodeResult> decodeLatents(const StageModels &models, const at::Tensor &latents,
                                   const Observer &observer)
{
    AutoencoderKL &vae = *models.vae;
    DecodeResult out;
    const auto t0 = std::chrono::steady_clock::now();
    // The decoder's 512x512 activations are a generation's memory peak; the
    // denoising loop's cached blocks (other sizes) would sit under it, and
    // caching the decoder's own blocks saves no time (see AllocatorCacheOff).
    AllocatorCacheOff noCache;
    // diffusers: vae.decode(latents / scaling_factor).
    const at::Tensor z = latents / models.vaeScalingFactor;
    models.emit("vae_decode_in", z);
    if (z.size(2) > kTileAboveLatent || z.size(3) > kTileAboveLatent) {
        VaeTileOptions options;
        options.tileLatent = 96;
        options.overlapLatent = 16;
        auto tiled = decodeTiled(vae, z, options, &observer.cancel, [&](int done, int total) {
            if (observer.onProgress)
                observer.onProgress({Stage::Decode, done, total, secondsSince(t0)});
        });
        if (!tiled)
            return tiled.error();
        out.cancelled = tiled->cancelled;
        out.pixels = tiled->image;
        return out;
    }
    if (observer.onProgress)
        observer.onProgress({Stage::Decode, 0, 1, 0.0});
    out.pixels = vae->decode(z);
    if (observer.onProgress)
        observer.onProgress({Stage::Decode, 1, 1, secondsSince(t0)});
    return out;
}

} // namespace stipple::core
