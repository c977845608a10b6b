// The synthetic data set is deterministic, its captions say what is drawn,
// and the evaluator reads the ground-truth renders back correctly (so its
// scores on generated images measure the model, not the evaluator).
#include "core/synth/ShapeEvaluator.h"
#include "core/synth/SyntheticShapes.h"

#include <QTest>

#include <opencv2/imgproc.hpp>

using namespace stipple::core::shapes;

class TestSyntheticShapes : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void deterministic()
    {
        SyntheticShapes a(7), b(7), c(8);
        const Sample s1 = a.generate(42), s2 = b.generate(42), s3 = c.generate(42);
        QCOMPARE(s1.caption, s2.caption);
        QVERIFY(s1.image.pixels == s2.image.pixels);
        QVERIFY(s1.image.pixels != s3.image.pixels || s1.caption != s3.caption);
        QCOMPARE(s1.image.width, 128);
        QCOMPARE(s1.image.channels, 3);
    }

    // Context objects (for inpainting): drawn, not named. Off by default, so
    // the data set the built-in model was trained on stays the same.
    void contextObjectsAreDrawnNotNamed()
    {
        DatasetOptions withContext;
        withContext.twoObjectProbability = 0;
        withContext.contextObjectProbability = 1;
        DatasetOptions without = withContext;
        without.contextObjectProbability = 0;
        SyntheticShapes a(3, withContext), b(3, without);
        int extra = 0;
        for (std::uint64_t i = 0; i < 50; ++i) {
            const Sample sa = a.generate(i), sb = b.generate(i);
            QCOMPARE(sa.caption, sb.caption); // the caption names the first object only
            QCOMPARE(sb.scene.objects.size(), size_t(1));
            if (sa.scene.objects.size() == 2) {
                ++extra;
                QVERIFY(sa.image.pixels != sb.image.pixels);
                QVERIFY(sa.scene.objects[1].colour != sa.scene.background);
            }
        }
        // A candidate too near the first object or in the background's colour
        // is dropped, so about 40% of the images get one at probability 1.
        QVERIFY2(extra > 10, qPrintable(QString("%1 of 50 images got a context object").arg(extra)));
    }

    void captionSaysEverything()
    {
        SceneSpec sc;
        sc.background = colourIndex("blue");
        sc.objects.push_back({Shape::Star, colourIndex("red"), Size::Large, Position::TopLeft});
        QCOMPARE(QString::fromStdString(SyntheticShapes::caption(sc)),
                 QStringLiteral("a large red star in the top left on a blue background"));
        sc.gradientTo = colourIndex("white");
        sc.objects.push_back({Shape::Ring, colourIndex("green"), Size::Small, Position::BottomRight});
        QCOMPARE(QString::fromStdString(SyntheticShapes::caption(sc)),
                 QStringLiteral("a large red star in the top left and a small green ring in the bottom right "
                                "on a blue and white gradient background"));
    }

    void coversTheVocabulary()
    {
        SyntheticShapes ds(1);
        QSet<int> shapes, colours, positions;
        int two = 0, gradient = 0;
        for (int i = 0; i < 500; ++i) {
            const SceneSpec sc = ds.scene(i);
            two += sc.objects.size() == 2;
            gradient += sc.gradientTo >= 0;
            for (const auto &o : sc.objects) {
                shapes.insert(int(o.shape));
                colours.insert(o.colour);
                positions.insert(int(o.position));
                QVERIFY(o.colour != sc.background);
            }
        }
        QCOMPARE(shapes.size(), 6);
        QCOMPARE(colours.size(), 10);
        QCOMPARE(positions.size(), 9);
        QVERIFY(two > 50 && two < 200);
        QVERIFY(gradient > 30);
    }

    void evaluatorReadsGroundTruth()
    {
        const auto scenes = evaluationScenes(270, 3);
        AttributeScores s;
        for (size_t i = 0; i < scenes.size(); ++i) {
            const stipple::core::Image img = SyntheticShapes::render(scenes[i], 128, i);
            const Reading r = readImage(img);
            score(scenes[i], r, s);
            if (r.shape != int(scenes[i].objects[0].shape) || r.objectColour != scenes[i].objects[0].colour ||
                r.position != int(scenes[i].objects[0].position) || r.background != scenes[i].background)
                qInfo("miss: %s -> colour %d shape %d pos %d bg %d",
                      SyntheticShapes::caption(scenes[i]).c_str(), r.objectColour, r.shape, r.position,
                      r.background);
        }
        qInfo("evaluator on ground truth: colour %.3f background %.3f shape %.3f position %.3f",
              s.rate(s.objectColour), s.rate(s.background), s.rate(s.shape), s.rate(s.position));
        QVERIFY(s.rate(s.objectColour) >= 0.99);
        QVERIFY(s.rate(s.background) >= 0.99);
        QVERIFY(s.rate(s.shape) >= 0.97);
        QVERIFY(s.rate(s.position) >= 0.99);
    }

    // Decoded images have soft edges; the reading must survive them, or the
    // evaluator measures its own brittleness instead of the model.
    void evaluatorReadsSoftenedGroundTruth()
    {
        const auto scenes = evaluationScenes(150, 5);
        AttributeScores s;
        for (size_t i = 0; i < scenes.size(); ++i) {
            stipple::core::Image img = SyntheticShapes::render(scenes[i], 128, i);
            cv::Mat m(img.height, img.width, CV_8UC3, img.pixels.data());
            cv::GaussianBlur(m, m, {0, 0}, 1.5);
            const Reading r = readImage(img);
            score(scenes[i], r, s);
            if (r.shape != int(scenes[i].objects[0].shape))
                qInfo("miss: %s -> shape %d", SyntheticShapes::caption(scenes[i]).c_str(), r.shape);
        }
        qInfo("evaluator on blurred ground truth (sigma 1.5 px): shape %.3f", s.rate(s.shape));
        QVERIFY(s.rate(s.shape) >= 0.95);
        QVERIFY(s.rate(s.objectColour) >= 0.97);
    }

    // A region like none of the six outlines reads as no shape, not as the
    // nearest one: a blob must not count as a hit for whatever was asked.
    void strokeIsNoShape()
    {
        stipple::core::Image img = stipple::core::Image::blank(128, 128, 3, 30);
        cv::Mat m(img.height, img.width, CV_8UC3, img.pixels.data());
        cv::line(m, {20, 100}, {110, 25}, cv::Scalar(240, 225, 30), 5);
        const Reading r = readImage(img);
        QVERIFY(r.found);
        QCOMPARE(r.shape, -1);
    }

    void blankImageFindsNothing()
    {
        const auto img = stipple::core::Image::blank(128, 128, 3, 200);
        QVERIFY(!readImage(img).found);
    }
};

QTEST_GUILESS_MAIN(TestSyntheticShapes)
#include "TestSyntheticShapes.moc"
