// ClipTokenizer: exact CLIP byte-level BPE as used by Stable Diffusion 1.x/2.x
// (Hugging Face transformers 4.30 CLIPTokenizer, the slow ftfy-based one that
// diffusers calls). Pipeline per call:
//   1. split out the tokenizer's special-token strings, case-sensitively
//      (bos/eos/unk/pad: with SD2's pad "!" every literal '!' becomes id 0);
//   2. each remaining piece: TextNormalizer::clipClean (ftfy subset, whitespace
//      collapse, lower());
//   3. pre-tokenize with CLIP's pattern
//      <\|startoftext\|>|<\|endoftext\|>|'s|'t|'re|'ve|'m|'ll|'d|[\p{L}]+|[\p{N}]|[^\s\p{L}\p{N}]+
//      (case-insensitive; Unicode categories from utf8proc; digits are single tokens);
//   4. UTF-8 bytes -> bytes_to_unicode symbols -> BPE with "</w>" on the last symbol.
// makeWindow() builds the diffusers text-encoder input: bos + first
// (maxLength-2) ids + eos, padded with padId() to maxLength (77).
// Thread-safety: immutable after creation except for an internal BPE cache
// guarded by a mutex; all const methods are safe to call concurrently.
#pragma once

#include "core/common/Result.h"
#include "core/text/ClipVocabulary.h"
#include "core/text/Tokenizer.h"

#include <array>
#include <cstdint>
#include <memory>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace stipple::core {

class ClipTokenizer : public Tokenizer {
public:
    // Padding conventions of the two SD families.
    static constexpr const char *kSd1PadToken = "<|endoftext|>";
    static constexpr const char *kSd2PadToken = "!";

    explicit ClipTokenizer(ClipVocabulary vocabulary);

    // diffusers `tokenizer/` folder (vocab.json, merges.txt, special_tokens_map.json).
    static Result<std::shared_ptr<ClipTokenizer>> fromFolder(const std::string &dir);
    // openai bpe_simple_vocab_16e6.txt.gz with the given padding convention.
    static Result<std::shared_ptr<ClipTokenizer>> fromBpeFile(const std::string &path,
                                                              const std::string &padToken = kSd1PadToken);

    // Tokenizer
    std::vector<int> encode(const std::string &utf8) const override;
    // Like transformers' decode(ids, skip_special_tokens=True): specials dropped,
    // "</w>" -> space, clean_up_tokenization (" ," -> "," ...).
    std::string decode(const std::vector<int> &ids) const override;
    int bosId() const override { return m_bosId; }
    int eosId() const override { return m_eosId; }
    int padId() const override { return m_padId; }
    int vocabSize() const override { return static_cast<int>(m_vocab.tokens.size()); }
    int modelMaxLength() const override { return m_vocab.modelMaxLength; }

    // [bos] + body[:maxLength-2] + [eos] + [pad]*; maxLength <= 0 uses modelMaxLength().
    std::vector<int> makeWindow(const std::vector<int> &body, int maxLength = 0) const;
    // makeWindow(encode(text)).
    std::vector<int> encodeWindow(const std::string &utf8, int maxLength = 0) const;

    // Token texts of encode(utf8) (byte-level symbols, e.g. "cat</w>"), for tools.
    std::vector<std::string> tokenize(const std::string &utf8) const;
    // -1 when unknown.
    int tokenToId(const std::string &token) const;
    std::string idToToken(int id) const;

    const ClipVocabulary &vocabulary() const { return m_vocab; }

    // The pre-tokenizer on already cleaned text (exposed for tests).
    static std::vector<std::u32string> preTokenize(std::u32string_view cleaned);

private:
    void encodeCleanPiece(std::string_view piece, std::vector<int> *out) const;
    void bpe(const std::string &wordBytes, std::vector<int> *out) const;

    ClipVocabulary m_vocab;
    int m_bosId = -1;
    int m_eosId = -1;
    int m_padId = -1;
    int m_startId = -1; // "<|startoftext|>"
    int m_endId = -1;   // "<|endoftext|>"
    std::array<int, 256> m_byteId{};    // symbol of byte b
    std::array<int, 256> m_byteEndId{}; // symbol of byte b + "</w>"
    std::unordered_map<std::uint64_t, std::pair<int, int>> m_merges; // (a,b) -> (rank, merged id)
    std::vector<std::pair<std::string, int>> m_noSplit; // special strings split out before cleaning
    std::vector<int> m_skipOnDecode;
    std::array<int, 0x180> m_byteOfChar{}; // byte-level symbol code point -> byte (-1 = none)

    mutable std::shared_mutex m_cacheMutex;
    mutable std::unordered_map<std::string, std::vector<int>> m_cache;
};

} // namespace stipple::core
