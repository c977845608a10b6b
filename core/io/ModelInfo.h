// What a checkpoint is, as detected from its weights (and metadata / a sibling
// .yaml when present). Produced by core/io, shown by the CLI and the UI.
// Thread-safety: plain value.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace stipple::core {

enum class ModelFamily { Unknown, SD1, SD2, SDXL, SD3, Flux };
enum class ModelVariant { Base, Inpaint, Depth };       // UNet input channels 4 / 9 / 5
enum class PredictionType { Epsilon, VPrediction };
enum class CheckpointLayout { DiffusersFolder, SingleFile };

const char *modelFamilyName(ModelFamily f);     // "SD 1.x", "SD 2.x", ...
const char *modelVariantName(ModelVariant v);   // "base", "inpaint", "depth"
const char *predictionTypeName(PredictionType p); // "epsilon", "v_prediction"

struct ComponentInfo {
    std::string name;          // "unet", "vae", "text_encoder"
    std::int64_t parameters = 0;
    std::string storedDtype;   // "F16", "F32", "BF16", or "mixed"
    std::string source;        // file the weights came from
};

struct ModelInfo {
    std::string path;          // folder or file the user chose
    std::string displayName;   // file/folder base name
    CheckpointLayout layout = CheckpointLayout::DiffusersFolder;
    ModelFamily family = ModelFamily::Unknown;
    ModelVariant variant = ModelVariant::Base;
    PredictionType prediction = PredictionType::Epsilon;
    std::string predictionSource; // how it was decided: "scheduler_config", "metadata", "yaml", "heuristic: ..."
    std::string vaeOverride;      // standalone VAE file, if any
    std::vector<ComponentInfo> components;
    int nativeResolution = 0;     // pixels the model was trained at (512 for SD 1.x); 0 = unknown
    double openSeconds = 0;       // header parse + mmap
    double loadSeconds = 0;       // building modules, converting weights
};

} // namespace stipple::core
