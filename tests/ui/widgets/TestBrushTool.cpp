// Tests for BrushTool / StrokeTool: gap-free strokes from sparse events, one
// undo command per stroke, size steps, pressure, and brush/eraser.
#include "ui/widgets/BrushTool.h"
#include "ui/widgets/MaskLayer.h"
#include "ui/widgets/MaskToolHost.h"

#include <QSignalSpy>
#include <QTest>
#include <QUndoStack>

using namespace stipple::ui;

namespace {
// The narrow environment a tool gets: a layer and an undo stack.
struct Host : MaskToolHost {
    MaskLayer layer;
    QUndoStack undo;
    MaskLayer *maskLayer() override { return &layer; }
    QUndoStack *undoStack() override { return &undo; }
};
} // namespace

class TestBrushTool : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void sparseEventsLeaveNoGaps();
    void oneCommandPerStrokeUndoRedo();
    void clickPaintsADab();
    void eraserAndToggle();
    void noCommandWhenNothingChanged();
    void sizeSteps_data();
    void sizeSteps();
    void pressureScalesRadius();
};

void TestBrushTool::sparseEventsLeaveNoGaps()
{
    Host host;
    host.layer.resize(QSize(200, 50));
    BrushTool brush(&host);
    brush.setSize(6);
    brush.setHardness(1.0);
    // Three events 80 px apart: the segments between them must be painted.
    brush.begin(QPointF(10, 25));
    brush.moveTo(QPointF(90, 25));
    brush.moveTo(QPointF(170, 25));
    brush.end();
    for (int x = 10; x < 170; ++x)
        QVERIFY2(host.layer.valueAt(x, 24) == 255, qPrintable(QStringLiteral("gap at x=%1").arg(x)));
    QCOMPARE(int(host.layer.valueAt(100, 40)), 0);
}

void TestBrushTool::oneCommandPerStrokeUndoRedo()
{
    Host host;
    host.layer.resize(QSize(100, 100));
    BrushTool brush(&host);
    brush.setSize(10);
    brush.begin(QPointF(10, 10));
    for (int i = 1; i <= 20; ++i)
        brush.moveTo(QPointF(10 + i * 4, 10 + i * 4));
    brush.end();
    QCOMPARE(host.undo.count(), 1);
    QCOMPARE(host.undo.text(0), QStringLiteral("Paint mask"));
    const QImage painted = host.layer.image().copy();
    QVERIFY(!host.layer.isEmpty());

    brush.begin(QPointF(80, 20));
    brush.moveTo(QPointF(90, 20));
    brush.end();
    QCOMPARE(host.undo.count(), 2);
    const QImage twoStrokes = host.layer.image().copy();

    host.undo.undo();
    QCOMPARE(host.layer.image(), painted);
    host.undo.undo();
    QVERIFY(host.layer.isEmpty());
    host.undo.redo();
    QCOMPARE(host.layer.image(), painted);
    host.undo.redo();
    QCOMPARE(host.layer.image(), twoStrokes);
}

void TestBrushTool::clickPaintsADab()
{
    Host host;
    host.layer.resize(QSize(50, 50));
    BrushTool brush(&host);
    brush.setSize(10);
    brush.setHardness(1.0);
    brush.begin(QPointF(25, 25));
    brush.end();
    QCOMPARE(int(host.layer.valueAt(25, 25)), 255);
    QCOMPARE(int(host.layer.valueAt(25, 32)), 0);
    QCOMPARE(host.undo.count(), 1);
}

void TestBrushTool::eraserAndToggle()
{
    Host host;
    host.layer.resize(QSize(50, 50));
    host.layer.fill();
    BrushTool brush(&host);
    QSignalSpy modeSpy(&brush, &BrushTool::modeChanged);
    brush.toggleMode();
    QCOMPARE(brush.mode(), BrushTool::Mode::Erase);
    QCOMPARE(modeSpy.count(), 1);
    brush.setSize(10);
    brush.setHardness(1.0);
    brush.begin(QPointF(25, 25));
    brush.end();
    QCOMPARE(int(host.layer.valueAt(25, 25)), 0);
    QCOMPARE(int(host.layer.valueAt(2, 2)), 255);
    QCOMPARE(host.undo.text(0), QStringLiteral("Erase mask"));
    brush.toggleMode();
    QCOMPARE(brush.mode(), BrushTool::Mode::Paint);
}

void TestBrushTool::noCommandWhenNothingChanged()
{
    Host host;
    host.layer.resize(QSize(20, 20));
    BrushTool brush(&host);
    brush.setMode(BrushTool::Mode::Erase);
    brush.begin(QPointF(10, 10));
    brush.moveTo(QPointF(12, 12));
    brush.end();
    QCOMPARE(host.undo.count(), 0);
}

void TestBrushTool::sizeSteps_data()
{
    QTest::addColumn<int>("start");
    QTest::addColumn<bool>("larger");
    QTest::addColumn<int>("expected");
    QTest::addRow("] from 48") << 48 << true << 53;
    QTest::addRow("[ from 48") << 48 << false << 43;
    QTest::addRow("] from 3 adds at least one") << 3 << true << 4;
    QTest::addRow("[ at the minimum stays") << 1 << false << 1;
    QTest::addRow("] at the maximum stays") << StrokeTool::kMaxSize << true << StrokeTool::kMaxSize;
}

void TestBrushTool::sizeSteps()
{
    QFETCH(int, start);
    QFETCH(bool, larger);
    QFETCH(int, expected);
    Host host;
    BrushTool brush(&host);
    brush.setSize(start);
    larger ? brush.increaseSize() : brush.decreaseSize();
    QCOMPARE(brush.size(), expected);
}

void TestBrushTool::pressureScalesRadius()
{
    Host host;
    host.layer.resize(QSize(100, 100));
    BrushTool brush(&host);
    brush.setSize(40);
    brush.setHardness(1.0);
    QCOMPARE(brush.radiusFor(1.0), 20.0);
    QCOMPARE(brush.radiusFor(0.25), 5.0);
    QCOMPARE(brush.radiusFor(0.0), 1.0); // clamped at 5%
    brush.begin(QPointF(30, 50), 0.25);
    brush.end();
    QCOMPARE(int(host.layer.valueAt(30, 50)), 255);
    QCOMPARE(int(host.layer.valueAt(30 + 10, 50)), 0); // outside a 5 px dab
    brush.begin(QPointF(70, 50), 1.0);
    brush.end();
    QCOMPARE(int(host.layer.valueAt(70 + 10, 50)), 255); // inside a 20 px dab
    brush.setPressureEnabled(false);
    QCOMPARE(brush.radiusFor(0.1), 20.0);
}

QTEST_MAIN(TestBrushTool)
#include "TestBrushTool.moc"
