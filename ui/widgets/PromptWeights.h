// PromptWeights: pure text operations on A1111 attention syntax, used by the
// prompt editor's Ctrl+Up/Down "nudge the weight" gesture and by the
// highlighter.
//
// Syntax (A1111 modules/prompt_parser.py): "(text)" multiplies attention by
// 1.1, "[text]" divides by 1.1, "(text:1.3)" sets an explicit weight, "BREAK"
// starts a new 75-token chunk. The nudge follows A1111's edit-attention.js:
// an empty selection picks the word under the cursor (or the enclosing
// "(...:w)" group), the weight moves by +/-0.1, and a group whose weight
// returns to 1.0 loses its parentheses.
// Thread-safety: pure functions on values.
#pragma once

#include <QString>

namespace stipple::ui {

struct WeightEdit {
    QString text;
    int selectionStart = 0; // selection of the edited phrase (without brackets)
    int selectionEnd = 0;
    bool changed = false;
};

// Nudges the weight of the phrase at [selectionStart, selectionEnd) (or the
// word/group under the cursor when the range is empty) by delta.
WeightEdit nudgePromptWeight(const QString &text, int selectionStart, int selectionEnd,
                             double delta);

// Formats a weight the way A1111 writes it: "1.1", "0.9", "1.25" (no
// trailing zeros, at most 2 decimals).
QString formatPromptWeight(double weight);

} // namespace stipple::ui
