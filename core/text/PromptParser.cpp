// A1111 prompt attention syntax (see PromptParser.h).
#include "core/text/PromptParser.h"

#include <utf8proc.h>

#include <cstdio>
#include <cstdlib>
#include <sstream>

namespace stipple::core {

namespace {

// One entry of the working list, A1111 style: BREAK is ("BREAK", -1).
struct Entry {
    std::string text;
    double weight;
};

constexpr double kRoundMultiplier = 1.1;
constexpr double kSquareMultiplier = 1.0 / 1.1; // A1111 multiplies by 1/1.1
constexpr double kBreakWeight = -1.0;

// Decodes the code point starting at byte i (invalid bytes count as one
// non-word, non-space unit).
utf8proc_int32_t codePointAt(const std::string &s, size_t i, size_t *len)
{
    utf8proc_int32_t cp = -1;
    const auto n = utf8proc_iterate(reinterpret_cast<const utf8proc_uint8_t *>(s.data() + i),
                                    static_cast<utf8proc_ssize_t>(s.size() - i), &cp);
    *len = n > 0 ? static_cast<size_t>(n) : 1;
    return n > 0 ? cp : -1;
}

// Start byte of the code point that ends right before byte i.
size_t previousStart(const std::string &s, size_t i)
{
    size_t j = i - 1;
    while (j > 0 && (static_cast<unsigned char>(s[j]) & 0xC0) == 0x80 && i - j < 4)
        --j;
    return j;
}

// Python's `\w` for str patterns: alphanumeric (letters, numbers) or '_'.
bool isWordChar(utf8proc_int32_t cp)
{
    if (cp < 0)
        return false;
    if (cp == '_')
        return true;
    switch (utf8proc_category(cp)) {
    case UTF8PROC_CATEGORY_LU: case UTF8PROC_CATEGORY_LL: case UTF8PROC_CATEGORY_LT:
    case UTF8PROC_CATEGORY_LM: case UTF8PROC_CATEGORY_LO:
    case UTF8PROC_CATEGORY_ND: case UTF8PROC_CATEGORY_NL: case UTF8PROC_CATEGORY_NO:
        return true;
    default:
        return false;
    }
}

// Python's `\s` for str patterns (str.isspace()).
bool isSpaceChar(utf8proc_int32_t cp)
{
    if (cp < 0)
        return false;
    if ((cp >= 9 && cp <= 13) || (cp >= 0x1C && cp <= 0x1F) || cp == 0x85)
        return true;
    const auto cat = utf8proc_category(cp);
    return cat == UTF8PROC_CATEGORY_ZS || cat == UTF8PROC_CATEGORY_ZL ||
           cat == UTF8PROC_CATEGORY_ZP;
}

bool wordBefore(const std::string &s, size_t i)
{
    if (i == 0)
        return false;
    size_t len = 0;
    return isWordChar(codePointAt(s, previousStart(s, i), &len));
}

bool wordAt(const std::string &s, size_t i)
{
    if (i >= s.size())
        return false;
    size_t len = 0;
    return isWordChar(codePointAt(s, i, &len));
}

// re.split(r"\s*\bBREAK\b\s*", text): the pieces between BREAK words.
std::vector<std::string> splitOnBreak(const std::string &text)
{
    static const std::string kWord = "BREAK";
    std::vector<std::string> parts;
    size_t pieceStart = 0; // end of the previous match
    size_t search = 0;
    while (true) {
        const size_t p = text.find(kWord, search);
        if (p == std::string::npos)
            break;
        const size_t after = p + kWord.size();
        if (wordBefore(text, p) || wordAt(text, after)) {
            search = p + 1;
            continue;
        }
        // Leftmost match: extend over the whitespace right before the word
        // (not past the previous match), then greedily over the whitespace after.
        size_t begin = p;
        while (begin > pieceStart) {
            const size_t q = previousStart(text, begin);
            size_t len = 0;
            if (!isSpaceChar(codePointAt(text, q, &len)))
                break;
            begin = q;
        }
        size_t end = after;
        while (end < text.size()) {
            size_t len = 0;
            if (!isSpaceChar(codePointAt(text, end, &len)))
                break;
            end += len;
        }
        parts.push_back(text.substr(pieceStart, begin - pieceStart));
        pieceStart = end;
        search = end;
    }
    parts.push_back(text.substr(pieceStart));
    return parts;
}

bool isAsciiDigit(char c) { return c >= '0' && c <= '9'; }

// Matches `:([+-]?[.\d]+)\)` at i; returns the match length (0 if none) and
// the number text.
size_t matchWeight(const std::string &s, size_t i, std::string *number)
{
    if (s[i] != ':')
        return 0;
    size_t j = i + 1;
    if (j < s.size() && (s[j] == '+' || s[j] == '-'))
        ++j;
    const size_t digitsBegin = j;
    while (j < s.size() && (isAsciiDigit(s[j]) || s[j] == '.'))
        ++j;
    if (j == digitsBegin || j >= s.size() || s[j] != ')')
        return 0;
    *number = s.substr(i + 1, j - (i + 1));
    return j + 1 - i;
}

// Python float() for the strings the weight pattern admits.
bool parseNumber(const std::string &text, double *value)
{
    int dots = 0;
    int digits = 0;
    for (char c : text) {
        dots += c == '.';
        digits += isAsciiDigit(c);
    }
    if (dots > 1 || digits == 0)
        return false;
    char *end = nullptr;
    *value = std::strtod(text.c_str(), &end);
    return end && *end == '\0';
}

bool isSpecial(char c)
{
    return c == '\\' || c == '(' || c == ')' || c == '[' || c == ']' || c == ':';
}

} // namespace

std::vector<PromptRun> parsePromptAttention(const std::string &prompt)
{
    std::vector<Entry> res;
    std::vector<size_t> round;
    std::vector<size_t> square;

    auto multiplyRange = [&res](size_t start, double multiplier) {
        for (size_t p = start; p < res.size(); ++p)
            res[p].weight *= multiplier;
    };
    auto appendText = [&res](const std::string &text) {
        const auto parts = splitOnBreak(text);
        for (size_t k = 0; k < parts.size(); ++k) {
            if (k > 0)
                res.push_back({"BREAK", kBreakWeight});
            res.push_back({parts[k], 1.0});
        }
    };

    const std::string &s = prompt;
    size_t i = 0;
    while (i < s.size()) {
        const char c = s[i];
        // The alternatives of A1111's re_attention, in its order.
        if (c == '\\') {
            const char n = i + 1 < s.size() ? s[i + 1] : '\0';
            if (n == '(' || n == ')' || n == '[' || n == ']' || n == '\\') {
                res.push_back({std::string(1, n), 1.0});
                i += 2;
            } else {
                res.push_back({std::string(), 1.0}); // lone backslash: text[1:] == ""
                i += 1;
            }
            continue;
        }
        if (c == '(') {
            round.push_back(res.size());
            ++i;
            continue;
        }
        if (c == '[') {
            square.push_back(res.size());
            ++i;
            continue;
        }
        if (c == ':') {
            std::string number;
            const size_t n = matchWeight(s, i, &number);
            if (n > 0) {
                double w = 0;
                if (!round.empty() && parseNumber(number, &w)) {
                    const size_t start = round.back();
                    round.pop_back();
                    multiplyRange(start, w);
                } else {
                    appendText(s.substr(i, n));
                }
                i += n;
            } else {
                appendText(":");
                ++i;
            }
            continue;
        }
        if (c == ')') {
            if (!round.empty()) {
                const size_t start = round.back();
                round.pop_back();
                multiplyRange(start, kRoundMultiplier);
            } else {
                appendText(")");
            }
            ++i;
            continue;
        }
        if (c == ']') {
            if (!square.empty()) {
                const size_t start = square.back();
                square.pop_back();
                multiplyRange(start, kSquareMultiplier);
            } else {
                appendText("]");
            }
            ++i;
            continue;
        }
        size_t j = i;
        while (j < s.size() && !isSpecial(s[j]))
            ++j;
        appendText(s.substr(i, j - i));
        i = j;
    }

    // Openers left at the end apply to everything after them.
    for (size_t pos : round)
        multiplyRange(pos, kRoundMultiplier);
    for (size_t pos : square)
        multiplyRange(pos, kSquareMultiplier);

    if (res.empty())
        res.push_back({std::string(), 1.0});

    // Merge runs of identical weights.
    size_t k = 0;
    while (k + 1 < res.size()) {
        if (res[k].weight == res[k + 1].weight) {
            res[k].text += res[k + 1].text;
            res.erase(res.begin() + static_cast<std::ptrdiff_t>(k + 1));
        } else {
            ++k;
        }
    }

    std::vector<PromptRun> runs;
    runs.reserve(res.size());
    for (auto &e : res) {
        PromptRun r;
        r.isBreak = e.text == "BREAK" && e.weight == kBreakWeight;
        r.weight = r.isBreak ? 1.0 : e.weight;
        r.text = r.isBreak ? std::string() : std::move(e.text);
        runs.push_back(std::move(r));
    }
    return runs;
}

std::string describePromptRuns(const std::vector<PromptRun> &runs)
{
    std::ostringstream out;
    out << '[';
    for (size_t i = 0; i < runs.size(); ++i) {
        if (i)
            out << ", ";
        if (runs[i].isBreak) {
            out << "BREAK";
            continue;
        }
        char buf[64];
        std::snprintf(buf, sizeof buf, "%.8g", runs[i].weight);
        out << "(\"" << runs[i].text << "\", " << buf << ')';
    }
    out << ']';
    return out.str();
}

} // namespace stipple::core
