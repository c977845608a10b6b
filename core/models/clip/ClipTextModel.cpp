// CLIP text transformer (see ClipTextModel.h). Formulas follow transformers
// 4.30 modeling_clip.py.
#include "core/models/clip/ClipTextModel.h"

#include "core/models/common/DiffusersFolder.h"
#include "core/models/common/ModuleConversion.h"
#include "core/models/common/ModulesOfType.h"
#include "core/models/common/Normalization.h"
#include "core/models/common/ParameterInit.h"
#include "core/models/common/WeightLoading.h"

#include <ATen/ATen.h>
#include <torch/nn/functional/activation.h>
#include <torch/utils.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <unordered_set>

namespace stipple::core {

ClipTextEmbeddingsImpl::ClipTextEmbeddingsImpl(const ClipTextConfig &c)
{
    token_embedding = register_module(
        "token_embedding", Embedding(c.vocabSize, c.hiddenSize));
    position_embedding = register_module(
        "position_embedding", Embedding(c.maxPositionEmbeddings, c.hiddenSize));
}

at::Tensor ClipTextEmbeddingsImpl::forward(const at::Tensor &ids)
{
    const auto length = ids.size(-1);
    const auto positions = at::arange(length, ids.options().dtype(at::kLong));
    // CLIPTextEmbeddings: inputs_embeds + position_embeds
    return token_embedding->forward(ids) + position_embedding->forward(positions).unsqueeze(0);
}

ClipAttentionImpl::ClipAttentionImpl(const ClipTextConfig &c)
    : m_heads(c.numAttentionHeads), m_headDim(c.headDim())
{
    q_proj = register_module("q_proj", Linear(c.hiddenSize, c.hiddenSize));
    k_proj = register_module("k_proj", Linear(c.hiddenSize, c.hiddenSize));
    v_proj = register_module("v_proj", Linear(c.hiddenSize, c.hiddenSize));
    out_proj = register_module("out_proj", Linear(c.hiddenSize, c.hiddenSize));
}

at::Tensor ClipAttentionImpl::forward(const at::Tensor &x, const at::Tensor &mask)
{
    const auto b = x.size(0);
    const auto t = x.size(1);
    const auto c = x.size(2);
    // CLIPAttention: q = q_proj(x) * head_dim^-0.5; softmax(q k^T + mask) v.
    const double scale = 1.0 / std::sqrt(static_cast<double>(m_headDim));
    auto heads = [&](const at::Tensor &y) {
        return y.view({b, t, m_heads, m_headDim}).transpose(1, 2).reshape({b * m_heads, t, m_headDim});
    };
    const auto q = heads(q_proj->forward(x) * scale);
    const auto k = heads(k_proj->forward(x));
    const auto v = heads(v_proj->forward(x));
    auto scores = at::bmm(q, k.transpose(1, 2));
    scores = scores + mask;
    const auto probs = at::softmax(scores, -1);
    auto out = at::bmm(probs, v);
    out = out.view({b, m_heads, t, m_headDim}).transpose(1, 2).reshape({b, t, c});
    return out_proj->forward(out);
}

ClipMlpImpl::ClipMlpImpl(const ClipTextConfig &c) : m_act(c.hiddenAct)
{
    fc1 = register_module("fc1", Linear(c.hiddenSize, c.intermediateSize));
    fc2 = register_module("fc2", Linear(c.intermediateSize, c.hiddenSize));
}

at::Tensor ClipMlpImpl::forward(const at::Tensor &x)
{
    auto h = fc1->forward(x);
    if (m_act == ClipActivation::QuickGelu)
        h = h * at::sigmoid(h * 1.702); // transformers QuickGELUActivation
    else
        h = at::gelu(h);                // exact (erf) GELU
    return fc2->forward(h);
}

ClipEncoderLayerImpl::ClipEncoderLayerImpl(const ClipTextConfig &c)
{
    const auto ln = torch::nn::LayerNormOptions({c.hiddenSize}).eps(c.layerNormEps);
    self_attn = register_module("self_attn", ClipAttention(c));
    layer_norm1 = register_module("layer_norm1", torch::nn::LayerNorm(ln));
    mlp = register_module("mlp", ClipMlp(c));
    layer_norm2 = register_module("layer_norm2", torch::nn::LayerNorm(ln));
}

at::Tensor ClipEncoderLayerImpl::forward(const at::Tensor &x, const at::Tensor &mask)
{
    auto h = x + self_attn->forward(layerNormStable(layer_norm1, x), mask);
    return h + mlp->forward(layerNormStable(layer_norm2, h));
}

ClipEncoderImpl::ClipEncoderImpl(const ClipTextConfig &c)
{
    layers = register_module("layers", torch::nn::ModuleList());
    for (int i = 0; i < c.numHiddenLayers; ++i)
        layers->push_back(ClipEncoderLayer(c));
}

ClipTextTransformerImpl::ClipTextTransformerImpl(const ClipTextConfig &c)
{
    embeddings = register_module("embeddings", ClipTextEmbeddings(c));
    encoder = register_module("encoder", ClipEncoder(c));
    final_layer_norm = register_module(
        "final_layer_norm",
        torch::nn::LayerNorm(torch::nn::LayerNormOptions({c.hiddenSize}).eps(c.layerNormEps)));
}

ClipTextModelImpl::ClipTextModelImpl(const ClipTextConfig &config) : m_config(config)
{
    text_model = register_module("text_model", ClipTextTransformer(config));
}

c10::ScalarType ClipTextModelImpl::dtype() const
{
    return text_model->final_layer_norm->weight.scalar_type();
}

ClipTextOutput ClipTextModelImpl::forward(const at::Tensor &ids, int layers, bool keepHiddenStates)
{
    const int total = m_config.numHiddenLayers;
    const int run = layers < 0 ? total : std::min(layers, total);
    const auto t = ids.size(-1);
    TORCH_CHECK(ids.dim() == 2, "CLIP input ids must be [B,T]");
    TORCH_CHECK(t <= m_config.maxPositionEmbeddings, "CLIP input has ", t,
                " tokens, the model has ", m_config.maxPositionEmbeddings, " positions");

    ClipTextOutput out;
    auto h = text_model->embeddings->forward(ids.to(at::kLong));
    // Causal mask: position i sees positions <= i (transformers _make_causal_mask
    // uses finfo.min; -inf gives the same softmax).
    const auto mask = at::full({t, t}, -std::numeric_limits<float>::infinity(),
                               h.options()).triu(1);
    if (keepHiddenStates)
        out.hiddenStates.push_back(h);
    for (int i = 0; i < run; ++i) {
        h = text_model->encoder->layers->ptr<ClipEncoderLayerImpl>(static_cast<size_t>(i))
                ->forward(h, mask);
        if (keepHiddenStates)
            out.hiddenStates.push_back(h);
    }
    out.lastHiddenState = layerNormStable(text_model->final_layer_norm, h);
    // transformers 4.30: pooled = last_hidden_state[arange(B), input_ids.argmax(-1)]
    const auto eosIndex = ids.to(at::kLong).argmax(-1);
    out.pooled = out.lastHiddenState.index(
        {at::arange(ids.size(0), eosIndex.options()), eosIndex});
    return out;
}

at::Tensor ClipTextModelImpl::encode(const at::Tensor &ids, int clipSkip)
{
    const int skip = std::clamp(clipSkip, 1, m_config.numHiddenLayers);
    return forward(ids, m_config.numHiddenLayers - (skip - 1), /*keepHiddenStates=*/false)
        .lastHiddenState;
}

namespace {

// MatrixStorage::AsGiven: the matrices stay, everything else goes to `dtype`.
void convertAllButMatrices(ClipTextModelImpl &model, c10::ScalarType dtype)
{
    std::unordered_set<const c10::TensorImpl *> kept;
    for (LinearImpl *linear : modulesOfType<LinearImpl>(model)) {
        linear->convertWeightPerCall(dtype);
        kept.insert(linear->weight.unsafeGetTensorImpl());
    }
    for (EmbeddingImpl *embedding : modulesOfType<EmbeddingImpl>(model)) {
        embedding->convertRowsPerCall(dtype);
        kept.insert(embedding->weight.unsafeGetTensorImpl());
    }
    convertFloatTensors(model, dtype, [&](const at::Tensor &t) { return kept.count(t.unsafeGetTensorImpl()) > 0; });
}

} // namespace

Result<ClipTextModel> loadClipTextModel(const ClipTextConfig &config, StateDict weights,
                                        c10::ScalarType dtype, MatrixStorage matrices)
{
    if (dtype != c10::ScalarType::Float && dtype != c10::ScalarType::BFloat16)
        return makeError(ErrorCode::InvalidArgument, "text encoder: dtype must be float32 or bfloat16");
    weights.erase("text_model.embeddings.position_ids");
    try {
        torch::NoGradGuard noGrad;
        ClipTextModel model = buildWithoutInit<ClipTextModel>(config); // every value comes from `weights`
        model->eval();
        if (auto st = loadWeightsStrict(*model, weights, "text_encoder", nullptr, WeightTransfer::Adopt); !st.ok())
            return st.error();
        if (matrices == MatrixStorage::AsGiven)
            convertAllButMatrices(*model, dtype);
        else
            model->to(dtype);
        return model;
    } catch (const c10::Error &e) {
        return makeError(ErrorCode::Internal,
                         std::string("text encoder: ") + e.what_without_backtrace());
    } catch (const std::bad_alloc &) {
        return makeError(ErrorCode::OutOfMemory, "text encoder: out of memory");
    }
}

Result<ClipTextModel> loadClipTextModelFromFolder(const std::string &dir, c10::ScalarType dtype)
{
    auto json = readJsonFile(dir + "/config.json");
    if (!json.ok())
        return json.error();
    auto config = ClipTextConfig::fromJson(*json);
    if (!config.ok())
        return makeError(config.error().code, dir + "/config.json: " + config.error().message);
    auto weightsPath = findDiffusersWeights(dir);
    if (!weightsPath.ok())
        return weightsPath.error();
    auto weights = readSafeTensorsFloat(*weightsPath);
    if (!weights.ok())
        return weights.error();
    return loadClipTextModel(*config, std::move(*weights), dtype);
}

} // namespace stipple::core
