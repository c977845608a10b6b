#include "core/pipeline/ImagePreparation.h"

#include "core/image/ImageResize.h"
#include "core/image/ImageTensor.h"

namespace stipple::core {

namespace {

FitMode fitMode(ResizeMode m)
{
    switch (m) {
    case ResizeMode::JustResize: return FitMode::JustResize;
    case ResizeMode::CropAndResize: return FitMode::CropAndResize;
    case ResizeMode::ResizeAndFill: return FitMode::ResizeAndFill;
    }
    return FitMode::JustResize;
}

} // namespace

Result<PreparedImages> prepareImages(const GenerationRequest &r)
{
    PreparedImages p;
    if (!r.initImage)
        return p;
    const Image init = toRgb(*r.initImage);
    if (!r.mask) {
        p.init = fitImage(init, r.width, r.height, fitMode(r.resizeMode));
        return p;
    }
    const Image mask = toGray(*r.mask);
    if (r.inpaintOnlyMasked) {
        const Rect crop = onlyMaskedCropRegion(mask, r.onlyMaskedPadding, r.width, r.height);
        if (crop.empty())
            return makeError(ErrorCode::InvalidArgument, "\"only masked\" needs a mask with painted pixels");
        p.onlyMasked = true;
        p.pasteRect = crop;
        p.original = init;
        p.overlayMask = blurMask(mask, r.maskBlur);
        p.init = fitImage(cropImage(init, crop.x, crop.y, crop.width, crop.height), r.width, r.height,
                          FitMode::ResizeAndFill);
        p.mask = fitImage(cropImage(mask, crop.x, crop.y, crop.width, crop.height), r.width, r.height,
                          FitMode::ResizeAndFill);
    } else {
        p.init = fitImage(init, r.width, r.height, fitMode(r.resizeMode));
        p.mask = fitImage(mask, r.width, r.height, fitMode(r.resizeMode));
        p.original = p.init;
        p.overlayMask = blurMask(*p.mask, r.maskBlur);
        p.pasteRect = {0, 0, r.width, r.height};
    }
    if (r.maskedContent == MaskedContent::Fill)
        p.init = fillMaskedArea(*p.init, *p.mask);
    return p;
}

Image finishImage(const Image &generated, const PreparedImages &p, bool composite)
{
    if (!p.original || !p.overlayMask)
        return generated;
    Image placed = generated;
    if (p.onlyMasked) {
        placed = *p.original;
        pasteImage(placed, fitImage(toRgb(generated), p.pasteRect.width, p.pasteRect.height,
                                    FitMode::CropAndResize),
                   p.pasteRect.x, p.pasteRect.y);
    }
    if (!composite)
        return placed;
    return compositeMasked(toRgb(placed), *p.original, *p.overlayMask);
}

} // namespace stipple::core
