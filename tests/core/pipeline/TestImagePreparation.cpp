// Image-side stages: fitting init images and masks, "only masked" crops and
// pasting back, "fill" masked content, compositing (no model needed).
#include "core/image/Mask.h"
#include "core/pipeline/ImagePreparation.h"

#include <QTest>

using namespace stipple::core;

namespace {

Image gradient(int w, int h)
{
    Image img = Image::blank(w, h, 3);
    for (int y = 0; y < h; ++y)
        for (int x = 0; x < w; ++x) {
            std::uint8_t *p = img.row(y) + 3 * x;
            p[0] = std::uint8_t(x * 2);
            p[1] = std::uint8_t(y * 3);
            p[2] = 40;
        }
    return img;
}

Image rectMask(int w, int h, int x0, int y0, int x1, int y1)
{
    Image m = Image::blank(w, h, 1, 0);
    for (int y = y0; y < y1; ++y)
        for (int x = x0; x < x1; ++x)
            m.row(y)[x] = 255;
    return m;
}

} // namespace

class TestImagePreparation : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void img2imgFitsTheInit()
    {
        GenerationRequest r;
        r.width = 64;
        r.height = 32;
        r.initImage = gradient(100, 100);
        r.resizeMode = ResizeMode::CropAndResize;
        auto p = prepareImages(r);
        QVERIFY(p.ok());
        QCOMPARE(p->init->width, 64);
        QCOMPARE(p->init->height, 32);
        QVERIFY(!p->mask);
        // No mask: the generated picture comes back as it is.
        const Image gen = Image::blank(64, 32, 3, 7);
        QVERIFY(finishImage(gen, *p, true).pixels == gen.pixels);
    }
    void onlyMaskedCropsAndPastesBack()
    {
        GenerationRequest r;
        r.width = r.height = 64;
        r.initImage = gradient(120, 80);
        r.mask = rectMask(120, 80, 50, 30, 70, 46);
        r.inpaintOnlyMasked = true;
        r.onlyMaskedPadding = 8;
        r.maskBlur = 2;
        auto p = prepareImages(r);
        QVERIFY(p.ok());
        QVERIFY(p->onlyMasked);
        QCOMPARE(p->init->width, 64);
        QCOMPARE(p->mask->height, 64);
        const Rect expected = onlyMaskedCropRegion(*r.mask, 8, 64, 64);
        QCOMPARE(p->pasteRect.x, expected.x);
        QCOMPARE(p->pasteRect.width, expected.width);
        QCOMPARE(p->pasteRect.width, p->pasteRect.height); // grown to 1:1
        const Image gen = Image::blank(64, 64, 3, 200);
        const Image out = finishImage(gen, *p, true);
        QCOMPARE(out.width, 120); // the original's size
        QCOMPARE(out.height, 80);
        const Image soft = blurMask(*r.mask, 2);
        for (int y = 0; y < 80; ++y)
            for (int x = 0; x < 120; ++x)
                if (soft.row(y)[x] == 0)
                    for (int c = 0; c < 3; ++c)
                        QCOMPARE(out.row(y)[3 * x + c], r.initImage->row(y)[3 * x + c]);
        QCOMPARE(int(out.row(38)[3 * 60]), 200); // inside the mask: generated
        // Without composite the whole crop rectangle is pasted.
        const Image raw = finishImage(gen, *p, false);
        QCOMPARE(int(raw.row(p->pasteRect.y)[3 * p->pasteRect.x]), 200);
        // An empty mask cannot be cropped around.
        r.mask = Image::blank(120, 80, 1, 0);
        QVERIFY(!prepareImages(r).ok());
    }
    void fillReplacesTheMaskedArea()
    {
        GenerationRequest r;
        r.width = r.height = 64;
        r.initImage = Image::blank(64, 64, 3, 30);
        r.mask = rectMask(64, 64, 20, 20, 44, 44);
        for (int y = 20; y < 44; ++y)
            for (int x = 20; x < 44; ++x)
                r.initImage->row(y)[3 * x] = 250;
        r.maskedContent = MaskedContent::Fill;
        auto p = prepareImages(r);
        QVERIFY(p.ok());
        QVERIFY(std::abs(int(p->init->row(32)[3 * 32]) - 30) <= 3); // smeared from outside
        // The original (for compositing) keeps its pixels; only what is encoded is filled.
        QCOMPARE(int(p->original->row(32)[3 * 32]), 250);
    }
};

QTEST_GUILESS_MAIN(TestImagePreparation)
#include "TestImagePreparation.moc"
