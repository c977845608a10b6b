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

// ftfy 6.1.1 chardata.LIGATURES (Latin ligatures and legacy digraphs; note
// U+FB05 becomes "ſt", not NFKC's "st", and U+0149 keeps its U+02BC).
const std::unordered_map<char32_t, std::u32string> &ligatureMap()
{
    static const std::unordered_map<char32_t, std::u32string> map = {
        {0x0132, U"IJ"}, {0x0133, U"ij"}, {0x0149, U"\u02BCn"},
        {0x01F1, U"DZ"}, {0x01F2, U"Dz"}, {0x01F3, U"dz"},
        {0x01C4, U"D\u017D"}, {0x01C5, U"D\u017E"}, {0x01C6, U"d\u017E"},
        {0x01C7, U"LJ"}, {0x01C8, U"Lj"}, {0x01C9, U"lj"},
        {0x01CA, U"NJ"}, {0x01CB, U"Nj"}, {0x01CC, U"nj"},
        {0xFB00, U"ff"}, {0xFB01, U"fi"}, {0xFB02, U"fl"}, {0xFB03, U"ffi"},
        {0xFB04, U"ffl"}, {0xFB05, U"\u017Ft"}, {0xFB06, U"st"}};
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

// Character classes of ftfy 6.1.1's badness heuristic (badness.py,
// MOJIBAKE_CATEGORIES), limited to what Latin-1/Windows-1252 mojibake contains.
bool inSet(char32_t c, std::u32string_view set) { return set.find(c) != std::u32string_view::npos; }
bool isBadChar(char32_t c)
{
    return inSet(c, U"\u00A6\u00A4\u00A8\u00AC\u00AF\u00B6\u00A7\u00B8\u0192\u02C6\u02C7\u02D8\u02DB\u02DC"
                    U"\u2020\u2021\u2030\u2310\u25CA\uFFFD\u00AA\u00BA");
}
bool isCurrency(char32_t c) { return inSet(c, U"\u00A2\u00A3\u00A5\u20A7\u20AC"); }
bool isStartPunct(char32_t c)
{
    return inSet(c, U"\u00A1\u00AB\u00BF\u00A9\u0384\u0385\u2018\u201A\u201C\u201E\u2022\u2039\uF8FF");
}
bool isEndPunct(char32_t c) { return inSet(c, U"\u00AE\u00BB\u02DD\u201D\u203A\u2122"); }
bool isNumeric(char32_t c)
{
    return inSet(c, U"\u00B2\u00B3\u00B9\u00B1\u00BC\u00BD\u00BE\u00D7\u00B5\u00F7\u2044\u2202\u2206"
                    U"\u220F\u2211\u221A\u221E\u2229\u222B\u2248\u2260\u2261\u2264\u2265\u2116");
}
bool isLowerAccented(char32_t c)
{
    return (c >= 0xE0 && c <= 0xF1) ||
           inSet(c, U"\u00DF\u0103\u0105\u0107\u010D\u010F\u0111\u0119\u011B\u011F\u013A\u013E\u0142"
                    U"\u0153\u0155\u015B\u015F\u0161\u0165\u00FC\u017A\u017C\u017E\u0491\uFB01\uFB02");
}
bool isUpperAccented(char32_t c)
{
    return (c >= 0xC0 && c <= 0xD1) ||
           inSet(c, U"\u00D8\u00DC\u00DD\u0102\u0104\u0106\u010C\u010E\u0110\u0118\u011A\u011E\u0130"
                    U"\u0139\u013D\u0141\u0143\u0147\u0152\u0158\u015A\u015E\u0160\u0162\u0164\u016E"
                    U"\u0170\u0178\u0179\u017B\u017D\u0490");
}

// Two-character rules of ftfy's BADNESS_RE that apply to these code pages.
bool badPair(char32_t a, char32_t b)
{
    const bool aLA = isLowerAccented(a), aUA = isUpperAccented(a), aCur = isCurrency(a),
               aNum = isNumeric(a), aSP = isStartPunct(a), aEP = isEndPunct(a), aBad = isBadChar(a);
    if (isBadChar(b) && (aBad || aLA || aUA || aSP || aEP || aCur || aNum))
        return true;
    if (aBad && (isLowerAccented(b) || isUpperAccented(b) || isStartPunct(b) || isEndPunct(b) ||
                 isCurrency(b) || isNumeric(b)))
        return true;
    if ((aLA || aEP || aCur || aNum) && isUpperAccented(b))
        return true;
    if ((aEP || aCur || aNum) && isLowerAccented(b))
        return true;
    if ((aLA || aEP) && isCurrency(b))
        return true;
    if (aUA && isNumeric(b))
        return true;
    if ((aCur || aNum) && isStartPunct(b))
        return true;
    if ((a == 0x152 || a == 0x153) && !((b >= 'a' && b <= 'z') || (b >= 'A' && b <= 'Z')))
        return true;
    if (inSet(a, U"\u00C2\u00C3\u00CE\u00D0") &&
        (inSet(b, U"\u20AC\u0160\u0161\u00A2\u00A3\u0178\u017E\u00A0\u00AD\u00AE\u00A9\u00B0\u00B7\u00BB"
                  U"\u2013\u2014\u00B4") ||
         isStartPunct(b) || isEndPunct(b)))
        return true;
    if (a == 0xD7 && (b == 0xB2 || b == 0xB3))
        return true;
    if (a == 0xE0 && inSet(b, U"\u00B2\u00B5\u00B9\u00BC\u00BD\u00BE"))
        return true;
    return false;
}

} // namespace

bool TextNormalizer::looksLikeMojibake(std::u32string_view text)
{
    auto isAHat = [](char32_t c) { return c == 0xC3 || c == 0xC2; }; // Ã, Â
    for (size_t i = 0; i < text.size(); ++i) {
        const char32_t c = text[i];
        if (c >= 0x80 && c <= 0x9F)
            return true; // C1 controls only occur in mojibake
        if (i + 1 < text.size() && badPair(c, text[i + 1]))
            return true;
        // "[a-z]\s?[ÃÂ][ ]" and "^[ÃÂ][ ]": an encoded U+00A0 turned into a space.
        if (isAHat(c) && i + 1 < text.size() && text[i + 1] == U' ') {
            if (i == 0)
                return true;
            const char32_t p = text[i - 1];
            if (p >= 'a' && p <= 'z')
                return true;
            if (i >= 2 && isPythonSpace(p) && text[i - 2] >= 'a' && text[i - 2] <= 'z')
                return true;
        }
        // "[a-z.,?!{end_punctuation}] Â [ {start_punctuation}{end_punctuation}]"
        if (c == 0xC2 && i > 0 && i + 1 < text.size()) {
            const char32_t p = text[i - 1], n = text[i + 1];
            const bool before = (p >= 'a' && p <= 'z') || inSet(p, U".,?!") || isEndPunct(p);
            const bool after = n == U' ' || isStartPunct(n) || isEndPunct(n);
            if (before && after)
                return true;
        }
    }
    return false;
}

namespace {

// ftfy.fixes.restore_byte_a0 on legacy-encoded bytes: put back 0xA0 bytes that
// became spaces inside would-be UTF-8 sequences (chardata.ALTERED_UTF8_RE), and
// "\xc3 " -> "\xc3\xa0 " for the Portuguese/French word "à" (A_GRAVE_WORD_RE).
std::string restoreByteA0(const std::string &in)
{
    auto u = [&](const std::string &s, size_t i) { return i < s.size() ? static_cast<unsigned char>(s[i]) : 0x100u; };
    auto cont = [](unsigned b) { return b >= 0x80 && b <= 0xBF; };
    auto contNo85A0 = [&](unsigned b) { return cont(b) && b != 0x85 && b != 0xA0; };
    std::string s;
    s.reserve(in.size() + 8);
    for (size_t i = 0; i < in.size(); ++i) {
        s.push_back(in[i]);
        if (u(in, i) == 0xC3 && u(in, i + 1) == 0x20) {
            const std::string_view rest = std::string_view(in).substr(i + 2);
            const bool excluded = rest.substr(0, 1) == " " || rest.substr(0, 5) == "quele" ||
                                  rest.substr(0, 5) == "quela" || rest.substr(0, 5) == "quilo" ||
                                  rest.substr(0, 2) == "s ";
            if (!excluded)
                s.push_back(static_cast<char>(0xA0));
        }
    }
    size_t i = 0;
    while (i < s.size()) {
        const unsigned b0 = u(s, i), b1 = u(s, i + 1), b2 = u(s, i + 2), b3 = u(s, i + 3);
        size_t len = 0;
        if ((b0 == 0xC2 || b0 == 0xC3 || b0 == 0xC5 || b0 == 0xCE || b0 == 0xD0 || b0 == 0xD9) && b1 == 0x20)
            len = 2;
        else if ((b0 == 0xE2 || b0 == 0xE3) && b1 == 0x20 && contNo85A0(b2))
            len = 3;
        else if (b0 >= 0xE0 && b0 <= 0xE3 && contNo85A0(b1) && b2 == 0x20)
            len = 3;
        else if (b0 == 0xF0 && ((b1 == 0x20 && cont(b2) && cont(b3)) || (cont(b1) && b2 == 0x20 && cont(b3)) ||
                                (cont(b1) && cont(b2) && b3 == 0x20)))
            len = 4;
        if (len == 0) {
            ++i;
            continue;
        }
        for (size_t k = i; k < i + len; ++k)
            if (s[k] == ' ')
                s[k] = static_cast<char>(0xA0);
        i += len;
    }
    return s;
}

} // namespace

namespace {

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

// ftfy.fixes.unescape_html: HTML_ENTITY_RE = "&#?[0-9A-Za-z]{1,24};".
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
        if (k == j || k >= text.size() || text[k] != U';') { // no match at this '&'
            out.push_back(text[i++]);
            continue;
        }
        ++k; // the ';' is required
        const std::u32string_view match = text.substr(i, k - i);
        std::u32string replacement(match);
        if (numeric) {
            std::u32string unescaped = unescapeNumeric(match);
            if (unescaped.find(U';') == std::u32string::npos)
                replacement = std::move(unescaped);
        } else {
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

// Mojibake repair, modelled on ftfy 6.1.1's fix_encoding for the Latin-1 /
// Windows-1252 cases: (1) a segment that re-encodes entirely to well-formed
// UTF-8 and looks bad is decoded as a whole; (2) otherwise each embedded
// UTF-8 sequence (lead + continuation characters) that looks bad on its own is
// decoded (decode_inconsistent_utf8). "Looks bad" is a subset of ftfy's
// badness.py rules restricted to the characters these code pages produce.
std::u32string TextNormalizer::fixMojibake(std::u32string_view text)
{
    bool candidate = false;
    for (char32_t c : text) {
        if (c >= 0xC2 && c <= 0xF4) {
            candidate = true;
            break;
        }
    }
    // ftfy only looks further when the whole segment looks bad.
    if (!candidate || !looksLikeMojibake(text))
        return std::u32string(text);

    // (1) The whole segment.
    bool encodable = true;
    std::string bytes;
    bytes.reserve(text.size());
    for (char32_t c : text) {
        const int b = legacyByte(c);
        if (b < 0) {
            encodable = false;
            break;
        }
        bytes.push_back(static_cast<char>(b));
    }
    if (encodable) {
        bytes = restoreByteA0(bytes);
        std::u32string decoded;
        size_t i = 0;
        bool valid = true;
        while (i < bytes.size()) {
            char32_t cp = 0;
            const int n = utf8::decodeOne(bytes, i, &cp);
            if (n == 0) {
                valid = false;
                break;
            }
            decoded.push_back(cp);
            i += static_cast<size_t>(n);
        }
        if (valid)
            return decoded;
    }

    // (2) Runs of UTF-8-looking sequences (ftfy's UTF8_DETECTOR_RE): each run
    // not preceded by a strict continuation character is decoded when it looks
    // bad by itself and decodes as a whole.
    // A space may stand for a lost U+00A0 here (ftfy accepts it in runs, and
    // such runs then fail to decode and stay as they are).
    auto continuationByte = [](char32_t c) {
        const int b = legacyByte(c);
        return (b >= 0x80 && b <= 0xBF) || c == U' ';
    };
    auto strictContinuation = [&](char32_t c) {
        // Continuation characters except dashes, curly quotes, ellipsis, space.
        return continuationByte(c) &&
               !inSet(c, U" \u2013\u2014\u2015\u2018\u2019\u201A\u201C\u201D\u201E\u2026");
    };
    auto sequenceLength = [&](size_t at) -> size_t {
        const int lead = legacyByte(text[at]);
        const size_t len = lead >= 0xC2 && lead <= 0xDF ? 2 : lead >= 0xE0 && lead <= 0xEF ? 3
                           : (lead == 0xF0 || lead == 0xF3) ? 4 : 0;
        if (len == 0 || at + len > text.size())
            return 0;
        for (size_t k = 1; k < len; ++k)
            if (!continuationByte(text[at + k]))
                return 0;
        return len;
    };
    std::u32string out;
    out.reserve(text.size());
    size_t i = 0;
    while (i < text.size()) {
        if (i > 0 && strictContinuation(text[i - 1])) {
            out.push_back(text[i++]);
            continue;
        }
        size_t j = i;
        for (size_t len; j < text.size() && (len = sequenceLength(j)) > 0;)
            j += len;
        if (j == i) {
            out.push_back(text[i++]);
            continue;
        }
        const std::u32string_view run = text.substr(i, j - i);
        std::u32string decoded;
        bool valid = looksLikeMojibake(run);
        if (valid) {
            std::string runBytes;
            for (char32_t c : run)
                runBytes.push_back(static_cast<char>(legacyByte(c)));
            runBytes = restoreByteA0(runBytes);
            for (size_t k = 0; k < runBytes.size();) {
                char32_t cp = 0;
                const int n = utf8::decodeOne(runBytes, k, &cp);
                if (n == 0) {
                    valid = false;
                    break;
                }
                decoded.push_back(cp);
                k += static_cast<size_t>(n);
            }
        }
        out += valid ? std::u32string_view(decoded) : run;
        i = j;
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
