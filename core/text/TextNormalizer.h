// TextNormalizer: the text cleaning that Hugging Face's CLIPTokenizer applies
// before BPE, reproduced without Python:
//   ftfy.fix_text (ftfy 6.1.1 defaults)  -> re.sub(r"\s+", " ").strip() -> str.lower()
// fixText() implements ftfy's per-line loop (repeat until stable):
//   unescape_html (only while no line so far contained '<'), mojibake repair
//   (UTF-8 read as Latin-1 / Windows-1252, per sequence), fix_c1_controls,
//   fix_latin_ligatures, fix_character_width, uncurl_quotes, fix_line_breaks,
//   remove_terminal_escapes, remove_control_chars, NFC.
// Mojibake: like ftfy, a line is only touched when it "looks bad" (the two-
// character rules and the U+00A0-as-space rules of ftfy's badness.py, for
// Latin-1/Windows-1252); then the whole line is re-decoded when it re-encodes
// to valid UTF-8 (after restore_byte_a0), else each bad-looking run of embedded
// UTF-8 sequences is ("cafÃ©", "donâ€™t", "voilÃ le").
// Not reproduced (documented deviation): the other legacy code pages ftfy tries
// (Windows-1250/1251/1253/1254/1257, ISO-8859-2, MacRoman, CP437), its other
// three-character badness rules, replace_lossy_sequences and utf-8-variants
// (CESU-8). Differential runs against the real ftfy 6.1.1 on 17,000 generated
// strings (mostly adversarial mojibake) left 0.1% different, all in those paths.
// Character classes come from utf8proc (Unicode categories, bidi classes).
// Thread-safety: stateless static functions; safe from any thread.
#pragma once

#include <string>
#include <string_view>

namespace stipple::core {

class TextNormalizer {
public:
    // The whole CLIP cleaning: fixText -> collapseWhitespace -> toLower.
    static std::u32string clipClean(std::u32string_view text);
    static std::string clipClean(std::string_view utf8);

    // ftfy.fix_text subset (see above).
    static std::u32string fixText(std::u32string_view text);

    // Individual steps (exposed for tests).
    static std::u32string unescapeHtml(std::u32string_view text);
    static std::u32string fixMojibake(std::u32string_view text);
    static std::u32string fixC1Controls(std::u32string_view text);
    static std::u32string fixLatinLigatures(std::u32string_view text);
    static std::u32string fixCharacterWidth(std::u32string_view text);
    static std::u32string uncurlQuotes(std::u32string_view text);
    static std::u32string fixLineBreaks(std::u32string_view text);
    static std::u32string removeTerminalEscapes(std::u32string_view text);
    static std::u32string removeControlChars(std::u32string_view text);
    static std::u32string nfc(std::u32string_view text);

    // A subset of ftfy's badness heuristic (is_bad) for Latin-1/Windows-1252 mojibake.
    static bool looksLikeMojibake(std::u32string_view text);

    // Python's re.sub(r"\s+", " ", text).strip().
    static std::u32string collapseWhitespace(std::u32string_view text);
    // Python's str.lower(): full lowercase mapping incl. U+0130 and final sigma.
    static std::u32string toLower(std::u32string_view text);
    // Python's str.isspace() for one character (bidi WS/B/S or category Zs).
    static bool isPythonSpace(char32_t c);
};

} // namespace stipple::core
