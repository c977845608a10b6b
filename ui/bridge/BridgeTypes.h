// Qt value types that cross the worker-thread boundary in queued signals:
// progress, finished images and a Qt-friendly summary of core::ModelInfo.
// Every type here is registered with the meta-type system by
// registerBridgeMetaTypes() (GenerationController calls it; calling it twice
// is harmless). Thread-safety: plain values, implicitly shared where Qt is.
#pragma once

#include <QImage>
#include <QList>
#include <QMetaType>
#include <QString>

namespace stipple::core {
struct ModelInfo;
}

namespace stipple::ui {

// Which part of a request is running (mirrors core::Stage).
enum class GenerationStage { Load, Encode, Denoise, Decode };

// Translated stage name for a status bar ("Loading", "Denoising", ...).
QString stageText(GenerationStage stage);

// One progress report. itPerSec and etaSec are derived from the stage's elapsed
// time: itPerSec = step / elapsed, etaSec = (total - step) / itPerSec; both are
// 0 until the first step has completed.
struct GenerationProgress {
    quint64 jobId = 0;       // 0 for model loading
    GenerationStage stage = GenerationStage::Load;
    int step = 0;            // 0..total
    int total = 0;
    double elapsedSec = 0;   // since the stage began
    double itPerSec = 0;
    double etaSec = 0;
};

// One finished picture.
struct GeneratedResult {
    QImage image;            // Format_RGB888 or Format_RGBA8888
    qint64 seed = 0;
    QString infotext;        // A1111 "parameters" text (also written into the PNG)
    QString savedPath;       // file in the gallery folder; empty when auto-save is off or failed
    QString saveError;       // translated reason when the auto-save failed
    int index = 0;           // position in the request's batchCount x batchSize images
};

struct ComponentSummary {
    QString name;            // "unet", "vae", "text_encoder"
    qint64 parameters = 0;
    QString storedDtype;     // "F16", "F32", "BF16", "mixed"
    QString source;          // file the weights came from
};

// core::ModelInfo in Qt types, for the model picker and status bar.
struct ModelSummary {
    QString path;
    QString displayName;
    QString family;          // "SD 1.x", "SD 2.x", ... (core::modelFamilyName)
    QString variant;         // "base", "inpaint", "depth"
    bool inpaint = false;    // variant == Inpaint (9-channel UNet)
    bool depth = false;      // variant == Depth (5-channel UNet)
    bool vPrediction = false;
    QString predictionSource;
    QString vaeOverride;
    bool singleFile = false; // CheckpointLayout::SingleFile
    QList<ComponentSummary> components;
    double openSeconds = 0;
    double loadSeconds = 0;
    int nativeResolution = 0; // training resolution in pixels, 0 = unknown
    bool builtin = false;     // Stipple's built-in model (resources/builtin-model)

    bool isValid() const { return !path.isEmpty(); }
    // "SD 1.x inpaint, v-prediction" style one-liner (translated).
    QString describe() const;
};

ModelSummary toModelSummary(const core::ModelInfo &info);

// Registers the types above (idempotent, thread-safe).
void registerBridgeMetaTypes();

} // namespace stipple::ui

Q_DECLARE_METATYPE(stipple::ui::GenerationStage)
Q_DECLARE_METATYPE(stipple::ui::GenerationProgress)
Q_DECLARE_METATYPE(stipple::ui::GeneratedResult)
Q_DECLARE_METATYPE(stipple::ui::ModelSummary)
