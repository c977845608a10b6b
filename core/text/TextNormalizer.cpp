// Implementation notes: every step mirrors the ftfy 6.1.1 / CPython 3.11 function
// named in its comment; the behaviour (not the code) is reproduced.
#include "core/text/TextNormalizer.h"

#include "core/text/Utf8.h"

#include <utf8proc.h>

#include <array>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <string>
#include <unordered_map>

namespace stipple::core {

namespace {

// Windows-1252 bytes 0x80..0x9F; the five undefined bytes map to the C1 code
// point of the same value ("sloppy-windows-1252", as in ftfy and html.unescape).
constexpr std::array<char32_t, 32> kCp1252High = {
    0x20AC, 0x0081, 0x201A, 0x0192, 0x201E, 0x2026, 0x2020, 0x2021,
    0x02C6, 0x2030, 0x0160, 0x2039, 0x0152, 0x008D, 0x017D, 0x008F,
    0x0090, 0x2018, 0x2019, 0x201C, 0x201D, 0x2022, 0x2013, 0x2014,
    0x02DC, 0x2122, 0x0161, 0x203A, 0x0153, 0x009D, 0x017E, 0x0178};

// Byte that `c` has in Latin-1 or sloppy Windows-1252, or -1.
int legacyByte(char32_t c)
{
    if (c < 0x100)
        return static_cast<int>(c);
    for (int i = 0; i < 32; ++i)
        if (kCp1252High[i] == c)
            return 0x80 + i;
    return -1;
}

std::string utf8proc_map_string(const std::string &in, int options)
{
    utf8proc_uint8_t *out = nullptr;
    const auto n = utf8proc_map(reinterpret_cast<const utf8proc_uint8_t *>(in.data()),
                                static_cast<utf8proc_ssize_t>(in.size()), &out,
                                static_cast<utf8proc_option_t>(options));
    if (n < 0 || !out)
        return in;
    std::string result(reinterpret_cast<const char *>(out), static_cast<size_t>(n));
    std::free(out);
    return result;
}

std::u32string nfkcOf(char32_t c)
{
    std::string s;
    utf8::append(s, c);
    return utf8::decode(utf8proc_map_string(s, UTF8PROC_STABLE | UTF8PROC_COMPOSE | UTF8PROC_COMPAT));
}

// ftfy chardata.WIDTH_MAP: U+3000 -> ' ', and NFKC of U+FF01..U+FFEF where it differs.
const std::unordered_map<char32_t, std::u32string> &widthMap()
{
    static const auto map = [] {
        std::unordered_map<char32_t, std::u32string> m;
        m[0x3000] = U" ";
        for (char32_t c = 0xFF01; c < 0xFFF0; ++c) {
            auto alt = nfkcOf(c);
            if (alt != std::u32string(1, c))
                m[c] = std::move(alt);
        }
        return m;
    }();
    return map;
}

// ftfy chardata.LIGATURES: NFKC of these Latin ligatures.
const std::unordered_map<char32_t, std::u32string> &ligatureMap()
{
    static const auto map = [] {
        std::unordered_map<char32_t, std::u32string> m;
        for (char32_t c : std::u32string_view(U"\u0132\u0133\u0149\u01C7\u01C8\u01C9\u01CA\u01CB"
                                              U"\u01CC\u01F1\u01F2\u01F3\uFB00\uFB01\uFB02\uFB03"
                                              U"\uFB04\uFB05\uFB06"))
            m[c] = nfkcOf(c);
        return m;
    }();
    return map;
}

struct EntityEntry {
    const char *name; // without '&'
    const char *value;
};

constexpr EntityEntry kEntities[] = {
#include "core/text/HtmlEntities.inc"
};

const std::unordered_map<std::string, std::u32string> &entityMap()
{
    static const auto map = [] {
        std::unordered_map<std::string, std::u32string> m;
        m.reserve(std::size(kEntities));
        for (const auto &e : kEntities)
            m.emplace(e.name, utf8::decode(e.value));
        return m;
    }();
    return map;
}

bool isAsciiAlnum(char32_t c)
{
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

// CPython html._replace_charref for a numeric reference value.
std::u32string numericCharref(unsigned long num)
{
    if (num == 0x00)
        return U"\uFFFD";
    if (num == 0x0D)
        return U"\r";
    if (num >= 0x80 && num <= 0x9F)
        return std::u32string(1, kCp1252High[num - 0x80]);
    if ((num >= 0xD800 && num <= 0xDFFF) || num > 0x10FFFF)
        return U"\uFFFD";
    const bool invalid = (num >= 0x1 && num <= 0x8) || (num >= 0xE && num <= 0x1F) ||
                         (num >= 0x7F && num <= 0x9F) || (num >= 0xFDD0 && num <= 0xFDEF) ||
                         num == 0xB || (num & 0xFFFE) == 0xFFFE;
    if (invalid)
        return {};
    return std::u32string(1, static_cast<char32_t>(num));
}

// html.unescape applied to a string of the form "&#" + [0-9A-Za-z]+ + ";"?
std::u32string unescapeNumeric(std::u32string_view m)
{
    size_t i = 2;
    bool hex = false;
    if (i < m.size() && (m[i] == 'x' || m[i] == 'X')) {
        hex = true;
        ++i;
    }
    const size_t start = i;
    unsigned long num = 0;
    bool overflow = false;
    while (i < m.size()) {
        const char32_t c = m[i];
        int d = -1;
        if (c >= '0' && c <= '9')
            d = static_cast<int>(c - '0');
        else if (hex && c >= 'a' && c <= 'f')
            d = static_cast<int>(c - 'a' + 10);
        else if (hex && c >= 'A' && c <= 'F')
            d = static_cast<int>(c - 'A' + 10);
        if (d < 0)
            break;
        if (!overflow) {
            num = num * (hex ? 16 : 10) + static_cast<unsigned long>(d);
            if (num > 0x10FFFF)
                overflow = true;
        }
        ++i;
    }
    if (i == start)
        return std::u32string(m); // not a character reference: unchanged
    if (i < m.size() && m[i] == ';')
        ++i;
    std::u32string out = numericCharref(overflow ? 0x110000 : num);
    out.append(m.substr(i));
    return out;
}

unsigned categoryOf(char32_t c)
{
    return static_cast<unsigned>(utf8proc_category(static_cast<utf8proc_int32_t>(c)));
}

// Approximation of Unicode's Cased property from utf8proc's data.
bool isCased(char32_t c)
{
    const auto cat = categoryOf(c);
    if (cat == UTF8PROC_CATEGORY_LU || cat == UTF8PROC_CATEGORY_LL || cat == UTF8PROC_CATEGORY_LT)
        return true;
    const auto cp = static_cast<utf8proc_int32_t>(c);
    return utf8proc_tolower(cp) != cp || utf8proc_toupper(cp) != cp;
}

// Unicode Case_Ignorable: Mn, Me, Cf, Lm, Sk, or Word_Break MidLetter/MidNumLet/Single_Quote.
bool isCaseIgnorable(char32_t c)
{
    switch (categoryOf(c)) {
    case UTF8PROC_CATEGORY_MN:
    case UTF8PROC_CATEGORY_ME:
    case UTF8PROC_CATEGORY_CF:
    case UTF8PROC_CATEGORY_LM:
    case UTF8PROC_CATEGORY_SK:
        return true;
    default:
        break;
    }
    switch (c) {
    case 0x0027: case 0x002E: case 0x003A: case 0x00B7: case 0x0387: case 0x055F:
    case 0x05F4: case 0x2018: case 0x2019: case 0x2024: case 0x2027: case 0xFE13:
    case 0xFE52: case 0xFE55: case 0xFF07: case 0xFF0E: case 0xFF1A:
        return true;
    default:
        return false;
    }
}

std::u32string fixSegment(std::u32string text, bool unescape)
{
    // ftfy.fix_and_explain: apply the fixers in order until nothing changes.
    for (int round = 0; round < 16; ++round) {
        const std::u32string orig = text;
        if (unescape)
            text = TextNormalizer::unescapeHtml(text);
        text = TextNormalizer::fixMojibake(text);
        text = TextNormalizer::fixC1Controls(text);
        text = TextNormalizer::fixLatinLigatures(text);
        text = TextNormalizer::fixCharacterWidth(text);
        text = TextNormalizer::uncurlQuotes(text);
        text = TextNormalizer::fixLineBreaks(text);
        text = TextNormalizer::removeTerminalEscapes(text);
        text = TextNormalizer::removeControlChars(text);
        text = TextNormalizer::nfc(text);
        if (text == orig)
            break;
    }
    return text;
}

} // namespace

bool TextNormalizer::isPythonSpace(char32_t c)
{
    if (c == ' ' || (c >= 0x09 && c <= 0x0D))
        return true;
    if (c < 0x80 && !(c >= 0x1C && c <= 0x1F))
        return false;
    const auto *p = utf8proc_get_property(static_cast<utf8proc_int32_t>(c));
    return p->category == UTF8PROC_CATEGORY_ZS || p->bidi_class == UTF8PROC_BIDI_CLASS_WS ||
           p->bidi_class == UTF8PROC_BIDI_CLASS_B || p->bidi_class == UTF8PROC_BIDI_CLASS_S;
}

// ftfy.fixes.unescape_html: HTML_ENTITY_RE = "&#?[0-9A-Za-z]{1,24};?".
std::u32string TextNormalizer::unescapeHtml(std::u32string_view text)
{
    if (text.find(U'&') == std::u32string_view::npos)
        return std::u32string(text);
    std::u32string out;
    out.reserve(text.size());
    size_t i = 0;
    while (i < text.size()) {
        if (text[i] != U'&') {
            out.push_back(text[i++]);
            continue;
        }
        size_t j = i + 1;
        const bool numeric = j < text.size() && text[j] == U'#';
        if (numeric)
            ++j;
        size_t k = j;
        while (k < text.size() && k - j < 24 && isAsciiAlnum(text[k]))
            ++k;
        if (k == j) { // no match at this '&'
            out.push_back(text[i++]);
            continue;
        }
        if (k < text.size() && text[k] == U';')
            ++k;
        const std::u32string_view match = text.substr(i, k - i);
        std::u32string replacement(match);
        if (numeric) {
            std::u32string unescaped = unescapeNumeric(match);
            if (unescaped.find(U';') == std::u32string::npos)
                replacement = std::move(unescaped);
        } else if (match.back() == U';') {
            const std::string key = utf8::encode(match.substr(1));
            const auto &map = entityMap();
            const auto it = map.find(key);
            if (it != map.end())
                replacement = it->second;
        }
        out += replacement;
        i = k;
    }
    return out;
}

// Mojibake: UTF-8 bytes that were decoded as Latin-1 / Windows-1252. Each run
// lead + continuation characters whose legacy bytes form one well-formed UTF-8
// sequence is replaced by the character it encodes (the core of ftfy's
// decode_inconsistent_utf8 / fix_encoding for these two code pages).
std::u32string TextNormalizer::fixMojibake(std::u32string_view text)
{
    bool candidate = false;
    for (char32_t c : text) {
        if (c >= 0xC2 && c <= 0xF4) {
            candidate = true;
            break;
        }
    }
    if (!candidate)
        return std::u32string(text);
    std::u32string out;
    out.reserve(text.size());
    size_t i = 0;
    while (i < text.size()) {
        const int lead = legacyByte(text[i]);
        const int len = lead >= 0xC2 && lead <= 0xDF ? 2 : lead >= 0xE0 && lead <= 0xEF ? 3
                        : lead >= 0xF0 && lead <= 0xF4 ? 4 : 0;
        if (len > 0 && i + len <= text.size()) {
            std::string bytes(1, static_cast<char>(lead));
            for (int k = 1; k < len; ++k) {
                const int b = legacyByte(text[i + k]);
                if (b < 0x80 || b > 0xBF)
                    break;
                bytes.push_back(static_cast<char>(b));
            }
            char32_t cp = 0;
            if (static_cast<int>(bytes.size()) == len && utf8::decodeOne(bytes, 0, &cp) == len) {
                const auto cat = categoryOf(cp);
                const bool plausible = cat != UTF8PROC_CATEGORY_CN && cat != UTF8PROC_CATEGORY_CO &&
                                       cat != UTF8PROC_CATEGORY_CS && cat != UTF8PROC_CATEGORY_CC;
                if (plausible) {
                    out.push_back(cp);
                    i += len;
                    continue;
                }
            }
        }
        out.push_back(text[i++]);
    }
    return out;
}

// ftfy.fixes.fix_c1_controls: U+0080..U+009F decoded as sloppy Windows-1252.
std::u32string TextNormalizer::fixC1Controls(std::u32string_view text)
{
    std::u32string out(text);
    for (auto &c : out)
        if (c >= 0x80 && c <= 0x9F)
            c = kCp1252High[c - 0x80];
    return out;
}

std::u32string TextNormalizer::fixLatinLigatures(std::u32string_view text)
{
    std::u32string out;
    out.reserve(text.size());
    const auto &map = ligatureMap();
    for (char32_t c : text) {
        if (c >= 0x132 && c <= 0xFB06) {
            const auto it = map.find(c);
            if (it != map.end()) {
                out += it->second;
                continue;
            }
        }
        out.push_back(c);
    }
    return out;
}

std::u32string TextNormalizer::fixCharacterWidth(std::u32string_view text)
{
    std::u32string out;
    out.reserve(text.size());
    for (char32_t c : text) {
        if (c == 0x3000 || (c >= 0xFF01 && c < 0xFFF0)) {
            const auto &map = widthMap();
            const auto it = map.find(c);
            if (it != map.end()) {
                out += it->second;
                continue;
            }
        }
        out.push_back(c);
    }
    return out;
}

// ftfy.fixes.uncurl_quotes: [\u02bc\u2018-\u201b] -> ', [\u201c-\u201f] -> ".
std::u32string TextNormalizer::uncurlQuotes(std::u32string_view text)
{
    std::u32string out(text);
    for (auto &c : out) {
        if (c == 0x02BC || (c >= 0x2018 && c <= 0x201B))
            c = U'\'';
        else if (c >= 0x201C && c <= 0x201F)
            c = U'"';
    }
    return out;
}

// ftfy.fixes.fix_line_breaks: \r\n, \r, U+2028, U+2029, U+0085 -> \n.
std::u32string TextNormalizer::fixLineBreaks(std::u32string_view text)
{
    std::u32string out;
    out.reserve(text.size());
    for (size_t i = 0; i < text.size(); ++i) {
        const char32_t c = text[i];
        if (c == U'\r') {
            if (i + 1 < text.size() && text[i + 1] == U'\n')
                ++i;
            out.push_back(U'\n');
        } else if (c == 0x2028 || c == 0x2029 || c == 0x85) {
            out.push_back(U'\n');
        } else {
            out.push_back(c);
        }
    }
    return out;
}

// ftfy.fixes.remove_terminal_escapes: "\033\[((?:\d|;)*)([a-zA-Z])" (\d = Unicode Nd).
std::u32string TextNormalizer::removeTerminalEscapes(std::u32string_view text)
{
    if (text.find(U'\x1b') == std::u32string_view::npos)
        return std::u32string(text);
    std::u32string out;
    out.reserve(text.size());
    size_t i = 0;
    while (i < text.size()) {
        if (text[i] == 0x1B && i + 1 < text.size() && text[i + 1] == U'[') {
            size_t j = i + 2;
            while (j < text.size() && (text[j] == U';' || categoryOf(text[j]) == UTF8PROC_CATEGORY_ND))
                ++j;
            if (j < text.size() && ((text[j] >= 'a' && text[j] <= 'z') || (text[j] >= 'A' && text[j] <= 'Z'))) {
                i = j + 1;
                continue;
            }
        }
        out.push_back(text[i++]);
    }
    return out;
}

// ftfy.fixes.remove_control_chars (chardata.CONTROL_CHARS).
std::u32string TextNormalizer::removeControlChars(std::u32string_view text)
{
    std::u32string out;
    out.reserve(text.size());
    for (char32_t c : text) {
        const bool control = c <= 0x08 || c == 0x0B || (c >= 0x0E && c <= 0x1F) || c == 0x7F ||
                             (c >= 0x206A && c <= 0x206F) || c == 0xFEFF || (c >= 0xFFF9 && c <= 0xFFFC);
        if (!control)
            out.push_back(c);
    }
    return out;
}

std::u32string TextNormalizer::nfc(std::u32string_view text)
{
    // Code points below U+0300 are all NFC-stable and never combine.
    bool simple = true;
    for (char32_t c : text) {
        if (c >= 0x300) {
            simple = false;
            break;
        }
    }
    if (simple)
        return std::u32string(text);
    return utf8::decode(utf8proc_map_string(utf8::encode(text), UTF8PROC_STABLE | UTF8PROC_COMPOSE));
}

// ftfy.fix_text: lines (split after '\n') are fixed one by one; once a line
// contains '<', HTML unescaping stays off for the rest ("auto" mode).
std::u32string TextNormalizer::fixText(std::u32string_view text)
{
    std::u32string out;
    out.reserve(text.size());
    bool unescape = true;
    size_t pos = 0;
    while (pos < text.size()) {
        size_t brk = text.find(U'\n', pos);
        brk = brk == std::u32string_view::npos ? text.size() : brk + 1;
        const std::u32string_view segment = text.substr(pos, brk - pos);
        if (segment.find(U'<') != std::u32string_view::npos)
            unescape = false;
        out += fixSegment(std::u32string(segment), unescape);
        pos = brk;
    }
    return out;
}

std::u32string TextNormalizer::collapseWhitespace(std::u32string_view text)
{
    std::u32string out;
    out.reserve(text.size());
    bool pendingSpace = false;
    for (char32_t c : text) {
        if (isPythonSpace(c)) {
            pendingSpace = true;
            continue;
        }
        if (pendingSpace && !out.empty())
            out.push_back(U' ');
        pendingSpace = false;
        out.push_back(c);
    }
    return out;
}

// CPython str.lower(): full lowercase mapping (SpecialCasing's only
// unconditional multi-character entry is U+0130) and the Final_Sigma rule.
std::u32string TextNormalizer::toLower(std::u32string_view text)
{
    std::u32string out;
    out.reserve(text.size());
    for (size_t i = 0; i < text.size(); ++i) {
        const char32_t c = text[i];
        if (c < 0x80) {
            out.push_back(c >= 'A' && c <= 'Z' ? c + 32 : c);
        } else if (c == 0x130) {
            out += U"i\u0307";
        } else if (c == 0x3A3) {
            long j = static_cast<long>(i) - 1;
            while (j >= 0 && isCaseIgnorable(text[j]))
                --j;
            bool finalSigma = j >= 0 && isCased(text[j]);
            if (finalSigma) {
                size_t k = i + 1;
                while (k < text.size() && isCaseIgnorable(text[k]))
                    ++k;
                finalSigma = k == text.size() || !isCased(text[k]);
            }
            out.push_back(finalSigma ? 0x3C2 : 0x3C3);
        } else {
            out.push_back(static_cast<char32_t>(utf8proc_tolower(static_cast<utf8proc_int32_t>(c))));
        }
    }
    return out;
}

std::u32string TextNormalizer::clipClean(std::u32string_view text)
{
    return toLower(collapseWhitespace(fixText(text)));
}

std::string TextNormalizer::clipClean(std::string_view utf8Text)
{
    return utf8::encode(clipClean(utf8::decode(utf8Text)));
}

} // namespace stipple::core
