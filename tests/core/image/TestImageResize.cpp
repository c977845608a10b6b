// A1111 resize modes: geometry of just resize, crop and resize, resize and fill.
#include "core/image/ImageResize.h"

#include <QTest>

using namespace stipple::core;

namespace {
// Left half red, right half blue.
Image halves(int w, int h)
{
    Image img = Image::blank(w, h, 3);
    for (int y = 0; y < h; ++y)
        for (int x = 0; x < w; ++x) {
            std::uint8_t *p = img.row(y) + 3 * x;
            p[0] = x < w / 2 ? 255 : 0;
            p[2] = x < w / 2 ? 0 : 255;
        }
    return img;
}
const std::uint8_t *px(const Image &img, int x, int y) { return img.row(y) + 3 * x; }
} // namespace

class TestImageResize : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void justResizeStretches()
    {
        const Image out = fitImage(halves(100, 50), 40, 40, FitMode::JustResize);
        QCOMPARE(out.width, 40);
        QCOMPARE(out.height, 40);
        QCOMPARE(int(px(out, 2, 20)[0]), 255);
        QCOMPARE(int(px(out, 37, 20)[2]), 255);
    }
    void cropAndResizeCutsTheSides()
    {
        // 200x50 -> 50x50: scaled to 200x50 (already), centre 50 columns kept
        // = columns 75..124, half red / half blue.
        Image src = halves(200, 50);
        // Mark the outer quarters green so that a crop is visible.
        for (int y = 0; y < 50; ++y)
            for (int x = 0; x < 200; ++x)
                if (x < 50 || x >= 150)
                    std::memcpy(src.row(y) + 3 * x, "\0\xff\0", 3);
        const Image out = fitImage(src, 50, 50, FitMode::CropAndResize);
        QCOMPARE(out.width, 50);
        for (int x : {0, 49})
            QCOMPARE(int(px(out, x, 25)[1]), 0); // no green survives
        QCOMPARE(int(px(out, 5, 25)[0]), 255);
        QCOMPARE(int(px(out, 45, 25)[2]), 255);
    }
    void resizeAndFillStretchesTheEdges()
    {
        // 100x50 into 50x50: scaled to 50x25, centred at y = 12..36, the bands
        // above/below repeat the first/last rows.
        Image src = halves(100, 50);
        const Image out = fitImage(src, 50, 50, FitMode::ResizeAndFill);
        QCOMPARE(out.height, 50);
        QCOMPARE(int(px(out, 2, 0)[0]), 255);
        QCOMPARE(int(px(out, 47, 49)[2]), 255);
        QCOMPARE(int(px(out, 2, 25)[0]), 255);
    }
    void helpers()
    {
        QCOMPARE(roundDownToMultipleOf8(517), 512);
        QCOMPARE(roundDownToMultipleOf8(3), 8);
        Image a = Image::blank(4, 4, 1, 0);
        pasteImage(a, Image::blank(2, 2, 1, 9), 3, 3);
        QCOMPARE(int(a.row(3)[3]), 9);
        QCOMPARE(int(a.row(2)[2]), 0);
        const Image c = cropImage(a, 2, 2, 10, 10);
        QCOMPARE(c.width, 2);
        QCOMPARE(int(c.row(1)[1]), 9);
    }
};

QTEST_GUILESS_MAIN(TestImageResize)
#include "TestImageResize.moc"
