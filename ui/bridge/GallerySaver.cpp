#include "ui/bridge/GallerySaver.h"

#include <QCoreApplication>
#include <QDateTime>
#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QImageWriter>
#include <QMutex>
#include <QMutexLocker>
#include <QSaveFile>

namespace stipple::ui {

namespace {

class SaverText {
    Q_DECLARE_TR_FUNCTIONS(GallerySaver)
public:
    static QString noFolder(const QString &f) { return tr("Could not create the folder %1.").arg(f); }
    static QString openFailed(const QString &f, const QString &why)
    {
        return tr("Could not write %1: %2").arg(f, why);
    }
    static QString nullImage() { return tr("There is no image to save."); }
    static QString noFile(const QString &f) { return tr("%1 does not exist.").arg(f); }
    static QString trashFailed(const QString &f) { return tr("Could not move %1 to the trash.").arg(f); }
};

QMutex &saveMutex()
{
    static QMutex mutex;
    return mutex;
}

} // namespace

SaveResult savePngAtomically(const QString &path, const QImage &image, const QString &infotext,
                             int compression)
{
    SaveResult r;
    if (image.isNull()) {
        r.error = SaverText::nullImage();
        return r;
    }
    const QFileInfo info(path);
    if (!QDir().mkpath(info.absolutePath())) {
        r.error = SaverText::noFolder(info.absolutePath());
        return r;
    }
    // QSaveFile writes to a temporary file in the same folder and renames it
    // over `path` in commit(): readers see the old state or the complete file.
    QSaveFile file(info.absoluteFilePath());
    if (!file.open(QIODevice::WriteOnly)) {
        r.error = SaverText::openFailed(path, file.errorString());
        return r;
    }
    QImageWriter writer(&file, "png");
    if (compression >= 0)
        writer.setCompression(compression);
    // QImage::setText, not QImageWriter::setText: the writer's variant passes
    // the value through QString::simplified() and loses the infotext's newlines.
    QImage tagged = image;
    if (!infotext.isEmpty())
        tagged.setText(QStringLiteral("parameters"), infotext);
    if (!writer.write(tagged)) {
        file.cancelWriting();
        r.error = SaverText::openFailed(path, writer.errorString());
        return r;
    }
    if (!file.commit()) {
        r.error = SaverText::openFailed(path, file.errorString());
        return r;
    }
    r.path = info.absoluteFilePath();
    return r;
}

QString nextGalleryFileName(const QString &folder, qint64 seed)
{
    const QStringList names = QDir(folder).entryList({QStringLiteral("*.png")}, QDir::Files);
    qint64 highest = -1;
    for (const QString &name : names) {
        int i = 0;
        while (i < name.size() && name.at(i).isDigit())
            ++i;
        if (i == 0)
            continue;
        bool ok = false;
        const qint64 n = name.left(i).toLongLong(&ok);
        if (ok)
            highest = std::max(highest, n);
    }
    return QStringLiteral("%1-%2.png").arg(highest + 1, 5, 10, QLatin1Char('0')).arg(seed);
}

SaveResult saveToGallery(const QString &folder, const QImage &image, const QString &infotext, qint64 seed)
{
    QMutexLocker lock(&saveMutex());
    if (!QDir().mkpath(folder)) {
        SaveResult r;
        r.error = SaverText::noFolder(folder);
        return r;
    }
    return savePngAtomically(QDir(folder).filePath(nextGalleryFileName(folder, seed)), image, infotext);
}

int removeStaleTemporaries(const QString &folder, int minAgeSec)
{
    int removed = 0;
    const QDateTime limit = QDateTime::currentDateTimeUtc().addSecs(-minAgeSec);
    const QFileInfoList files = QDir(folder).entryInfoList({QStringLiteral("*.png.*")}, QDir::Files);
    for (const QFileInfo &fi : files) {
        if (fi.lastModified().toUTC() <= limit && QFile::remove(fi.absoluteFilePath()))
            ++removed;
    }
    return removed;
}

QString moveToTrash(const QString &path)
{
    if (!QFileInfo::exists(path))
        return SaverText::noFile(path);
    if (!QFile::moveToTrash(path))
        return SaverText::trashFailed(path);
    return {};
}

} // namespace stipple::ui
