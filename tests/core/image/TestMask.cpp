// Mask binarisation, blur, latent-grid sampling (F.interpolate vs PIL),
// compositing (unmasked pixels bit-identical), fill and only-masked crops.
#include "core/image/ImageTensor.h"
#include "core/image/Mask.h"

#include <ATen/ATen.h>
#include <QTest>

using namespace stipple::core;

class TestMask : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void binarizeUsesHalf()
    {
        Image m = Image::blank(3, 1, 1);
        m.pixels = {127, 128, 255};
        QCOMPARE(binarizeMask(m).pixels, (std::vector<std::uint8_t>{0, 255, 255}));
    }
    void downsampleSamplesTheRightPixel()
    {
        // 16x16 mask whose value is its x coordinate: the 2x2 latent grid samples
        // columns 0, 8 (interpolate) and 4, 12 (PIL NEAREST).
        at::Tensor m = at::arange(16, at::kFloat).view({1, 1, 1, 16}).expand({1, 1, 16, 16}).contiguous();
        at::Tensor a = downsampleMask(m, 2, 2, MaskSampling::Interpolate);
        at::Tensor b = downsampleMask(m, 2, 2, MaskSampling::PilNearest);
        QCOMPARE(a[0][0][0][0].item<float>(), 0.f);
        QCOMPARE(a[0][0][1][1].item<float>(), 8.f);
        QCOMPARE(b[0][0][0][0].item<float>(), 4.f);
        QCOMPARE(b[0][0][1][1].item<float>(), 12.f);
        // Matches torch's own nearest interpolation.
        at::Tensor ref = at::upsample_nearest2d(m, {2, 2});
        QVERIFY(at::equal(a, ref));
    }
    void blurSpreadsAndZeroIsIdentity()
    {
        Image m = Image::blank(32, 32, 1, 0);
        for (int y = 12; y < 20; ++y)
            for (int x = 12; x < 20; ++x)
                m.row(y)[x] = 255;
        QVERIFY(blurMask(m, 0).pixels == m.pixels);
        const Image b = blurMask(m, 4);
        QVERIFY(b.row(16)[9] > 0);   // spread outside
        QVERIFY(b.row(16)[16] > 0 && b.row(16)[16] < 255); // the centre is softened
        // A normalised Gaussian keeps the mask's total (up to rounding).
        double before = 0, after = 0;
        for (std::size_t i = 0; i < m.pixels.size(); ++i) {
            before += m.pixels[i];
            after += b.pixels[i];
        }
        QVERIFY(std::abs(after - before) < 0.02 * before);
        QVERIFY(b.row(0)[0] == 0);   // far away untouched (kernel 21 wide)
    }
    void compositeKeepsUnmaskedBytes()
    {
        Image orig = Image::blank(16, 16, 3), res = Image::blank(16, 16, 3, 200);
        for (std::size_t i = 0; i < orig.pixels.size(); ++i)
            orig.pixels[i] = std::uint8_t(i % 251);
        Image mask = Image::blank(16, 16, 1, 0);
        for (int y = 4; y < 12; ++y)
            for (int x = 4; x < 12; ++x)
                mask.row(y)[x] = 255;
        const Image soft = blurMask(mask, 2);
        const Image out = compositeMasked(res, orig, soft);
        for (int y = 0; y < 16; ++y)
            for (int x = 0; x < 16; ++x)
                for (int c = 0; c < 3; ++c) {
                    const int i = (y * 16 + x) * 3 + c;
                    if (soft.row(y)[x] == 0)
                        QCOMPARE(out.pixels[i], orig.pixels[i]);
                    if (soft.row(y)[x] == 255)
                        QCOMPARE(out.pixels[i], res.pixels[i]);
                }
    }
    void fillTakesSurroundingColours()
    {
        Image img = Image::blank(64, 64, 3);
        for (int y = 0; y < 64; ++y)
            for (int x = 0; x < 64; ++x)
                img.row(y)[3 * x] = 250; // red everywhere...
        Image mask = Image::blank(64, 64, 1, 0);
        for (int y = 20; y < 44; ++y)
            for (int x = 20; x < 44; ++x) {
                mask.row(y)[x] = 255;
                img.row(y)[3 * x] = 0;      // ...except a black hole under the mask
                img.row(y)[3 * x + 2] = 255;
            }
        const Image out = fillMaskedArea(img, mask);
        QVERIFY(out.row(32)[3 * 32] > 200);     // the hole is red now
        QVERIFY(out.row(32)[3 * 32 + 2] < 40);
        QCOMPARE(int(out.row(2)[3 * 2]), 250);  // outside unchanged
    }
    void onlyMaskedRegion()
    {
        Image mask = Image::blank(200, 100, 1, 0);
        for (int y = 40; y < 50; ++y)
            for (int x = 90; x < 110; ++x)
                mask.row(y)[x] = 255;
        const Rect box = maskBoundingBox(mask);
        QCOMPARE(box.x, 90);
        QCOMPARE(box.width, 20);
        // padding 10 -> 40x30 box, grown to 1:1 -> 40x40, centred.
        const Rect r = onlyMaskedCropRegion(mask, 10, 64, 64);
        QCOMPARE(r.width, 40);
        QCOMPARE(r.height, 40);
        QCOMPARE(r.x, 80);
        QCOMPARE(r.y, 25);
        QVERIFY(onlyMaskedCropRegion(Image::blank(8, 8, 1, 0), 4, 8, 8).empty());
    }
};

QTEST_GUILESS_MAIN(TestMask)
#include "TestMask.moc"
