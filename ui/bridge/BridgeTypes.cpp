#include "ui/bridge/BridgeTypes.h"

#include "core/common/Paths.h"
#include "core/io/ModelInfo.h"

#include <QFileInfo>

#include <QCoreApplication>

#include <mutex>

namespace stipple::ui {

QString stageText(GenerationStage stage)
{
    switch (stage) {
    case GenerationStage::Load: return QCoreApplication::translate("stipple::ui", "Loading");
    case GenerationStage::Encode: return QCoreApplication::translate("stipple::ui", "Encoding");
    case GenerationStage::Denoise: return QCoreApplication::translate("stipple::ui", "Denoising");
    case GenerationStage::Decode: return QCoreApplication::translate("stipple::ui", "Decoding");
    }
    return {};
}

QString ModelSummary::describe() const
{
    QString text = family.isEmpty() ? QCoreApplication::translate("stipple::ui", "Unknown model") : family;
    if (inpaint)
        text += QLatin1Char(' ') + QCoreApplication::translate("stipple::ui", "inpaint");
    else if (depth)
        text += QLatin1Char(' ') + QCoreApplication::translate("stipple::ui", "depth");
    if (vPrediction)
        text += QStringLiteral(", ") + QCoreApplication::translate("stipple::ui", "v-prediction");
    return text;
}

ModelSummary toModelSummary(const core::ModelInfo &info)
{
    ModelSummary s;
    s.path = QString::fromStdString(info.path);
    s.displayName = QString::fromStdString(info.displayName);
    s.family = QString::fromUtf8(core::modelFamilyName(info.family));
    s.variant = QString::fromUtf8(core::modelVariantName(info.variant));
    s.inpaint = info.variant == core::ModelVariant::Inpaint;
    s.depth = info.variant == core::ModelVariant::Depth;
    s.vPrediction = info.prediction == core::PredictionType::VPrediction;
    s.predictionSource = QString::fromStdString(info.predictionSource);
    s.vaeOverride = QString::fromStdString(info.vaeOverride);
    s.singleFile = info.layout == core::CheckpointLayout::SingleFile;
    for (const auto &c : info.components) {
        ComponentSummary cs;
        cs.name = QString::fromStdString(c.name);
        cs.parameters = c.parameters;
        cs.storedDtype = QString::fromStdString(c.storedDtype);
        cs.source = QString::fromStdString(c.source);
        s.components.append(cs);
    }
    s.openSeconds = info.openSeconds;
    s.loadSeconds = info.loadSeconds;
    s.nativeResolution = info.nativeResolution;
    const std::string builtin = core::builtinModelPath();
    s.builtin = !builtin.empty() && QFileInfo(s.path).canonicalFilePath() ==
                                        QFileInfo(QString::fromStdString(builtin)).canonicalFilePath();
    return s;
}

void registerBridgeMetaTypes()
{
    static std::once_flag once;
    std::call_once(once, [] {
        qRegisterMetaType<GenerationStage>("stipple::ui::GenerationStage");
        qRegisterMetaType<GenerationProgress>("stipple::ui::GenerationProgress");
        qRegisterMetaType<GeneratedResult>("stipple::ui::GeneratedResult");
        qRegisterMetaType<ModelSummary>("stipple::ui::ModelSummary");
    });
}

} // namespace stipple::ui
