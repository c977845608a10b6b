// ClipVocabulary: the data of a CLIP byte-level BPE tokenizer (token table,
// ranked merges, special tokens), read either from a diffusers/transformers
// `tokenizer/` folder (vocab.json + merges.txt + special_tokens_map.json /
// tokenizer_config.json) or from openai/CLIP's bpe_simple_vocab_16e6.txt.gz.
// Both give the same table: 256 byte symbols, the same + "</w>", the first
// 48894 merges joined, then <|startoftext|> and <|endoftext|> (openai
// clip/simple_tokenizer.py, SimpleTokenizer.__init__).
// Thread-safety: plain value; the loaders are reentrant.
#pragma once

#include "core/common/Result.h"

#include <array>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

namespace stipple::core {

struct ClipVocabulary {
    // id -> token text (UTF-8 of the byte-level unicode symbols, "</w>" suffix kept).
    std::vector<std::string> tokens;
    std::unordered_map<std::string, int> ids;
    // Merges in rank order (rank = index).
    std::vector<std::pair<std::string, std::string>> merges;

    std::string bosToken = "<|startoftext|>";
    std::string eosToken = "<|endoftext|>";
    std::string unkToken = "<|endoftext|>";
    // SD1 (openai/clip-vit-large-patch14): "<|endoftext|>"; SD2 (OpenCLIP ViT-H): "!".
    std::string padToken = "<|endoftext|>";
    int modelMaxLength = 77;

    // Number of merges CLIP uses: 49152 - 256 - 2.
    static constexpr int kNumMerges = 48894;
    static constexpr int kVocabSize = 49408;

    // Folder with vocab.json and merges.txt (special_tokens_map.json and
    // tokenizer_config.json are optional and set the special tokens).
    // Errors: MissingVocabulary (files absent), CorruptFile (malformed).
    static Result<ClipVocabulary> fromFolder(const std::string &dir);

    // openai's gzip-compressed merges file (plain text is accepted too).
    // padToken selects the padding convention (SD1 "<|endoftext|>", SD2 "!").
    static Result<ClipVocabulary> fromBpeFile(const std::string &path,
                                              const std::string &padToken = "<|endoftext|>");

    // GPT-2/CLIP bytes_to_unicode(): byte -> printable code point.
    static const std::array<char32_t, 256> &byteEncoder();
};

} // namespace stipple::core
