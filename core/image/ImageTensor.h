// Conversions between Image (8-bit interleaved) and torch tensors, with the
// exact arithmetic of diffusers' VaeImageProcessor (v0.25):
//   preprocess:  x = float32(pixel) / 255, then 2x - 1          -> [-1, 1]
//   postprocess: y = (x / 2 + 0.5).clamp(0, 1); PNG = round(y * 255)
// (diffusers/image_processor.py: pil_to_numpy, normalize, denormalize,
// numpy_to_pil; numpy's round is half-to-even, as is torch::round.)
// Thread-safety: pure functions.
#pragma once

#include "core/image/Image.h"

#include <ATen/core/Tensor.h>

#include <vector>

namespace stipple::core {

// RGB view of any image: grey is replicated, alpha is dropped (PIL's
// convert("RGB") for RGBA does the same).
Image toRgb(const Image &image);

// Luma of any image with PIL's convert("L") weights (ITU-R 601-2, integer
// arithmetic: (R*19595 + G*38470 + B*7471 + 0x8000) >> 16).
Image toGray(const Image &image);

// [1, 3, H, W] float32 in [-1, 1] (grey/RGBA are converted to RGB first).
at::Tensor imageToTensor(const Image &image);

// [N, 3, H, W] in [-1, 1] -> N RGB images (denormalise, clamp, round).
std::vector<Image> tensorToImages(const at::Tensor &images);

// [N, 3, H, W] in [-1, 1] -> float [0, 1] without rounding (diffusers
// output_type="np", NCHW).
at::Tensor denormalizeImages(const at::Tensor &images);

// Grey mask -> [1, 1, H, W] float32 = pixel / 255 (RGB masks go through toGray).
at::Tensor maskToTensor(const Image &mask);

// [1, 1, H, W] (or [H, W]) in [0, 1] -> 1-channel image, round(x * 255).
Image tensorToMask(const at::Tensor &mask);

} // namespace stipple::core
