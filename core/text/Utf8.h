// UTF-8 <-> UTF-32 conversion helpers for the text code.
// Invalid UTF-8 decodes to U+FFFD per maximal invalid subsequence (like
// Python's bytes.decode("utf-8", errors="replace")).
// Thread-safety: pure functions.
#pragma once

#include <string>
#include <string_view>

namespace stipple::core::utf8 {

inline void append(std::string &out, char32_t c)
{
    if (c < 0x80) {
        out.push_back(static_cast<char>(c));
    } else if (c < 0x800) {
        out.push_back(static_cast<char>(0xC0 | (c >> 6)));
        out.push_back(static_cast<char>(0x80 | (c & 0x3F)));
    } else if (c < 0x10000) {
        out.push_back(static_cast<char>(0xE0 | (c >> 12)));
        out.push_back(static_cast<char>(0x80 | ((c >> 6) & 0x3F)));
        out.push_back(static_cast<char>(0x80 | (c & 0x3F)));
    } else {
        out.push_back(static_cast<char>(0xF0 | (c >> 18)));
        out.push_back(static_cast<char>(0x80 | ((c >> 12) & 0x3F)));
        out.push_back(static_cast<char>(0x80 | ((c >> 6) & 0x3F)));
        out.push_back(static_cast<char>(0x80 | (c & 0x3F)));
    }
}

inline std::string encode(std::u32string_view text)
{
    std::string out;
    out.reserve(text.size());
    for (char32_t c : text)
        append(out, c);
    return out;
}

// Length of the valid UTF-8 sequence starting at s[i] (1..4), or 0 when the
// bytes there are not a valid sequence; *cp receives the code point.
inline int decodeOne(std::string_view s, size_t i, char32_t *cp)
{
    const auto b0 = static_cast<unsigned char>(s[i]);
    if (b0 < 0x80) {
        *cp = b0;
        return 1;
    }
    int len = 0;
    char32_t c = 0;
    unsigned char lo = 0x80, hi = 0xBF;
    if (b0 >= 0xC2 && b0 <= 0xDF) {
        len = 2; c = b0 & 0x1F;
    } else if (b0 >= 0xE0 && b0 <= 0xEF) {
        len = 3; c = b0 & 0x0F;
        if (b0 == 0xE0) lo = 0xA0;
        if (b0 == 0xED) hi = 0x9F; // no surrogates
    } else if (b0 >= 0xF0 && b0 <= 0xF4) {
        len = 4; c = b0 & 0x07;
        if (b0 == 0xF0) lo = 0x90;
        if (b0 == 0xF4) hi = 0x8F;
    } else {
        return 0;
    }
    if (i + len > s.size())
        return 0;
    for (int k = 1; k < len; ++k) {
        const auto b = static_cast<unsigned char>(s[i + k]);
        if (b < (k == 1 ? lo : 0x80) || b > (k == 1 ? hi : 0xBF))
            return 0;
        c = (c << 6) | (b & 0x3F);
    }
    *cp = c;
    return len;
}

inline std::u32string decode(std::string_view s)
{
    std::u32string out;
    out.reserve(s.size());
    size_t i = 0;
    while (i < s.size()) {
        char32_t c = 0;
        const int n = decodeOne(s, i, &c);
        if (n > 0) {
            out.push_back(c);
            i += n;
            continue;
        }
        // Replace the maximal prefix of a would-be sequence by one U+FFFD.
        out.push_back(U'\uFFFD');
        const auto b0 = static_cast<unsigned char>(s[i]);
        size_t skip = 1;
        int want = b0 >= 0xF0 && b0 <= 0xF4 ? 4 : b0 >= 0xE0 && b0 <= 0xEF ? 3 : b0 >= 0xC2 && b0 <= 0xDF ? 2 : 1;
        while (static_cast<int>(skip) < want && i + skip < s.size()) {
            char32_t dummy;
            // Stop at the first byte that cannot continue the sequence.
            const auto b = static_cast<unsigned char>(s[i + skip]);
            if (b < 0x80 || b > 0xBF)
                break;
            // Check that the prefix so far is still a valid start.
            std::string probe(s.substr(i, skip + 1));
            probe.append(static_cast<size_t>(want) - skip - 1, '\x80');
            if (decodeOne(probe, 0, &dummy) == 0)
                break;
            ++skip;
        }
        i += skip;
    }
    return out;
}

} // namespace stipple::core::utf8
