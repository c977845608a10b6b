#include "ui/bridge/ErrorText.h"

#include <QCoreApplication>

namespace stipple::ui {

namespace {
// Gives lupdate a context ("ErrorText") for the tr() calls below.
class ErrorText {
    Q_DECLARE_TR_FUNCTIONS(ErrorText)
public:
    static QString text(core::ErrorCode code);
};
} // namespace

QString errorText(core::ErrorCode code) { return ErrorText::text(code); }

QString ErrorText::text(core::ErrorCode code)
{
    using core::ErrorCode;
    switch (code) {
    case ErrorCode::Ok: return tr("No error.");
    case ErrorCode::FileNotFound: return tr("The file could not be found or opened.");
    case ErrorCode::IoError: return tr("Reading or writing the file failed.");
    case ErrorCode::CorruptFile: return tr("The file is damaged or not in the expected format.");
    case ErrorCode::UnsafeFormat:
        return tr("This checkpoint uses the unsafe pickle format. Convert it to .safetensors first.");
    case ErrorCode::UnsupportedModel: return tr("This kind of model is not supported yet.");
    case ErrorCode::UnknownModel: return tr("The weights do not look like a supported Stable Diffusion model.");
    case ErrorCode::MissingKeys: return tr("The model is incomplete: some weights are missing.");
    case ErrorCode::UnexpectedKeys: return tr("The model contains weights that do not belong to it.");
    case ErrorCode::ShapeMismatch: return tr("Some weights have the wrong size for this model.");
    case ErrorCode::InvalidArgument: return tr("The generation settings are not valid.");
    case ErrorCode::InvalidImage: return tr("The image could not be read.");
    case ErrorCode::OutOfMemory: return tr("Not enough memory. Try a smaller size or batch.");
    case ErrorCode::MissingVocabulary:
        return tr("The CLIP vocabulary was not found. Choose its file in the settings.");
    case ErrorCode::Internal: return tr("An internal error occurred.");
    }
    return tr("An unknown error occurred.");
}

QString errorText(const core::Error &error)
{
    QString text = errorText(error.code);
    if (!error.message.empty())
        text += QStringLiteral(" (%1)").arg(QString::fromStdString(error.message));
    return text;
}

} // namespace stipple::ui
