#include "ui/bridge/JobQueue.h"

#include "ui/bridge/GallerySaver.h"
#include "ui/bridge/GenerationController.h"
#include "ui/bridge/ImageConvert.h"
#include "ui/bridge/RequestJson.h"

#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QImage>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QSaveFile>
#include <QSize>
#include <QStandardPaths>
#include <QTimer>

namespace stipple::ui {

namespace {

const char *const kStatus[] = {"pending", "running", "failed", "cancelled"};

struct ImageSlot {
    const char *key;
    std::optional<core::Image> core::GenerationRequest::*member;
};
const ImageSlot kImageSlots[] = {
    {"initImage", &core::GenerationRequest::initImage},
    {"mask", &core::GenerationRequest::mask},
    {"depthMap", &core::GenerationRequest::depthMap},
};

} // namespace

JobQueue::JobQueue(const QString &storePath, QObject *parent)
    : QAbstractListModel(parent)
    , m_storePath(storePath.isEmpty()
                      ? QStandardPaths::writableLocation(QStandardPaths::AppDataLocation) + QStringLiteral("/queue.json")
                      : storePath)
{
    load();
}

JobQueue::~JobQueue()
{
    setController(nullptr);
}

QString JobQueue::imagesDir() const
{
    const QFileInfo fi(m_storePath);
    return fi.absolutePath() + QLatin1Char('/') + fi.completeBaseName() + QStringLiteral("-images");
}

void JobQueue::setController(GenerationController *controller)
{
    for (const auto &c : std::as_const(m_connections))
        disconnect(c);
    m_connections.clear();
    m_controller = controller;
    if (!controller)
        return;
    m_connections << connect(controller, &GenerationController::started, this, &JobQueue::onStarted)
                  << connect(controller, &GenerationController::resultReady, this,
                             [this](quint64 id, const GeneratedResult &) {
                                 if (id != m_runningJob)
                                     return;
                                 const int row = rowOf(m_runningId);
                                 if (row >= 0)
                                     ++m_jobs[row].imagesDone;
                             })
                  << connect(controller, &GenerationController::finished, this,
                             [this](quint64 id, double) { onFinished(id); })
                  << connect(controller, &GenerationController::failed, this,
                             [this](quint64 id, const QString &message, int, const QString &) {
                                 onFailed(id, message);
                             })
                  << connect(controller, &GenerationController::cancelled, this,
                             [this](quint64 id, const QImage &) { onCancelled(id); })
                  << connect(controller, &GenerationController::modelLoaded, this, &JobQueue::onModelLoaded)
                  << connect(controller, &GenerationController::modelLoadFailed, this,
                             [this](const QString &message, int, const QString &) { onModelLoadFailed(message); });
    scheduleNext();
}

void JobQueue::setPaused(bool paused)
{
    m_paused = paused;
    if (!paused)
        scheduleNext();
}

QUuid JobQueue::add(const core::GenerationRequest &request, const QString &modelPath)
{
    Job job;
    job.id = QUuid::createUuid();
    job.request = request;
    job.modelPath = modelPath;
    job.added = QDateTime::currentDateTime();
    const int row = int(m_jobs.size());
    beginInsertRows({}, row, row);
    m_jobs.append(job);
    endInsertRows();
    persist();
    scheduleNext();
    return job.id;
}

bool JobQueue::remove(const QUuid &id)
{
    const int row = rowOf(id);
    if (row < 0)
        return false;
    if (id == m_runningId && m_controller && m_runningJob)
        m_controller->cancel(m_runningJob); // its cancelled() finds no row and moves on
    beginRemoveRows({}, row, row);
    m_jobs.removeAt(row);
    endRemoveRows();
    for (const ImageSlot &slot : kImageSlots)
        QFile::remove(imagesDir() + QStringLiteral("/%1-%2.png").arg(id.toString(QUuid::WithoutBraces),
                                                                      QLatin1String(slot.key)));
    persist();
    return true;
}

bool JobQueue::move(int from, int to)
{
    if (from < 0 || from >= m_jobs.size() || to < 0 || to >= m_jobs.size())
        return false;
    if (from == to)
        return true;
    return moveRows({}, from, 1, {}, to > from ? to + 1 : to);
}

bool JobQueue::moveRows(const QModelIndex &sourceParent, int sourceRow, int count,
                        const QModelIndex &destinationParent, int destinationChild)
{
    if (sourceParent.isValid() || destinationParent.isValid() || count <= 0 || sourceRow < 0
        || sourceRow + count > m_jobs.size() || destinationChild < 0 || destinationChild > m_jobs.size()
        || (destinationChild >= sourceRow && destinationChild <= sourceRow + count))
        return false;
    if (!beginMoveRows({}, sourceRow, sourceRow + count - 1, {}, destinationChild))
        return false;
    const QList<Job> moving = m_jobs.mid(sourceRow, count);
    m_jobs.remove(sourceRow, count);
    const int insertAt = destinationChild > sourceRow ? destinationChild - count : destinationChild;
    for (int i = 0; i < count; ++i)
        m_jobs.insert(insertAt + i, moving.at(i));
    endMoveRows();
    persist();
    return true;
}

bool JobQueue::retry(const QUuid &id)
{
    const int row = rowOf(id);
    if (row < 0 || (m_jobs[row].status != Status::Failed && m_jobs[row].status != Status::Cancelled))
        return false;
    setStatus(row, Status::Pending);
    persist();
    scheduleNext();
    return true;
}

void JobQueue::clear()
{
    if (m_runningId.isNull() == false && m_controller && m_runningJob)
        m_controller->cancel(m_runningJob);
    beginResetModel();
    m_jobs.clear();
    endResetModel();
    QDir(imagesDir()).removeRecursively();
    persist();
}

bool JobQueue::cancelRunning()
{
    if (!m_controller || !m_runningJob)
        return false;
    return m_controller->cancel(m_runningJob);
}

int JobQueue::pendingCount() const
{
    return int(std::count_if(m_jobs.begin(), m_jobs.end(), [](const Job &j) { return j.status == Status::Pending; }));
}

int JobQueue::rowOf(const QUuid &id) const
{
    for (int i = 0; i < m_jobs.size(); ++i)
        if (m_jobs.at(i).id == id)
            return i;
    return -1;
}

QUuid JobQueue::runningJob() const { return m_runningId; }

void JobQueue::scheduleNext()
{
    if (m_scheduled)
        return;
    m_scheduled = true;
    QTimer::singleShot(0, this, [this] {
        m_scheduled = false;
        startNext();
    });
}

void JobQueue::startNext()
{
    if (m_paused || !m_controller || !m_runningId.isNull())
        return;
    for (int row = 0; row < m_jobs.size(); ++row) {
        if (m_jobs.at(row).status != Status::Pending)
            continue;
        Job &job = m_jobs[row];
        m_runningId = job.id;
        job.imagesDone = 0;
        setStatus(row, Status::Running);
        persist();
        Q_EMIT jobStarted(job.id);
        const bool needsModel = !job.modelPath.isEmpty()
            && QFileInfo(job.modelPath).absoluteFilePath() != QFileInfo(m_controller->model().path).absoluteFilePath();
        if (needsModel) {
            m_loadingModel = true;
            core::LoadOptions options = m_loadOptions;
            options.modelPath = job.modelPath.toStdString();
            m_controller->loadModel(options);
        } else {
            submitJob(row);
        }
        return;
    }
}

void JobQueue::submitJob(int row)
{
    m_runningJob = m_controller->generate(m_jobs.at(row).request);
}

void JobQueue::onStarted(quint64) {}

void JobQueue::onModelLoaded()
{
    if (!m_loadingModel)
        return;
    m_loadingModel = false;
    const int row = rowOf(m_runningId);
    if (row < 0) { // removed while its model was loading
        m_runningId = QUuid();
        scheduleNext();
        return;
    }
    submitJob(row);
}

void JobQueue::onModelLoadFailed(const QString &message)
{
    if (!m_loadingModel)
        return;
    m_loadingModel = false;
    const QUuid id = m_runningId;
    m_runningId = QUuid();
    const int row = rowOf(id);
    if (row >= 0) {
        setStatus(row, Status::Failed, message);
        persist();
        Q_EMIT jobFailed(id, message);
    }
    scheduleNext();
}

void JobQueue::onFinished(quint64 jobId)
{
    if (jobId != m_runningJob || m_runningJob == 0)
        return;
    const QUuid id = m_runningId;
    m_runningId = QUuid();
    m_runningJob = 0;
    const int row = rowOf(id);
    if (row >= 0) {
        beginRemoveRows({}, row, row);
        m_jobs.removeAt(row);
        endRemoveRows();
        for (const ImageSlot &slot : kImageSlots)
            QFile::remove(imagesDir() + QStringLiteral("/%1-%2.png").arg(id.toString(QUuid::WithoutBraces),
                                                                          QLatin1String(slot.key)));
        persist();
    }
    Q_EMIT jobFinished(id);
    if (pendingCount() == 0)
        Q_EMIT queueEmpty();
    scheduleNext();
}

void JobQueue::onFailed(quint64 jobId, const QString &message)
{
    if (jobId != m_runningJob || m_runningJob == 0)
        return;
    const QUuid id = m_runningId;
    m_runningId = QUuid();
    m_runningJob = 0;
    const int row = rowOf(id);
    if (row >= 0) {
        setStatus(row, Status::Failed, message);
        persist();
    }
    Q_EMIT jobFailed(id, message);
    if (pendingCount() == 0)
        Q_EMIT queueEmpty();
    scheduleNext();
}

void JobQueue::onCancelled(quint64 jobId)
{
    if (jobId != m_runningJob || m_runningJob == 0)
        return;
    const QUuid id = m_runningId;
    m_runningId = QUuid();
    m_runningJob = 0;
    const int row = rowOf(id);
    if (row >= 0) {
        setStatus(row, Status::Cancelled);
        persist();
    }
    Q_EMIT jobCancelled(id);
    if (pendingCount() == 0)
        Q_EMIT queueEmpty();
    scheduleNext();
}

void JobQueue::setStatus(int row, Status status, const QString &error)
{
    m_jobs[row].status = status;
    m_jobs[row].error = error;
    const QModelIndex i = index(row);
    Q_EMIT dataChanged(i, i);
}

void JobQueue::persist()
{
    if (!save())
        Q_EMIT saveFailed(tr("Could not save the job queue to %1.").arg(m_storePath));
}

bool JobQueue::save() const
{
    QJsonArray jobs;
    const QString dir = imagesDir();
    for (const Job &job : m_jobs) {
        QJsonObject o;
        const QString id = job.id.toString(QUuid::WithoutBraces);
        o.insert(QStringLiteral("id"), id);
        o.insert(QStringLiteral("modelPath"), job.modelPath);
        o.insert(QStringLiteral("status"), QLatin1String(kStatus[int(job.status)]));
        o.insert(QStringLiteral("error"), job.error);
        o.insert(QStringLiteral("added"), job.added.toString(Qt::ISODateWithMs));
        QJsonObject request = requestToJson(job.request);
        for (const ImageSlot &slot : kImageSlots) {
            const std::optional<core::Image> &img = job.request.*(slot.member);
            if (!img)
                continue;
            const QString file = QStringLiteral("%1-%2.png").arg(id, QLatin1String(slot.key));
            const QString path = dir + QLatin1Char('/') + file;
            if (!QFileInfo::exists(path) && !savePngAtomically(path, toQImage(*img), {}).ok())
                return false;
            request.insert(QLatin1String(slot.key), file);
            request.insert(QLatin1String(slot.key) + QStringLiteral("Channels"), img->channels);
        }
        o.insert(QStringLiteral("request"), request);
        jobs.append(o);
    }
    QJsonObject root;
    root.insert(QStringLiteral("version"), 1);
    root.insert(QStringLiteral("jobs"), jobs);
    QDir().mkpath(QFileInfo(m_storePath).absolutePath());
    QSaveFile file(m_storePath);
    if (!file.open(QIODevice::WriteOnly))
        return false;
    file.write(QJsonDocument(root).toJson(QJsonDocument::Indented));
    return file.commit();
}

bool JobQueue::load()
{
    QFile file(m_storePath);
    if (!file.exists())
        return true; // nothing saved yet
    if (!file.open(QIODevice::ReadOnly))
        return false;
    const QJsonDocument doc = QJsonDocument::fromJson(file.readAll());
    if (!doc.isObject())
        return false;
    QList<Job> jobs;
    const QString dir = imagesDir();
    const QJsonArray array = doc.object().value(QStringLiteral("jobs")).toArray();
    for (const QJsonValue &v : array) {
        const QJsonObject o = v.toObject();
        Job job;
        job.id = QUuid::fromString(o.value(QStringLiteral("id")).toString());
        if (job.id.isNull())
            continue;
        job.modelPath = o.value(QStringLiteral("modelPath")).toString();
        const QString status = o.value(QStringLiteral("status")).toString();
        job.status = Status::Pending; // a job running at exit runs again
        if (status == QLatin1String(kStatus[int(Status::Failed)]))
            job.status = Status::Failed;
        else if (status == QLatin1String(kStatus[int(Status::Cancelled)]))
            job.status = Status::Cancelled;
        job.error = o.value(QStringLiteral("error")).toString();
        job.added = QDateTime::fromString(o.value(QStringLiteral("added")).toString(), Qt::ISODateWithMs);
        const QJsonObject request = o.value(QStringLiteral("request")).toObject();
        job.request = requestFromJson(request);
        bool imagesOk = true;
        for (const ImageSlot &slot : kImageSlots) {
            const QString file = request.value(QLatin1String(slot.key)).toString();
            if (file.isEmpty())
                continue;
            const QImage img(dir + QLatin1Char('/') + file);
            const int channels = request.value(QLatin1String(slot.key) + QStringLiteral("Channels")).toInt(3);
            if (img.isNull()) {
                imagesOk = false;
                continue;
            }
            job.request.*(slot.member) = toCoreImage(img, channels);
        }
        if (!imagesOk) {
            job.status = Status::Failed;
            job.error = tr("An input image of this job is missing.");
        }
        jobs.append(job);
    }
    beginResetModel();
    m_jobs = jobs;
    endResetModel();
    return true;
}

int JobQueue::rowCount(const QModelIndex &parent) const
{
    return parent.isValid() ? 0 : int(m_jobs.size());
}

QVariant JobQueue::data(const QModelIndex &index, int role) const
{
    if (!checkIndex(index, CheckIndexOption::IndexIsValid | CheckIndexOption::ParentIsInvalid))
        return {};
    const Job &job = m_jobs.at(index.row());
    switch (role) {
    case Qt::DisplayRole:
    case PromptRole: return QString::fromStdString(job.request.prompt);
    case IdRole: return job.id;
    case StatusRole: return int(job.status);
    case StatusTextRole:
        switch (job.status) {
        case Status::Pending: return tr("Waiting");
        case Status::Running: return tr("Running");
        case Status::Failed: return tr("Failed");
        case Status::Cancelled: return tr("Cancelled");
        }
        return {};
    case Qt::ToolTipRole:
    case ErrorRole: return job.error;
    case StepsRole: return job.request.steps;
    case SeedRole: return qint64(job.request.seed);
    case SizeRole: return QSize(job.request.width, job.request.height);
    case BatchCountRole: return job.request.batchCount;
    case ModelPathRole: return job.modelPath;
    default: return {};
    }
}

QHash<int, QByteArray> JobQueue::roleNames() const
{
    QHash<int, QByteArray> names = QAbstractListModel::roleNames();
    names.insert(IdRole, "id");
    names.insert(PromptRole, "prompt");
    names.insert(StatusRole, "status");
    names.insert(StatusTextRole, "statusText");
    names.insert(ErrorRole, "error");
    names.insert(StepsRole, "steps");
    names.insert(SeedRole, "seed");
    names.insert(SizeRole, "imageSize");
    names.insert(BatchCountRole, "batchCount");
    names.insert(ModelPathRole, "modelPath");
    return names;
}

Qt::ItemFlags JobQueue::flags(const QModelIndex &index) const
{
    if (!index.isValid())
        return Qt::ItemIsDropEnabled;
    return Qt::ItemIsEnabled | Qt::ItemIsSelectable | Qt::ItemIsDragEnabled;
}

} // namespace stipple::ui
