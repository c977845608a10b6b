// Stage 2: starting latents and extra UNet channels (see Stages.h).
// Sources: diffusers 0.25 pipelines/stable_diffusion/
//   pipeline_stable_diffusion.py            prepare_latents (txt2img)
//   pipeline_stable_diffusion_img2img.py    prepare_latents, get_timesteps
//   pipeline_stable_diffusion_inpaint.py    prepare_latents, prepare_mask_latents
//   deprecated/.../pipeline_stable_diffusion_inpaint_legacy.py  preprocess_mask, blending
//   pipeline_stable_diffusion_depth2img.py  prepare_depth_map (min-max to [-1, 1])
// and AUTOMATIC1111 modules/processing.py for the masked-content options and
// the 9-channel model without a mask (whole image masked, masked image empty).
#include "core/pipeline/Stages.h"

#include "core/common/CpuAllocator.h"
#include "core/image/ImageTensor.h"
#include "core/image/Mask.h"
#include "core/models/vae/AutoencoderKL.h"
#include "core/models/vae/TiledVae.h"

#include <ATen/ATen.h>

namespace stipple::core {

namespace {

// Latent edges above which the VAE runs tiled (1024 px for SD).
constexpr std::int64_t kTileAboveLatent = 128;

VaeTileOptions tileOptions()
{
    VaeTileOptions o;
    o.tileLatent = 96;
    o.overlapLatent = 16;
    return o;
}

at::Tensor repeatBatch(const at::Tensor &t, int batch)
{
    if (t.size(0) == batch)
        return t;
    return t.repeat({batch / t.size(0), 1, 1, 1});
}

// A1111 "latent noise" / "latent nothing" on the image latents (keep = 1 outside the mask).
void applyMaskedContent(MaskedContent content, at::Tensor &imageLatents, const at::Tensor &keep,
                        at::Generator &generator)
{
    if (content == MaskedContent::LatentNoise)
        imageLatents = imageLatents * keep
            + at::randn(imageLatents.sizes(), generator, imageLatents.options()) * (1 - keep);
    else if (content == MaskedContent::LatentNothing)
        imageLatents = imageLatents * keep;
}

} // namespace

Result<at::Tensor> encodeImageLatents(const StageModels &models, const at::Tensor &image,
                                      at::Generator &generator, const CancelToken &cancel)
{
    AutoencoderKL &vae = *models.vae;
    const std::int64_t lh = image.size(2) / models.vaeSpatialFactor;
    const std::int64_t lw = image.size(3) / models.vaeSpatialFactor;
    LatentDistribution dist;
    AllocatorCacheOff noCache; // one pass over 512x512 activations, as the decode
    if (lh > kTileAboveLatent || lw > kTileAboveLatent) {
        auto tiled = encodeTiled(vae, image, tileOptions(), &cancel);
        if (!tiled)
            return tiled.error();
        if (tiled->cancelled)
            throw GenerationCancelled{};
        dist = tiled->latent;
    } else {
        dist = vae->encode(image);
    }
    // DiagonalGaussianDistribution.sample: mean + std * randn(mean.shape, generator).
    return dist.sample(generator) * models.vaeScalingFactor;
}

Result<LatentSetup> prepareLatents(const StageModels &models, const GenerationRequest &request,
                                   const PreparedImages &images, const SamplingPlan &plan,
                                   at::Generator &generator, int batch, const CancelToken &cancel)
{
    const int f = models.vaeSpatialFactor;
    const std::int64_t h = request.height / f, w = request.width / f;
    const std::vector<std::int64_t> shape{batch, 4, h, w};
    const auto fopts = at::TensorOptions().dtype(at::kFloat);
    auto randn = [&] { return at::randn(shape, generator, fopts); };
    LatentSetup out;
    const bool hasInit = images.init.has_value();
    const bool hasMask = images.mask.has_value();

    if (models.unetInChannels == 9) {
        // Inpainting UNet. Without an init image: txt2img with the whole image
        // masked and an empty (zero) masked image, as A1111 does.
        const at::Tensor init = hasInit ? imageToTensor(*images.init)
                                        : at::zeros({1, 3, request.height, request.width}, fopts);
        const at::Tensor mask = hasMask ? (maskToTensor(*images.mask) >= 0.5f).to(at::kFloat)
                                        : at::ones({1, 1, request.height, request.width}, fopts);
        const double strength = hasInit ? request.strength : 1.0;
        const bool strengthMax = strength >= 1.0;
        out.startIndex = plan.startIndexForStrength(strength);
        const at::Tensor latentMask = downsampleMask(mask, int(h), int(w), MaskSampling::Interpolate);
        at::Tensor imageLatents;
        if (!strengthMax) {
            auto enc = encodeImageLatents(models, init, generator, cancel);
            if (!enc)
                return enc.error();
            imageLatents = repeatBatch(*enc, batch);
            applyMaskedContent(request.maskedContent, imageLatents, 1 - latentMask, generator);
        }
        const at::Tensor noise = randn();
        if (strengthMax)
            out.latents = noise * plan.initNoiseSigma();
        else if (out.startIndex < plan.size())
            out.latents = plan.addNoise(imageLatents, noise, out.startIndex);
        else
            out.latents = imageLatents;
        // masked_image = image * (mask < 0.5), at full resolution.
        const at::Tensor masked = init * (mask < 0.5f).to(at::kFloat);
        auto maskedLatents = encodeImageLatents(models, masked, generator, cancel);
        if (!maskedLatents)
            return maskedLatents.error();
        out.extra = at::cat({repeatBatch(latentMask, batch), repeatBatch(*maskedLatents, batch)}, 1);
        return out;
    }

    if (models.unetInChannels == 5) {
        // depth2img: the user's depth map, bicubic to the latent size, then
        // 2 * (d - min) / (max - min) - 1 per image.
        if (!request.depthMap)
            return makeError(ErrorCode::InvalidArgument, "this depth model needs a depth map");
        at::Tensor d = maskToTensor(*request.depthMap);
        d = at::upsample_bicubic2d(d, {h, w}, /*align_corners=*/false);
        const at::Tensor dmin = d.amin({1, 2, 3}, true), dmax = d.amax({1, 2, 3}, true);
        const at::Tensor range = dmax - dmin;
        d = range.item<float>() > 0 ? 2.0 * (d - dmin) / range - 1.0 : at::zeros_like(d);
        out.extra = repeatBatch(d, batch);
    }

    if (!hasInit) {
        // txt2img: randn(B, 4, h, w) * init_noise_sigma.
        out.latents = randn() * plan.initNoiseSigma();
        out.startIndex = 0;
        return out;
    }
    // img2img (and legacy inpaint): VAE sample first, then the noise.
    auto enc = encodeImageLatents(models, imageToTensor(*images.init), generator, cancel);
    if (!enc)
        return enc.error();
    at::Tensor imageLatents = repeatBatch(*enc, batch);
    out.startIndex = plan.startIndexForStrength(request.strength);
    at::Tensor keep;
    if (hasMask && models.unetInChannels == 4) {
        // Legacy: mask / 255 (not binarised), PIL NEAREST to the latent grid,
        // tiled to 4 channels, inverted (1 = keep).
        const at::Tensor m = downsampleMask(maskToTensor(*images.mask), int(h), int(w), MaskSampling::PilNearest);
        keep = (1 - m).expand({batch, 4, h, w}).contiguous();
        applyMaskedContent(request.maskedContent, imageLatents, keep, generator);
    }
    const at::Tensor noise = randn();
    out.latents = out.startIndex < plan.size() ? plan.addNoise(imageLatents, noise, out.startIndex)
                                               : imageLatents;
    if (keep.defined()) {
        out.blendInit = imageLatents;
        out.blendNoise = noise;
        out.blendKeep = keep;
    }
    return out;
}

} // namespace stipple::core
