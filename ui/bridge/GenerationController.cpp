#include "ui/bridge/GenerationController.h"

#include "ui/bridge/GenerationWorker.h"

#include <c10/core/InferenceMode.h>

#include <QThread>

namespace stipple::ui {

namespace {

// The inference thread: InferenceMode is thread-local, so it is switched on
// once for the whole life of the thread's event loop.
class InferenceThread : public QThread {
public:
    using QThread::QThread;

protected:
    void run() override
    {
        c10::InferenceMode inferenceMode;
        exec();
    }
};

} // namespace

GenerationController::GenerationController(QObject *parent)
    : QObject(parent)
{
    registerBridgeMetaTypes();
    m_thread = new InferenceThread(this);
    m_thread->setObjectName(QStringLiteral("stipple-inference"));
    m_worker = new GenerationWorker; // no parent: it moves to the thread
    m_worker->moveToThread(m_thread);
    connect(m_thread, &QThread::finished, m_worker, &QObject::deleteLater);

    connect(m_worker, &GenerationWorker::modelLoaded, this, [this](const ModelSummary &model) {
        m_model = model;
        Q_EMIT modelLoaded(model);
        setPending(-1);
    });
    connect(m_worker, &GenerationWorker::modelLoadFailed, this,
            [this](const QString &message, int code, const QString &details) {
                Q_EMIT modelLoadFailed(message, code, details);
                setPending(-1);
            });
    connect(m_worker, &GenerationWorker::started, this, [this](quint64 id) {
        m_queued.removeAll(id);
        m_running = id;
        Q_EMIT started(id);
    });
    connect(m_worker, &GenerationWorker::progress, this, &GenerationController::progress);
    connect(m_worker, &GenerationWorker::preview, this, &GenerationController::preview);
    connect(m_worker, &GenerationWorker::resultReady, this, &GenerationController::resultReady);
    connect(m_worker, &GenerationWorker::finished, this, [this](quint64 id, double seconds) {
        m_running = 0;
        Q_EMIT finished(id, seconds);
        setPending(-1);
    });
    connect(m_worker, &GenerationWorker::cancelled, this, [this](quint64 id, const QImage &last) {
        m_queued.removeAll(id);
        if (m_running == id)
            m_running = 0;
        Q_EMIT cancelled(id, last);
        setPending(-1);
    });
    connect(m_worker, &GenerationWorker::failed, this,
            [this](quint64 id, const QString &message, int code, const QString &details) {
                m_queued.removeAll(id);
                if (m_running == id)
                    m_running = 0;
                Q_EMIT failed(id, message, code, details);
                setPending(-1);
            });
    m_thread->start();
}

GenerationController::~GenerationController()
{
    // Stop promptly: drop queued jobs, interrupt the running one, then let the
    // event loop finish (the worker and its Engine are deleted on the thread).
    for (quint64 id : std::as_const(m_queued))
        m_worker->cancel(id);
    m_worker->cancel();
    m_thread->quit();
    m_thread->wait();
    // The worker was deleted on its thread (finished -> deleteLater); signals it
    // queued to us are discarded with this object.
    m_worker = nullptr;
}

void GenerationController::loadModel(const core::LoadOptions &options)
{
    setPending(+1);
    Q_EMIT modelLoading(QString::fromStdString(options.modelPath));
    GenerationWorker *worker = m_worker;
    QMetaObject::invokeMethod(m_worker, [worker, options] { worker->loadModel(options); },
                              Qt::QueuedConnection);
}

void GenerationController::unloadModel()
{
    m_model = ModelSummary();
    GenerationWorker *worker = m_worker;
    QMetaObject::invokeMethod(m_worker, [worker] { worker->unloadModel(); }, Qt::QueuedConnection);
}

quint64 GenerationController::generate(const core::GenerationRequest &request)
{
    const quint64 id = m_nextJob++;
    m_queued.append(id);
    setPending(+1);
    GenerationWorker *worker = m_worker;
    QMetaObject::invokeMethod(m_worker, [worker, id, request] { worker->generate(id, request); },
                              Qt::QueuedConnection);
    return id;
}

bool GenerationController::cancel()
{
    return m_worker->cancel();
}

bool GenerationController::cancel(quint64 jobId)
{
    if (jobId == 0 || (jobId != m_running && !m_queued.contains(jobId)))
        return false;
    return m_worker->cancel(jobId);
}

void GenerationController::setAutoSaveFolder(const QString &folder) { m_worker->setAutoSaveFolder(folder); }
QString GenerationController::autoSaveFolder() const { return m_worker->autoSaveFolder(); }
bool GenerationController::isBusy() const { return m_pending > 0; }
bool GenerationController::isModelLoaded() const { return m_model.isValid(); }
ModelSummary GenerationController::model() const { return m_model; }
quint64 GenerationController::runningJob() const { return m_running; }

void GenerationController::setPending(int delta)
{
    const bool wasBusy = m_pending > 0;
    m_pending = std::max(0, m_pending + delta);
    if (wasBusy != (m_pending > 0))
        Q_EMIT busyChanged(m_pending > 0);
}

} // namespace stipple::ui
