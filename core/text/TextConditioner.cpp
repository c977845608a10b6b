// Prompt -> conditioning (see TextConditioner.h).
#include "core/text/TextConditioner.h"

#include "core/text/SentencePieceTokenizer.h"

#include <fstream>

#include "core/text/ClipTokenizer.h"
#include "core/text/VocabularyLocator.h"

#include <ATen/ATen.h>
#include <torch/utils.h>

#include <algorithm>
#include <new>

namespace stipple::core {

namespace {

std::string cacheKey(const std::string &prompt, PromptSyntax syntax, int clipSkip,
                     c10::ScalarType dtype)
{
    return std::string(syntax == PromptSyntax::A1111 ? "a" : "d") + std::to_string(clipSkip) + ':' +
           c10::toString(dtype) + '\x1f' + prompt;
}

} // namespace

TextConditioner::TextConditioner(std::shared_ptr<const Tokenizer> tokenizer, ClipTextModel model,
                                 std::size_t cacheCapacity)
    : m_tokenizer(std::move(tokenizer)), m_model(std::move(model)), m_chunker(*m_tokenizer),
      m_capacity(cacheCapacity)
{
}

Result<std::unique_ptr<TextConditioner>>
TextConditioner::fromDiffusersFolder(const std::string &modelDir, c10::ScalarType dtype)
{
    auto tokenizer = ClipTokenizer::fromFolder(modelDir + "/tokenizer");
    if (!tokenizer.ok())
        return tokenizer.error();
    auto model = loadClipTextModelFromFolder(modelDir + "/text_encoder", dtype);
    if (!model.ok())
        return model.error();
    return std::make_unique<TextConditioner>(std::move(*tokenizer), std::move(*model));
}

Result<std::shared_ptr<const Tokenizer>>
TextConditioner::tokenizerFor(const std::string &tokenizerDir, ModelFamily family,
                              const std::string &userVocabPath)
{
    if (!tokenizerDir.empty()) {
        // Stipple's built-in model ships a sentencepiece model instead of CLIP's BPE.
        const std::string spmModel = tokenizerDir + "/spm.model";
        if (std::ifstream(spmModel).good()) {
            auto spm = SentencePieceTokenizer::load(spmModel);
            if (!spm.ok())
                return spm.error();
            return std::shared_ptr<const Tokenizer>(std::move(*spm));
        }
        auto tok = ClipTokenizer::fromFolder(tokenizerDir);
        if (!tok.ok())
            return tok.error();
        return std::shared_ptr<const Tokenizer>(std::move(*tok));
    }
    auto path = VocabularyLocator::locateClipBpe(userVocabPath);
    if (!path.ok())
        return path.error();
    auto tok = ClipTokenizer::fromBpeFile(*path, family == ModelFamily::SD2
                                                     ? ClipTokenizer::kSd2PadToken
                                                     : ClipTokenizer::kSd1PadToken);
    if (!tok.ok())
        return tok.error();
    return std::shared_ptr<const Tokenizer>(std::move(*tok));
}

Result<std::unique_ptr<TextConditioner>>
TextConditioner::fromCheckpoint(const Checkpoint &checkpoint, c10::ScalarType dtype,
                                const std::string &userVocabPath)
{
    auto tokenizer = tokenizerFor(checkpoint.tokenizerDir, checkpoint.info.family, userVocabPath);
    if (!tokenizer.ok())
        return tokenizer.error();
    auto config = ClipTextConfig::fromJson(checkpoint.textEncoder.config);
    if (!config.ok())
        return config.error();
    // Matrices in another dtype (OpenOptions::deferTextEncoderMatrices leaves
    // them file views) are converted at each use, everything else now.
    auto model = loadClipTextModel(*config, checkpoint.textEncoder.weights, dtype, MatrixStorage::AsGiven);
    if (!model.ok())
        return model.error();
    return std::make_unique<TextConditioner>(std::move(*tokenizer), std::move(*model));
}

c10::ScalarType TextConditioner::modelDtype() const
{
    std::lock_guard lock(m_mutex);
    return m_model->dtype();
}

int TextConditioner::hiddenSize() const
{
    return m_model->config().hiddenSize;
}

Result<at::Tensor> TextConditioner::encode(const std::string &prompt, PromptSyntax syntax,
                                           int clipSkip, std::optional<c10::ScalarType> dtype)
{
    std::lock_guard lock(m_mutex);
    return encodeLocked(prompt, syntax, clipSkip, dtype.value_or(m_model->dtype()));
}

Result<at::Tensor> TextConditioner::encodeLocked(const std::string &prompt, PromptSyntax syntax,
                                                 int clipSkip, c10::ScalarType dtype)
{
    if (dtype != c10::ScalarType::Float && dtype != c10::ScalarType::BFloat16 &&
        dtype != c10::ScalarType::Half)
        return makeError(ErrorCode::InvalidArgument, "conditioning dtype must be a float type");
    const int skip = std::clamp(clipSkip, 1, m_model->config().numHiddenLayers);
    const std::string key = cacheKey(prompt, syntax, skip, dtype);
    if (const auto it = m_index.find(key); it != m_index.end()) {
        ++m_hits;
        m_lru.splice(m_lru.begin(), m_lru, it->second);
        return it->second->second;
    }
    ++m_misses;

    std::vector<PromptChunk> chunks;
    try {
        if (syntax == PromptSyntax::A1111)
            chunks = m_chunker.chunk(prompt).chunks;
        else
            chunks.push_back(m_chunker.literalWindow(prompt));
    } catch (const std::exception &e) {
        return makeError(ErrorCode::Internal, std::string("tokenizing the prompt failed: ") + e.what());
    }
    auto z = encodeChunksLocked(chunks, skip, syntax == PromptSyntax::A1111);
    if (!z.ok())
        return z.error();
    at::Tensor result = z->scalar_type() == dtype ? *z : z->to(dtype);

    if (m_capacity > 0) {
        m_lru.emplace_front(key, result);
        m_index[key] = m_lru.begin();
        while (m_lru.size() > m_capacity) {
            m_index.erase(m_lru.back().first);
            m_lru.pop_back();
        }
    }
    return result;
}

Result<at::Tensor> TextConditioner::encodeChunks(const std::vector<PromptChunk> &chunks,
                                                 int clipSkip, bool applyWeights)
{
    std::lock_guard lock(m_mutex);
    return encodeChunksLocked(chunks, clipSkip, applyWeights);
}

Result<at::Tensor> TextConditioner::encodeChunksLocked(const std::vector<PromptChunk> &chunks,
                                                       int clipSkip, bool applyWeights)
{
    if (chunks.empty())
        return makeError(ErrorCode::InvalidArgument, "no prompt windows to encode");
    const auto k = static_cast<std::int64_t>(chunks.size());
    const auto window = static_cast<std::int64_t>(chunks.front().ids.size());
    for (const auto &c : chunks) {
        if (static_cast<std::int64_t>(c.ids.size()) != window ||
            (applyWeights && static_cast<std::int64_t>(c.weights.size()) != window))
            return makeError(ErrorCode::InvalidArgument, "prompt windows of different lengths");
        for (int id : c.ids)
            if (id < 0 || id >= m_model->config().vocabSize)
                return makeError(ErrorCode::InvalidArgument,
                                 "token id " + std::to_string(id) + " outside the text encoder's vocabulary");
    }
    try {
        torch::NoGradGuard noGrad;
        std::vector<std::int64_t> ids;
        std::vector<float> weights;
        ids.reserve(static_cast<size_t>(k * window));
        for (const auto &c : chunks) {
            ids.insert(ids.end(), c.ids.begin(), c.ids.end());
            if (applyWeights)
                weights.insert(weights.end(), c.weights.begin(), c.weights.end());
        }
        const auto idTensor = at::tensor(ids, at::kLong).view({k, window});
        // All windows in one batch: [k, 77, C].
        at::Tensor z = m_model->encode(idTensor, clipSkip);
        if (applyWeights) {
            // A1111 sd_emphasis.py EmphasisOriginal.after_transformers, per window
            // (A1111 encodes one window per call), computed in float32.
            const auto zf = z.to(at::kFloat);
            const auto w = at::tensor(weights, at::kFloat).view({k, window, 1});
            const auto originalMean = zf.mean({1, 2}, /*keepdim=*/true);
            auto weighted = zf * w;
            const auto newMean = weighted.mean({1, 2}, /*keepdim=*/true);
            weighted = weighted * (originalMean / newMean);
            z = weighted.to(z.scalar_type());
        }
        // Concatenate the windows along the sequence: [1, k*77, C].
        return z.reshape({1, k * window, z.size(-1)}).contiguous();
    } catch (const c10::Error &e) {
        return makeError(ErrorCode::Internal, std::string("text encoder: ") + e.what_without_backtrace());
    } catch (const std::bad_alloc &) {
        return makeError(ErrorCode::OutOfMemory, "text encoder: out of memory");
    }
}

Status TextConditioner::padToSameLength(at::Tensor &cond, at::Tensor &uncond, int clipSkip)
{
    if (!cond.defined() || !uncond.defined() || cond.dim() != 3 || uncond.dim() != 3 ||
        cond.size(2) != uncond.size(2))
        return makeError(ErrorCode::InvalidArgument, "cond/uncond must be [B, 77*k, C] tensors");
    if (cond.size(1) == uncond.size(1))
        return {};
    std::lock_guard lock(m_mutex);
    auto empty = encodeLocked("", PromptSyntax::A1111, clipSkip, cond.scalar_type());
    if (!empty.ok())
        return empty.error();
    const auto window = empty->size(1);
    at::Tensor &shorter = cond.size(1) < uncond.size(1) ? cond : uncond;
    const auto longer = std::max(cond.size(1), uncond.size(1));
    const auto missing = longer - shorter.size(1);
    if (missing % window != 0)
        return makeError(ErrorCode::InvalidArgument,
                         "cond/uncond lengths are not whole 77-token windows");
    try {
        const auto pad = empty->to(shorter.scalar_type()).repeat({shorter.size(0), missing / window, 1});
        shorter = at::cat({shorter, pad}, 1);
    } catch (const c10::Error &e) {
        return makeError(ErrorCode::Internal, std::string("padding cond/uncond: ") + e.what_without_backtrace());
    }
    return {};
}

std::size_t TextConditioner::cacheHits() const
{
    std::lock_guard lock(m_mutex);
    return m_hits;
}

std::size_t TextConditioner::cacheMisses() const
{
    std::lock_guard lock(m_mutex);
    return m_misses;
}

std::size_t TextConditioner::cacheSize() const
{
    std::lock_guard lock(m_mutex);
    return m_lru.size();
}

void TextConditioner::clearCache()
{
    std::lock_guard lock(m_mutex);
    m_lru.clear();
    m_index.clear();
}

} // namespace stipple::core
