// Inpainting training examples: a full mask keeps the data set's caption; an
// object mask covers the whole object and the caption names that object alone;
// the three kinds come in the documented proportions; placements() agrees
// with what render() drew.
#include "core/train/InpaintingExamples.h"

#include <QTest>

#include <algorithm>

using namespace stipple::core;
using namespace stipple::core::shapes;

namespace {

bool allMasked(const Image &m)
{
    return std::all_of(m.pixels.begin(), m.pixels.end(), [](std::uint8_t v) { return v == 255; });
}

std::string nameOf(const ShapeSpec &o)
{
    return std::string(kColours[o.colour].name) + " " + kShapeNames[int(o.shape)];
}

} // namespace

class TestInpaintingExamples : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void placementsMatchTheRender()
    {
        SyntheticShapes ds(11, DatasetOptions{128, 0.35f, 0.0f, 0.0f, 0.0f});
        int checked = 0;
        for (std::uint64_t i = 0; i < 100; ++i) {
            const Sample s = ds.generate(i);
            QCOMPARE(s.placements.size(), s.scene.objects.size());
            for (size_t k = 0; k < s.scene.objects.size(); ++k) {
                const ShapeSpec &o = s.scene.objects[k];
                if (o.shape == Shape::Ring) // a ring's centre is background
                    continue;
                const int x = int(s.placements[k].x), y = int(s.placements[k].y);
                const std::uint8_t *px = &s.image.pixels[(size_t(y) * 128 + x) * 3];
                const auto &c = kColours[o.colour];
                QVERIFY2(px[0] == c.r && px[1] == c.g && px[2] == c.b, s.caption.c_str());
                ++checked;
            }
        }
        QVERIFY(checked > 60);
    }

    // A context object (drawn, not named in the data set's caption) is named
    // whenever the whole picture is the example: a caption names what is drawn.
    void wholePictureCaptionsNameContextObjects()
    {
        SyntheticShapes ds(9, DatasetOptions{128, 0.0f, 0.0f, 0.0f, 1.0f});
        int checked = 0;
        for (std::uint64_t i = 0; i < 300; ++i) {
            const Sample s = ds.generate(i);
            if (!s.contextObject)
                continue;
            QCOMPARE(s.scene.objects.size(), size_t(2));
            QVERIFY(s.caption.find(" and a ") == std::string::npos);
            const InpaintingExample ex = inpaintingExample(s, 128, i);
            if (allMasked(ex.mask)) {
                QVERIFY2(ex.caption.find(nameOf(s.scene.objects[1])) != std::string::npos, ex.caption.c_str());
                ++checked;
            }
        }
        QVERIFY(checked > 10);
    }

    void masksAndCaptions()
    {
        SyntheticShapes ds(5, DatasetOptions{128, 0.35f, 0.12f, 0.25f, 0.0f});
        int full = 0, object = 0, box = 0, halves = 0, withContext = 0;
        const int n = 600;
        for (int i = 0; i < n; ++i) {
            const Sample s = ds.generate(std::uint64_t(i));
            const InpaintingExample ex = inpaintingExample(s, 128, std::uint64_t(i));
            QCOMPARE(ex.mask.width, 128);
            QCOMPARE(ex.mask.channels, 1);
            QVERIFY(std::all_of(ex.mask.pixels.begin(), ex.mask.pixels.end(),
                                [](std::uint8_t v) { return v == 0 || v == 255; }));
            // Same inputs, same example.
            const InpaintingExample again = inpaintingExample(s, 128, std::uint64_t(i));
            QVERIFY(again.mask.pixels == ex.mask.pixels && again.caption == ex.caption);
            if (allMasked(ex.mask)) {
                QCOMPARE(ex.caption, s.caption);
                ++full;
                continue;
            }
            // An object example names exactly one object and masks all of it
            // (two objects may share a name: then one of them).
            auto covered = [&](const ObjectPlacement &p) {
                const float e = 1.25f * p.radius;
                for (int y = std::max(0, int(p.y - e)); y <= std::min(127, int(p.y + e)); ++y)
                    for (int x = std::max(0, int(p.x - e)); x <= std::min(127, int(p.x + e)); ++x)
                        if (ex.mask.pixels[size_t(y) * 128 + x] != 255)
                            return false;
                return true;
            };
            bool named = false, coveredTarget = false;
            for (size_t k = 0; k < s.scene.objects.size(); ++k)
                if (ex.caption.find(nameOf(s.scene.objects[k])) != std::string::npos &&
                    ex.caption.find(" and a ") == std::string::npos && ex.caption != s.caption) {
                    named = true;
                    coveredTarget = coveredTarget || covered(s.placements[k]);
                }
            if (!named) {
                QVERIFY2(ex.caption == s.caption, (ex.caption + " / " + s.caption).c_str()); // a random box keeps the whole caption
                ++box;
                continue;
            }
            QVERIFY2(coveredTarget, (ex.caption + " / " + s.caption).c_str());
            ++object;
            withContext += s.scene.objects.size() > 1;
            const auto masked = std::count(ex.mask.pixels.begin(), ex.mask.pixels.end(), std::uint8_t(255));
            halves += masked == 128 * 64;
        }
        qInfo("full %d, object %d (halves %d, with another object outside the caption %d), box %d of %d", full,
              object, halves, withContext, box, n);
        QVERIFY(full > n * 0.18 && full < n * 0.32);
        QVERIFY(object > n * 0.5 && object < n * 0.7);
        QVERIFY(box > n * 0.08 && box < n * 0.22);
        QVERIFY(halves > object / 5);
        QVERIFY(withContext > object / 5);
    }
};

QTEST_GUILESS_MAIN(TestInpaintingExamples)
#include "TestInpaintingExamples.moc"
