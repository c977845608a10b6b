// Saving results into the gallery folder: PNG with the A1111 "parameters"
// tEXt chunk, written atomically (QSaveFile: a temporary file in the same
// folder, renamed over the final name on commit), so a crash or kill leaves
// either the complete image or no image file at all. Leftover temporaries
// do not end in ".png" and are removed by removeStaleTemporaries().
//
// File names: "<5-digit counter>-<seed>.png" (A1111 style), the counter being
// one more than the highest in the folder.
//
// Thread-safety: reentrant; concurrent saves into one folder are serialised
// by a process-wide mutex so counters stay unique.
#pragma once

#include <QImage>
#include <QString>

namespace stipple::ui {

struct SaveResult {
    QString path;   // final file on success
    QString error;  // translated reason on failure
    bool ok() const { return error.isEmpty(); }
};

// Writes `image` as PNG to `path` atomically with a "parameters" chunk (when
// infotext is non-empty). The folder is created if needed. An existing file
// at `path` is replaced atomically.
SaveResult savePngAtomically(const QString &path, const QImage &image, const QString &infotext,
                             int compression = -1);

// Picks the next free name in `folder` and saves there.
SaveResult saveToGallery(const QString &folder, const QImage &image, const QString &infotext,
                         qint64 seed);

// Next "<counter>-<seed>.png" name for `folder` (does not create anything).
QString nextGalleryFileName(const QString &folder, qint64 seed);

// Removes QSaveFile leftovers ("*.png.*" temporaries) older than minAgeSec.
int removeStaleTemporaries(const QString &folder, int minAgeSec = 60);

// Moves a gallery file to the desktop trash (QFile::moveToTrash). Returns a
// translated error, empty on success.
QString moveToTrash(const QString &path);

} // namespace stipple::ui
