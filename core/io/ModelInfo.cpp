#include "core/io/ModelInfo.h"

namespace stipple::core {

const char *modelFamilyName(ModelFamily f)
{
    switch (f) {
    case ModelFamily::Unknown: return "unknown";
    case ModelFamily::SD1: return "SD 1.x";
    case ModelFamily::SD2: return "SD 2.x";
    case ModelFamily::SDXL: return "SDXL";
    case ModelFamily::SD3: return "SD 3";
    case ModelFamily::Flux: return "Flux";
    }
    return "unknown";
}

const char *modelVariantName(ModelVariant v)
{
    switch (v) {
    case ModelVariant::Base: return "base";
    case ModelVariant::Inpaint: return "inpaint";
    case ModelVariant::Depth: return "depth";
    }
    return "base";
}

const char *predictionTypeName(PredictionType p)
{
    switch (p) {
    case PredictionType::Epsilon: return "epsilon";
    case PredictionType::VPrediction: return "v_prediction";
    }
    return "epsilon";
}

} // namespace stipple::core
