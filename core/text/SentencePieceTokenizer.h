// SentencePieceTokenizer: a Tokenizer backed by a sentencepiece .model file
// (T5/LLaMA-style text encoders). libsentencepiece is NOT linked into this
// library: its bundled protobuf clashes with libtorch's and crashes the process
// before main() (../shared/docs/toolchain.md, pitfall 1). Instead the shim
// module libstipple_spm.so (core/text/spm/) is loaded with
// dlopen(RTLD_NOW | RTLD_LOCAL | RTLD_DEEPBIND) from, in order:
//   $STIPPLE_SPM_MODULE (a file), <exe dir>/, <exe dir>/../lib/,
//   <exe dir>/../lib/stipple/, <exe dir>/../../lib/ (build tree tests).
// The module is loaded once per process and never unloaded.
// Thread-safety: all const methods may be called concurrently; loading is
// serialised internally.
#pragma once

#include "core/common/Result.h"
#include "core/text/Tokenizer.h"

#include <memory>
#include <string>
#include <vector>

namespace stipple::core {

struct SpmApi; // function table of the loaded module

class SentencePieceTokenizer : public Tokenizer {
public:
    ~SentencePieceTokenizer() override;
    SentencePieceTokenizer(const SentencePieceTokenizer &) = delete;
    SentencePieceTokenizer &operator=(const SentencePieceTokenizer &) = delete;

    // Errors: MissingVocabulary (model file absent), CorruptFile (sentencepiece
    // rejected it), FileNotFound (shim module not found), Internal (module broken).
    static Result<std::shared_ptr<SentencePieceTokenizer>> load(const std::string &modelPath);

    // Path of the shim module that would be (or was) loaded.
    static Result<std::string> findModule();

    std::vector<int> encode(const std::string &utf8) const override;
    std::string decode(const std::vector<int> &ids) const override;
    int bosId() const override;
    int eosId() const override;
    int padId() const override;
    int vocabSize() const override;

    int unkId() const;
    int pieceToId(const std::string &piece) const;
    std::string idToPiece(int id) const;

private:
    SentencePieceTokenizer(const SpmApi *api, void *handle);

    const SpmApi *m_api;
    void *m_handle; // StippleSpm*
};

} // namespace stipple::core
