#include "ui/widgets/PromptEdit.h"

#include "ui/widgets/PromptHighlighter.h"
#include "ui/widgets/PromptWeights.h"

#include <QKeyEvent>
#include <QTextBlock>

namespace stipple::ui {

PromptEdit::PromptEdit(QWidget *parent)
    : QPlainTextEdit(parent), m_highlighter(new PromptHighlighter(document()))
{
    setTabChangesFocus(true);
    setWordWrapMode(QTextOption::WrapAtWordBoundaryOrAnywhere);
}

void PromptEdit::nudgeWeight(double delta)
{
    QTextCursor cursor = textCursor();
    const QString text = toPlainText();
    const WeightEdit edit = nudgePromptWeight(text, cursor.selectionStart(), cursor.selectionEnd(), delta);
    if (!edit.changed)
        return;
    // Replace only the differing middle part so the undo step is small and
    // the document's other blocks keep their layout.
    int prefix = 0;
    while (prefix < text.size() && prefix < edit.text.size() && text[prefix] == edit.text[prefix])
        ++prefix;
    int suffix = 0;
    while (suffix < text.size() - prefix && suffix < edit.text.size() - prefix
           && text[text.size() - 1 - suffix] == edit.text[edit.text.size() - 1 - suffix])
        ++suffix;
    cursor.beginEditBlock();
    cursor.setPosition(prefix);
    cursor.setPosition(int(text.size()) - suffix, QTextCursor::KeepAnchor);
    cursor.insertText(edit.text.mid(prefix, edit.text.size() - prefix - suffix));
    cursor.endEditBlock();
    cursor.setPosition(edit.selectionStart);
    cursor.setPosition(edit.selectionEnd, QTextCursor::KeepAnchor);
    setTextCursor(cursor);
}

void PromptEdit::keyPressEvent(QKeyEvent *event)
{
    const bool ctrl = event->modifiers() & Qt::ControlModifier;
    if (ctrl && (event->key() == Qt::Key_Up || event->key() == Qt::Key_Down)) {
        nudgeWeight(event->key() == Qt::Key_Up ? 0.1 : -0.1);
        event->accept();
        return;
    }
    if (ctrl && (event->key() == Qt::Key_Return || event->key() == Qt::Key_Enter)) {
        Q_EMIT submitRequested();
        event->accept();
        return;
    }
    QPlainTextEdit::keyPressEvent(event);
}

} // namespace stipple::ui
