// Image-side stages of a request, before and after the latent pipeline:
//   prepareImages(): fits the init image / mask to width x height with the
//     request's resize mode (A1111 resize_image), or, for "only masked",
//     crops the mask's padded bounding box (grown to the output aspect ratio)
//     and scales that crop to width x height; applies "fill" masked content;
//     keeps what compositing needs.
//   finishImage(): puts a generated picture back: scales an only-masked crop
//     back and pastes it into the original, then (request.composite) blends
//     the result over the original with the blurred mask, so pixels outside
//     the blurred mask keep their original bytes (A1111 apply_overlay).
// The mask blur applies to compositing only; the latent mask stays as the
// user painted it (diffusers semantics), which keeps parity with the fixtures.
// Thread-safety: pure functions.
#pragma once

#include "core/common/Result.h"
#include "core/image/Image.h"
#include "core/image/Mask.h"
#include "core/pipeline/Request.h"

#include <optional>

namespace stipple::core {

struct PreparedImages {
    std::optional<Image> init;   // width x height RGB picture the pipeline encodes
    std::optional<Image> mask;   // width x height grey mask (255 = repaint), not blurred
    // For finishImage():
    std::optional<Image> original;    // the picture the result goes back into (RGB)
    std::optional<Image> overlayMask; // blurred mask at the original's size
    Rect pasteRect;                   // where a width x height result lands in `original`
    bool onlyMasked = false;
};

// Expects a validated request (validateRequest()).
Result<PreparedImages> prepareImages(const GenerationRequest &request);

// `generated` is width x height RGB. Without an init image it is returned as is.
Image finishImage(const Image &generated, const PreparedImages &prepared, bool composite);

} // namespace stipple::core
