// Key mapping between the original LDM single-file layout (CompVis /
// Stability checkpoints: model.diffusion_model.*, first_stage_model.*,
// cond_stage_model.*) and diffusers / transformers state-dict names.
// The UNet and VAE mappings are one prefix table used in both directions
// (import: LDM -> diffusers; export: diffusers -> LDM). Facts about the
// layout follow diffusers' scripts/convert_original_stable_diffusion_to_diffusers
// and its inverse convert_diffusers_to_original_stable_diffusion.py (v0.25-0.27).
// All functions take keys with the component prefix already stripped and
// return views of the input tensors (reshapes and q/k/v splits do not copy).
// Thread-safety: pure functions.
#pragma once

#include "core/common/Result.h"
#include "core/io/StateDict.h"

#include <nlohmann/json.hpp>

#include <string>
#include <vector>

namespace stipple::core {

// Shape of a UNet / VAE needed by the prefix table.
struct LdmBlockLayout {
    int levels = 0;
    int layersPerBlock = 0;
    std::vector<bool> downAttention; // UNet only
    std::vector<bool> upAttention;   // UNet only
};

// Inferred from LDM keys (no prefix) or from a diffusers config.
Result<LdmBlockLayout> unetLayoutFromLdm(const StateDict &ldm);
LdmBlockLayout unetLayoutFromConfig(const nlohmann::json &config);
Result<LdmBlockLayout> vaeLayoutFromLdm(const StateDict &ldm);
LdmBlockLayout vaeLayoutFromConfig(const nlohmann::json &config);

// LDM -> diffusers. Unknown keys are errors (UnexpectedKeys) naming `label`.
Result<StateDict> ldmUnetToDiffusers(const StateDict &ldm, const LdmBlockLayout &layout, const std::string &label);
Result<StateDict> ldmVaeToDiffusers(const StateDict &ldm, const LdmBlockLayout &layout, const std::string &label);
// cond_stage_model.transformer.* (HF CLIP, SD 1.x): position_ids dropped.
Result<StateDict> ldmClipToDiffusers(const StateDict &ldm, const std::string &label);
// cond_stage_model.model.* (OpenCLIP, SD 2.x): in_proj split into q/k/v, the
// last (unused) block, text_projection and logit_scale dropped.
Result<StateDict> openClipToDiffusers(const StateDict &ldm, const std::string &label);

// diffusers -> LDM (for export).
Result<StateDict> diffusersUnetToLdm(const StateDict &weights, const LdmBlockLayout &layout);
Result<StateDict> diffusersVaeToLdm(const StateDict &weights, const LdmBlockLayout &layout);

// Whether VAE keys use diffusers names (encoder.down_blocks.*) rather than LDM ones.
bool vaeUsesDiffusersNames(const StateDict &weights);

} // namespace stipple::core
