// TextNormalizer: the text cleaning that Hugging Face's CLIPTokenizer applies
// before BPE, reproduced without Python:
//   ftfy.fix_text (ftfy 6.1.1 defaults)  -> re.sub(r"\s+", " ").strip() -> str.lower()
// fixText() implements ftfy's per-line loop (repeat until stable):
//   unescape_html (only while no line so far contained '<'), mojibake repair
//   (UTF-8 read as Latin-1 / Windows-1252, per sequence), fix_c1_controls,
//   fix_latin_ligatures, fix_character_width, uncurl_quotes, fix_line_breaks,
//   remove_terminal_escapes, remove_control_chars, NFC.
// Not reproduced (documented deviation): ftfy's statistical "badness" score,
// which decides whether a whole line is re-decoded in another legacy code page
// (Windows-1250/1251/1253/1254, ISO-8859-2, MacRoman, CP437), restore_byte_a0
// and replace_lossy_sequences. Mojibake is repaired where a run of
// Latin-1/Windows-1252 characters re-encodes to a well-formed multi-byte UTF-8
// sequence, which covers the common "cafÃ©" / "donâ€™t" cases.
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

    // Python's re.sub(r"\s+", " ", text).strip().
    static std::u32string collapseWhitespace(std::u32string_view text);
    // Python's str.lower(): full lowercase mapping incl. U+0130 and final sigma.
    static std::u32string toLower(std::u32string_view text);
    // Python's str.isspace() for one character (bidi WS/B/S or category Zs).
    static bool isPythonSpace(char32_t c);
};

} // namespace stipple::core
