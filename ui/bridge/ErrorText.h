// Translated, user-facing text for every core::ErrorCode. The English detail
// message of a core::Error is kept separately for logs / "Details..." boxes.
// Thread-safety: reentrant (uses QCoreApplication::translate).
#pragma once

#include "core/common/Error.h"

#include <QString>

namespace stipple::ui {

// One translated sentence per code, e.g. FileNotFound -> "The file could not be found."
QString errorText(core::ErrorCode code);

// errorText(code) followed by the detail message when there is one:
// "The file could not be found. (/x/y.safetensors)".
QString errorText(const core::Error &error);

} // namespace stipple::ui
