// ClipTextConfig: the architecture of a CLIP text encoder, read from a
// transformers `CLIPTextConfig` json (text_encoder/config.json or the config
// the checkpoint reader derives for single files).
// Thread-safety: plain value.
#pragma once

#include "core/common/Result.h"

#include <nlohmann/json_fwd.hpp>

#include <string>

namespace stipple::core {

enum class ClipActivation { QuickGelu, Gelu };

struct ClipTextConfig {
    int hiddenSize = 768;
    int numHiddenLayers = 12;
    int numAttentionHeads = 12;
    int intermediateSize = 3072;
    ClipActivation hiddenAct = ClipActivation::QuickGelu;
    double layerNormEps = 1e-5;
    int maxPositionEmbeddings = 77;
    int vocabSize = 49408;

    // Missing keys keep the defaults above (transformers' CLIPTextConfig
    // defaults); wrong types, non-positive sizes, hidden size not divisible by
    // the head count and unknown activations are CorruptFile errors.
    static Result<ClipTextConfig> fromJson(const nlohmann::json &json);

    int headDim() const { return hiddenSize / numAttentionHeads; }
};

} // namespace stipple::core
