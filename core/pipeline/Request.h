// A generation request and its outcome: the contract between front ends (CLI,
// Qt bridge) and the pipeline. One request may produce batchCount x batchSize
// images. Thread-safety: plain values.
#pragma once

#include "core/common/CancelToken.h"
#include "core/common/Progress.h"
#include "core/image/Image.h"
#include "core/text/PromptSyntax.h"

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace stipple::core {

// How an init image that does not match width x height is fitted (A1111 names).
enum class ResizeMode { JustResize, CropAndResize, ResizeAndFill };

// What the masked area starts from (A1111 "Masked content").
enum class MaskedContent { Original, Fill, LatentNoise, LatentNothing };

enum class ComputeDType { Float32, BFloat16 };

struct GenerationRequest {
    std::string prompt;
    std::string negativePrompt;
    PromptSyntax promptSyntax = PromptSyntax::A1111;
    std::string sampler = "Euler a"; // A1111 name; diffusers / sd.cpp names accepted
    std::string scheduleType;        // "", "karras", ... (empty = sampler's default)
    int steps = 20;
    float cfgScale = 7.0f;           // <= 1 skips the unconditional pass
    std::int64_t seed = -1;          // < 0: random
    int width = 512;                 // multiple of 8
    int height = 512;                // multiple of 8
    int batchSize = 1;               // images per UNet batch (same seed, diffusers order)
    int batchCount = 1;              // batches, seed + i each
    int clipSkip = 1;                // A1111: 1 = last layer, 2 = penultimate...
    float eta = 0.0f;                // DDIM eta

    // img2img / inpaint
    std::optional<Image> initImage;
    float strength = 0.75f;          // [0, 1]
    ResizeMode resizeMode = ResizeMode::JustResize;

    // inpaint (mask: 1 channel, white = repaint, same size as initImage)
    std::optional<Image> mask;
    int maskBlur = 4;                // pixels, for compositing and soft masks
    MaskedContent maskedContent = MaskedContent::Original;
    bool inpaintOnlyMasked = false;  // "only masked": crop around the mask
    int onlyMaskedPadding = 32;      // pixels around the mask's bounding box
    bool composite = true;           // paste result over the original outside the mask

    // depth2img (5-channel UNet): depth map, any size, normalised internally
    std::optional<Image> depthMap;

    ComputeDType dtype = ComputeDType::Float32;
};

// A preview of the current latents (cheap linear latent->RGB projection).
using PreviewCallback = std::function<void(const Image &preview, int step, int total)>;

// Per-request observer: callbacks run on the inference thread.
struct Observer {
    ProgressCallback onProgress;
    PreviewCallback onPreview;
    CancelToken cancel;
};

struct GeneratedImage {
    Image image;
    std::int64_t seed = 0;
    std::string infotext; // A1111 "parameters" text for the PNG
};

struct GenerationOutput {
    bool cancelled = false;          // cancelling is an outcome, not an error
    std::vector<GeneratedImage> images;
    std::optional<Image> lastPreview;// kept when cancelled
    double seconds = 0;
};

} // namespace stipple::core
