// Tests for MainWindow: it opens without a model and says how to load one;
// drops on the canvas set the init image (a text file changes nothing);
// PNG Info restores parameters (and says so when a PNG has none); and, end
// to end with the tiny fixture model, an image generated from the GUI lands
// in the gallery with the right metadata.
#include "tests/support/Fixtures.h"

#include "ui/bridge/GalleryModel.h"
#include "ui/bridge/GenerationController.h"
#include "ui/bridge/Settings.h"
#include "ui/widgets/Canvas.h"
#include "ui/widgets/MainWindow.h"
#include "ui/widgets/MaskLayer.h"
#include "ui/widgets/ParametersPanel.h"
#include "ui/widgets/PromptEdit.h"

#include <QComboBox>
#include <QFile>
#include <QLabel>
#include <QLineEdit>
#include <QMimeData>
#include <QSpinBox>
#include <QTemporaryDir>
#include <QTest>
#include <QUrl>

#include <memory>

using namespace stipple::ui;

class TestMainWindow : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void init();
    void cleanup();
    void opensWithoutModelAndExplains();
    void dropImageOnCanvasSetsInitImage();
    void dropTextFileChangesNothing();
    void pngInfoRestoresParameters();
    void pngWithoutMetadataSaysSo();
    void inpaintNeedsMask();
    void parametersPersist();
    void generateLandsInGallery();

private:
    void dropOn(QWidget *target, const QString &path);
    QString writePng(const QString &name, const QString &parameters);

    std::unique_ptr<QTemporaryDir> m_dir;
    std::unique_ptr<Settings> m_settings;
    std::unique_ptr<MainWindow> m_window;
};

void TestMainWindow::init()
{
    m_dir = std::make_unique<QTemporaryDir>();
    QVERIFY(m_dir->isValid());
    m_settings = std::make_unique<Settings>(m_dir->filePath(QStringLiteral("stipple.ini")));
    m_settings->setValue(Settings::Key::GalleryFolder, m_dir->filePath(QStringLiteral("gallery")));
    m_settings->setValue(Settings::Key::ModelsFolder, m_dir->filePath(QStringLiteral("models")));
    m_window = std::make_unique<MainWindow>(m_settings.get());
    m_window->show();
    QVERIFY(QTest::qWaitForWindowExposed(m_window.get()));
}

void TestMainWindow::cleanup()
{
    m_window.reset();
    m_settings.reset();
    m_dir.reset();
}

void TestMainWindow::dropOn(QWidget *target, const QString &path)
{
    QMimeData mime;
    mime.setUrls({QUrl::fromLocalFile(path)});
    const QPointF pos(target->width() / 2.0, target->height() / 2.0);
    // Qt delivers a drop only to the widget that accepted the drag's enter.
    QDragEnterEvent enter(pos.toPoint(), Qt::CopyAction, &mime, Qt::LeftButton, Qt::NoModifier);
    QApplication::sendEvent(target, &enter);
    QVERIFY(enter.isAccepted());
    QDropEvent drop(pos, Qt::CopyAction, &mime, Qt::LeftButton, Qt::NoModifier);
    QApplication::sendEvent(target, &drop);
}

QString TestMainWindow::writePng(const QString &name, const QString &parameters)
{
    QImage image(32, 32, QImage::Format_RGB888);
    image.fill(QColor(200, 100, 50));
    if (!parameters.isEmpty())
        image.setText(QStringLiteral("parameters"), parameters);
    const QString path = m_dir->filePath(name);
    if (!image.save(path, "PNG"))
        return {};
    return path;
}

void TestMainWindow::opensWithoutModelAndExplains()
{
    QVERIFY(!m_window->controller()->isModelLoaded());
    const QString text = m_window->canvas()->placeholderText();
    QVERIFY2(text.contains(QStringLiteral("No model")), qPrintable(text));
    QVERIFY(text.contains(QStringLiteral("Open model file")));
    QCOMPARE(m_window->generate(), quint64(0)); // refused with a message
    QVERIFY(m_window->lastMessage().contains(QStringLiteral("Load a model first")));
}

void TestMainWindow::dropImageOnCanvasSetsInitImage()
{
    const QString path = writePng(QStringLiteral("init.png"), {});
    QVERIFY(!path.isEmpty());
    QCOMPARE(m_window->mode(), GenerationMode::TextToImage);
    dropOn(m_window->canvas(), path);
    QCOMPARE(m_window->mode(), GenerationMode::ImageToImage);
    QCOMPARE(m_window->initImage().size(), QSize(32, 32));
    QCOMPARE(m_window->canvas()->image().size(), QSize(32, 32));
    const auto request = m_window->currentRequest();
    QVERIFY(request.initImage.has_value());
    QCOMPARE(request.initImage->width, 32);
}

void TestMainWindow::dropTextFileChangesNothing()
{
    const QString path = m_dir->filePath(QStringLiteral("prompt.txt"));
    QFile f(path);
    QVERIFY(f.open(QIODevice::WriteOnly));
    f.write("not an image");
    f.close();
    dropOn(m_window->canvas(), path);
    QCOMPARE(m_window->mode(), GenerationMode::TextToImage);
    QVERIFY(m_window->initImage().isNull());
    QVERIFY2(m_window->lastMessage().contains(QStringLiteral("prompt.txt")), qPrintable(m_window->lastMessage()));
    auto *bar = m_window->findChild<QLabel *>(QStringLiteral("messageBar"));
    QVERIFY(bar && bar->isVisible());
}

void TestMainWindow::pngInfoRestoresParameters()
{
    const QString path = writePng(QStringLiteral("made.png"),
                                  QStringLiteral("a red fox, (snow:1.2)\nNegative prompt: blurry\n"
                                                 "Steps: 7, Sampler: DDIM, CFG scale: 5.5, Seed: 1234, Size: 256x320"));
    // Dropped on the window (not the canvas): PNG Info.
    dropOn(m_window.get(), path);
    QCOMPARE(m_window->promptEdit()->toPlainText(), QStringLiteral("a red fox, (snow:1.2)"));
    QCOMPARE(m_window->negativePromptEdit()->toPlainText(), QStringLiteral("blurry"));
    const auto request = m_window->currentRequest();
    QCOMPARE(request.steps, 7);
    QCOMPARE(request.sampler, std::string("DDIM"));
    QCOMPARE(request.cfgScale, 5.5f);
    QCOMPARE(request.seed, qint64(1234));
    QCOMPARE(request.width, 256);
    QCOMPARE(request.height, 320);
    QVERIFY(m_window->initImage().isNull()); // PNG Info does not touch the init image
}

void TestMainWindow::pngWithoutMetadataSaysSo()
{
    m_window->promptEdit()->setPlainText(QStringLiteral("keep me"));
    const QString path = writePng(QStringLiteral("plain.png"), {});
    QVERIFY(!m_window->restoreParametersFrom(path));
    QCOMPARE(m_window->promptEdit()->toPlainText(), QStringLiteral("keep me"));
    QVERIFY2(m_window->lastMessage().contains(QStringLiteral("plain.png")), qPrintable(m_window->lastMessage()));
}

void TestMainWindow::inpaintNeedsMask()
{
    const QString path = writePng(QStringLiteral("init.png"), {});
    m_window->setMode(GenerationMode::Inpaint);
    dropOn(m_window->canvas(), path);
    QCOMPARE(m_window->mode(), GenerationMode::Inpaint);
    QVERIFY(m_window->canvas()->maskEditing());
    QCOMPARE(m_window->canvas()->maskLayer()->size(), QSize(32, 32));
    m_window->canvas()->maskLayer()->fill();
    const auto request = m_window->currentRequest();
    QVERIFY(request.mask.has_value());
    QCOMPARE(request.mask->channels, 1);
    QCOMPARE(int(request.mask->pixels[0]), 255);
    // The mask survives a visit to another mode.
    m_window->setMode(GenerationMode::TextToImage);
    m_window->setMode(GenerationMode::Inpaint);
    QCOMPARE(int(m_window->canvas()->maskLayer()->valueAt(5, 5)), 255);
}

void TestMainWindow::parametersPersist()
{
    m_window->promptEdit()->setPlainText(QStringLiteral("a lighthouse"));
    m_window->findChild<QSpinBox *>(QStringLiteral("steps"))->setValue(33);
    m_window->close();
    m_window.reset();
    m_window = std::make_unique<MainWindow>(m_settings.get());
    QCOMPARE(m_window->promptEdit()->toPlainText(), QStringLiteral("a lighthouse"));
    QCOMPARE(m_window->findChild<QSpinBox *>(QStringLiteral("steps"))->value(), 33);
}

void TestMainWindow::generateLandsInGallery()
{
    STIPPLE_REQUIRE_FIXTURES();
    const QString model = stipple::test::fixturesDir() + QStringLiteral("/models/tiny-sd1");
    QString loadError;
    connect(m_window->controller(), &GenerationController::modelLoadFailed, this,
            [&loadError](const QString &message, int, const QString &details) { loadError = message + QLatin1Char(' ') + details; });
    m_window->loadModel(model);
    QTRY_VERIFY_WITH_TIMEOUT(m_window->controller()->isModelLoaded() || !loadError.isEmpty(), 120000);
    QVERIFY2(loadError.isEmpty(), qPrintable(QStringLiteral("the engine could not load tiny-sd1: ") + loadError));

    m_window->promptEdit()->setPlainText(QStringLiteral("a tiny test, (red:1.2)"));
    m_window->negativePromptEdit()->setPlainText(QStringLiteral("blue"));
    m_window->findChild<QSpinBox *>(QStringLiteral("steps"))->setValue(2);
    m_window->findChild<QSpinBox *>(QStringLiteral("width"))->setValue(64);
    m_window->findChild<QSpinBox *>(QStringLiteral("height"))->setValue(64);
    m_window->findChild<QLineEdit *>(QStringLiteral("seed"))->setText(QStringLiteral("42"));
    m_window->findChild<QComboBox *>(QStringLiteral("sampler"))->setCurrentText(QStringLiteral("Euler"));

    QString failure;
    connect(m_window->controller(), &GenerationController::failed, this,
            [&failure](quint64, const QString &message, int, const QString &details) { failure = message + QLatin1Char(' ') + details; });
    QVERIFY2(m_window->generate() > 0, qPrintable(m_window->lastMessage()));
    GalleryModel *gallery = m_window->galleryModel();
    QTRY_VERIFY_WITH_TIMEOUT(gallery->rowCount() == 1 || !failure.isEmpty(), 300000);
    QVERIFY2(failure.isEmpty(), qPrintable(failure));

    const GalleryEntry entry = gallery->entry(0);
    QVERIFY(QFile::exists(entry.path));
    QCOMPARE(entry.prompt, QStringLiteral("a tiny test, (red:1.2)"));
    QCOMPARE(entry.negativePrompt, QStringLiteral("blue"));
    QCOMPARE(entry.seed, qint64(42));
    QCOMPARE(entry.width, 64);
    QCOMPARE(entry.height, 64);
    QVERIFY2(entry.parameters.contains(QStringLiteral("Steps: 2")), qPrintable(entry.parameters));
    QVERIFY2(entry.parameters.contains(QStringLiteral("Sampler: Euler")), qPrintable(entry.parameters));
    // The canvas shows the result.
    QCOMPARE(m_window->canvas()->image().size(), QSize(64, 64));
    // Switching to Inpaint reworks that result: it becomes the init image and
    // the mask covers its size.
    QVERIFY(m_window->initImage().isNull());
    m_window->setMode(GenerationMode::Inpaint);
    QCOMPARE(m_window->initImage().size(), QSize(64, 64));
    QCOMPARE(m_window->canvas()->maskLayer()->size(), QSize(64, 64));
}

QTEST_MAIN(TestMainWindow)
#include "TestMainWindow.moc"
