// GenerationController: the GUI-thread facade over the inference thread.
// It owns a QThread and a GenerationWorker living on it (shutdown: cancel,
// quit, wait, then the worker is deleted on its thread; qBittorrent style).
// Every call returns at once; inference never runs on the calling thread.
// InferenceMode (c10, thread-local) is enabled inside the worker thread.
//
// Typical use (widgets):
//   auto *gen = new GenerationController(this);
//   connect(gen, &GenerationController::preview, canvas, ...);
//   gen->loadModel(opts);            // -> modelLoaded / modelLoadFailed
//   quint64 id = gen->generate(req); // -> started, progress, preview...,
//                                    //    resultReady..., finished|cancelled|failed
//   gen->cancel();
//
// Thread-safety: create and call from the GUI thread only (cancel() may be
// called from any thread). Signals are delivered on the controller's thread.
#pragma once

#include "ui/bridge/BridgeTypes.h"

#include "core/pipeline/Engine.h"
#include "core/pipeline/Request.h"

#include <QList>
#include <QObject>
#include <QString>

class QThread;

namespace stipple::ui {

class GenerationWorker;

class GenerationController : public QObject {
    Q_OBJECT
public:
    explicit GenerationController(QObject *parent = nullptr);
    // Cancels the running request and joins the inference thread (waits for
    // the current step to end).
    ~GenerationController() override;

    // Queues a model load. The last successful load is kept in model().
    void loadModel(const stipple::core::LoadOptions &options);
    void unloadModel();
    // Queues a request; returns its job id (> 0). Requests run one after another.
    quint64 generate(const stipple::core::GenerationRequest &request);
    // Cancels the running request only (queued ones stay; drop them with
    // cancel(jobId)). Returns false when nothing is running.
    bool cancel();
    // Cancels jobId: the running one is interrupted, a queued one is dropped
    // (it still reports cancelled(jobId)).
    bool cancel(quint64 jobId);

    // Folder where every result is saved (PNG + "parameters" chunk); empty = off.
    void setAutoSaveFolder(const QString &folder);
    QString autoSaveFolder() const;

    bool isBusy() const;              // a load or a request is queued or running
    bool isModelLoaded() const;       // a model is loaded (as last reported)
    ModelSummary model() const;       // last loaded model (invalid when none)
    quint64 runningJob() const;       // 0 when none

    GenerationWorker *worker() const { return m_worker; } // for tests

Q_SIGNALS:
    void busyChanged(bool busy);
    void modelLoading(const QString &path);
    void modelLoaded(const stipple::ui::ModelSummary &model);
    void modelLoadFailed(const QString &message, int errorCode, const QString &details);
    void started(quint64 jobId);
    void progress(const stipple::ui::GenerationProgress &progress);
    void preview(quint64 jobId, const QImage &image, int step, int total);
    void resultReady(quint64 jobId, const stipple::ui::GeneratedResult &result);
    void finished(quint64 jobId, double seconds);
    void cancelled(quint64 jobId, const QImage &lastPreview);
    void failed(quint64 jobId, const QString &message, int errorCode, const QString &details);

private:
    void setPending(int delta);

    QThread *m_thread = nullptr;
    GenerationWorker *m_worker = nullptr;
    quint64 m_nextJob = 1;
    int m_pending = 0;                // queued + running operations
    quint64 m_running = 0;
    ModelSummary m_model;
    QList<quint64> m_queued;          // accepted, not started yet
};

} // namespace stipple::ui
