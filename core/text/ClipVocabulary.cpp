#include "core/text/ClipVocabulary.h"

#include "core/text/Utf8.h"

#include <nlohmann/json.hpp>
#include <zlib.h>

#include <filesystem>
#include <fstream>
#include <sstream>

namespace stipple::core {

namespace fs = std::filesystem;

namespace {

Result<std::string> readTextFile(const fs::path &path)
{
    std::error_code ec;
    if (!fs::is_regular_file(path, ec))
        return makeError(ErrorCode::MissingVocabulary, "tokenizer file not found: " + path.string());
    std::ifstream in(path, std::ios::binary);
    if (!in)
        return makeError(ErrorCode::IoError, "cannot open " + path.string());
    std::ostringstream ss;
    ss << in.rdbuf();
    if (in.bad())
        return makeError(ErrorCode::IoError, "cannot read " + path.string());
    return ss.str();
}

// Splits into lines ("\n", a trailing "\r" is dropped).
std::vector<std::string> splitLines(const std::string &text)
{
    std::vector<std::string> lines;
    size_t pos = 0;
    while (pos <= text.size()) {
        size_t end = text.find('\n', pos);
        if (end == std::string::npos)
            end = text.size();
        std::string line = text.substr(pos, end - pos);
        if (!line.empty() && line.back() == '\r')
            line.pop_back();
        lines.push_back(std::move(line));
        pos = end + 1;
    }
    return lines;
}

// Parses merge lines [1, 1 + kNumMerges) like CLIP: "a b" split on whitespace.
Status parseMerges(const std::string &text, const std::string &what,
                   std::vector<std::pair<std::string, std::string>> *merges)
{
    // transformers strips the text first; both skip line 0 (the "#version" header).
    const std::vector<std::string> lines = splitLines(text);
    if (lines.size() < 1 + static_cast<size_t>(ClipVocabulary::kNumMerges))
        return makeError(ErrorCode::CorruptFile,
                         what + ": expected " + std::to_string(ClipVocabulary::kNumMerges) +
                             " merges, found " + std::to_string(lines.empty() ? 0 : lines.size() - 1));
    merges->reserve(ClipVocabulary::kNumMerges);
    for (int i = 1; i <= ClipVocabulary::kNumMerges; ++i) {
        std::istringstream ls(lines[i]);
        std::string a, b, extra;
        if (!(ls >> a >> b) || (ls >> extra))
            return makeError(ErrorCode::CorruptFile,
                             what + ": malformed merge on line " + std::to_string(i + 1));
        merges->emplace_back(std::move(a), std::move(b));
    }
    return {};
}

void indexTokens(ClipVocabulary *v)
{
    v->ids.clear();
    v->ids.reserve(v->tokens.size());
    for (size_t i = 0; i < v->tokens.size(); ++i)
        v->ids.emplace(v->tokens[i], static_cast<int>(i));
}

// A special token entry is either "text" or {"content": "text", ...}.
std::string tokenContent(const nlohmann::json &j)
{
    if (j.is_string())
        return j.get<std::string>();
    if (j.is_object() && j.contains("content") && j["content"].is_string())
        return j["content"].get<std::string>();
    return {};
}

} // namespace

const std::array<char32_t, 256> &ClipVocabulary::byteEncoder()
{
    // Printable bytes map to themselves ('!'..'~', U+00A1..U+00AC, U+00AE..U+00FF);
    // the other 68 bytes map to U+0100 + n in byte order (bytes_to_unicode()).
    static const std::array<char32_t, 256> table = [] {
        std::array<char32_t, 256> t{};
        int n = 0;
        for (int b = 0; b < 256; ++b) {
            const bool printable = (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF);
            t[b] = printable ? static_cast<char32_t>(b) : static_cast<char32_t>(256 + n++);
        }
        return t;
    }();
    return table;
}

Result<ClipVocabulary> ClipVocabulary::fromFolder(const std::string &dir)
{
    const fs::path root(dir);
    std::error_code ec;
    if (!fs::is_directory(root, ec))
        return makeError(ErrorCode::MissingVocabulary, "tokenizer folder not found: " + dir);

    auto vocabText = readTextFile(root / "vocab.json");
    if (!vocabText)
        return vocabText.error();
    auto mergesText = readTextFile(root / "merges.txt");
    if (!mergesText)
        return mergesText.error();

    ClipVocabulary v;
    try {
        const auto j = nlohmann::json::parse(vocabText.value());
        if (!j.is_object())
            return makeError(ErrorCode::CorruptFile, (root / "vocab.json").string() + ": not a JSON object");
        v.tokens.assign(j.size(), std::string());
        for (const auto &[token, idJson] : j.items()) {
            if (!idJson.is_number_integer())
                return makeError(ErrorCode::CorruptFile, (root / "vocab.json").string() + ": id of '" + token + "' is not an integer");
            const auto id = idJson.get<long long>();
            if (id < 0 || id >= static_cast<long long>(v.tokens.size()) || !v.tokens[id].empty())
                return makeError(ErrorCode::CorruptFile, (root / "vocab.json").string() + ": ids are not 0..N-1");
            v.tokens[id] = token;
        }
    } catch (const nlohmann::json::exception &e) {
        return makeError(ErrorCode::CorruptFile, (root / "vocab.json").string() + ": " + e.what());
    }
    indexTokens(&v);

    if (auto st = parseMerges(mergesText.value(), (root / "merges.txt").string(), &v.merges); !st)
        return st.error();

    // Special tokens: special_tokens_map.json, then tokenizer_config.json override nothing
    // already found; both are optional (defaults are CLIP's).
    bool padSet = false;
    for (const char *name : {"special_tokens_map.json", "tokenizer_config.json"}) {
        const fs::path p = root / name;
        if (!fs::is_regular_file(p, ec))
            continue;
        auto text = readTextFile(p);
        if (!text)
            return text.error();
        try {
            const auto j = nlohmann::json::parse(text.value());
            if (!j.is_object())
                return makeError(ErrorCode::CorruptFile, p.string() + ": not a JSON object");
            auto take = [&](const char *key, std::string *dst, bool *flag) {
                if (!j.contains(key) || (flag && *flag))
                    return;
                const std::string t = tokenContent(j[key]);
                if (!t.empty()) {
                    *dst = t;
                    if (flag)
                        *flag = true;
                }
            };
            take("pad_token", &v.padToken, &padSet);
            take("bos_token", &v.bosToken, nullptr);
            take("eos_token", &v.eosToken, nullptr);
            take("unk_token", &v.unkToken, nullptr);
            if (j.contains("model_max_length") && j["model_max_length"].is_number_integer()) {
                const auto m = j["model_max_length"].get<long long>();
                if (m > 2 && m < 1000000)
                    v.modelMaxLength = static_cast<int>(m);
            }
        } catch (const nlohmann::json::exception &e) {
            return makeError(ErrorCode::CorruptFile, p.string() + ": " + e.what());
        }
    }
    for (const std::string *t : {&v.bosToken, &v.eosToken, &v.unkToken, &v.padToken})
        if (!v.ids.count(*t))
            return makeError(ErrorCode::CorruptFile, dir + ": special token '" + *t + "' is not in vocab.json");
    return v;
}

Result<ClipVocabulary> ClipVocabulary::fromBpeFile(const std::string &path, const std::string &padToken)
{
    std::error_code ec;
    if (!fs::is_regular_file(path, ec))
        return makeError(ErrorCode::MissingVocabulary, "CLIP vocabulary file not found: " + path);
    gzFile gz = gzopen(path.c_str(), "rb");
    if (!gz)
        return makeError(ErrorCode::IoError, "cannot open " + path);
    std::string text;
    char buf[1 << 16];
    for (;;) {
        const int n = gzread(gz, buf, sizeof buf);
        if (n < 0) {
            int err = 0;
            const char *msg = gzerror(gz, &err);
            std::string m = msg ? msg : "decompression failed";
            gzclose(gz);
            return makeError(ErrorCode::CorruptFile, path + ": " + m);
        }
        if (n == 0)
            break;
        text.append(buf, static_cast<size_t>(n));
        if (text.size() > (64u << 20)) {
            gzclose(gz);
            return makeError(ErrorCode::CorruptFile, path + ": larger than any CLIP vocabulary");
        }
    }
    gzclose(gz);

    ClipVocabulary v;
    if (auto st = parseMerges(text, path, &v.merges); !st)
        return st.error();
    // vocab = byte symbols, byte symbols + "</w>", joined merges, specials.
    const auto &enc = byteEncoder();
    // Order of bytes_to_unicode().values(): printable bytes ascending, then the rest.
    std::vector<char32_t> order;
    for (int b = 0; b < 256; ++b)
        if (enc[b] == static_cast<char32_t>(b))
            order.push_back(enc[b]);
    for (int b = 0; b < 256; ++b)
        if (enc[b] != static_cast<char32_t>(b))
            order.push_back(enc[b]);
    v.tokens.reserve(kVocabSize);
    for (char32_t c : order)
        v.tokens.push_back(utf8::encode(std::u32string(1, c)));
    for (char32_t c : order)
        v.tokens.push_back(utf8::encode(std::u32string(1, c)) + "</w>");
    for (const auto &[a, b] : v.merges)
        v.tokens.push_back(a + b);
    v.tokens.push_back("<|startoftext|>");
    v.tokens.push_back("<|endoftext|>");
    indexTokens(&v);
    if (v.ids.size() != v.tokens.size())
        return makeError(ErrorCode::CorruptFile, path + ": merges produce duplicate tokens");
    v.padToken = padToken;
    if (!v.ids.count(v.padToken))
        return makeError(ErrorCode::InvalidArgument, "pad token '" + padToken + "' is not in the CLIP vocabulary");
    return v;
}

} // namespace stipple::core
