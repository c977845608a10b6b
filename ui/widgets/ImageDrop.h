// ImageDrop: turns dropped or pasted data (file URLs, raw image data, a
// clipboard image) into a QImage, or into a translated reason why it cannot.
// Used by the canvas (img2img init image), the window (PNG Info) and paste.
// Thread-safety: reentrant (GUI thread in practice: QMimeData).
#pragma once

#include <QImage>
#include <QString>

class QMimeData;

namespace stipple::ui {

struct DroppedImage {
    QImage image;       // null on failure
    QString path;       // local file it came from, if any
    QString error;      // translated message when image is null
    bool ok() const { return !image.isNull(); }
};

// True when the data might hold an image (a local file or image data), so a
// drag can be accepted; the final decision is made by decodeDroppedImage().
bool mightContainImage(const QMimeData *mime);

// Decodes the first local file or the image data of `mime`.
DroppedImage decodeDroppedImage(const QMimeData *mime);

// Decodes an image file; a readable file that is not an image, or a broken
// image, gives a clear message naming the file.
DroppedImage loadImageFile(const QString &path);

// First local file path in the data ("" if none).
QString firstLocalFile(const QMimeData *mime);

} // namespace stipple::ui
