// Fitting an image into width x height the way AUTOMATIC1111 does
// (modules/images.py, resize_image): "Just resize" stretches; "Crop and
// resize" scales to cover and crops the centre; "Resize and fill" scales to
// fit, centres, and fills the borders by stretching the outermost rows or
// columns of the scaled picture. Resampling: OpenCV area filter when
// shrinking, Lanczos-4 when enlarging (A1111 uses PIL's Lanczos; the
// geometry above is identical, the filter taps differ slightly).
// Thread-safety: pure functions.
#pragma once

#include "core/image/Image.h"

namespace stipple::core {

// A1111 "Resize mode" (core/pipeline maps ResizeMode onto it).
enum class FitMode { JustResize, CropAndResize, ResizeAndFill };

// Plain resampling to an exact size (any channel count).
Image resizeImage(const Image &image, int width, int height);

// Nearest-neighbour resampling (for masks that must stay hard).
Image resizeImageNearest(const Image &image, int width, int height);

// A1111 resize modes; returns image unchanged when the size already matches.
Image fitImage(const Image &image, int width, int height, FitMode mode);

// Rounds a size down to a multiple of 8 (at least 8), as the VAE needs.
int roundDownToMultipleOf8(int value);

// Crops a rectangle (clamped to the image).
Image cropImage(const Image &image, int x, int y, int width, int height);

// Pastes `src` into `dst` at (x, y) (clipped); channel counts must match.
void pasteImage(Image &dst, const Image &src, int x, int y);

} // namespace stipple::core
