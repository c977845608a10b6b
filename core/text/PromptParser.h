// PromptParser: the AUTOMATIC1111 attention syntax, read into weighted runs of
// text. Behaviour follows A1111 modules/prompt_parser.py `parse_prompt_attention`
// (the reference for every rule below; see its doctests):
//   (x)      weight x 1.1            ((x)) 1.21, nested brackets multiply
//   (x:1.3)  weight x 1.3            [x]  weight x (1/1.1)
//   \( \) \[ \] \\   literal characters; a lone '\' is dropped
//   BREAK    (upper case, a whole word) ends the current 75-token chunk
// Unbalanced input never fails: a ')' or ']' without an opener is literal
// text, openers still open at the end apply their multiplier to everything
// after them; adjacent runs with exactly equal weights are merged.
// A BREAK inside brackets gets its marker weight multiplied and therefore is
// no longer a break (it becomes the literal word, as in A1111).
// Deviation: A1111 raises on a malformed weight such as "(x:1..2)"; here the
// ":1..2)" is kept as literal text and the '(' stays open.
// Thread-safety: pure functions.
#pragma once

#include <string>
#include <vector>

namespace stipple::core {

struct PromptRun {
    std::string text;     // UTF-8, may be empty
    double weight = 1.0;  // product of the bracket multipliers (double, as A1111)
    bool isBreak = false; // a BREAK marker (text "BREAK", weight -1 in A1111)

    bool operator==(const PromptRun &o) const
    {
        return text == o.text && weight == o.weight && isBreak == o.isBreak;
    }
};

// Never empty: an empty prompt gives one run ("", 1.0).
std::vector<PromptRun> parsePromptAttention(const std::string &prompt);

// The runs as one line, e.g. `[("an ", 1), ("important", 1.1), BREAK]`, for
// diagnostics and test messages.
std::string describePromptRuns(const std::vector<PromptRun> &runs);

} // namespace stipple::core
