// Tests for Canvas: a simulated mouse drag paints the mask (undo/redo
// restore it), [ and ] change the brush size, E toggles the eraser, tablet
// pressure changes the dab size, the brush cursor is drawn at the zoomed
// size, wheel zoom keeps the point under the cursor, middle-button pan, and
// drops of an image file / a text file / a broken image.
#include "ui/widgets/BrushTool.h"
#include "ui/widgets/Canvas.h"
#include "ui/widgets/MaskLayer.h"

#include <QFile>
#include <QMimeData>
#include <QPointingDevice>
#include <QSignalSpy>
#include <QTabletEvent>
#include <QTemporaryDir>
#include <QTest>
#include <QUndoStack>
#include <QUrl>

using namespace stipple::ui;

class TestCanvas : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void init();
    void cleanup();
    void dragPaintsMaskAndUndoRedo();
    void bracketsChangeSizeAndEToggles();
    void tabletPressureChangesSize();
    void brushCursorHasZoomedSize_data();
    void brushCursorHasZoomedSize();
    void wheelZoomKeepsPointUnderCursor();
    void middleButtonPans();
    void fitAndActualSize();
    void dropImageFile();
    void dropTextFileIsRejected();
    void dropBrokenImageIsRejected();
    void noPaintingOutsideMaskMode();
    void maskOverlayIsTinted();

private:
    QPoint toWidget(const QPointF &imagePoint) const { return m_canvas->imageToWidget(imagePoint).toPoint(); }
    void sendDrop(const QString &path);
    void sendTablet(QEvent::Type type, const QPointF &imagePoint, qreal pressure);

    Canvas *m_canvas = nullptr;
    QTemporaryDir m_dir;
    QPointingDevice *m_stylus = nullptr;
};

void TestCanvas::init()
{
    m_canvas = new Canvas;
    m_canvas->resize(400, 400);
    m_canvas->show();
    QVERIFY(QTest::qWaitForWindowExposed(m_canvas));
    QImage white(200, 200, QImage::Format_RGB888);
    white.fill(Qt::white);
    m_canvas->setImage(white);
    m_canvas->setMaskEditing(true);
    m_canvas->brush()->setHardness(1.0);
    m_canvas->setFocus();
}

void TestCanvas::cleanup()
{
    delete m_canvas;
    m_canvas = nullptr;
}

void TestCanvas::dragPaintsMaskAndUndoRedo()
{
    MaskLayer *mask = m_canvas->maskLayer();
    QCOMPARE(mask->size(), QSize(200, 200));
    QVERIFY(mask->isEmpty());
    m_canvas->brush()->setSize(10);
    // A fast drag: press, one move far away, release further on.
    QTest::mousePress(m_canvas, Qt::LeftButton, {}, toWidget(QPointF(20, 100)));
    QTest::mouseMove(m_canvas, toWidget(QPointF(100, 100)));
    QTest::mouseRelease(m_canvas, Qt::LeftButton, {}, toWidget(QPointF(180, 100)));
    for (int x = 22; x <= 178; ++x)
        QVERIFY2(mask->valueAt(x, 100) == 255, qPrintable(QStringLiteral("gap at x=%1").arg(x)));
    QCOMPARE(int(mask->valueAt(100, 120)), 0);
    QCOMPARE(int(mask->valueAt(5, 100)), 0);
    QCOMPARE(m_canvas->undoStack()->count(), 1); // one command for the stroke
    const QImage painted = mask->image().copy();

    m_canvas->undoStack()->undo();
    QVERIFY(mask->isEmpty());
    m_canvas->undoStack()->redo();
    QCOMPARE(mask->image(), painted);
}

void TestCanvas::bracketsChangeSizeAndEToggles()
{
    BrushTool *brush = m_canvas->brush();
    brush->setSize(20);
    QTest::keyClick(m_canvas, Qt::Key_BracketRight);
    QCOMPARE(brush->size(), 22);
    QTest::keyClick(m_canvas, Qt::Key_BracketLeft);
    QTest::keyClick(m_canvas, Qt::Key_BracketLeft);
    QCOMPARE(brush->size(), 18);
    QCOMPARE(brush->mode(), BrushTool::Mode::Paint);
    QTest::keyClick(m_canvas, Qt::Key_E);
    QCOMPARE(brush->mode(), BrushTool::Mode::Erase);
    QTest::keyClick(m_canvas, Qt::Key_E);
    QCOMPARE(brush->mode(), BrushTool::Mode::Paint);
}

void TestCanvas::sendTablet(QEvent::Type type, const QPointF &imagePoint, qreal pressure)
{
    if (!m_stylus) {
        m_stylus = new QPointingDevice(QStringLiteral("test stylus"), 4242, QInputDevice::DeviceType::Stylus,
                                       QPointingDevice::PointerType::Pen,
                                       QInputDevice::Capability::Position | QInputDevice::Capability::Pressure,
                                       1, 3, QString(), QPointingDeviceUniqueId(), this);
    }
    const QPointF pos = m_canvas->imageToWidget(imagePoint);
    QTabletEvent event(type, m_stylus, pos, m_canvas->mapToGlobal(pos), pressure, 0, 0, 0, 0, 0, Qt::NoModifier,
                       type == QEvent::TabletMove ? Qt::NoButton : Qt::LeftButton,
                       type == QEvent::TabletRelease ? Qt::NoButton : Qt::LeftButton);
    QApplication::sendEvent(m_canvas, &event);
    QVERIFY(event.isAccepted());
}

void TestCanvas::tabletPressureChangesSize()
{
    MaskLayer *mask = m_canvas->maskLayer();
    m_canvas->brush()->setSize(40); // radius 20 at full pressure
    // Light pressure: a small dab.
    sendTablet(QEvent::TabletPress, QPointF(50, 50), 0.25);
    sendTablet(QEvent::TabletRelease, QPointF(50, 50), 0.25);
    QCOMPARE(int(mask->valueAt(50, 50)), 255);
    QCOMPARE(int(mask->valueAt(50 + 10, 50)), 0);
    // Full pressure: a large dab.
    sendTablet(QEvent::TabletPress, QPointF(140, 140), 1.0);
    sendTablet(QEvent::TabletRelease, QPointF(140, 140), 1.0);
    QCOMPARE(int(mask->valueAt(140 + 10, 140)), 255);
    QCOMPARE(m_canvas->undoStack()->count(), 2);
    // A stroke whose pressure rises gets wider along the way.
    sendTablet(QEvent::TabletPress, QPointF(20, 180), 0.1);
    sendTablet(QEvent::TabletMove, QPointF(100, 180), 0.55);
    sendTablet(QEvent::TabletRelease, QPointF(180, 180), 1.0);
    int widthStart = 0, widthEnd = 0;
    for (int y = 150; y < 200; ++y) {
        widthStart += mask->valueAt(30, y) == 255;
        widthEnd += mask->valueAt(170, y) == 255;
    }
    QVERIFY2(widthEnd > widthStart + 10, qPrintable(QStringLiteral("%1 vs %2").arg(widthStart).arg(widthEnd)));
}

void TestCanvas::brushCursorHasZoomedSize_data()
{
    QTest::addColumn<qreal>("zoom");
    QTest::addRow("100%") << 1.0;
    QTest::addRow("200%") << 2.0;
}

void TestCanvas::brushCursorHasZoomedSize()
{
    QFETCH(qreal, zoom);
    m_canvas->brush()->setSize(40);
    m_canvas->setZoom(zoom, QPointF(200, 200));
    const QPoint centre(200, 200);
    QTest::mouseMove(m_canvas, QPoint(20, 20)); // a real move even if the last test ended at the centre
    QTest::mouseMove(m_canvas, centre);
    const QImage shot = m_canvas->grab().toImage();
    const int r = int(20 * zoom);
    auto darkest = [&](int from, int to) {
        int best = 255;
        for (int x = from; x <= to; ++x)
            best = std::min(best, qGray(shot.pixel(centre.x() + x, centre.y())));
        return best;
    };
    QVERIFY2(darkest(r - 1, r + 3) < 128, "no dark ring at the brush radius");
    QCOMPARE(darkest(r / 2 - 2, r / 2 + 2), 255); // inside: the white picture
    QCOMPARE(darkest(r + 6, r + 10), 255);        // outside the ring
}

void TestCanvas::wheelZoomKeepsPointUnderCursor()
{
    const QPointF cursor(150, 120);
    const QPointF before = m_canvas->widgetToImage(cursor);
    const qreal zoom = m_canvas->zoom();
    QWheelEvent wheel(cursor, m_canvas->mapToGlobal(cursor), QPoint(), QPoint(0, 120), Qt::NoButton, Qt::NoModifier,
                      Qt::NoScrollPhase, false);
    QApplication::sendEvent(m_canvas, &wheel);
    QVERIFY(qAbs(m_canvas->zoom() - zoom * 1.15) < 1e-9);
    const QPointF after = m_canvas->widgetToImage(cursor);
    QVERIFY(qAbs(after.x() - before.x()) < 1e-6 && qAbs(after.y() - before.y()) < 1e-6);
}

void TestCanvas::middleButtonPans()
{
    const QPointF origin = m_canvas->imageToWidget(QPointF(0, 0));
    QTest::mousePress(m_canvas, Qt::MiddleButton, {}, QPoint(100, 100));
    QTest::mouseMove(m_canvas, QPoint(130, 120));
    QTest::mouseRelease(m_canvas, Qt::MiddleButton, {}, QPoint(130, 120));
    QCOMPARE(m_canvas->imageToWidget(QPointF(0, 0)), origin + QPointF(30, 20));
    QVERIFY(m_canvas->maskLayer()->isEmpty()); // panning never paints
}

void TestCanvas::fitAndActualSize()
{
    m_canvas->actualSize();
    QCOMPARE(m_canvas->zoom(), 1.0);
    m_canvas->fitToView();
    const QRectF r = m_canvas->imageRectInWidget();
    QVERIFY(m_canvas->rect().contains(r.toRect()));
    QVERIFY(r.width() > 300); // 200 px image fills a 400 px canvas
}

void TestCanvas::sendDrop(const QString &path)
{
    QMimeData mime;
    mime.setUrls({QUrl::fromLocalFile(path)});
    QDragEnterEvent enter(QPoint(200, 200), Qt::CopyAction, &mime, Qt::LeftButton, Qt::NoModifier);
    QApplication::sendEvent(m_canvas, &enter);
    QVERIFY(enter.isAccepted());
    QDropEvent drop(QPointF(200, 200), Qt::CopyAction, &mime, Qt::LeftButton, Qt::NoModifier);
    QApplication::sendEvent(m_canvas, &drop);
}

void TestCanvas::dropImageFile()
{
    QImage picture(64, 48, QImage::Format_RGB888);
    picture.fill(QColor(10, 200, 30));
    const QString path = m_dir.filePath(QStringLiteral("init.png"));
    QVERIFY(picture.save(path));
    QSignalSpy dropped(m_canvas, &Canvas::imageDropped);
    QSignalSpy rejected(m_canvas, &Canvas::dropRejected);
    sendDrop(path);
    QCOMPARE(dropped.count(), 1);
    QCOMPARE(rejected.count(), 0);
    const QImage got = dropped.at(0).at(0).value<QImage>();
    QCOMPARE(got.size(), QSize(64, 48));
    QCOMPARE(QColor(got.pixel(5, 5)), QColor(10, 200, 30));
    QCOMPARE(dropped.at(0).at(1).toString(), path);
}

void TestCanvas::dropTextFileIsRejected()
{
    const QString path = m_dir.filePath(QStringLiteral("notes.txt"));
    QFile f(path);
    QVERIFY(f.open(QIODevice::WriteOnly));
    f.write("a cat in a hat\n");
    f.close();
    const QImage before = m_canvas->image();
    QSignalSpy dropped(m_canvas, &Canvas::imageDropped);
    QSignalSpy rejected(m_canvas, &Canvas::dropRejected);
    sendDrop(path);
    QCOMPARE(dropped.count(), 0);
    QCOMPARE(rejected.count(), 1);
    const QString message = rejected.at(0).at(0).toString();
    QVERIFY2(message.contains(QStringLiteral("notes.txt")), qPrintable(message));
    QCOMPARE(m_canvas->image(), before); // nothing changed
}

void TestCanvas::dropBrokenImageIsRejected()
{
    const QString path = m_dir.filePath(QStringLiteral("broken.png"));
    QFile f(path);
    QVERIFY(f.open(QIODevice::WriteOnly));
    f.write("\x89PNG\r\n\x1a\n this is not really a png");
    f.close();
    QSignalSpy dropped(m_canvas, &Canvas::imageDropped);
    QSignalSpy rejected(m_canvas, &Canvas::dropRejected);
    sendDrop(path);
    QCOMPARE(dropped.count(), 0);
    QCOMPARE(rejected.count(), 1);
    QVERIFY(rejected.at(0).at(0).toString().contains(QStringLiteral("broken.png")));
}

void TestCanvas::noPaintingOutsideMaskMode()
{
    m_canvas->setMaskEditing(false);
    QTest::mousePress(m_canvas, Qt::LeftButton, {}, toWidget(QPointF(50, 50)));
    QTest::mouseRelease(m_canvas, Qt::LeftButton, {}, toWidget(QPointF(60, 60)));
    QVERIFY(m_canvas->maskLayer()->isEmpty());
    QCOMPARE(m_canvas->undoStack()->count(), 0);
}

void TestCanvas::maskOverlayIsTinted()
{
    m_canvas->setOverlayColor(QColor(255, 0, 0));
    m_canvas->setOverlayOpacity(0.5);
    m_canvas->brush()->setSize(40);
    m_canvas->brush()->begin(QPointF(100, 100));
    m_canvas->brush()->end();
    const QPoint inside = toWidget(QPointF(100, 100));
    const QPoint outside = toWidget(QPointF(20, 20));
    QImage shot = m_canvas->grab().toImage();
    const QColor in = shot.pixelColor(inside), out = shot.pixelColor(outside);
    QCOMPARE(out, QColor(Qt::white));
    // White under 50% red: (255, 127, 127) give or take rounding.
    QVERIFY2(in.red() > 250 && qAbs(in.green() - 128) < 4 && qAbs(in.blue() - 128) < 4,
             qPrintable(in.name()));
    m_canvas->setOverlayOpacity(1.0);
    shot = m_canvas->grab().toImage();
    QCOMPARE(shot.pixelColor(inside), QColor(255, 0, 0));
}

QTEST_MAIN(TestCanvas)
#include "TestCanvas.moc"
