// PromptHighlighter: colours A1111 prompt syntax in a QTextDocument.
//   (phrase)  / (phrase:1.3)  emphasis, the weight number in bold
//   [phrase]                  de-emphasis
//   BREAK                     chunk break keyword
//   <lora:name:0.8>           extra-network tags
//   unmatched ( ) [ ]         marked as errors (red wavy underline)
// Brackets may span lines, so the nesting depth is carried between blocks
// through QSyntaxHighlighter's block state.
// Thread-safety: GUI thread only (QSyntaxHighlighter).
#pragma once

#include <QSyntaxHighlighter>
#include <QTextCharFormat>

namespace stipple::ui {

class PromptHighlighter : public QSyntaxHighlighter {
    Q_OBJECT
public:
    explicit PromptHighlighter(QTextDocument *document);

    // Formats, exposed for tests and theming.
    QTextCharFormat emphasisFormat() const { return m_emphasis; }
    QTextCharFormat deEmphasisFormat() const { return m_deEmphasis; }
    QTextCharFormat weightFormat() const { return m_weight; }
    QTextCharFormat breakFormat() const { return m_break; }
    QTextCharFormat errorFormat() const { return m_error; }
    QTextCharFormat networkFormat() const { return m_network; }

protected:
    void highlightBlock(const QString &text) override;

private:
    QTextCharFormat m_emphasis;
    QTextCharFormat m_deEmphasis;
    QTextCharFormat m_weight;
    QTextCharFormat m_break;
    QTextCharFormat m_error;
    QTextCharFormat m_network;
};

} // namespace stipple::ui
