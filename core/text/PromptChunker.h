// PromptChunker: turns a prompt into 77-token CLIP windows with per-token
// weights, the way AUTOMATIC1111 does it
// (modules/sd_hijack_clip.py, FrozenCLIPEmbedderWithCustomWordsBase.tokenize_line
// and process_tokens):
//  * every parsed run (PromptParser) is tokenized on its own and each of its
//    tokens gets the run's weight;
//  * tokens fill chunks of 75; when a chunk is full and the last comma in it is
//    within the last 20 tokens (A1111 `comma_padding_backtrack`), the tokens
//    after that comma move to the next chunk;
//  * BREAK closes the current chunk (even an empty one);
//  * each chunk is padded to 75 with eos (weight 1), then wrapped as
//    [bos] + 75 + [eos]; every id after the first eos becomes the tokenizer's
//    pad id (SD2 pads with 0, SD1's pad is eos);
//  * an empty prompt gives one chunk.
// Also builds the single truncated window diffusers feeds (literal text:
// [bos] + first 75 ids + [eos] + pad).
// Textual-inversion embeddings are not supported (no A1111 `fixes`).
// Thread-safety: immutable after construction; const methods are safe from
// any thread as long as the Tokenizer's are (see Tokenizer.h).
#pragma once

#include "core/text/PromptParser.h"
#include "core/text/Tokenizer.h"

#include <string>
#include <vector>

namespace stipple::core {

struct PromptChunk {
    std::vector<int> ids;       // kWindow ids: bos, 75 body/padding ids, eos/pad
    std::vector<float> weights; // kWindow weights (1 for bos/eos/padding)
};

struct ChunkedPrompt {
    std::vector<PromptChunk> chunks; // at least one
    int tokenCount = 0;              // body tokens as A1111 counts them (75 per closed chunk)
};

class PromptChunker {
public:
    static constexpr int kChunkLength = 75;         // body tokens per window
    static constexpr int kWindow = kChunkLength + 2; // with bos and eos
    static constexpr int kCommaBacktrack = 20;       // A1111 default comma_padding_backtrack

    // `tokenizer` must outlive the chunker. The comma id is the tokenizer's
    // encoding of "," when that is a single id (CLIP: 267 ",</w>"), else none.
    explicit PromptChunker(const Tokenizer &tokenizer, int commaBacktrack = kCommaBacktrack);

    // A1111 syntax: parse, tokenize runs, chunk.
    ChunkedPrompt chunk(const std::string &prompt) const;
    // Chunks already parsed runs.
    ChunkedPrompt chunkRuns(const std::vector<PromptRun> &runs) const;

    // The window A1111 uses to pad the shorter of cond/uncond (empty prompt).
    PromptChunk emptyChunk() const;

    // diffusers: literal text, truncated to 75 body ids, one window, weights 1.
    PromptChunk literalWindow(const std::string &text) const;

    int commaId() const { return m_commaId; }
    const Tokenizer &tokenizer() const { return m_tokenizer; }

private:
    PromptChunk finish(std::vector<int> body, std::vector<float> weights) const;

    const Tokenizer &m_tokenizer;
    int m_commaBacktrack;
    int m_commaId = -1;
};

} // namespace stipple::core
