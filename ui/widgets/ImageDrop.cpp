#include "ui/widgets/ImageDrop.h"

#include <QCoreApplication>
#include <QFileInfo>
#include <QImageReader>
#include <QMimeData>
#include <QUrl>

namespace stipple::ui {

QString firstLocalFile(const QMimeData *mime)
{
    if (!mime || !mime->hasUrls())
        return {};
    for (const QUrl &url : mime->urls()) {
        if (url.isLocalFile())
            return url.toLocalFile();
    }
    return {};
}

bool mightContainImage(const QMimeData *mime)
{
    if (!mime)
        return false;
    return mime->hasImage() || !firstLocalFile(mime).isEmpty();
}

DroppedImage loadImageFile(const QString &path)
{
    DroppedImage out;
    out.path = path;
    const QFileInfo info(path);
    if (!info.exists() || !info.isFile()) {
        out.error = QCoreApplication::translate("ImageDrop", "“%1” is not a file that can be opened.").arg(info.fileName());
        return out;
    }
    QImageReader reader(path);
    reader.setAutoTransform(true); // honour EXIF orientation
    if (!reader.canRead()) {
        out.error = QCoreApplication::translate("ImageDrop", "“%1” is not an image Stipple can read (PNG, JPEG, WebP, BMP…).")
                        .arg(info.fileName());
        return out;
    }
    out.image = reader.read();
    if (out.image.isNull())
        out.error = QCoreApplication::translate("ImageDrop", "“%1” could not be read: %2").arg(info.fileName(), reader.errorString());
    return out;
}

DroppedImage decodeDroppedImage(const QMimeData *mime)
{
    if (!mime) {
        DroppedImage out;
        out.error = QCoreApplication::translate("ImageDrop", "Nothing to paste.");
        return out;
    }
    const QString file = firstLocalFile(mime);
    if (!file.isEmpty())
        return loadImageFile(file);
    if (mime->hasImage()) {
        DroppedImage out;
        out.image = qvariant_cast<QImage>(mime->imageData());
        if (out.image.isNull())
            out.error = QCoreApplication::translate("ImageDrop", "The dropped image data could not be read.");
        return out;
    }
    DroppedImage out;
    out.error = QCoreApplication::translate("ImageDrop", "This is not an image. Drop or paste a PNG, JPEG or WebP picture.");
    return out;
}

} // namespace stipple::ui
