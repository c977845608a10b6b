// Tests for MaskLayer: brush segments (hard and soft, paint and erase),
// whole-mask actions, import, undo patches, and the "only masked" region.
#include "ui/widgets/MaskLayer.h"

#include <QSignalSpy>
#include <QTest>

using namespace stipple::ui;

class TestMaskLayer : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void hardSegmentCoversCapsule();
    void softEdgeFallsOff();
    void eraseLowersOnlyWhereItTouches();
    void strokeDoesNotAccumulate();
    void wholeMaskActions();
    void importUsesAlphaOrLuminance();
    void patchRoundTrip();
    void onlyMaskedRegion_data();
    void onlyMaskedRegion();
};

void TestMaskLayer::hardSegmentCoversCapsule()
{
    MaskLayer layer;
    layer.resize(QSize(100, 60));
    QSignalSpy changed(&layer, &MaskLayer::changed);
    const QRect dirty = layer.paintSegment({QPointF(20, 30), 5}, {QPointF(80, 30), 5}, 1.0, false);
    QCOMPARE(changed.count(), 1);
    QVERIFY(dirty.contains(QRect(20, 27, 60, 6)));
    for (int x = 20; x < 80; ++x)
        QCOMPARE(int(layer.valueAt(x, 29)), 255); // the centre line has no gaps
    QCOMPARE(int(layer.valueAt(50, 40)), 0);      // 10 px away from a 5 px radius
    QCOMPARE(int(layer.valueAt(5, 30)), 0);       // beyond the end cap
    QCOMPARE(layer.boundingRect().top() >= 24, true);
    QCOMPARE(layer.boundingRect().bottom() <= 35, true);
}

void TestMaskLayer::softEdgeFallsOff()
{
    MaskLayer layer;
    layer.resize(QSize(64, 64));
    layer.paintSegment({QPointF(32, 32), 20}, {QPointF(32, 32), 20}, 0.0, false);
    const int centre = layer.valueAt(31, 31);
    const int middle = layer.valueAt(31 + 10, 31);
    const int edge = layer.valueAt(31 + 18, 31);
    QVERIFY2(centre > middle && middle > edge && edge > 0,
             qPrintable(QStringLiteral("%1 %2 %3").arg(centre).arg(middle).arg(edge)));
    QCOMPARE(int(layer.valueAt(31 + 21, 31)), 0);
}

void TestMaskLayer::eraseLowersOnlyWhereItTouches()
{
    MaskLayer layer;
    layer.resize(QSize(40, 40));
    layer.fill();
    layer.paintSegment({QPointF(20, 20), 4}, {QPointF(20, 20), 4}, 1.0, true);
    QCOMPARE(int(layer.valueAt(19, 19)), 0);
    QCOMPARE(int(layer.valueAt(2, 2)), 255);
}

void TestMaskLayer::strokeDoesNotAccumulate()
{
    // A soft dab painted twice at the same place keeps its values (max, not sum).
    MaskLayer layer;
    layer.resize(QSize(40, 40));
    layer.paintSegment({QPointF(20, 20), 10}, {QPointF(20, 20), 10}, 0.0, false);
    const QImage once = layer.image().copy();
    layer.paintSegment({QPointF(20, 20), 10}, {QPointF(20, 20), 10}, 0.0, false);
    QCOMPARE(layer.image(), once);
}

void TestMaskLayer::wholeMaskActions()
{
    MaskLayer layer;
    layer.resize(QSize(8, 4));
    QVERIFY(layer.isEmpty());
    layer.fill();
    QCOMPARE(layer.boundingRect(), QRect(0, 0, 8, 4));
    layer.invert();
    QVERIFY(layer.isEmpty());
    layer.paintSegment({QPointF(1.5, 1.5), 0.7}, {QPointF(1.5, 1.5), 0.7}, 1.0, false);
    QVERIFY(!layer.isEmpty());
    layer.invert();
    QCOMPARE(int(layer.valueAt(7, 3)), 255);
    QVERIFY(layer.valueAt(1, 1) < 255);
    layer.clear();
    QVERIFY(layer.isEmpty());
}

void TestMaskLayer::importUsesAlphaOrLuminance()
{
    MaskLayer layer;
    layer.resize(QSize(10, 10));
    QImage withAlpha(20, 20, QImage::Format_ARGB32);
    withAlpha.fill(qRgba(0, 0, 0, 0));
    for (int y = 0; y < 20; ++y)
        for (int x = 10; x < 20; ++x)
            withAlpha.setPixel(x, y, qRgba(0, 0, 0, 255));
    QVERIFY(layer.setFromImage(withAlpha));
    QCOMPARE(layer.size(), QSize(10, 10)); // scaled to the layer
    QCOMPARE(int(layer.valueAt(8, 5)), 255);
    QCOMPARE(int(layer.valueAt(1, 5)), 0);

    QImage grey(10, 10, QImage::Format_RGB32);
    grey.fill(Qt::white);
    QVERIFY(layer.setFromImage(grey));
    QCOMPARE(int(layer.valueAt(0, 0)), 255);
    QVERIFY(!layer.setFromImage(QImage()));
}

void TestMaskLayer::patchRoundTrip()
{
    MaskLayer layer;
    layer.resize(QSize(30, 30));
    const QRect r(5, 5, 10, 10);
    const QImage before = layer.copyRect(r);
    layer.paintSegment({QPointF(10, 10), 3}, {QPointF(10, 10), 3}, 1.0, false);
    QVERIFY(!layer.isEmpty());
    layer.restoreRect(r, before);
    QVERIFY(layer.isEmpty());
}

void TestMaskLayer::onlyMaskedRegion_data()
{
    QTest::addColumn<QRect>("bounds");
    QTest::addColumn<int>("padding");
    QTest::addColumn<QSize>("image");
    QTest::addColumn<QSize>("target");
    QTest::addColumn<QRect>("expected");
    QTest::addRow("padding only") << QRect(100, 100, 50, 50) << 10 << QSize(512, 512) << QSize() << QRect(90, 90, 70, 70);
    QTest::addRow("square target keeps square") << QRect(100, 100, 50, 50) << 0 << QSize(512, 512) << QSize(512, 512)
                                                << QRect(100, 100, 50, 50);
    QTest::addRow("wide box, square target grows height") << QRect(100, 100, 100, 20) << 0 << QSize(512, 512)
                                                           << QSize(512, 512) << QRect(100, 60, 100, 100);
    QTest::addRow("clamped at the top") << QRect(100, 0, 100, 20) << 0 << QSize(512, 512) << QSize(512, 512)
                                        << QRect(100, 0, 100, 100);
    QTest::addRow("clamped to the image") << QRect(0, 0, 10, 10) << 32 << QSize(64, 64) << QSize() << QRect(0, 0, 42, 42);
    QTest::addRow("empty mask") << QRect() << 32 << QSize(64, 64) << QSize(64, 64) << QRect();
}

void TestMaskLayer::onlyMaskedRegion()
{
    QFETCH(QRect, bounds);
    QFETCH(int, padding);
    QFETCH(QSize, image);
    QFETCH(QSize, target);
    QFETCH(QRect, expected);
    QCOMPARE(stipple::ui::onlyMaskedRegion(bounds, padding, image, target), expected);
}

QTEST_MAIN(TestMaskLayer)
#include "TestMaskLayer.moc"
