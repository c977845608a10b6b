// Typed application settings over QSettings: an enum of keys, one table of
// (key string, default) entries, typed get/set (keepassxc Config style), plus
// helpers for the groups that map onto core types (last parameters).
//
// Storage: by default QSettings(IniFormat, UserScope, organization, application)
// -> $XDG_CONFIG_HOME/<org>/<app>.ini. Tests pass an explicit .ini path (e.g.
// inside a QTemporaryDir) so nothing touches the user's real settings.
//
// Thread-safety: one Settings object per thread (QSettings is reentrant, and
// objects on the same file share Qt's in-process cache). Use from the GUI thread.
#pragma once

#include "core/pipeline/Engine.h"
#include "core/pipeline/Request.h"

#include <QByteArray>
#include <QColor>
#include <QObject>
#include <QString>
#include <QVariant>

#include <memory>

class QSettings;

namespace stipple::ui {

class Settings : public QObject {
    Q_OBJECT
public:
    enum class Key {
        // Paths
        ModelsFolder,        // QString, default AppDataLocation + "/models"
        LastModel,           // QString, "" (path of the last loaded model)
        VaePath,             // QString, "" (standalone VAE override)
        VocabPath,           // QString, "" (CLIP vocab for single-file models)
        GalleryFolder,       // QString, PicturesLocation + "/Stipple"
        AutoSave,            // bool, true
        // Runtime
        Threads,             // int, 0 = physical cores
        ComputeDType,        // QString "float32" | "bfloat16", "float32"
        // Last parameters
        Prompt,              // QString, ""
        NegativePrompt,      // QString, ""
        Sampler,             // QString, "Euler a"
        ScheduleType,        // QString, ""
        Steps,               // int, 20
        CfgScale,            // double, 7.0
        Seed,                // qint64, -1 (random)
        Width,               // int, 512
        Height,              // int, 512
        BatchCount,          // int, 1
        BatchSize,           // int, 1
        ClipSkip,            // int, 1
        Strength,            // double, 0.75 (img2img denoising strength)
        ResizeMode,          // QString "JustResize" | "CropAndResize" | "ResizeAndFill"
        MaskBlur,            // int, 4
        MaskedContent,       // QString "Original" | "Fill" | "LatentNoise" | "LatentNothing"
        InpaintOnlyMasked,   // bool, false
        OnlyMaskedPadding,   // int, 32
        // Window / canvas
        WindowGeometry,      // QByteArray, empty (QWidget::saveGeometry)
        WindowState,         // QByteArray, empty (QMainWindow::saveState)
        MaskOverlayColor,    // QColor, #ff3c3c
        MaskOverlayOpacity,  // double 0..1, 0.5
        KeyCount
    };
    Q_ENUM(Key)

    // iniPath empty: the default per-user location (see above).
    explicit Settings(const QString &iniPath = {}, QObject *parent = nullptr);
    ~Settings() override;

    // Value of `key`, or its default when unset (or of the wrong type).
    QVariant value(Key key) const;
    // Stores value; emits changed(key) when it differs from the current value.
    void setValue(Key key, const QVariant &value);
    void reset(Key key);                 // back to the default
    bool contains(Key key) const;        // explicitly stored
    static QVariant defaultValue(Key key);
    static QString keyName(Key key);     // "paths/galleryFolder", ...
    QString fileName() const;            // backing file
    void sync();                         // flush to disk

    // Typed accessors for the common keys.
    QString modelsFolder() const { return value(Key::ModelsFolder).toString(); }
    QString lastModel() const { return value(Key::LastModel).toString(); }
    QString galleryFolder() const { return value(Key::GalleryFolder).toString(); }
    QString vocabPath() const { return value(Key::VocabPath).toString(); }
    int threads() const { return value(Key::Threads).toInt(); }
    core::ComputeDType computeDType() const;
    QColor maskOverlayColor() const { return value(Key::MaskOverlayColor).value<QColor>(); }
    double maskOverlayOpacity() const { return value(Key::MaskOverlayOpacity).toDouble(); }

    // The "last parameters" group <-> a request (images are not stored).
    core::GenerationRequest lastRequest() const;
    void setLastRequest(const core::GenerationRequest &request);
    // Load options from LastModel, VaePath, VocabPath, ComputeDType.
    core::LoadOptions loadOptions() const;

Q_SIGNALS:
    void changed(stipple::ui::Settings::Key key);

private:
    std::unique_ptr<QSettings> m_settings;
};

} // namespace stipple::ui
