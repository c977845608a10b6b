// ClipTextModel: the CLIP text transformer of Stable Diffusion 1.x/2.x, with
// the module tree of transformers' CLIPTextModel so that state-dict names
// match (text_model.embeddings.token_embedding.weight,
// text_model.encoder.layers.N.self_attn.q_proj.weight, ...,
// text_model.final_layer_norm.weight). Reference: transformers 4.30
// models/clip/modeling_clip.py (CLIPTextTransformer, CLIPEncoderLayer,
// CLIPAttention, CLIPMLP).
// Pre-LN blocks, causal mask only (SD passes no attention mask), positions
// arange(T). SD2 checkpoints arrive with OpenCLIP's unused last block already
// removed, so lastHiddenState is the SD2 conditioning as well.
// Thread-safety: not synchronised; use an instance from one thread at a time
// (TextConditioner serialises its calls). Loading functions are reentrant.
#pragma once

#include "core/common/Result.h"
#include "core/io/StateDict.h"
#include "core/models/clip/ClipTextConfig.h"
#include "core/models/common/Linear.h"

#include <c10/core/ScalarType.h>
#include <torch/nn/module.h>
#include <torch/nn/modules/container/modulelist.h>
#include <torch/nn/modules/normalization.h>
#include <torch/nn/pimpl.h>

#include <string>
#include <vector>

namespace stipple::core {

struct ClipTextOutput {
    at::Tensor lastHiddenState;            // final_layer_norm(output of the last layer run) [B,T,C]
    std::vector<at::Tensor> hiddenStates;  // [0] embeddings, [i] output of layer i (pre final LN)
    at::Tensor pooled;                     // lastHiddenState at argmax(ids) per row [B,C]
};

class ClipTextEmbeddingsImpl : public torch::nn::Module {
public:
    explicit ClipTextEmbeddingsImpl(const ClipTextConfig &config);
    at::Tensor forward(const at::Tensor &ids); // [B,T] int64 -> [B,T,C]

    Embedding token_embedding{nullptr};
    Embedding position_embedding{nullptr};
};
TORCH_MODULE(ClipTextEmbeddings);

class ClipAttentionImpl : public torch::nn::Module {
public:
    explicit ClipAttentionImpl(const ClipTextConfig &config);
    // x [B,T,C]; mask [T,T] additive (0 / -inf).
    at::Tensor forward(const at::Tensor &x, const at::Tensor &mask);

    Linear q_proj{nullptr}, k_proj{nullptr}, v_proj{nullptr}, out_proj{nullptr};

private:
    int m_heads;
    int m_headDim;
};
TORCH_MODULE(ClipAttention);

class ClipMlpImpl : public torch::nn::Module {
public:
    explicit ClipMlpImpl(const ClipTextConfig &config);
    at::Tensor forward(const at::Tensor &x);

    Linear fc1{nullptr}, fc2{nullptr};

private:
    ClipActivation m_act;
};
TORCH_MODULE(ClipMlp);

class ClipEncoderLayerImpl : public torch::nn::Module {
public:
    explicit ClipEncoderLayerImpl(const ClipTextConfig &config);
    at::Tensor forward(const at::Tensor &x, const at::Tensor &mask);

    ClipAttention self_attn{nullptr};
    torch::nn::LayerNorm layer_norm1{nullptr};
    ClipMlp mlp{nullptr};
    torch::nn::LayerNorm layer_norm2{nullptr};
};
TORCH_MODULE(ClipEncoderLayer);

class ClipEncoderImpl : public torch::nn::Module {
public:
    explicit ClipEncoderImpl(const ClipTextConfig &config);

    torch::nn::ModuleList layers{nullptr};
};
TORCH_MODULE(ClipEncoder);

class ClipTextTransformerImpl : public torch::nn::Module {
public:
    explicit ClipTextTransformerImpl(const ClipTextConfig &config);

    ClipTextEmbeddings embeddings{nullptr};
    ClipEncoder encoder{nullptr};
    torch::nn::LayerNorm final_layer_norm{nullptr};
};
TORCH_MODULE(ClipTextTransformer);

class ClipTextModelImpl : public torch::nn::Module {
public:
    explicit ClipTextModelImpl(const ClipTextConfig &config);

    // ids [B,T] (int64, T <= max positions). Runs `layers` layers (all when
    // < 0); hidden states are kept when `keepHiddenStates`.
    ClipTextOutput forward(const at::Tensor &ids, int layers = -1, bool keepHiddenStates = true);

    // SD conditioning with A1111's "CLIP skip" N (1 = last layer,
    // 2 = penultimate, ...): final_layer_norm(hidden_states[-N]); N is
    // clamped to [1, numHiddenLayers]. Layers after the chosen one are not run.
    // (A1111 sd_hijack_clip.py encode_with_transformers.)
    at::Tensor encode(const at::Tensor &ids, int clipSkip = 1);

    const ClipTextConfig &config() const { return m_config; }
    c10::ScalarType dtype() const;

    ClipTextTransformer text_model{nullptr};

private:
    ClipTextConfig m_config;
};
TORCH_MODULE(ClipTextModel);

// How loadClipTextModel treats the linear layers' and embeddings' weights.
enum class MatrixStorage {
    Converted, // converted to the model's dtype at load
    // Kept as given (float16 views of the file, OpenOptions::
    // deferTextEncoderMatrices) and converted at each use: LinearImpl::
    // convertWeightPerCall, EmbeddingImpl::convertRowsPerCall. Same results;
    // the model then holds only its norms and biases in its own memory.
    AsGiven,
};

// Builds the model, drops "text_model.embeddings.position_ids" if present,
// loads the weights strictly (loadWeightsStrict) and converts to `dtype`
// (Float or BFloat16), the matrices as `matrices` says. The module is in
// eval mode.
Result<ClipTextModel> loadClipTextModel(const ClipTextConfig &config, StateDict weights,
                                        c10::ScalarType dtype = c10::ScalarType::Float,
                                        MatrixStorage matrices = MatrixStorage::Converted);

// diffusers/transformers folder: <dir>/config.json + <dir>/model.safetensors.
Result<ClipTextModel> loadClipTextModelFromFolder(const std::string &dir,
                                                  c10::ScalarType dtype = c10::ScalarType::Float);

} // namespace stipple::core
