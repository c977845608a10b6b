// Stable Diffusion's noise-prediction network, diffusers 0.25
// UNet2DConditionModel semantics (SD 1.x, SD 2.x incl. v-prediction and
// upcast attention, 9-channel inpaint): sinusoidal timestep embedding ->
// time MLP; conv_in; down blocks (skips); mid block; up blocks (concat
// skips); GroupNorm -> SiLU -> conv_out.
//
// Submodule names are diffusers' state-dict keys (conv_in, time_embedding.
// linear_1, down_blocks.i.resnets.j.conv1, ..., conv_out), so a diffusers
// state dict loads by lookup (loadWeightsStrict).
//
// Precision: the module may be converted to bfloat16 (toDtype); inputs are
// cast to the module dtype, the timestep embedding is always computed in
// float32, GroupNorm statistics and softmax run in float32, and the output
// is returned as float32. float32 is the parity reference.
//
// Autograd: forward() does not disable it (stipple-train differentiates
// through the module); inference callers must run under c10::InferenceMode
// or torch::NoGradGuard, otherwise every activation is kept for backward
// (an SD 1.5 step at 512² then needs > 17 GB) and attention falls back to
// the unchunked differentiable path.
//
// Thread-safety: one thread at a time per instance (attention scratch is
// per thread; a model loaded by loadUNetPackingLater changes its layers'
// state during its first two forwards).
#pragma once

#include "core/common/Result.h"
#include "core/io/Checkpoint.h"
#include "core/io/StateDict.h"
#include "core/models/common/ActivationMap.h"
#include "core/models/common/Conv2d.h"
#include "core/models/common/Linear.h"
#include "core/models/unet/UNetBlocks.h"
#include "core/models/unet/UNetConfig.h"

#include <c10/core/ScalarType.h>
#include <torch/nn/module.h>
#include <torch/nn/modules/normalization.h>
#include <torch/nn/pimpl.h>

#include <map>
#include <memory>
#include <string>
#include <vector>

namespace stipple::core {

// forward() can record intermediate activations by diffusers module name
// ("time_proj", "time_embedding", "conv_in", "down_blocks.0", "mid_block",
// "up_blocks.1", "conv_norm_out", "conv_out"), as the fixtures' dbg.* tensors.

// Sinusoidal timestep embedding (DDPM / diffusers get_timestep_embedding):
// freqs_i = exp(-ln(10000)·i/(half - shift)), emb = [sin(t·f), cos(t·f)],
// swapped to [cos, sin] when flipSinToCos. timesteps [B] (any dtype,
// fractional allowed) -> [B, dim] float32.
at::Tensor timestepEmbedding(const at::Tensor &timesteps, std::int64_t dim, bool flipSinToCos,
                             double freqShift);

class UNet2DConditionModelImpl : public torch::nn::Module {
public:
    explicit UNet2DConditionModelImpl(const UNetConfig &config);

    const UNetConfig &config() const { return m_config; }

    // sample [B, inChannels, h, w]; timestep 0-dim or [B] (int64 or float);
    // context [B, L, crossAttentionDim] (L may be 77·k). Returns
    // [B, outChannels, h, w] float32. `debug` receives float32 copies of the
    // intermediate activations when non-null.
    at::Tensor forward(const at::Tensor &sample, const at::Tensor &timestep,
                       const at::Tensor &context, ActivationMap *debug = nullptr);

    // Converts parameters to `dtype` (kFloat or kBFloat16) and, optionally,
    // to channels_last memory format for the convolutions.
    void toDtype(at::ScalarType dtype);
    at::ScalarType dtype() const { return m_dtype; }
    void setChannelsLast(bool enabled);
    bool channelsLast() const { return m_channelsLast; }

    // For inference in `dtype`: every Conv2d and Linear keeps its weight as
    // given and packs during the first forwards (DeferredPacking.h: the
    // first forward packs each layer for its call only, the second for
    // good). `files`: the mappings the weights are views of. Call before
    // toDtype(). Returns how many layers deferred.
    int deferPacking(at::ScalarType dtype, const MappedFiles &files);
    // Layers still waiting to be packed for good.
    int layersAwaitingPacking() const { return m_deferredPacking ? m_deferredPacking->pending() : 0; }

private:
    UNetConfig m_config;
    at::ScalarType m_dtype = at::kFloat;
    bool m_channelsLast = false;
    Conv2d m_convIn{nullptr}, m_convOut{nullptr};
    Linear m_timeLinear1{nullptr}, m_timeLinear2{nullptr};
    std::vector<UNetDownBlock> m_down;
    UNetMidBlock m_mid{nullptr};
    std::vector<UNetUpBlock> m_up;
    torch::nn::GroupNorm m_normOut{nullptr};
    std::shared_ptr<DeferredPacking> m_deferredPacking; // until every layer is packed
};
TORCH_MODULE(UNet2DConditionModel);

// Builds the model for `config`, loads `weights` strictly (diffusers names)
// and converts it to `dtype`. Errors: MissingKeys / UnexpectedKeys /
// ShapeMismatch with the offending names, Internal for torch failures.
Result<UNet2DConditionModel> loadUNet(const UNetConfig &config, const StateDict &weights,
                                      at::ScalarType dtype = at::kFloat);

// From an opened checkpoint's component (diffusers folder or single file):
// the config is parsed from component.config, then loaded strictly.
Result<UNet2DConditionModel> loadUNet(const ComponentWeights &component, at::ScalarType dtype = at::kFloat);

// As above, for inference: the convolutions are packed for `dtype`
// (Conv2d.h) before anything else is converted, straight from the weights
// as given, so that OpenOptions::deferUnetConvWeights saves their plain
// copy. The model is for inference in `dtype` only.
Result<UNet2DConditionModel> loadUNetForInference(const ComponentWeights &component, at::ScalarType dtype);

// As above, but the layers pack during the first two forwards instead of at
// load (UNet2DConditionModelImpl::deferPacking): the load writes almost
// nothing, and the first step runs from the file's views. `files`: the
// caller's MappedFilesScope's mappings, which must hold the component's.
// What Engine::load uses; results equal loadUNetForInference's, bit for bit.
Result<UNet2DConditionModel> loadUNetPackingLater(const ComponentWeights &component, at::ScalarType dtype,
                                                  const MappedFiles &files);

// The openCheckpoint options that go with loadUNetPackingLater (and
// loadUNetForInference) for inference in `dtype`: the UNet's and text
// encoder's floats converted to `dtype`, except what stays a file view to be
// converted later: the UNet's convolutions (wherever they are packed) and
// linear layers, converted on their way into their packed form (or, for
// linear layers in bf16, into their one converted copy): during the first
// steps with loadUNetPackingLater, at load with loadUNetForInference; the text
// encoder's matrices (converted at each use, TextConditioner::fromCheckpoint);
// and the whole VAE (converted to float32 at its first use,
// loadVaeForInference; it stays float32: bf16 decodes show banding).
OpenOptions openOptionsForInference(at::ScalarType dtype);

// From a diffusers folder: <dir>/config.json + diffusion_pytorch_model.safetensors.
Result<UNet2DConditionModel> loadUNetFromDiffusersDir(const std::string &dir,
                                                      at::ScalarType dtype = at::kFloat);

} // namespace stipple::core
