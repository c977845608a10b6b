#include "core/common/Error.h"

namespace stipple::core {

const char *errorCodeName(ErrorCode code)
{
    switch (code) {
    case ErrorCode::Ok: return "ok";
    case ErrorCode::FileNotFound: return "file-not-found";
    case ErrorCode::IoError: return "io-error";
    case ErrorCode::CorruptFile: return "corrupt-file";
    case ErrorCode::UnsafeFormat: return "unsafe-format";
    case ErrorCode::UnsupportedModel: return "unsupported-model";
    case ErrorCode::UnknownModel: return "unknown-model";
    case ErrorCode::MissingKeys: return "missing-keys";
    case ErrorCode::UnexpectedKeys: return "unexpected-keys";
    case ErrorCode::ShapeMismatch: return "shape-mismatch";
    case ErrorCode::InvalidArgument: return "invalid-argument";
    case ErrorCode::InvalidImage: return "invalid-image";
    case ErrorCode::OutOfMemory: return "out-of-memory";
    case ErrorCode::MissingVocabulary: return "missing-vocabulary";
    case ErrorCode::Internal: return "internal";
    }
    return "unknown";
}

} // namespace stipple::core
