// Batches of the synthetic data set as tensors, and caption tokenisation in
// the layout the inference pipeline uses ([bos] body [eos] pad..., 77 ids,
// as core/text/PromptChunker builds them). Thread-safety: const methods are reentrant.
#pragma once

#include "core/common/Result.h"
#include "core/synth/SyntheticShapes.h"
#include "core/text/Tokenizer.h"

#include <ATen/core/Tensor.h>

#include <memory>
#include <string>
#include <vector>

namespace stipple::core {

struct TrainingBatch {
    at::Tensor images; // [B,3,S,S] float in [-1,1]
    at::Tensor ids;    // [B,77] int64
    std::vector<std::string> captions;
    at::Tensor masks;  // inpainting data only: [B,1,S,S] float, 1 = repaint
};

class TrainingData {
public:
    // contextObjects: shapes::DatasetOptions::contextObjectProbability.
    // inpainting: batches carry masks and the captions of inpaintingExample().
    TrainingData(std::uint64_t seed, int imageSize, std::shared_ptr<const Tokenizer> tokenizer,
                 float contextObjects = 0.0f, bool inpainting = false);

    // Batch number `index` (deterministic). Captions are replaced by "" with
    // probability `dropout` (classifier-free guidance training).
    TrainingBatch batch(std::uint64_t index, int batchSize, float dropout) const;

    at::Tensor tokenize(const std::vector<std::string> &captions) const;

private:
    shapes::SyntheticShapes m_shapes;
    int m_imageSize;
    std::uint64_t m_seed;
    bool m_inpainting;
    std::shared_ptr<const Tokenizer> m_tokenizer;
};

// Writes `count` captions plus the vocabulary words to `path`, one per line.
Status writeCaptionCorpus(const std::string &path, std::uint64_t seed, int count);

// Trains a word-level sentencepiece model with spm_train (the library's
// trainer) into <prefix>.model / <prefix>.vocab.
Status trainSentencePiece(const std::string &corpusPath, const std::string &prefix);

} // namespace stipple::core
