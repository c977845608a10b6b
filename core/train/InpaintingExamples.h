// Masks and captions for training the built-in model as a 9-channel
// inpainting UNet (the layout of runwayml/stable-diffusion-inpainting: noisy
// latents, the latent-size mask and the latents of the masked image).
//
// Why: a 4-channel model inpaints by blending its own denoising with the
// kept area (diffusers' legacy inpaint pipeline); it never sees the mask, so
// "a green square" over half of a picture that holds a red circle is read as
// a wrong description of the whole picture (the built-in 4-channel model
// painted a green square for 2 of 6 seeds). A 9-channel model is trained on
// exactly that task: the caption says what the masked area should hold.
//
// Each example is one of:
//   - the whole image masked with the data set's caption: txt2img and
//     img2img, which the engine runs with a full mask and an empty masked
//     image, as AUTOMATIC1111 does;
//   - one object masked (the half of the picture it lies in, or a box around
//     it) with a caption naming that object alone, its size, position and the
//     background each said half of the time or less ("a green square");
//   - a random box with the data set's caption.
// Thread-safety: pure function.
#pragma once

#include "core/image/Image.h"
#include "core/synth/SyntheticShapes.h"

#include <cstdint>
#include <string>

namespace stipple::core {

struct InpaintingExample {
    Image mask;          // 1 channel, imageSize², 255 = repaint, 0 = keep
    std::string caption; // what the masked area should show
};

// Deterministic in `seed`. `sample` must come from a data set of `imageSize`.
InpaintingExample inpaintingExample(const shapes::Sample &sample, int imageSize, std::uint64_t seed);

} // namespace stipple::core
