// Tokenizer: the abstract text -> token id interface used by prompt parsing and
// the text conditioners. Implementations: ClipTokenizer (CLIP byte-level BPE,
// SD1/SD2) and SentencePieceTokenizer (T5-style models, isolated module).
//
// encode() returns only the body ids: no BOS/EOS, no padding, no truncation;
// the caller builds the model window (see ClipTokenizer::makeWindow for the
// diffusers 77-token layout).
// Thread-safety: after construction all const methods may be called from any
// number of threads concurrently (implementations guard internal caches).
#pragma once

#include <string>
#include <vector>

namespace stipple::core {

class Tokenizer {
public:
    virtual ~Tokenizer() = default;

    // Body ids for a UTF-8 string (no bos/eos/padding).
    virtual std::vector<int> encode(const std::string &utf8) const = 0;

    // Text for ids; special tokens (bos/eos/pad) are skipped.
    virtual std::string decode(const std::vector<int> &ids) const = 0;

    // Special ids; -1 when the vocabulary has no such token.
    virtual int bosId() const = 0;
    virtual int eosId() const = 0;
    virtual int padId() const = 0;

    virtual int vocabSize() const = 0;

    // Maximum window length of the matching text encoder including bos/eos
    // (77 for CLIP); 0 when unbounded/unknown.
    virtual int modelMaxLength() const { return 0; }
};

} // namespace stipple::core
