// Cheap latent -> RGB preview: a fixed linear 4x3 projection of the SD1/SD2
// VAE latent (scaled latent space, i.e. after x 0.18215), mapped from
// [-1, 1] to [0, 255]. Coefficients (rows = latent channels, cols = R,G,B):
//   [ 0.298,  0.207,  0.208]
//   [ 0.187,  0.286,  0.173]
//   [-0.158,  0.189,  0.264]
//   [-0.184, -0.271, -0.473]
// Source: AUTOMATIC1111 stable-diffusion-webui modules/sd_vae_approx.py
// cheap_approximation() ("Approx cheap" live preview), which credits
// https://discuss.huggingface.co/t/decoding-latents-to-rgb-without-upscaling/23204/2.
// ComfyUI comfy/latent_formats.py SD15.latent_rgb_factors is a refit of the
// same idea ([0.3512, 0.2297, 0.3227], [0.3250, 0.4974, 0.2350],
// [-0.2829, 0.1762, 0.2721], [-0.2120, -0.2616, -0.7177]); both are offered.
// Cost: 12 multiply-adds per latent pixel, i.e. 64x64 latents ~ 50k FLOPs,
// negligible next to one UNet call.
// Thread-safety: pure functions.
#pragma once

#include "core/image/Image.h"

#include <ATen/core/Tensor.h>

namespace stipple::core {

enum class PreviewFactors { A1111Cheap, ComfySD15 };

// latents [B, 4, h, w] (or [4, h, w]); `index` picks the batch item. The
// preview is h x w RGB (latent resolution); `upscale` > 1 repeats pixels.
Image latentPreview(const at::Tensor &latents, int index = 0,
                    PreviewFactors factors = PreviewFactors::A1111Cheap, int upscale = 1);

} // namespace stipple::core
