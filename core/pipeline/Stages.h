// The stages of one generation batch. txt2img, img2img, inpaint (9-channel
// and legacy 4-channel) and depth2img are one pipeline that differs only in
// the starting latents, the extra UNet input channels and a mask blend:
//
//   encodePrompts   -> [uncond; cond] context (CFG) or [cond]
//   prepareLatents  -> starting latents, start index, extra channels, blend
//   denoise         -> sampler loop; CFG, previews, progress, cancel inside
//   decodeLatents   -> VAE decode (tiled for large images), [-1, 1] pixels
//
// Random numbers: one CPU generator per batch, consumed in diffusers 0.25's
// order (see ../shared/fixtures/README.md section 7):
//   txt2img:        noise; then the sampler's own draws
//   img2img:        VAE posterior sample of the init image, then noise
//   9-ch inpaint:   [init image sample when strength < 1], noise, masked-image sample
//   legacy inpaint: init image sample, then noise
// Thread-safety: run on the inference thread only (modules are not shared).
#pragma once

#include "core/common/Result.h"
#include "core/pipeline/ImagePreparation.h"
#include "core/pipeline/Request.h"
#include "core/pipeline/SamplingPlan.h"

#include <ATen/core/Generator.h>
#include <ATen/core/Tensor.h>

#include <functional>
#include <optional>
#include <string>

namespace stipple::core {

class TextConditioner;
class UNet2DConditionModel;
class AutoencoderKL;

// Non-owning view of a loaded model's modules.
struct StageModels {
    TextConditioner *text = nullptr;
    UNet2DConditionModel *unet = nullptr;
    AutoencoderKL *vae = nullptr;
    int unetInChannels = 4;     // 4 base, 9 inpaint, 5 depth
    double vaeScalingFactor = 0.18215;
    int vaeSpatialFactor = 8;
    // Optional parity trace (Engine::setTensorTrace); may be null or empty.
    const std::function<void(const std::string &, const at::Tensor &)> *trace = nullptr;

    void emit(const char *name, const at::Tensor &value) const
    {
        if (trace && *trace)
            (*trace)(name, value);
    }
};

// Thrown inside the model callback to stop at once; caught by the engine.
struct GenerationCancelled {};

struct PromptConditioning {
    at::Tensor context;   // [B or 2B, 77*k, C]: [uncond x B; cond x B] with CFG
    bool cfg = false;     // guidance > 1
};

Result<PromptConditioning> encodePrompts(const StageModels &models, const GenerationRequest &request,
                                         int batchSize);

struct LatentSetup {
    at::Tensor latents;       // [B, 4, h, w] at the start index's noise level
    int startIndex = 0;       // into the plan's timesteps
    at::Tensor extra;         // [B, C-4, h, w] appended to the UNet input (9-ch, 5-ch); may be undefined
    // diffusers' legacy inpaint: after each step
    //   latents = addNoise(init, noise, step) * keep + latents * (1 - keep)
    // and at the end latents = init * keep + latents * (1 - keep).
    at::Tensor blendInit, blendNoise, blendKeep;
    bool blends() const { return blendKeep.defined(); }
};

Result<LatentSetup> prepareLatents(const StageModels &models, const GenerationRequest &request,
                                   const PreparedImages &images, const SamplingPlan &plan,
                                   at::Generator &generator, int batchSize, const CancelToken &cancel);

struct DenoiseResult {
    at::Tensor latents;
    bool cancelled = false;
    std::optional<Image> lastPreview;
    int steps = 0;            // steps taken
};

Result<DenoiseResult> denoise(const StageModels &models, const GenerationRequest &request,
                              const PromptConditioning &conditioning, const LatentSetup &setup,
                              const SamplingPlan &plan, at::Generator &generator, const Observer &observer);

struct DecodeResult {
    at::Tensor pixels;        // [B, 3, H, W] raw decoder output ([-1, 1] range, unclamped)
    bool cancelled = false;
};

Result<DecodeResult> decodeLatents(const StageModels &models, const at::Tensor &latents,
                                   const Observer &observer);

// VAE posterior sample of a [-1, 1] image batch, times the scaling factor
// (diffusers retrieve_latents(vae.encode(x), generator) * scaling_factor).
Result<at::Tensor> encodeImageLatents(const StageModels &models, const at::Tensor &image,
                                      at::Generator &generator, const CancelToken &cancel);

} // namespace stipple::core
