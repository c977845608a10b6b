// GalleryIndex: an SQLite index (QtSql, QSQLITE) of the PNGs in a gallery
// folder, so the gallery can be filtered by prompt text, seed, model and date
// without decoding images. The index rebuilds itself from the PNG files: sync()
// adds new files, re-reads files whose size or mtime changed, and drops rows
// of deleted files; a missing, unreadable or foreign (other folder, other
// schema version) database is recreated.
//
// Thread-safety: a GalleryIndex object belongs to the thread that created it
// (QSqlDatabase connections are per thread); each object opens its own
// uniquely named connection. Different objects on the same database file may
// be used from different threads: writes are serialised per file.
#pragma once

#include <QDateTime>
#include <QList>
#include <QString>

namespace stipple::ui {

struct GalleryEntry {
    QString path;            // absolute file path
    QString fileName;
    QDateTime date;          // file modification time
    qint64 size = 0;
    QString prompt;
    QString negativePrompt;
    qint64 seed = -1;
    QString model;
    QString parameters;      // the raw metadata text ("parameters" infotext, ...)
    int width = 0, height = 0;
};

// All conditions are AND-ed; empty/unset ones are ignored.
struct GalleryFilter {
    QString text;            // substring of prompt or negative prompt (case-insensitive)
    qint64 seed = -1;        // exact seed, -1 = any
    QString model;           // substring of the model name
    QDateTime from, to;      // date range (inclusive), invalid = open
    bool newestFirst = true;

    bool isEmpty() const
    {
        return text.isEmpty() && seed < 0 && model.isEmpty() && !from.isValid() && !to.isValid();
    }
};

struct GallerySyncStats {
    int added = 0, updated = 0, removed = 0, total = 0;
    bool rebuilt = false;    // the database was (re)created
};

class GalleryIndex {
public:
    // Opens (creating if needed) the database at dbPath for `folder`.
    GalleryIndex(const QString &dbPath, const QString &folder);
    ~GalleryIndex();
    GalleryIndex(const GalleryIndex &) = delete;
    GalleryIndex &operator=(const GalleryIndex &) = delete;

    bool isOpen() const;
    QString lastError() const;

    // Brings the index up to date with the folder (non-recursive *.png).
    GallerySyncStats sync();
    // Adds or refreshes one file (after a save).
    bool addFile(const QString &path);
    bool removeFile(const QString &path);
    QList<GalleryEntry> query(const GalleryFilter &filter = {}) const;
    // Distinct model names, for a filter combo box.
    QStringList models() const;

    // Default database location for a folder: AppDataLocation +
    // "/gallery-<hash of folder>.sqlite".
    static QString defaultDatabasePath(const QString &folder);
    // Reads one file's entry from disk (metadata + size + date).
    static GalleryEntry readEntry(const QString &path);

private:
    bool ensureSchema();
    bool upsert(const GalleryEntry &entry);

    QString m_connection;
    QString m_dbPath;
    QString m_folder;
    QString m_error;
    bool m_rebuilt = false;
};

} // namespace stipple::ui
