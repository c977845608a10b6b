// Inpainting mask operations (masks: 1-channel Image, 255 = repaint).
// Sources: diffusers 0.25 pipeline_stable_diffusion_inpaint.py (binarised
// mask, F.interpolate nearest downsampling), diffusers' legacy inpaint
// pipeline (PIL NEAREST resize), AUTOMATIC1111 modules/processing.py (mask
// blur with cv2.GaussianBlur, kernel 2*int(2.5*r+0.5)+1; apply_overlay
// composite; "fill" masked content) and modules/masking.py (only-masked crop
// region). Thread-safety: pure functions.
#pragma once

#include "core/image/Image.h"

#include <ATen/core/Tensor.h>

namespace stipple::core {

// 0 / 255 with the diffusers threshold: pixel/255 >= 0.5 (i.e. >= 128).
Image binarizeMask(const Image &mask);

// A1111 mask blur: separable Gaussian, sigma = radius, kernel
// 2*int(2.5*radius+0.5)+1; radius <= 0 returns the mask unchanged.
Image blurMask(const Image &mask, int radius);

// How a full-resolution mask is sampled down to the latent grid.
enum class MaskSampling {
    Interpolate, // torch F.interpolate(mode="nearest"): source index floor(i*in/out) (8i)
    PilNearest,  // PIL Image.resize(NEAREST): floor((i+0.5)*in/out) (8i+4)
};

// [1, 1, H, W] -> [1, 1, h, w] by nearest sampling (no filtering).
at::Tensor downsampleMask(const at::Tensor &mask, int height, int width, MaskSampling sampling);

// result over original where mask > 0: out = (orig*(255-m) + res*m + 127) / 255
// per channel (m = softMask pixel). Where m == 0 the original byte is kept
// exactly. All three must have the same size; result/original the same channels.
Image compositeMasked(const Image &result, const Image &original, const Image &softMask);

// A1111 "fill": the masked area is replaced by the colours of its
// surroundings, smeared by successive Gaussian blurs of the unmasked pixels
// (radii 256, 64, 16, 4, 2, 0). Returns an RGB image.
Image fillMaskedArea(const Image &image, const Image &mask);

// Bounding box of the non-zero mask pixels.
struct Rect { int x = 0; int y = 0; int width = 0; int height = 0; bool empty() const { return width <= 0 || height <= 0; } };
Rect maskBoundingBox(const Image &mask);

// A1111 "Only masked": the bounding box grown by `padding` on every side,
// then grown to the target aspect ratio (width:height), clamped to the image
// (masking.get_crop_region + expand_crop_region).
Rect onlyMaskedCropRegion(const Image &mask, int padding, int targetWidth, int targetHeight);

} // namespace stipple::core
