#include "ui/bridge/GalleryModel.h"

#include "ui/bridge/GallerySaver.h"

#include <QFileInfo>
#include <QFutureWatcher>
#include <QImageReader>
#include <QtConcurrent/QtConcurrentRun>

namespace stipple::ui {

namespace {

struct QueryResult {
    QList<GalleryEntry> entries;
    QString error;
};

QImage loadThumbnail(const QString &path, const QSize &box)
{
    QImageReader reader(path);
    reader.setAutoTransform(true);
    const QSize size = reader.size();
    if (size.isValid())
        reader.setScaledSize(size.scaled(box, Qt::KeepAspectRatio).expandedTo(QSize(1, 1)));
    return reader.read();
}

} // namespace

GalleryModel::GalleryModel(QObject *parent)
    : QAbstractListModel(parent)
{
    m_pool.setMaxThreadCount(2);
}

GalleryModel::~GalleryModel()
{
    // Watchers are children and die with us; the tasks capture values only.
    // Drop what has not started and join the rest.
    m_pool.clear();
    m_pool.waitForDone();
}

void GalleryModel::setFolder(const QString &folder, const QString &dbPath)
{
    beginResetModel();
    m_folder = QFileInfo(folder).absoluteFilePath();
    m_dbPath = dbPath.isEmpty() ? GalleryIndex::defaultDatabasePath(m_folder) : dbPath;
    m_entries.clear();
    m_rows.clear();
    m_thumbs.clear();
    ++m_generation;
    endResetModel();
    startQuery(true);
}

void GalleryModel::setFilter(const GalleryFilter &filter)
{
    m_filter = filter;
    startQuery(false);
}

void GalleryModel::setThumbnailSize(const QSize &size)
{
    if (size == m_thumbSize || !size.isValid())
        return;
    m_thumbSize = size;
    m_thumbs.clear();
    if (!m_entries.isEmpty())
        Q_EMIT dataChanged(index(0), index(int(m_entries.size()) - 1), {ThumbnailRole, Qt::DecorationRole});
}

void GalleryModel::refresh() { startQuery(true); }

void GalleryModel::setLoading(int delta)
{
    const bool was = m_loading > 0;
    m_loading += delta;
    if (was != (m_loading > 0))
        Q_EMIT loadingChanged(m_loading > 0);
}

void GalleryModel::startQuery(bool sync)
{
    if (m_folder.isEmpty())
        return;
    const quint64 generation = ++m_generation;
    const QString db = m_dbPath, folder = m_folder;
    const GalleryFilter filter = m_filter;
    setLoading(+1);
    auto *watcher = new QFutureWatcher<QueryResult>(this);
    connect(watcher, &QFutureWatcherBase::finished, this, [this, watcher, generation] {
        watcher->deleteLater();
        setLoading(-1);
        const QueryResult r = watcher->result();
        if (generation != m_generation)
            return; // superseded by a newer query
        if (!r.error.isEmpty())
            Q_EMIT errorOccurred(r.error);
        beginResetModel();
        m_entries = r.entries;
        rebuildRows();
        endResetModel();
        Q_EMIT loaded(int(m_entries.size()));
    });
    watcher->setFuture(QtConcurrent::run(&m_pool, [db, folder, filter, sync] {
        QueryResult r;
        removeStaleTemporaries(folder);
        GalleryIndex index(db, folder);
        if (!index.isOpen()) {
            r.error = index.lastError();
            return r;
        }
        if (sync)
            index.sync();
        r.entries = index.query(filter);
        return r;
    }));
}

void GalleryModel::rebuildRows()
{
    m_rows.clear();
    for (int i = 0; i < m_entries.size(); ++i)
        m_rows.insert(m_entries.at(i).path, i);
}

bool GalleryModel::matches(const GalleryEntry &e) const
{
    const GalleryFilter &f = m_filter;
    if (!f.text.isEmpty() && !e.prompt.contains(f.text, Qt::CaseInsensitive)
        && !e.negativePrompt.contains(f.text, Qt::CaseInsensitive))
        return false;
    if (f.seed >= 0 && e.seed != f.seed)
        return false;
    if (!f.model.isEmpty() && !e.model.contains(f.model, Qt::CaseInsensitive))
        return false;
    if (f.from.isValid() && e.date < f.from)
        return false;
    if (f.to.isValid() && e.date > f.to)
        return false;
    return true;
}

void GalleryModel::addImage(const QString &pathIn)
{
    if (m_folder.isEmpty() || pathIn.isEmpty())
        return;
    const QString path = QFileInfo(pathIn).absoluteFilePath();
    const QString db = m_dbPath, folder = m_folder;
    const quint64 generation = m_generation;
    auto *watcher = new QFutureWatcher<GalleryEntry>(this);
    connect(watcher, &QFutureWatcherBase::finished, this, [this, watcher, generation] {
        watcher->deleteLater();
        const GalleryEntry e = watcher->result();
        if (e.path.isEmpty() || generation != m_generation || m_rows.contains(e.path) || !matches(e))
            return;
        const int row = m_filter.newestFirst ? 0 : int(m_entries.size());
        beginInsertRows({}, row, row);
        m_entries.insert(row, e);
        rebuildRows();
        endInsertRows();
    });
    watcher->setFuture(QtConcurrent::run(&m_pool, [db, folder, path] {
        if (!QFileInfo::exists(path))
            return GalleryEntry();
        GalleryIndex index(db, folder);
        index.addFile(path);
        return GalleryIndex::readEntry(path);
    }));
}

QString GalleryModel::moveToTrash(int row)
{
    if (row < 0 || row >= m_entries.size())
        return tr("No such image.");
    const QString path = m_entries.at(row).path;
    const QString error = ui::moveToTrash(path);
    if (!error.isEmpty())
        return error;
    beginRemoveRows({}, row, row);
    m_entries.removeAt(row);
    rebuildRows();
    endRemoveRows();
    m_thumbs.remove(path);
    const QString db = m_dbPath, folder = m_folder;
    (void)QtConcurrent::run(&m_pool, [db, folder, path] {
        GalleryIndex index(db, folder);
        index.removeFile(path);
    });
    return {};
}

QString GalleryModel::moveToTrash(const QString &path)
{
    const int row = rowForPath(path);
    if (row < 0)
        return ui::moveToTrash(path);
    return moveToTrash(row);
}

int GalleryModel::rowForPath(const QString &path) const
{
    return m_rows.value(QFileInfo(path).absoluteFilePath(), -1);
}

GalleryEntry GalleryModel::entry(int row) const
{
    return row >= 0 && row < m_entries.size() ? m_entries.at(row) : GalleryEntry();
}

int GalleryModel::rowCount(const QModelIndex &parent) const
{
    return parent.isValid() ? 0 : int(m_entries.size());
}

QVariant GalleryModel::data(const QModelIndex &index, int role) const
{
    if (!checkIndex(index, CheckIndexOption::IndexIsValid | CheckIndexOption::ParentIsInvalid))
        return {};
    const GalleryEntry &e = m_entries.at(index.row());
    switch (role) {
    case Qt::DisplayRole:
    case PromptRole: return e.prompt;
    case Qt::ToolTipRole: return e.parameters.isEmpty() ? e.fileName : e.parameters;
    case Qt::DecorationRole:
    case ThumbnailRole: {
        if (const QImage *img = m_thumbs.object(e.path))
            return *img;
        requestThumbnail(e.path);
        if (role == ThumbnailRole)
            return QImage();
        // A blank of the thumbnail's final size while it loads: views that
        // measure the first item (uniform item sizes) must not take the size
        // of an empty decoration and clip every thumbnail to a strip.
        const QSize box = (e.width > 0 && e.height > 0 ? QSize(e.width, e.height).scaled(m_thumbSize, Qt::KeepAspectRatio)
                                                       : m_thumbSize)
                              .expandedTo(QSize(1, 1));
        if (m_loadingBlank.size() != box) {
            m_loadingBlank = QImage(box, QImage::Format_ARGB32_Premultiplied);
            m_loadingBlank.fill(Qt::transparent);
        }
        return m_loadingBlank;
    }
    case PathRole: return e.path;
    case NegativePromptRole: return e.negativePrompt;
    case SeedRole: return e.seed;
    case ModelRole: return e.model;
    case DateRole: return e.date;
    case ParametersRole: return e.parameters;
    case SizeRole: return QSize(e.width, e.height);
    case FileNameRole: return e.fileName;
    default: return {};
    }
}

QHash<int, QByteArray> GalleryModel::roleNames() const
{
    QHash<int, QByteArray> names = QAbstractListModel::roleNames();
    names.insert(PathRole, "path");
    names.insert(ThumbnailRole, "thumbnail");
    names.insert(PromptRole, "prompt");
    names.insert(NegativePromptRole, "negativePrompt");
    names.insert(SeedRole, "seed");
    names.insert(ModelRole, "model");
    names.insert(DateRole, "date");
    names.insert(ParametersRole, "parameters");
    names.insert(SizeRole, "imageSize");
    names.insert(FileNameRole, "fileName");
    return names;
}

void GalleryModel::requestThumbnail(const QString &path) const
{
    if (m_thumbPending.contains(path))
        return;
    m_thumbPending.insert(path);
    auto *self = const_cast<GalleryModel *>(this);
    auto *watcher = new QFutureWatcher<QImage>(self);
    connect(watcher, &QFutureWatcherBase::finished, self, [self, watcher, path] {
        watcher->deleteLater();
        self->onThumbnail(path, watcher->result());
    });
    const QSize box = m_thumbSize;
    watcher->setFuture(QtConcurrent::run(&m_pool, [path, box] { return loadThumbnail(path, box); }));
}

void GalleryModel::onThumbnail(const QString &path, const QImage &image)
{
    m_thumbPending.remove(path);
    const int row = m_rows.value(path, -1);
    if (row < 0)
        return;
    // A file that cannot be decoded caches a null image (no retry loop).
    m_thumbs.insert(path, new QImage(image));
    const QModelIndex i = index(row);
    Q_EMIT dataChanged(i, i, {ThumbnailRole, Qt::DecorationRole});
}

} // namespace stipple::ui
