#include "core/pipeline/Validation.h"

#include <cmath>
#include <string>

namespace stipple::core {

namespace {

Error bad(const std::string &message)
{
    return makeError(ErrorCode::InvalidArgument, message);
}

std::string sizeText(const Image &img)
{
    return std::to_string(img.width) + "x" + std::to_string(img.height);
}

bool validImage(const Image &img)
{
    return !img.isNull() && (img.channels == 1 || img.channels == 3 || img.channels == 4)
        && img.pixels.size() == img.byteSize();
}

} // namespace

Status validateRequest(const GenerationRequest &r, ModelVariant variant)
{
    if (r.width <= 0 || r.height <= 0)
        return bad("width and height must be positive (got " + std::to_string(r.width) + "x"
                   + std::to_string(r.height) + ")");
    if (r.width % 8 != 0 || r.height % 8 != 0)
        return bad("width and height must be multiples of 8 (got " + std::to_string(r.width) + "x"
                   + std::to_string(r.height) + "); try " + std::to_string(r.width / 8 * 8) + "x"
                   + std::to_string(r.height / 8 * 8));
    if (r.width > kMaxGenerationSide || r.height > kMaxGenerationSide
        || std::int64_t(r.width) * r.height > kMaxGenerationPixels)
        return bad("image size " + std::to_string(r.width) + "x" + std::to_string(r.height)
                   + " is too large (at most " + std::to_string(kMaxGenerationSide)
                   + " pixels per side and " + std::to_string(kMaxGenerationPixels / (1024 * 1024))
                   + " MP)");
    if (r.steps <= 0 || r.steps > kMaxSteps)
        return bad("steps must be between 1 and " + std::to_string(kMaxSteps) + " (got "
                   + std::to_string(r.steps) + ")");
    if (!std::isfinite(r.cfgScale) || r.cfgScale < 0 || r.cfgScale > 100)
        return bad("CFG scale must be between 0 and 100 (got " + std::to_string(r.cfgScale) + ")");
    if (r.batchSize < 1 || r.batchSize > kMaxBatchSize)
        return bad("batch size must be between 1 and " + std::to_string(kMaxBatchSize));
    if (r.batchCount < 1 || r.batchCount > kMaxBatchCount)
        return bad("batch count must be between 1 and " + std::to_string(kMaxBatchCount));
    if (r.clipSkip < 1 || r.clipSkip > 12)
        return bad("clip skip must be between 1 and 12 (got " + std::to_string(r.clipSkip) + ")");
    if (!std::isfinite(r.eta) || r.eta < 0 || r.eta > 1)
        return bad("eta must be between 0 and 1");
    if (r.sampler.empty())
        return bad("no sampler given");

    const bool usesInit = r.initImage.has_value();
    if (usesInit && !validImage(*r.initImage))
        return bad("the init image is empty or malformed");
    if (usesInit && (!std::isfinite(r.strength) || r.strength < 0 || r.strength > 1))
        return bad("denoising strength must be between 0 and 1 (got " + std::to_string(r.strength) + ")");
    if (!usesInit && r.mask.has_value())
        return bad("a mask needs an init image to inpaint");
    if (r.mask.has_value()) {
        if (!validImage(*r.mask))
            return bad("the mask is empty or malformed");
        if (r.mask->width != r.initImage->width || r.mask->height != r.initImage->height)
            return bad("mask size " + sizeText(*r.mask) + " differs from the init image size "
                       + sizeText(*r.initImage));
        if (r.maskBlur < 0 || r.maskBlur > 256)
            return bad("mask blur must be between 0 and 256 pixels");
        if (r.inpaintOnlyMasked && (r.onlyMaskedPadding < 0 || r.onlyMaskedPadding > 4096))
            return bad("only-masked padding must be between 0 and 4096 pixels");
    }
    if (r.depthMap.has_value() && !validImage(*r.depthMap))
        return bad("the depth map is empty or malformed");
    if (variant == ModelVariant::Depth && !r.depthMap.has_value())
        return bad("this depth model needs a depth map (--depth-map)");
    if (variant != ModelVariant::Depth && r.depthMap.has_value())
        return bad("a depth map was given but the model is not a depth model");
    return {};
}

} // namespace stipple::core
