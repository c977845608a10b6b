// The architecture of Stipple's built-in model: the Stable Diffusion 1.x
// architecture (AutoencoderKL /8 with 4 latent channels, UNet2DConditionModel,
// CLIP text transformer, scaled-linear epsilon schedule) at a size that
// trains on a 2-core CPU. Configs are diffusers/transformers config.json
// documents, so the exported folder loads through the same code as any
// diffusers checkpoint. Thread-safety: pure functions.
#pragma once

#include <nlohmann/json.hpp>

namespace stipple::core::builtin {

inline constexpr int kImageSize = 128;
inline constexpr int kTextLength = 77; // CLIP window, so every pipeline path applies

nlohmann::json unetConfig();
nlohmann::json vaeConfig(double scalingFactor);
nlohmann::json textEncoderConfig(int vocabSize);
nlohmann::json schedulerConfig(); // SD 1.5's scaled-linear PNDM config (epsilon)
nlohmann::json modelIndex();

} // namespace stipple::core::builtin
