#include "core/text/ClipTokenizer.h"

#include "core/text/TextNormalizer.h"
#include "core/text/Utf8.h"

#include <utf8proc.h>

#include <algorithm>
#include <climits>
#include <mutex>

namespace stipple::core {

namespace {

constexpr size_t kMaxCacheEntries = 100000;

std::uint64_t pairKey(int a, int b)
{
    return (static_cast<std::uint64_t>(static_cast<std::uint32_t>(a)) << 32) | static_cast<std::uint32_t>(b);
}

unsigned categoryOf(char32_t c)
{
    return static_cast<unsigned>(utf8proc_category(static_cast<utf8proc_int32_t>(c)));
}

bool isLetterCategory(char32_t c)
{
    switch (categoryOf(c)) {
    case UTF8PROC_CATEGORY_LU:
    case UTF8PROC_CATEGORY_LL:
    case UTF8PROC_CATEGORY_LT:
    case UTF8PROC_CATEGORY_LM:
    case UTF8PROC_CATEGORY_LO:
        return true;
    default:
        return false;
    }
}

bool isLetter(char32_t c)
{
    if (c < 0x80)
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
    return isLetterCategory(c);
}

// Quirk of the `regex` module under IGNORECASE: a non-letter whose case mapping
// is a letter (U+0345 COMBINING GREEK YPOGEGRAMMENI -> U+0399) matches neither
// [\p{L}] nor the negated class [^\s\p{L}\p{N}], so CLIP's pattern skips it.
bool isCaseVariantOfLetter(char32_t c)
{
    if (c < 0x80 || isLetterCategory(c))
        return false;
    const auto cp = static_cast<utf8proc_int32_t>(c);
    const auto upper = utf8proc_toupper(cp), lower = utf8proc_tolower(cp);
    return (upper != cp && isLetterCategory(static_cast<char32_t>(upper))) ||
           (lower != cp && isLetterCategory(static_cast<char32_t>(lower)));
}

bool isNumber(char32_t c)
{
    if (c < 0x80)
        return c >= '0' && c <= '9';
    const auto cat = categoryOf(c);
    return cat == UTF8PROC_CATEGORY_ND || cat == UTF8PROC_CATEGORY_NL || cat == UTF8PROC_CATEGORY_NO;
}

// The `regex` module's \s (Unicode White_Space).
bool isRegexSpace(char32_t c)
{
    return (c >= 0x09 && c <= 0x0D) || c == 0x20 || c == 0x85 || c == 0xA0 || c == 0x1680 ||
           (c >= 0x2000 && c <= 0x200A) || c == 0x2028 || c == 0x2029 || c == 0x202F ||
           c == 0x205F || c == 0x3000;
}

// Simple case folding, enough for the ASCII letters of CLIP's pattern.
char32_t foldLetter(char32_t c)
{
    if (c >= 'A' && c <= 'Z')
        return c + 32;
    if (c == 0x17F) // LATIN SMALL LETTER LONG S folds to 's'
        return U's';
    if (c == 0x212A) // KELVIN SIGN folds to 'k'
        return U'k';
    return c;
}

// Case-insensitive match of an ASCII literal at text[pos].
size_t matchLiteral(std::u32string_view text, size_t pos, std::string_view literal)
{
    if (pos + literal.size() > text.size())
        return 0;
    for (size_t k = 0; k < literal.size(); ++k)
        if (foldLetter(text[pos + k]) != static_cast<char32_t>(literal[k]))
            return 0;
    return literal.size();
}

} // namespace

ClipTokenizer::ClipTokenizer(ClipVocabulary vocabulary)
    : m_vocab(std::move(vocabulary))
{
    auto idOf = [this](const std::string &t) {
        const auto it = m_vocab.ids.find(t);
        return it == m_vocab.ids.end() ? -1 : it->second;
    };
    m_bosId = idOf(m_vocab.bosToken);
    m_eosId = idOf(m_vocab.eosToken);
    m_padId = idOf(m_vocab.padToken);
    m_startId = idOf("<|startoftext|>");
    m_endId = idOf("<|endoftext|>");

    const auto &enc = ClipVocabulary::byteEncoder();
    m_byteOfChar.fill(-1);
    for (int b = 0; b < 256; ++b) {
        const std::string sym = utf8::encode(std::u32string(1, enc[b]));
        m_byteId[b] = idOf(sym);
        m_byteEndId[b] = idOf(sym + "</w>");
        if (enc[b] < m_byteOfChar.size())
            m_byteOfChar[enc[b]] = b;
    }

    m_merges.reserve(m_vocab.merges.size() * 2);
    for (size_t rank = 0; rank < m_vocab.merges.size(); ++rank) {
        const auto &[a, b] = m_vocab.merges[rank];
        const int ia = idOf(a), ib = idOf(b), merged = idOf(a + b);
        if (ia < 0 || ib < 0 || merged < 0)
            continue; // cannot occur with a consistent vocabulary
        m_merges.emplace(pairKey(ia, ib), std::make_pair(static_cast<int>(rank), merged));
    }

    // transformers' no-split tokens: all special tokens (unique strings).
    for (const std::string *t : {&m_vocab.bosToken, &m_vocab.eosToken, &m_vocab.unkToken, &m_vocab.padToken}) {
        const int id = idOf(*t);
        if (id < 0 || t->empty())
            continue;
        if (std::none_of(m_noSplit.begin(), m_noSplit.end(), [&](const auto &p) { return p.first == *t; }))
            m_noSplit.emplace_back(*t, id);
        if (std::find(m_skipOnDecode.begin(), m_skipOnDecode.end(), id) == m_skipOnDecode.end())
            m_skipOnDecode.push_back(id);
    }
}

Result<std::shared_ptr<ClipTokenizer>> ClipTokenizer::fromFolder(const std::string &dir)
{
    auto v = ClipVocabulary::fromFolder(dir);
    if (!v)
        return v.error();
    return std::make_shared<ClipTokenizer>(std::move(v).value());
}

Result<std::shared_ptr<ClipTokenizer>> ClipTokenizer::fromBpeFile(const std::string &path, const std::string &padToken)
{
    auto v = ClipVocabulary::fromBpeFile(path, padToken);
    if (!v)
        return v.error();
    return std::make_shared<ClipTokenizer>(std::move(v).value());
}

std::vector<std::u32string> ClipTokenizer::preTokenize(std::u32string_view text)
{
    static constexpr std::string_view kSpecials[] = {"<|startoftext|>", "<|endoftext|>"};
    static constexpr std::string_view kContractions[] = {"'s", "'t", "'re", "'ve", "'m", "'ll", "'d"};
    std::vector<std::u32string> tokens;
    size_t i = 0;
    while (i < text.size()) {
        const char32_t c = text[i];
        size_t len = 0;
        // Ordered alternation, as Python's regex engine tries it.
        if (c == U'<') {
            for (auto s : kSpecials)
                if ((len = matchLiteral(text, i, s)) > 0)
                    break;
        } else if (c == U'\'') {
            for (auto s : kContractions)
                if ((len = matchLiteral(text, i, s)) > 0)
                    break;
        }
        if (len == 0) {
            if (isLetter(c)) {
                len = 1;
                while (i + len < text.size() && isLetter(text[i + len]))
                    ++len;
            } else if (isNumber(c)) {
                len = 1;
            } else if (!isRegexSpace(c) && !isCaseVariantOfLetter(c)) {
                len = 1;
                while (i + len < text.size()) {
                    const char32_t d = text[i + len];
                    if (isRegexSpace(d) || isLetter(d) || isNumber(d) || isCaseVariantOfLetter(d))
                        break;
                    ++len;
                }
            }
        }
        if (len == 0) { // whitespace (or the U+0345 quirk): not part of any token
            ++i;
            continue;
        }
        tokens.emplace_back(text.substr(i, len));
        i += len;
    }
    return tokens;
}

void ClipTokenizer::bpe(const std::string &bytes, std::vector<int> *out) const
{
    if (bytes.size() == 1) {
        out->push_back(m_byteEndId[static_cast<unsigned char>(bytes[0])]);
        return;
    }
    {
        std::shared_lock lock(m_cacheMutex);
        const auto it = m_cache.find(bytes);
        if (it != m_cache.end()) {
            out->insert(out->end(), it->second.begin(), it->second.end());
            return;
        }
    }
    // CLIP bpe(): the last symbol carries "</w>"; repeatedly merge every
    // left-to-right occurrence of the lowest-ranked adjacent pair.
    std::vector<int> word;
    word.reserve(bytes.size());
    for (size_t k = 0; k < bytes.size(); ++k) {
        const auto b = static_cast<unsigned char>(bytes[k]);
        word.push_back(k + 1 == bytes.size() ? m_byteEndId[b] : m_byteId[b]);
    }
    std::vector<int> next;
    next.reserve(word.size());
    while (word.size() > 1) {
        int bestRank = INT_MAX, first = -1, second = -1, merged = -1;
        for (size_t k = 0; k + 1 < word.size(); ++k) {
            const auto it = m_merges.find(pairKey(word[k], word[k + 1]));
            if (it != m_merges.end() && it->second.first < bestRank) {
                bestRank = it->second.first;
                first = word[k];
                second = word[k + 1];
                merged = it->second.second;
            }
        }
        if (merged < 0)
            break;
        next.clear();
        for (size_t k = 0; k < word.size();) {
            if (k + 1 < word.size() && word[k] == first && word[k + 1] == second) {
                next.push_back(merged);
                k += 2;
            } else {
                next.push_back(word[k++]);
            }
        }
        word.swap(next);
    }
    out->insert(out->end(), word.begin(), word.end());
    std::unique_lock lock(m_cacheMutex);
    if (m_cache.size() >= kMaxCacheEntries)
        m_cache.clear();
    m_cache.emplace(bytes, std::move(word));
}

void ClipTokenizer::encodeCleanPiece(std::string_view piece, std::vector<int> *out) const
{
    const std::u32string cleaned = TextNormalizer::clipClean(utf8::decode(piece));
    for (const std::u32string &token : preTokenize(cleaned)) {
        const std::string bytes = utf8::encode(token);
        // transformers' bpe cache maps the two markers to themselves.
        if (bytes == "<|startoftext|>" && m_startId >= 0)
            out->push_back(m_startId);
        else if (bytes == "<|endoftext|>" && m_endId >= 0)
            out->push_back(m_endId);
        else
            bpe(bytes, out);
    }
}

std::vector<int> ClipTokenizer::encode(const std::string &text) const
{
    std::vector<int> out;
    // Split out special-token strings (case-sensitive, longest match first),
    // like transformers' added-token trie; the pieces between are cleaned separately.
    size_t pieceStart = 0;
    size_t i = 0;
    while (i < text.size()) {
        size_t bestLen = 0;
        int bestId = -1;
        for (const auto &[s, id] : m_noSplit) {
            if (s.size() > bestLen && text.compare(i, s.size(), s) == 0) {
                bestLen = s.size();
                bestId = id;
            }
        }
        if (bestLen == 0) {
            ++i;
            continue;
        }
        if (i > pieceStart)
            encodeCleanPiece(std::string_view(text).substr(pieceStart, i - pieceStart), &out);
        out.push_back(bestId);
        i += bestLen;
        pieceStart = i;
    }
    if (pieceStart < text.size())
        encodeCleanPiece(std::string_view(text).substr(pieceStart), &out);
    return out;
}

std::vector<std::string> ClipTokenizer::tokenize(const std::string &text) const
{
    std::vector<std::string> out;
    for (int id : encode(text))
        out.push_back(idToToken(id));
    return out;
}

int ClipTokenizer::tokenToId(const std::string &token) const
{
    const auto it = m_vocab.ids.find(token);
    return it == m_vocab.ids.end() ? -1 : it->second;
}

std::string ClipTokenizer::idToToken(int id) const
{
    if (id < 0 || id >= static_cast<int>(m_vocab.tokens.size()))
        return {};
    return m_vocab.tokens[id];
}

std::string ClipTokenizer::decode(const std::vector<int> &ids) const
{
    std::string bytes;
    for (int id : ids) {
        if (id < 0 || id >= static_cast<int>(m_vocab.tokens.size()))
            continue;
        if (std::find(m_skipOnDecode.begin(), m_skipOnDecode.end(), id) != m_skipOnDecode.end())
            continue;
        std::string_view token = m_vocab.tokens[id];
        bool wordEnd = false;
        if (token.size() >= 4 && token.substr(token.size() - 4) == "</w>") {
            token.remove_suffix(4);
            wordEnd = true;
        }
        for (char32_t c : utf8::decode(token)) {
            const int b = c < m_byteOfChar.size() ? m_byteOfChar[c] : -1;
            if (b >= 0)
                bytes.push_back(static_cast<char>(b));
        }
        if (wordEnd)
            bytes.push_back(' ');
    }
    std::string text = utf8::encode(utf8::decode(bytes)); // invalid bytes -> U+FFFD
    const auto first = text.find_first_not_of(' ');
    if (first == std::string::npos)
        return {};
    const auto last = text.find_last_not_of(' ');
    text = text.substr(first, last - first + 1);
    // transformers' clean_up_tokenization (clean_up_tokenization_spaces=True).
    static const std::pair<std::string_view, std::string_view> kCleanups[] = {
        {" .", "."}, {" ?", "?"}, {" !", "!"}, {" ,", ","}, {" ' ", "'"},
        {" n't", "n't"}, {" 'm", "'m"}, {" 's", "'s"}, {" 've", "'ve"}, {" 're", "'re"}};
    for (const auto &[from, to] : kCleanups) {
        std::string replaced;
        size_t pos = 0;
        for (size_t hit; (hit = text.find(from, pos)) != std::string::npos; pos = hit + from.size())
            replaced.append(text, pos, hit - pos).append(to);
        replaced.append(text, pos, std::string::npos);
        text.swap(replaced);
    }
    return text;
}

std::vector<int> ClipTokenizer::makeWindow(const std::vector<int> &body, int maxLength) const
{
    if (maxLength <= 0)
        maxLength = m_vocab.modelMaxLength;
    maxLength = std::max(maxLength, 2);
    std::vector<int> window;
    window.reserve(maxLength);
    window.push_back(m_bosId);
    const size_t n = std::min(body.size(), static_cast<size_t>(maxLength - 2));
    window.insert(window.end(), body.begin(), body.begin() + static_cast<long>(n));
    window.push_back(m_eosId);
    window.resize(static_cast<size_t>(maxLength), m_padId);
    return window;
}

std::vector<int> ClipTokenizer::encodeWindow(const std::string &utf8Text, int maxLength) const
{
    return makeWindow(encode(utf8Text), maxLength);
}

} // namespace stipple::core
