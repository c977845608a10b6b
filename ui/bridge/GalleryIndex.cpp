#include "ui/bridge/GalleryIndex.h"

#include "ui/bridge/ImageMetadata.h"

#include <QCryptographicHash>
#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QHash>
#include <QImageReader>
#include <QMutex>
#include <QMutexLocker>
#include <QSqlDatabase>
#include <QSqlError>
#include <QSqlQuery>
#include <QStandardPaths>
#include <QUuid>
#include <QVariant>

namespace stipple::ui {

namespace {

// Bump when the table layout or the parsing changes: the index is rebuilt.
constexpr int kSchemaVersion = 2;

// SQLite serialises writers itself; this lock just keeps our own sync()
// passes from different threads from interleaving their transactions.
QMutex &writeMutex()
{
    static QMutex mutex;
    return mutex;
}

QString escapeLike(QString s)
{
    s.replace(QLatin1Char('\\'), QLatin1String("\\\\"));
    s.replace(QLatin1Char('%'), QLatin1String("\\%"));
    s.replace(QLatin1Char('_'), QLatin1String("\\_"));
    return QLatin1Char('%') + s + QLatin1Char('%');
}

GalleryEntry entryFromQuery(const QSqlQuery &q)
{
    GalleryEntry e;
    e.path = q.value(0).toString();
    e.fileName = QFileInfo(e.path).fileName();
    e.date = QDateTime::fromMSecsSinceEpoch(q.value(1).toLongLong());
    e.size = q.value(2).toLongLong();
    e.prompt = q.value(3).toString();
    e.negativePrompt = q.value(4).toString();
    e.seed = q.value(5).toLongLong();
    e.model = q.value(6).toString();
    e.parameters = q.value(7).toString();
    e.width = q.value(8).toInt();
    e.height = q.value(9).toInt();
    return e;
}

const char kColumns[] = "path, mtime, size, prompt, negative, seed, model, parameters, width, height";

} // namespace

GalleryIndex::GalleryIndex(const QString &dbPath, const QString &folder)
    : m_connection(QStringLiteral("stipple-gallery-") + QUuid::createUuid().toString(QUuid::WithoutBraces))
    , m_dbPath(dbPath)
    , m_folder(QDir(folder).absolutePath())
{
    QDir().mkpath(QFileInfo(dbPath).absolutePath());
    {
        QSqlDatabase db = QSqlDatabase::addDatabase(QStringLiteral("QSQLITE"), m_connection);
        db.setDatabaseName(dbPath);
        db.setConnectOptions(QStringLiteral("QSQLITE_BUSY_TIMEOUT=5000"));
        if (!db.open())
            m_error = db.lastError().text();
    }
    if (m_error.isEmpty() && !ensureSchema()) {
        // Unreadable or damaged database: start again from the PNGs.
        {
            QSqlDatabase db = QSqlDatabase::database(m_connection, false);
            db.close();
            QFile::remove(dbPath);
            if (!db.open())
                m_error = db.lastError().text();
        }
        if (m_error.isEmpty() && !ensureSchema() && m_error.isEmpty())
            m_error = QStringLiteral("cannot create the gallery index");
    }
}

GalleryIndex::~GalleryIndex()
{
    {
        QSqlDatabase db = QSqlDatabase::database(m_connection, false);
        if (db.isOpen())
            db.close();
    }
    QSqlDatabase::removeDatabase(m_connection);
}

bool GalleryIndex::isOpen() const
{
    return m_error.isEmpty() && QSqlDatabase::database(m_connection, false).isOpen();
}

QString GalleryIndex::lastError() const { return m_error; }

bool GalleryIndex::ensureSchema()
{
    QMutexLocker lock(&writeMutex());
    QSqlDatabase db = QSqlDatabase::database(m_connection, false);
    QSqlQuery q(db);
    if (!q.exec(QStringLiteral("CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT)")))
        return false;
    QHash<QString, QString> meta;
    if (!q.exec(QStringLiteral("SELECT key, value FROM meta")))
        return false;
    while (q.next())
        meta.insert(q.value(0).toString(), q.value(1).toString());
    const bool current = meta.value(QStringLiteral("schema")) == QString::number(kSchemaVersion)
        && meta.value(QStringLiteral("folder")) == m_folder;
    if (current && db.tables().contains(QStringLiteral("images")))
        return true;
    // Missing, older or for another folder: rebuild.
    m_rebuilt = true;
    if (!db.transaction())
        return false;
    bool ok = q.exec(QStringLiteral("DROP TABLE IF EXISTS images"))
        && q.exec(QStringLiteral("CREATE TABLE images (path TEXT PRIMARY KEY, mtime INTEGER, size INTEGER,"
                                 " prompt TEXT, negative TEXT, seed INTEGER, model TEXT, parameters TEXT,"
                                 " width INTEGER, height INTEGER)"))
        && q.exec(QStringLiteral("CREATE INDEX images_mtime ON images(mtime)"))
        && q.exec(QStringLiteral("CREATE INDEX images_seed ON images(seed)"))
        && q.exec(QStringLiteral("DELETE FROM meta"));
    if (ok) {
        ok = q.prepare(QStringLiteral("INSERT INTO meta (key, value) VALUES (?, ?)"));
        q.addBindValue(QStringLiteral("schema"));
        q.addBindValue(QString::number(kSchemaVersion));
        ok = ok && q.exec();
        q.addBindValue(QStringLiteral("folder"));
        q.addBindValue(m_folder);
        ok = ok && q.exec();
    }
    if (!ok) {
        m_error = q.lastError().text();
        db.rollback();
        return false;
    }
    return db.commit();
}

GalleryEntry GalleryIndex::readEntry(const QString &path)
{
    GalleryEntry e;
    const QFileInfo fi(path);
    e.path = fi.absoluteFilePath();
    e.fileName = fi.fileName();
    e.date = fi.lastModified();
    e.size = fi.size();
    const MetadataReadResult r = readImageMetadata(path);
    if (r.ok()) {
        const ImageMetadata &m = r.metadata;
        e.prompt = m.prompt;
        e.negativePrompt = m.negativePrompt;
        e.seed = m.seed;
        e.model = m.model;
        e.parameters = m.source == MetadataSource::A1111 ? m.raw : formatInfotext(m);
        e.width = m.width;
        e.height = m.height;
    }
    if (e.width <= 0) {
        const QSize size = QImageReader(path).size();
        e.width = qMax(0, size.width());
        e.height = qMax(0, size.height());
    }
    return e;
}

bool GalleryIndex::upsert(const GalleryEntry &e)
{
    QSqlQuery q(QSqlDatabase::database(m_connection, false));
    q.prepare(QStringLiteral("INSERT OR REPLACE INTO images (%1) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)")
                  .arg(QLatin1String(kColumns)));
    q.addBindValue(e.path);
    q.addBindValue(e.date.toMSecsSinceEpoch());
    q.addBindValue(e.size);
    q.addBindValue(e.prompt);
    q.addBindValue(e.negativePrompt);
    q.addBindValue(e.seed);
    q.addBindValue(e.model);
    q.addBindValue(e.parameters);
    q.addBindValue(e.width);
    q.addBindValue(e.height);
    if (!q.exec()) {
        m_error = q.lastError().text();
        return false;
    }
    return true;
}

GallerySyncStats GalleryIndex::sync()
{
    GallerySyncStats stats;
    stats.rebuilt = m_rebuilt;
    if (!isOpen())
        return stats;
    QMutexLocker lock(&writeMutex());
    QSqlDatabase db = QSqlDatabase::database(m_connection, false);
    struct Known { qint64 mtime, size; };
    QHash<QString, Known> known;
    {
        QSqlQuery q(db);
        q.exec(QStringLiteral("SELECT path, mtime, size FROM images"));
        while (q.next())
            known.insert(q.value(0).toString(), {q.value(1).toLongLong(), q.value(2).toLongLong()});
    }
    const QFileInfoList files = QDir(m_folder).entryInfoList({QStringLiteral("*.png"), QStringLiteral("*.PNG")},
                                                             QDir::Files | QDir::Readable);
    db.transaction();
    for (const QFileInfo &fi : files) {
        const QString path = fi.absoluteFilePath();
        const auto it = known.constFind(path);
        if (it != known.constEnd() && it->mtime == fi.lastModified().toMSecsSinceEpoch()
            && it->size == fi.size()) {
            known.erase(it);
            continue;
        }
        const bool isNew = it == known.constEnd();
        if (!isNew)
            known.erase(it);
        if (upsert(readEntry(path)))
            ++(isNew ? stats.added : stats.updated);
    }
    QSqlQuery del(db);
    del.prepare(QStringLiteral("DELETE FROM images WHERE path = ?"));
    for (auto it = known.constBegin(); it != known.constEnd(); ++it) {
        del.addBindValue(it.key());
        if (del.exec())
            ++stats.removed;
    }
    db.commit();
    QSqlQuery count(db);
    if (count.exec(QStringLiteral("SELECT COUNT(*) FROM images")) && count.next())
        stats.total = count.value(0).toInt();
    m_rebuilt = false;
    return stats;
}

bool GalleryIndex::addFile(const QString &path)
{
    if (!isOpen() || !QFileInfo::exists(path))
        return false;
    QMutexLocker lock(&writeMutex());
    return upsert(readEntry(path));
}

bool GalleryIndex::removeFile(const QString &path)
{
    if (!isOpen())
        return false;
    QMutexLocker lock(&writeMutex());
    QSqlQuery q(QSqlDatabase::database(m_connection, false));
    q.prepare(QStringLiteral("DELETE FROM images WHERE path = ?"));
    q.addBindValue(QFileInfo(path).absoluteFilePath());
    return q.exec();
}

QList<GalleryEntry> GalleryIndex::query(const GalleryFilter &f) const
{
    QList<GalleryEntry> out;
    if (!isOpen())
        return out;
    QStringList where;
    QVariantList binds;
    if (!f.text.isEmpty()) {
        where << QStringLiteral("(prompt LIKE ? ESCAPE '\\' OR negative LIKE ? ESCAPE '\\')");
        binds << escapeLike(f.text) << escapeLike(f.text);
    }
    if (f.seed >= 0) {
        where << QStringLiteral("seed = ?");
        binds << f.seed;
    }
    if (!f.model.isEmpty()) {
        where << QStringLiteral("model LIKE ? ESCAPE '\\'");
        binds << escapeLike(f.model);
    }
    if (f.from.isValid()) {
        where << QStringLiteral("mtime >= ?");
        binds << f.from.toMSecsSinceEpoch();
    }
    if (f.to.isValid()) {
        where << QStringLiteral("mtime <= ?");
        binds << f.to.toMSecsSinceEpoch();
    }
    QString sql = QStringLiteral("SELECT %1 FROM images").arg(QLatin1String(kColumns));
    if (!where.isEmpty())
        sql += QStringLiteral(" WHERE ") + where.join(QStringLiteral(" AND "));
    sql += f.newestFirst ? QStringLiteral(" ORDER BY mtime DESC, path DESC") : QStringLiteral(" ORDER BY mtime, path");
    QSqlQuery q(QSqlDatabase::database(m_connection, false));
    q.setForwardOnly(true);
    q.prepare(sql);
    for (const QVariant &b : std::as_const(binds))
        q.addBindValue(b);
    if (!q.exec())
        return out;
    while (q.next())
        out.append(entryFromQuery(q));
    return out;
}

QStringList GalleryIndex::models() const
{
    QStringList out;
    if (!isOpen())
        return out;
    QSqlQuery q(QSqlDatabase::database(m_connection, false));
    if (q.exec(QStringLiteral("SELECT DISTINCT model FROM images WHERE model <> '' ORDER BY model")))
        while (q.next())
            out << q.value(0).toString();
    return out;
}

QString GalleryIndex::defaultDatabasePath(const QString &folder)
{
    const QByteArray hash = QCryptographicHash::hash(QDir(folder).absolutePath().toUtf8(),
                                                     QCryptographicHash::Sha1).toHex().left(12);
    return QStandardPaths::writableLocation(QStandardPaths::AppDataLocation)
        + QStringLiteral("/gallery-%1.sqlite").arg(QString::fromLatin1(hash));
}

} // namespace stipple::ui
