// TextConditioner: prompt text -> the UNet's encoder_hidden_states.
//  * PromptSyntax::A1111 (AUTOMATIC1111, modules/sd_hijack_clip.py +
//    sd_emphasis.py "Original"): the prompt is parsed (PromptParser) and cut
//    into 77-token windows (PromptChunker); each window is encoded, its hidden
//    states are multiplied by the per-token weights and rescaled so that the
//    window's mean is unchanged:
//        m0 = z.mean(); z = z * w; z = z * (m0 / z.mean())
//    and the windows are concatenated along the sequence: [1, 77*k, C].
//  * PromptSyntax::Diffusers: literal text, one window [bos] + first 75 ids +
//    [eos] + pad, exactly what diffusers' StableDiffusionPipeline feeds: [1,77,C].
// clipSkip uses A1111's meaning in both modes (1 = last layer, 2 =
// penultimate + final LN, ...); diffusers' `clip_skip=k` is clipSkip k+1.
// (A1111 itself ignores CLIP skip for SD2; here it applies to the layers the
// model has, and SD2 checkpoints arrive without OpenCLIP's unused last block.)
// The model runs in the dtype it was loaded with; the emphasis arithmetic is
// done in float32 and the result converted to the requested dtype.
// Results are cached (LRU) by (text, syntax, clipSkip, dtype).
// Thread-safety: all public methods are serialised by an internal mutex and
// may be called from any thread.
#pragma once

#include "core/common/Result.h"
#include "core/io/Checkpoint.h"
#include "core/io/ModelInfo.h"
#include "core/models/clip/ClipTextModel.h"
#include "core/text/PromptChunker.h"
#include "core/text/PromptSyntax.h"
#include "core/text/Tokenizer.h"

#include <ATen/core/Tensor.h>
#include <c10/core/ScalarType.h>

#include <cstddef>
#include <list>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

namespace stipple::core {

class TextConditioner {
public:
    static constexpr std::size_t kDefaultCacheCapacity = 16;

    TextConditioner(std::shared_ptr<const Tokenizer> tokenizer, ClipTextModel model,
                    std::size_t cacheCapacity = kDefaultCacheCapacity);

    // diffusers folder: <dir>/tokenizer (ClipTokenizer) + <dir>/text_encoder.
    static Result<std::unique_ptr<TextConditioner>>
    fromDiffusersFolder(const std::string &modelDir, c10::ScalarType dtype = c10::ScalarType::Float);

    // From an opened checkpoint: its text encoder (config + weights, loaded
    // strictly in `dtype`; linear and embedding weights in another dtype stay
    // as they are and convert at each use, MatrixStorage::AsGiven) and
    // tokenizerFor(...) as the tokenizer.
    static Result<std::unique_ptr<TextConditioner>>
    fromCheckpoint(const Checkpoint &checkpoint, c10::ScalarType dtype = c10::ScalarType::Float,
                   const std::string &userVocabPath = {});

    // The CLIP tokenizer of a model: `tokenizerDir` (a diffusers tokenizer/
    // folder) when not empty, else openai's BPE file found by
    // VocabularyLocator (userVocabPath: file or folder, may be empty) with the
    // family's padding (SD2: "!" = id 0, otherwise eos).
    static Result<std::shared_ptr<const Tokenizer>>
    tokenizerFor(const std::string &tokenizerDir, ModelFamily family,
                 const std::string &userVocabPath = {});

    // [1, 77*k, C] in `dtype` (default: the model's dtype). The returned
    // tensor may be shared with the cache: never modify it in place.
    Result<at::Tensor> encode(const std::string &prompt, PromptSyntax syntax, int clipSkip = 1,
                              std::optional<c10::ScalarType> dtype = std::nullopt);

    // Encodes prepared windows ([bos] ... 77 ids each): with `applyWeights`
    // the A1111 emphasis (weights, mean restored per window) is applied.
    // Returns [1, 77*k, C] in the model's dtype. Not cached.
    Result<at::Tensor> encodeChunks(const std::vector<PromptChunk> &chunks, int clipSkip,
                                    bool applyWeights);

    // Makes cond and uncond the same length for one CFG batch, as A1111 does
    // (sd_samplers_cfg_denoiser.py pad_cond): the shorter one gets encodings
    // of the empty prompt (A1111 syntax, same clipSkip) appended until both
    // have the same number of 77-token windows. Both must be [B, 77*k, C].
    Status padToSameLength(at::Tensor &cond, at::Tensor &uncond, int clipSkip = 1);

    const PromptChunker &chunker() const { return m_chunker; }
    const Tokenizer &tokenizer() const { return *m_tokenizer; }
    c10::ScalarType modelDtype() const;
    int hiddenSize() const;

    // Cache statistics (for tests and diagnostics).
    std::size_t cacheHits() const;
    std::size_t cacheMisses() const;
    std::size_t cacheSize() const;
    void clearCache();

private:
    Result<at::Tensor> encodeLocked(const std::string &prompt, PromptSyntax syntax, int clipSkip,
                                    c10::ScalarType dtype);
    Result<at::Tensor> encodeChunksLocked(const std::vector<PromptChunk> &chunks, int clipSkip,
                                          bool applyWeights);

    std::shared_ptr<const Tokenizer> m_tokenizer;
    ClipTextModel m_model;
    PromptChunker m_chunker;

    mutable std::mutex m_mutex;
    std::size_t m_capacity;
    // LRU: most recent first.
    std::list<std::pair<std::string, at::Tensor>> m_lru;
    std::unordered_map<std::string, std::list<std::pair<std::string, at::Tensor>>::iterator> m_index;
    std::size_t m_hits = 0;
    std::size_t m_misses = 0;
};

} // namespace stipple::core
