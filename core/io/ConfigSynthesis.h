// Diffusers config.json contents synthesised for single-file checkpoints,
// from the weights' shapes (diffusers names) plus the few keys of an LDM
// inference .yaml that shapes cannot tell (read by simple line scanning, not
// a YAML parser: the first occurrence of `key:` wins).
//
// Heuristics when there is no .yaml (documented in docs and ModelInfo):
//  - UNet attention heads: SD 1.x 8 heads everywhere (attention_head_dim = 8,
//    the diffusers field's historical meaning); SD 2.x 64 channels per head
//    (attention_head_dim = [C_i / 64]).
//  - Text encoder heads: hidden / 64 for real widths (768 -> 12, 1024 -> 16);
//    for tiny widths (< 256) the yaml comment "heads N" when present, else hidden / 8.
//  - sample_size: SD 1.x 64 (512 px); SD 2.x 96 (768 px) for v-prediction, else 64
//    (with a yaml: its first image_size, the VAE's being 8 x that).
// Thread-safety: pure functions.
#pragma once

#include "core/io/ModelInfo.h"
#include "core/io/StateDict.h"

#include <nlohmann/json.hpp>

#include <map>
#include <optional>
#include <string>

namespace stipple::core {

// Key -> raw value of an LDM .yaml (quotes and trailing comments removed).
struct LdmYaml {
    bool present = false;
    std::string path;
    std::map<std::string, std::string> values;
    int textEncoderHeads = 0; // from a "heads N" comment, 0 = none
    std::optional<std::string> get(const std::string &key) const;
    std::optional<double> number(const std::string &key) const;
};

// Reads `<file without extension>.yaml` (or .yml) next to `checkpointPath`.
LdmYaml readSiblingYaml(const std::string &checkpointPath);
LdmYaml parseLdmYaml(const std::string &text, const std::string &path);

// `unet`, `vae`, `text` hold diffusers names.
nlohmann::json synthUnetConfig(const StateDict &unet, ModelFamily family, PredictionType prediction,
                               const LdmYaml &yaml);
nlohmann::json synthVaeConfig(const StateDict &vae, ModelFamily family, PredictionType prediction,
                              const LdmYaml &yaml);
nlohmann::json synthTextEncoderConfig(const StateDict &text, ModelFamily family, const LdmYaml &yaml);
// SD 1.5-style PNDM with the betas of the yaml when present.
nlohmann::json synthSchedulerConfig(PredictionType prediction, const LdmYaml &yaml);

} // namespace stipple::core
