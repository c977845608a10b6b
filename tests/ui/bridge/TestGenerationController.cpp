// GenerationController / GenerationWorker on the tiny fixture model: queued
// signals (one preview per step, progress, results saved with their
// infotext), cancel reported as cancelled (not an error), errors as
// translated text, and the GUI event loop never stalls while generating.
#include "ui/bridge/GenerationController.h"

#include "support/Fixtures.h"
#include "ui/bridge/ErrorText.h"
#include "ui/bridge/GenerationWorker.h"
#include "ui/bridge/ImageMetadata.h"

#include <QElapsedTimer>
#include <QGuiApplication>
#include <QImageReader>
#include <QSignalSpy>
#include <QTemporaryDir>
#include <QTest>
#include <QThread>
#include <QTimer>

#include <memory>

using namespace stipple;
using namespace stipple::ui;

namespace {

constexpr int kLoadTimeoutMs = 180000;
constexpr int kRunTimeoutMs = 300000;

core::LoadOptions tinyModel()
{
    core::LoadOptions o;
    o.modelPath = test::fixturePath(QStringLiteral("models/tiny-sd1"));
    return o;
}

core::GenerationRequest smallRequest(int steps)
{
    core::GenerationRequest r;
    r.prompt = "a photo of a cat";
    r.negativePrompt = "blurry";
    r.sampler = "Euler a";
    r.steps = steps;
    r.cfgScale = 7.0f;
    r.seed = 1234;
    r.width = 64;
    r.height = 64;
    return r;
}

} // namespace

class TestGenerationController : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void initTestCase();
    void cleanupTestCase();
    void generateWithoutModelFails();
    void loadFailureIsTranslated();
    void loadsModel();
    void generatesWithPreviewPerStep();
    void cancelIsNotAnError();
    void cancelQueuedJob();
    void guiNeverStalls();
    void destroyWhileRunning();

private:
    bool ensureLoaded();
    std::unique_ptr<GenerationController> m_gen;
    QTemporaryDir m_dir;
};

void TestGenerationController::initTestCase()
{
    registerBridgeMetaTypes();
    QVERIFY(m_dir.isValid());
}

void TestGenerationController::cleanupTestCase() { m_gen.reset(); }

bool TestGenerationController::ensureLoaded()
{
    if (m_gen && m_gen->isModelLoaded())
        return true;
    m_gen = std::make_unique<GenerationController>();
    QSignalSpy loaded(m_gen.get(), &GenerationController::modelLoaded);
    QSignalSpy failed(m_gen.get(), &GenerationController::modelLoadFailed);
    m_gen->loadModel(tinyModel());
    QElapsedTimer t;
    t.start();
    while (loaded.isEmpty() && failed.isEmpty() && t.elapsed() < kLoadTimeoutMs)
        QTest::qWait(20);
    if (!failed.isEmpty())
        qWarning("load failed: %s [%s]", qPrintable(failed.first().at(0).toString()),
                 qPrintable(failed.first().at(2).toString()));
    return !loaded.isEmpty();
}

void TestGenerationController::generateWithoutModelFails()
{
    GenerationController gen;
    QSignalSpy failed(&gen, &GenerationController::failed);
    QSignalSpy busy(&gen, &GenerationController::busyChanged);
    const quint64 id = gen.generate(smallRequest(2));
    QVERIFY(id > 0);
    QVERIFY(gen.isBusy());
    QVERIFY(failed.wait(10000));
    QCOMPARE(failed.first().at(0).toULongLong(), id);
    QVERIFY(!failed.first().at(1).toString().isEmpty());
    QVERIFY(!gen.isBusy());
    QCOMPARE(busy.size(), 2); // true, then false
}

void TestGenerationController::loadFailureIsTranslated()
{
    GenerationController gen;
    QSignalSpy failed(&gen, &GenerationController::modelLoadFailed);
    core::LoadOptions o;
    o.modelPath = m_dir.filePath(QStringLiteral("does-not-exist.safetensors")).toStdString();
    gen.loadModel(o);
    QVERIFY(failed.wait(kLoadTimeoutMs));
    const int code = failed.first().at(1).toInt();
    QVERIFY(code != int(core::ErrorCode::Ok));
    QCOMPARE(failed.first().at(0).toString(), errorText(core::ErrorCode(code)));
    QVERIFY(!gen.isModelLoaded());
}

void TestGenerationController::loadsModel()
{
    STIPPLE_REQUIRE_FIXTURES();
    m_gen = std::make_unique<GenerationController>();
    QSignalSpy loaded(m_gen.get(), &GenerationController::modelLoaded);
    QSignalSpy failed(m_gen.get(), &GenerationController::modelLoadFailed);
    QSignalSpy progress(m_gen.get(), &GenerationController::progress);
    m_gen->loadModel(tinyModel());
    QTRY_VERIFY_WITH_TIMEOUT(!loaded.isEmpty() || !failed.isEmpty(), kLoadTimeoutMs);
    if (!failed.isEmpty())
        QFAIL(qPrintable(failed.first().at(0).toString() + QStringLiteral(" / ") + failed.first().at(2).toString()));
    const ModelSummary m = loaded.first().first().value<ModelSummary>();
    QCOMPARE(m.family, QStringLiteral("SD 1.x"));
    QVERIFY(!m.inpaint);
    QVERIFY(!m.vPrediction);
    QVERIFY(!m.components.isEmpty());
    QVERIFY(m_gen->isModelLoaded());
    QCOMPARE(m_gen->model().family, m.family);
    qInfo("loaded %s: %s, %d components, %d load progress events", qPrintable(m.displayName),
          qPrintable(m.describe()), int(m.components.size()), int(progress.size()));
}

void TestGenerationController::generatesWithPreviewPerStep()
{
    STIPPLE_REQUIRE_FIXTURES();
    QVERIFY(ensureLoaded());
    const QString gallery = m_dir.filePath(QStringLiteral("gallery"));
    m_gen->setAutoSaveFolder(gallery);
    QSignalSpy started(m_gen.get(), &GenerationController::started);
    QSignalSpy preview(m_gen.get(), &GenerationController::preview);
    QSignalSpy progress(m_gen.get(), &GenerationController::progress);
    QSignalSpy results(m_gen.get(), &GenerationController::resultReady);
    QSignalSpy finished(m_gen.get(), &GenerationController::finished);
    QSignalSpy failed(m_gen.get(), &GenerationController::failed);
    QSignalSpy cancelled(m_gen.get(), &GenerationController::cancelled);

    const int steps = 5;
    core::GenerationRequest r = smallRequest(steps);
    r.batchCount = 2;
    const quint64 id = m_gen->generate(r);
    QTRY_VERIFY_WITH_TIMEOUT(!finished.isEmpty() || !failed.isEmpty(), kRunTimeoutMs);
    if (!failed.isEmpty())
        QFAIL(qPrintable(failed.first().at(1).toString() + QStringLiteral(" / ") + failed.first().at(3).toString()));
    QCOMPARE(cancelled.size(), 0);
    QCOMPARE(started.size(), 1);
    QCOMPARE(started.first().first().toULongLong(), id);
    QCOMPARE(finished.first().first().toULongLong(), id);

    // One preview per denoising step of each batch, in order, all for this job.
    QCOMPARE(preview.size(), steps * r.batchCount);
    for (int i = 0; i < preview.size(); ++i) {
        const QList<QVariant> &args = preview.at(i);
        QCOMPARE(args.at(0).toULongLong(), id);
        QVERIFY(!args.at(1).value<QImage>().isNull());
        QCOMPARE(args.at(3).toInt(), steps);
        if (i % steps > 0)
            QVERIFY(args.at(2).toInt() > preview.at(i - 1).at(2).toInt()); // increasing within a batch
        if (i % steps == steps - 1)
            QVERIFY(args.at(2).toInt() >= steps - 1);
    }
    // Denoise progress reaches the total; it/s and ETA are derived.
    bool sawLastDenoise = false;
    for (const QList<QVariant> &args : std::as_const(progress)) {
        const GenerationProgress p = args.first().value<GenerationProgress>();
        QCOMPARE(p.jobId, id);
        if (p.stage == GenerationStage::Denoise && p.step == p.total && p.total == steps) {
            sawLastDenoise = true;
            QVERIFY(p.itPerSec > 0);
            QCOMPARE(p.etaSec, 0.0);
        }
    }
    QVERIFY(sawLastDenoise);

    // Results: 64x64 images, seeds seed + i, infotext, saved into the gallery.
    QCOMPARE(results.size(), r.batchCount);
    for (int i = 0; i < results.size(); ++i) {
        const GeneratedResult res = results.at(i).at(1).value<GeneratedResult>();
        QCOMPARE(res.image.size(), QSize(64, 64));
        QCOMPARE(res.seed, r.seed + i);
        const ImageMetadata m = parseInfotext(res.infotext);
        QCOMPARE(m.prompt, QString::fromStdString(r.prompt));
        QCOMPARE(m.seed, res.seed);
        QCOMPARE(m.steps, steps);
        QVERIFY2(!res.savedPath.isEmpty(), qPrintable(res.saveError));
        QVERIFY(res.savedPath.startsWith(gallery));
        QCOMPARE(readImageMetadata(res.savedPath).metadata.raw, res.infotext);
        const QImage saved(res.savedPath);
        QCOMPARE(saved.text(QStringLiteral("parameters")), res.infotext);
        QCOMPARE(saved.convertToFormat(res.image.format()), res.image);
    }
    QVERIFY(!m_gen->isBusy());
    m_gen->setAutoSaveFolder({});
}

void TestGenerationController::cancelIsNotAnError()
{
    STIPPLE_REQUIRE_FIXTURES();
    QVERIFY(ensureLoaded());
    QSignalSpy finished(m_gen.get(), &GenerationController::finished);
    QSignalSpy failed(m_gen.get(), &GenerationController::failed);
    QSignalSpy cancelled(m_gen.get(), &GenerationController::cancelled);
    QSignalSpy preview(m_gen.get(), &GenerationController::preview);
    // Cancel from the GUI thread as soon as the first preview arrives.
    int previewsAtCancel = -1;
    auto c = connect(m_gen.get(), &GenerationController::preview, this, [&] {
        if (previewsAtCancel < 0) {
            previewsAtCancel = int(preview.size());
            QVERIFY(m_gen->cancel());
        }
    });
    const int steps = 200;
    const quint64 id = m_gen->generate(smallRequest(steps));
    QTRY_VERIFY_WITH_TIMEOUT(!cancelled.isEmpty() || !finished.isEmpty() || !failed.isEmpty(), kRunTimeoutMs);
    disconnect(c);
    QCOMPARE(failed.size(), 0);
    QCOMPARE(finished.size(), 0);
    QCOMPARE(cancelled.size(), 1);
    QCOMPARE(cancelled.first().first().toULongLong(), id);
    QVERIFY2(preview.size() < steps, "cancel was not honoured before the last step");
    qInfo("cancelled after %d of %d steps", int(preview.size()), steps);
    QVERIFY(!m_gen->cancel()); // idle now
    QVERIFY(!m_gen->isBusy());
}

void TestGenerationController::cancelQueuedJob()
{
    STIPPLE_REQUIRE_FIXTURES();
    QVERIFY(ensureLoaded());
    QSignalSpy started(m_gen.get(), &GenerationController::started);
    QSignalSpy finished(m_gen.get(), &GenerationController::finished);
    QSignalSpy cancelled(m_gen.get(), &GenerationController::cancelled);
    const quint64 first = m_gen->generate(smallRequest(2));
    const quint64 second = m_gen->generate(smallRequest(2));
    QVERIFY(m_gen->cancel(second)); // still queued: dropped without running
    QTRY_VERIFY_WITH_TIMEOUT(!finished.isEmpty() && !cancelled.isEmpty(), kRunTimeoutMs);
    QCOMPARE(finished.first().first().toULongLong(), first);
    QCOMPARE(cancelled.first().first().toULongLong(), second);
    QCOMPARE(started.size(), 1);
    QVERIFY(!m_gen->cancel(second));
}

// The GUI thread only receives queued signals: a 5 ms timer keeps firing.
void TestGenerationController::guiNeverStalls()
{
    STIPPLE_REQUIRE_FIXTURES();
    QVERIFY(ensureLoaded());
    QSignalSpy finished(m_gen.get(), &GenerationController::finished);
    QSignalSpy failed(m_gen.get(), &GenerationController::failed);
    QSignalSpy preview(m_gen.get(), &GenerationController::preview);
    QElapsedTimer clock;
    qint64 last = -1, maxGap = 0;
    int ticks = 0;
    QTimer timer;
    timer.setTimerType(Qt::PreciseTimer);
    timer.setInterval(5);
    connect(&timer, &QTimer::timeout, this, [&] {
        const qint64 now = clock.nsecsElapsed();
        if (last >= 0)
            maxGap = std::max(maxGap, now - last);
        last = now;
        ++ticks;
    });
    clock.start();
    timer.start();
    core::GenerationRequest r = smallRequest(20);
    r.width = 128;
    r.height = 128;
    m_gen->generate(r);
    QTRY_VERIFY_WITH_TIMEOUT(!finished.isEmpty() || !failed.isEmpty(), kRunTimeoutMs);
    timer.stop();
    QCOMPARE(failed.size(), 0);
    QCOMPARE(preview.size(), 20);
    const double maxGapMs = maxGap / 1e6;
    const double seconds = clock.nsecsElapsed() / 1e9;
    qInfo("event-loop stall: max gap %.2f ms over %d ticks of 5 ms in %.2f s of generation (%d previews)",
          maxGapMs, ticks, seconds, int(preview.size()));
    QVERIFY2(maxGapMs < 50.0, qPrintable(QStringLiteral("GUI event loop stalled %1 ms").arg(maxGapMs)));
}

// Deleting the controller mid-generation cancels, joins the thread and frees
// the engine without crashing or hanging.
void TestGenerationController::destroyWhileRunning()
{
    STIPPLE_REQUIRE_FIXTURES();
    auto gen = std::make_unique<GenerationController>();
    QSignalSpy loaded(gen.get(), &GenerationController::modelLoaded);
    gen->loadModel(tinyModel());
    QTRY_VERIFY_WITH_TIMEOUT(!loaded.isEmpty(), kLoadTimeoutMs);
    QSignalSpy preview(gen.get(), &GenerationController::preview);
    gen->generate(smallRequest(500));
    gen->generate(smallRequest(500));
    QVERIFY(preview.wait(kRunTimeoutMs));
    QElapsedTimer t;
    t.start();
    gen.reset();
    qInfo("controller destroyed %lld ms after the first preview", qlonglong(t.elapsed()));
    QVERIFY(t.elapsed() < 30000);
}

int main(int argc, char **argv)
{
    QGuiApplication app(argc, argv);
    TestGenerationController test;
    return QTest::qExec(&test, argc, argv);
}

#include "TestGenerationController.moc"
