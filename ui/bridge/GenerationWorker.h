// GenerationWorker: the QObject that runs core::Engine on the bridge's
// inference thread. It owns the Engine (one thread owns the models) and turns
// the core's per-request callbacks into signals carrying Qt value types.
//
// Thread-safety: the worker lives on the inference thread (moveToThread by
// GenerationController); loadModel()/generate() must run on that thread (the
// controller posts them with queued calls). cancel(), setAutoSaveFolder() and
// currentJob() are thread-safe and meant to be called from the GUI thread.
// Signals are emitted on the inference thread, so receivers on the GUI thread
// get them queued. Widgets should use GenerationController, not this class.
#pragma once

#include "ui/bridge/BridgeTypes.h"

#include "core/common/CancelToken.h"
#include "core/pipeline/Engine.h"
#include "core/pipeline/Request.h"

#include <QMutex>
#include <QObject>
#include <QSet>
#include <QString>

#include <memory>

namespace stipple::ui {

class GenerationWorker : public QObject {
    Q_OBJECT
public:
    explicit GenerationWorker(QObject *parent = nullptr);
    ~GenerationWorker() override;

    // --- run on the inference thread (queued by the controller) ---
    // Loads a model (replacing the current one). Emits progress (jobId 0,
    // Stage Load), then modelLoaded or modelLoadFailed.
    void loadModel(const stipple::core::LoadOptions &options);
    // Generates. Emits started, progress + preview per step, resultReady per
    // image, then exactly one of finished / cancelled / failed for jobId.
    void generate(quint64 jobId, const stipple::core::GenerationRequest &request);
    void unloadModel();

    // --- thread-safe ---
    // Cancels the running request (its CancelToken is set directly, no event
    // round-trip). Returns false when nothing was running.
    bool cancel();
    // Cancels `jobId`: sets the token when it is running, otherwise marks it so
    // that generate(jobId, ...) reports cancelled without running.
    bool cancel(quint64 jobId);
    // Folder where every result is saved as PNG with its infotext; empty = off.
    void setAutoSaveFolder(const QString &folder);
    QString autoSaveFolder() const;
    quint64 currentJob() const; // 0 when idle

Q_SIGNALS:
    void modelLoaded(const stipple::ui::ModelSummary &model);
    void modelLoadFailed(const QString &message, int errorCode, const QString &details);
    void started(quint64 jobId);
    void progress(const stipple::ui::GenerationProgress &progress);
    void preview(quint64 jobId, const QImage &image, int step, int total);
    void resultReady(quint64 jobId, const stipple::ui::GeneratedResult &result);
    // All images of jobId were delivered (resultReady came first for each).
    void finished(quint64 jobId, double seconds);
    // The user cancelled: an outcome, not an error. lastPreview may be null.
    void cancelled(quint64 jobId, const QImage &lastPreview);
    // message: translated (errorText); errorCode: int(core::ErrorCode); details: English.
    void failed(quint64 jobId, const QString &message, int errorCode, const QString &details);

private:
    std::unique_ptr<core::Engine> m_engine;
    mutable QMutex m_mutex;          // guards the fields below
    core::CancelToken m_cancel;      // token of the running request
    quint64 m_currentJob = 0;
    bool m_running = false;
    QString m_autoSaveFolder;
    QSet<quint64> m_dropped;         // cancelled before they started
};

} // namespace stipple::ui
