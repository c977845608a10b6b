// PromptEdit: the multi-line prompt editor. Highlights A1111 syntax
// (PromptHighlighter) and nudges the weight of the word or selection under
// the cursor with Ctrl+Up / Ctrl+Down (+/-0.1, as in A1111 and Krita AI
// Diffusion). Ctrl+Enter is not inserted as a newline but reported through
// submitRequested() so the window can start a generation.
// Thread-safety: GUI thread only.
#pragma once

#include <QPlainTextEdit>

namespace stipple::ui {

class PromptHighlighter;

class PromptEdit : public QPlainTextEdit {
    Q_OBJECT
public:
    explicit PromptEdit(QWidget *parent = nullptr);

    PromptHighlighter *highlighter() const { return m_highlighter; }

    // Applies the weight nudge to the current cursor/selection; one undo step.
    void nudgeWeight(double delta);

Q_SIGNALS:
    void submitRequested();

protected:
    void keyPressEvent(QKeyEvent *event) override;

private:
    PromptHighlighter *m_highlighter;
};

} // namespace stipple::ui
