// JobQueue: generation jobs waiting to run, shown as a list model. Jobs can be
// added while one runs, removed and reordered; they run one after another on
// a GenerationController. The queue is saved to a JSON file after every
// change (default AppDataLocation + "/queue.json"; init images and masks as
// PNGs in a sibling "queue-images" folder) and restored on start, so pending
// jobs survive a restart. A job that was running when the app quit comes back
// as Pending.
//
// Life cycle of a job: Pending -> Running -> (removed when it finished) |
// Failed | Cancelled. Failed and Cancelled jobs stay until removed or retried.
// If a job names a model other than the one loaded, the queue loads it first.
//
// Thread-safety: GUI thread only.
#pragma once

#include "core/pipeline/Engine.h"
#include "core/pipeline/Request.h"

#include <QAbstractListModel>
#include <QDateTime>
#include <QList>
#include <QPointer>
#include <QString>
#include <QUuid>

namespace stipple::ui {

class GenerationController;

class JobQueue : public QAbstractListModel {
    Q_OBJECT
public:
    enum class Status { Pending, Running, Failed, Cancelled };
    Q_ENUM(Status)

    struct Job {
        QUuid id;
        core::GenerationRequest request;
        QString modelPath;    // empty: whatever model is loaded
        Status status = Status::Pending;
        QString error;        // translated, for Failed
        QDateTime added;
        int imagesDone = 0;   // results received for the running/finished job
    };

    enum Role {
        IdRole = Qt::UserRole + 1, // QUuid
        PromptRole,                // QString (also DisplayRole)
        StatusRole,                // int(Status)
        StatusTextRole,            // translated status
        ErrorRole,                 // QString
        StepsRole, SeedRole, SizeRole, BatchCountRole, ModelPathRole,
    };

    // storePath empty: AppDataLocation + "/queue.json". Loads it immediately.
    explicit JobQueue(const QString &storePath = {}, QObject *parent = nullptr);
    ~JobQueue() override;

    // Runs jobs on `controller` (not owned). Null detaches.
    void setController(GenerationController *controller);
    // Options used when a job names a model to load (vocab, VAE, dtype);
    // modelPath is taken from the job.
    void setBaseLoadOptions(const core::LoadOptions &options) { m_loadOptions = options; }

    // When paused, the running job completes but no new one starts. Default:
    // not paused (a job starts as soon as one is pending and the controller idle).
    void setPaused(bool paused);
    bool isPaused() const { return m_paused; }

    QUuid add(const core::GenerationRequest &request, const QString &modelPath = {});
    // Removing the running job cancels it.
    bool remove(const QUuid &id);
    // Moves a job to position `to` (0 = next). Returns false for bad indices.
    bool move(int from, int to);
    // Failed/Cancelled -> Pending.
    bool retry(const QUuid &id);
    void clear();             // removes everything, cancelling the running job
    bool cancelRunning();

    int count() const { return m_jobs.size(); }
    int pendingCount() const;
    const Job &job(int row) const { return m_jobs.at(row); }
    int rowOf(const QUuid &id) const;
    QUuid runningJob() const;
    QString storePath() const { return m_storePath; }

    // Persistence (called automatically; public for tests and "save now").
    bool save() const;
    bool load();

    int rowCount(const QModelIndex &parent = {}) const override;
    QVariant data(const QModelIndex &index, int role = Qt::DisplayRole) const override;
    QHash<int, QByteArray> roleNames() const override;
    Qt::ItemFlags flags(const QModelIndex &index) const override;
    Qt::DropActions supportedDropActions() const override { return Qt::MoveAction; }
    bool moveRows(const QModelIndex &sourceParent, int sourceRow, int count,
                  const QModelIndex &destinationParent, int destinationChild) override;

Q_SIGNALS:
    void jobStarted(const QUuid &id);
    void jobFinished(const QUuid &id);
    void jobFailed(const QUuid &id, const QString &message);
    void jobCancelled(const QUuid &id);
    void queueEmpty();        // nothing pending after a job ended
    void saveFailed(const QString &message);

private:
    void scheduleNext();      // posts startNext() (never recursive)
    void startNext();
    void submitJob(int row);
    void onStarted(quint64 jobId);
    void onFinished(quint64 jobId);
    void onFailed(quint64 jobId, const QString &message);
    void onCancelled(quint64 jobId);
    void onModelLoaded();
    void onModelLoadFailed(const QString &message);
    void setStatus(int row, Status status, const QString &error = {});
    void persist();
    QString imagesDir() const;

    QString m_storePath;
    QList<Job> m_jobs;
    QPointer<GenerationController> m_controller;
    QList<QMetaObject::Connection> m_connections;
    bool m_paused = false;
    QUuid m_runningId;        // job submitted to the controller
    quint64 m_runningJob = 0; // controller job id
    bool m_loadingModel = false;
    core::LoadOptions m_loadOptions;
    bool m_scheduled = false;  // a scheduleNext() is posted
};

} // namespace stipple::ui
