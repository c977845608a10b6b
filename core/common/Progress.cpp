#include "core/common/Progress.h"

namespace stipple::core {

const char *stageName(Stage stage)
{
    switch (stage) {
    case Stage::Load: return "load";
    case Stage::Encode: return "encode";
    case Stage::Denoise: return "denoise";
    case Stage::Decode: return "decode";
    }
    return "?";
}

} // namespace stipple::core
