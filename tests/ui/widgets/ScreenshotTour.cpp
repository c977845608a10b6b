// stipple_screenshot_tour: drives the real MainWindow through the three
// screenshots of docs/screenshots (text to image, inpaint with a painted mask,
// gallery) with the tiny fixture model, and saves QWidget::grab() images.
// Not a test (it asserts nothing); run it under Xvfb to get real fonts:
//   xvfb-run -a -s "-screen 0 1280x800x24" build/bin/tests/stipple_screenshot_tour docs/screenshots
#include "tests/support/Fixtures.h"

#include "ui/bridge/GalleryModel.h"
#include "ui/bridge/GenerationController.h"
#include "ui/bridge/Settings.h"
#include "ui/widgets/BrushTool.h"
#include "ui/widgets/Canvas.h"
#include "ui/widgets/GalleryView.h"
#include "ui/widgets/MainWindow.h"
#include "ui/widgets/MaskLayer.h"
#include "ui/widgets/PromptEdit.h"

#include <QApplication>
#include <QComboBox>
#include <QDir>
#include <QDockWidget>
#include <QLineEdit>
#include <QListView>
#include <QSpinBox>
#include <QTemporaryDir>
#include <QTest>

#include <cmath>
#include <cstdio>

using namespace stipple::ui;

static bool waitFor(const std::function<bool()> &condition, int ms)
{
    return QTest::qWaitFor(condition, ms);
}

int main(int argc, char **argv)
{
    QApplication app(argc, argv);
    const QString outDir = argc > 1 ? QString::fromLocal8Bit(argv[1]) : QStringLiteral("docs/screenshots");
    QDir().mkpath(outDir);
    QTemporaryDir tmp;
    Settings settings(tmp.filePath(QStringLiteral("stipple.ini")));
    settings.setValue(Settings::Key::GalleryFolder, tmp.filePath(QStringLiteral("gallery")));
    settings.setValue(Settings::Key::ModelsFolder, stipple::test::fixturesDir() + QStringLiteral("/models"));

    MainWindow window(&settings);
    window.resize(1280, 800);
    window.show();
    QTest::qWaitForWindowExposed(&window);
    window.grab().save(outDir + QStringLiteral("/no-model.png"));

    window.loadModel(stipple::test::fixturesDir() + QStringLiteral("/models/tiny-sd1"));
    if (!waitFor([&] { return window.controller()->isModelLoaded(); }, 120000)) {
        std::fprintf(stderr, "model did not load: %s\n", qPrintable(window.lastMessage()));
        window.grab().save(outDir + QStringLiteral("/load-failed.png"));
        return 1;
    }
    window.promptEdit()->setPlainText(
        QStringLiteral("a lighthouse on a cliff at dusk, (dramatic sky:1.3), [fog]\nBREAK oil painting, (warm light:1.1)"));
    window.negativePromptEdit()->setPlainText(QStringLiteral("blurry, lowres, (text:1.2)"));
    window.findChild<QSpinBox *>(QStringLiteral("steps"))->setValue(12);
    window.findChild<QSpinBox *>(QStringLiteral("width"))->setValue(128);
    window.findChild<QSpinBox *>(QStringLiteral("height"))->setValue(128);
    window.findChild<QComboBox *>(QStringLiteral("sampler"))->setCurrentText(QStringLiteral("DPM++ 2M Karras"));
    const qint64 seeds[] = {7, 42, 1234};
    for (qint64 seed : seeds) {
        window.findChild<QLineEdit *>(QStringLiteral("seed"))->setText(QString::number(seed));
        const int before = window.galleryModel()->rowCount();
        if (!window.generate()) {
            std::fprintf(stderr, "generate refused: %s\n", qPrintable(window.lastMessage()));
            return 1;
        }
        if (!waitFor([&] { return window.galleryModel()->rowCount() > before || !window.controller()->isBusy(); }, 300000)) {
            std::fprintf(stderr, "generation timed out\n");
            return 1;
        }
        QTest::qWait(300);
    }
    QTest::qWait(800); // thumbnails
    window.canvas()->fitToView();
    window.grab().save(outDir + QStringLiteral("/txt2img.png"));

    // Inpaint: the last result as init image, a mask painted with the brush.
    window.setMode(GenerationMode::Inpaint);
    // A fixture picture (rainbow stripes and a yellow disc) as the init image.
    const QString initPath = stipple::test::fixturesDir() + QStringLiteral("/inputs/init0_w64_h96.png");
    window.setInitImage(QImage(initPath), initPath);
    window.findChild<QComboBox *>(QStringLiteral("inpaintArea"))->setCurrentIndex(1);
    window.findChild<QSpinBox *>(QStringLiteral("onlyMaskedPadding"))->setValue(8);
    BrushTool *brush = window.canvas()->brush();
    brush->setSize(10);
    brush->setHardness(0.7);
    // Cover the disc with a spiral stroke, as a user would.
    brush->begin(QPointF(38, 38), 1.0);
    for (int i = 0; i <= 60; ++i) {
        const double a = i / 60.0 * 4 * 3.14159;
        const double r = 2 + i / 60.0 * 14;
        brush->moveTo(QPointF(38 + r * std::cos(a), 38 + r * std::sin(a)), 1.0);
    }
    brush->end();
    window.canvas()->fitToView();
    window.canvas()->setFocus();
    const QPointF cursor = window.canvas()->imageToWidget(QPointF(30, 75));
    QTest::mouseMove(window.canvas(), QPoint(10, 10));
    QTest::mouseMove(window.canvas(), cursor.toPoint());
    QTest::qWait(200);
    window.grab().save(outDir + QStringLiteral("/inpaint.png"));

    // Gallery: the dock with its filter fields and thumbnails.
    window.setMode(GenerationMode::TextToImage);
    window.galleryView()->listView()->setCurrentIndex(window.galleryModel()->index(0, 0));
    QTest::qWait(300);
    if (auto *dock = window.findChild<QDockWidget *>(QStringLiteral("galleryDock")))
        dock->grab().save(outDir + QStringLiteral("/gallery.png"));
    window.grab().save(outDir + QStringLiteral("/gallery-window.png"));
    std::printf("screenshots saved to %s\n", qPrintable(outDir));
    return 0;
}
