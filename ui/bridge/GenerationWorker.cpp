#include "ui/bridge/GenerationWorker.h"

#include "ui/bridge/ErrorText.h"
#include "ui/bridge/GallerySaver.h"
#include "ui/bridge/ImageConvert.h"
#include "ui/bridge/ImageMetadata.h"

#include <c10/core/InferenceMode.h>

#include <QElapsedTimer>
#include <QMutexLocker>

#include <exception>
#include <new>

namespace stipple::ui {

namespace {

GenerationStage toStage(core::Stage stage)
{
    switch (stage) {
    case core::Stage::Load: return GenerationStage::Load;
    case core::Stage::Encode: return GenerationStage::Encode;
    case core::Stage::Denoise: return GenerationStage::Denoise;
    case core::Stage::Decode: return GenerationStage::Decode;
    }
    return GenerationStage::Load;
}

GenerationProgress toProgress(quint64 jobId, const core::ProgressEvent &e)
{
    GenerationProgress p;
    p.jobId = jobId;
    p.stage = toStage(e.stage);
    p.step = e.step;
    p.total = e.total;
    p.elapsedSec = e.elapsedSec;
    if (e.step > 0 && e.elapsedSec > 0) {
        p.itPerSec = e.step / e.elapsedSec;
        p.etaSec = std::max(0, e.total - e.step) / p.itPerSec;
    }
    return p;
}

} // namespace

GenerationWorker::GenerationWorker(QObject *parent)
    : QObject(parent)
{
    registerBridgeMetaTypes();
}

// The Engine is created lazily on the inference thread (first use) so its
// construction and destruction both happen there.
GenerationWorker::~GenerationWorker() = default;

void GenerationWorker::loadModel(const core::LoadOptions &options)
{
    c10::InferenceMode inferenceMode; // thread-local; also set for the whole thread by the controller
    core::Observer observer;
    observer.onProgress = [this](const core::ProgressEvent &e) { Q_EMIT progress(toProgress(0, e)); };
    try {
        if (!m_engine)
            m_engine = std::make_unique<core::Engine>();
        auto result = m_engine->load(options, observer);
        if (!result) {
            const core::Error &err = result.error();
            Q_EMIT modelLoadFailed(errorText(err.code), int(err.code), QString::fromStdString(err.message));
            return;
        }
        Q_EMIT modelLoaded(toModelSummary(result.value()));
    } catch (const std::bad_alloc &e) {
        Q_EMIT modelLoadFailed(errorText(core::ErrorCode::OutOfMemory), int(core::ErrorCode::OutOfMemory),
                               QString::fromUtf8(e.what()));
    } catch (const std::exception &e) {
        Q_EMIT modelLoadFailed(errorText(core::ErrorCode::Internal), int(core::ErrorCode::Internal),
                               QString::fromUtf8(e.what()));
    }
}

void GenerationWorker::unloadModel()
{
    if (m_engine)
        m_engine->unload();
}

void GenerationWorker::generate(quint64 jobId, const core::GenerationRequest &request)
{
    core::CancelToken token;
    QString saveFolder;
    {
        QMutexLocker lock(&m_mutex);
        if (m_dropped.remove(jobId)) {
            lock.unlock();
            Q_EMIT cancelled(jobId, QImage());
            return;
        }
        m_cancel = token;
        m_currentJob = jobId;
        m_running = true;
        saveFolder = m_autoSaveFolder;
    }
    Q_EMIT started(jobId);

    c10::InferenceMode inferenceMode;
    QImage lastPreview;
    core::Observer observer;
    observer.cancel = token;
    observer.onProgress = [this, jobId](const core::ProgressEvent &e) { Q_EMIT progress(toProgress(jobId, e)); };
    observer.onPreview = [this, jobId, &lastPreview](const core::Image &image, int step, int total) {
        lastPreview = toQImage(image);
        Q_EMIT preview(jobId, lastPreview, step, total);
    };

    auto finish = [this] {
        QMutexLocker lock(&m_mutex);
        m_running = false;
        m_currentJob = 0;
        m_cancel = core::CancelToken();
    };

    try {
        if (!m_engine || !m_engine->isLoaded()) {
            finish();
            Q_EMIT failed(jobId, tr("No model is loaded. Open a model first."),
                          int(core::ErrorCode::InvalidArgument), QStringLiteral("no model loaded"));
            return;
        }
        const QString modelName = m_engine->modelInfo()
            ? QString::fromStdString(m_engine->modelInfo()->displayName) : QString();

        auto result = m_engine->generate(request, observer);
        if (!result) {
            finish();
            const core::Error &err = result.error();
            Q_EMIT failed(jobId, errorText(err.code), int(err.code), QString::fromStdString(err.message));
            return;
        }
        const core::GenerationOutput &out = result.value();
        int index = 0;
        for (const core::GeneratedImage &g : out.images) {
            GeneratedResult r;
            r.image = toQImage(g.image);
            r.seed = g.seed;
            r.index = index++;
            r.infotext = QString::fromStdString(g.infotext);
            if (r.infotext.isEmpty())
                r.infotext = formatInfotext(toMetadata(request, g.seed, modelName));
            if (!saveFolder.isEmpty() && !r.image.isNull()) {
                const SaveResult saved = saveToGallery(saveFolder, r.image, r.infotext, r.seed);
                r.savedPath = saved.path;
                r.saveError = saved.error;
            }
            Q_EMIT resultReady(jobId, r);
        }
        finish();
        if (out.cancelled || token.isCancelled()) {
            QImage preview = out.lastPreview ? toQImage(*out.lastPreview) : lastPreview;
            Q_EMIT cancelled(jobId, preview);
        } else {
            Q_EMIT finished(jobId, out.seconds);
        }
    } catch (const std::bad_alloc &e) {
        finish();
        Q_EMIT failed(jobId, errorText(core::ErrorCode::OutOfMemory), int(core::ErrorCode::OutOfMemory),
                      QString::fromUtf8(e.what()));
    } catch (const std::exception &e) {
        finish();
        Q_EMIT failed(jobId, errorText(core::ErrorCode::Internal), int(core::ErrorCode::Internal),
                      QString::fromUtf8(e.what()));
    }
}

bool GenerationWorker::cancel()
{
    QMutexLocker lock(&m_mutex);
    if (!m_running)
        return false;
    m_cancel.cancel();
    return true;
}

bool GenerationWorker::cancel(quint64 jobId)
{
    QMutexLocker lock(&m_mutex);
    if (m_running && m_currentJob == jobId) {
        m_cancel.cancel();
        return true;
    }
    m_dropped.insert(jobId);
    return true;
}

void GenerationWorker::setAutoSaveFolder(const QString &folder)
{
    QMutexLocker lock(&m_mutex);
    m_autoSaveFolder = folder;
}

QString GenerationWorker::autoSaveFolder() const
{
    QMutexLocker lock(&m_mutex);
    return m_autoSaveFolder;
}

quint64 GenerationWorker::currentJob() const
{
    QMutexLocker lock(&m_mutex);
    return m_currentJob;
}

} // namespace stipple::ui
