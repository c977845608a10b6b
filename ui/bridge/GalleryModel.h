// GalleryModel: a list model over the PNGs of a gallery folder, backed by a
// GalleryIndex. Scanning/indexing and filtering run in the background
// (QtConcurrent, one connection per run); thumbnails are decoded off the GUI
// thread on first request and announced with dataChanged. QFutureWatchers are
// children of the model, so no callback reaches a deleted model.
//
// Thread-safety: GUI thread only. Background tasks capture values only.
#pragma once

#include "ui/bridge/GalleryIndex.h"

#include <QAbstractListModel>
#include <QCache>
#include <QHash>
#include <QImage>
#include <QSet>
#include <QSize>
#include <QThreadPool>

namespace stipple::ui {

class GalleryModel : public QAbstractListModel {
    Q_OBJECT
public:
    enum Role {
        PathRole = Qt::UserRole + 1, // QString absolute path
        ThumbnailRole,               // QImage (null until loaded; also Qt::DecorationRole)
        PromptRole,                  // QString (also Qt::DisplayRole / ToolTipRole)
        NegativePromptRole,          // QString
        SeedRole,                    // qint64, -1 when unknown
        ModelRole,                   // QString
        DateRole,                    // QDateTime (file modification time)
        ParametersRole,              // QString raw metadata text (full parameters)
        SizeRole,                    // QSize image size (0x0 when unknown)
        FileNameRole,                // QString
    };
    Q_ENUM(Role)

    explicit GalleryModel(QObject *parent = nullptr);
    ~GalleryModel() override;

    // Sets the folder and starts a background refresh (sync + query).
    // dbPath empty: GalleryIndex::defaultDatabasePath(folder).
    void setFolder(const QString &folder, const QString &dbPath = {});
    QString folder() const { return m_folder; }
    // Filters; starts a background query.
    void setFilter(const GalleryFilter &filter);
    GalleryFilter filter() const { return m_filter; }
    void setThumbnailSize(const QSize &size); // default 192x192 (aspect kept)
    QSize thumbnailSize() const { return m_thumbSize; }

    // Re-scans the folder (files added or removed outside Stipple).
    void refresh();
    // A file was saved into the folder (e.g. connect GenerationController::
    // resultReady -> addImage(result.savedPath)): indexes it and inserts it at
    // the top when it matches the filter.
    void addImage(const QString &path);
    // Moves the file to the trash and removes the row. Returns a translated
    // error, empty on success.
    QString moveToTrash(int row);
    QString moveToTrash(const QString &path);

    int rowForPath(const QString &path) const;
    GalleryEntry entry(int row) const;
    bool isLoading() const { return m_loading > 0; }

    int rowCount(const QModelIndex &parent = {}) const override;
    QVariant data(const QModelIndex &index, int role = Qt::DisplayRole) const override;
    QHash<int, QByteArray> roleNames() const override;

Q_SIGNALS:
    // A background refresh/filter finished (rows are in place).
    void loaded(int count);
    void loadingChanged(bool loading);
    void errorOccurred(const QString &message);

private:
    void startQuery(bool sync);
    void requestThumbnail(const QString &path) const;
    void onThumbnail(const QString &path, const QImage &image);
    void setLoading(int delta);
    void rebuildRows();
    bool matches(const GalleryEntry &entry) const;

    QString m_folder;
    QString m_dbPath;
    GalleryFilter m_filter;
    QSize m_thumbSize{192, 192};
    QList<GalleryEntry> m_entries;
    QHash<QString, int> m_rows;             // path -> row
    mutable QCache<QString, QImage> m_thumbs{400};
    mutable QSet<QString> m_thumbPending;
    mutable QImage m_loadingBlank; // DecorationRole while a thumbnail loads (reused: data() runs per paint)
    quint64 m_generation = 0;               // ignores results of superseded queries
    int m_loading = 0;
    // Background work (index, thumbnails). Cleared and joined in the
    // destructor, so no task outlives the model.
    mutable QThreadPool m_pool;
};

} // namespace stipple::ui
