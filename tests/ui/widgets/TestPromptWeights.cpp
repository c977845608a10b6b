// Tests for PromptWeights (nudgePromptWeight / formatPromptWeight) and the
// Ctrl+Up/Down gesture of PromptEdit that uses it.
#include "ui/widgets/PromptEdit.h"
#include "ui/widgets/PromptWeights.h"

#include <QSignalSpy>
#include <QTest>

using namespace stipple::ui;

class TestPromptWeights : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void nudge_data();
    void nudge();
    void format_data();
    void format();
    void emptyTextUnchanged();
    void editorCtrlUpDownAndUndo();
    void editorCtrlEnterSubmits();
};

void TestPromptWeights::nudge_data()
{
    QTest::addColumn<QString>("text");
    QTest::addColumn<int>("selStart");
    QTest::addColumn<int>("selEnd");
    QTest::addColumn<double>("delta");
    QTest::addColumn<QString>("expected");
    QTest::addColumn<QString>("selected");

    QTest::addRow("word under cursor up") << "a cat, dog" << 3 << 3 << 0.1 << "a (cat:1.1), dog" << "cat";
    QTest::addRow("word under cursor down") << "a cat, dog" << 4 << 4 << -0.1 << "a (cat:0.9), dog" << "cat";
    QTest::addRow("existing weight up") << "a (cat:1.1), dog" << 4 << 4 << 0.1 << "a (cat:1.2), dog" << "cat";
    QTest::addRow("back to 1 drops brackets") << "a (cat:1.1), dog" << 5 << 5 << -0.1 << "a cat, dog" << "cat";
    QTest::addRow("selection of a phrase") << "a red hat" << 2 << 9 << 0.1 << "a (red hat:1.1)" << "red hat";
    QTest::addRow("selection with spaces trimmed") << "a  red  " << 1 << 8 << 0.1 << "a  (red:1.1)  " << "red";
    QTest::addRow("whole group selected") << "x (cat:1.5) y" << 2 << 11 << 0.1 << "x (cat:1.6) y" << "cat";
    QTest::addRow("cursor on the number") << "(cat:1.1)" << 6 << 6 << 0.1 << "(cat:1.2)" << "cat";
    QTest::addRow("multi-word group") << "(red hat:0.8), x" << 3 << 3 << 0.1 << "(red hat:0.9), x" << "red hat";
    QTest::addRow("two decimals kept") << "(cat:1.25)" << 2 << 2 << 0.1 << "(cat:1.35)" << "cat";
    QTest::addRow("no negative weights") << "(cat:0.05)" << 2 << 2 << -0.1 << "(cat:0)" << "cat";
}

void TestPromptWeights::nudge()
{
    QFETCH(QString, text);
    QFETCH(int, selStart);
    QFETCH(int, selEnd);
    QFETCH(double, delta);
    QFETCH(QString, expected);
    QFETCH(QString, selected);
    const WeightEdit edit = nudgePromptWeight(text, selStart, selEnd, delta);
    QCOMPARE(edit.text, expected);
    QVERIFY(edit.changed);
    QCOMPARE(edit.text.mid(edit.selectionStart, edit.selectionEnd - edit.selectionStart), selected);
}

void TestPromptWeights::format_data()
{
    QTest::addColumn<double>("weight");
    QTest::addColumn<QString>("text");
    QTest::addRow("1.1") << 1.1 << "1.1";
    QTest::addRow("0.9") << 0.9 << "0.9";
    QTest::addRow("1.25") << 1.25 << "1.25";
    QTest::addRow("1.0") << 1.0 << "1";
    QTest::addRow("float noise") << 1.2000000001 << "1.2";
    QTest::addRow("2") << 2.0 << "2";
}

void TestPromptWeights::format()
{
    QFETCH(double, weight);
    QFETCH(QString, text);
    QCOMPARE(formatPromptWeight(weight), text);
}

void TestPromptWeights::emptyTextUnchanged()
{
    const WeightEdit edit = nudgePromptWeight(QString(), 0, 0, 0.1);
    QVERIFY(!edit.changed);
    QCOMPARE(edit.text, QString());
    const WeightEdit spaces = nudgePromptWeight(QStringLiteral("a ,  b"), 3, 3, 0.1);
    QVERIFY(!spaces.changed);
}

void TestPromptWeights::editorCtrlUpDownAndUndo()
{
    PromptEdit edit;
    edit.setPlainText(QStringLiteral("a cat, dog"));
    QTextCursor c = edit.textCursor();
    c.setPosition(3);
    edit.setTextCursor(c);
    QTest::keyClick(&edit, Qt::Key_Up, Qt::ControlModifier);
    QCOMPARE(edit.toPlainText(), QStringLiteral("a (cat:1.1), dog"));
    QCOMPARE(edit.textCursor().selectedText(), QStringLiteral("cat"));
    QTest::keyClick(&edit, Qt::Key_Up, Qt::ControlModifier);
    QCOMPARE(edit.toPlainText(), QStringLiteral("a (cat:1.2), dog"));
    QTest::keyClick(&edit, Qt::Key_Down, Qt::ControlModifier);
    QTest::keyClick(&edit, Qt::Key_Down, Qt::ControlModifier);
    QCOMPARE(edit.toPlainText(), QStringLiteral("a cat, dog"));
    // Each nudge is one undo step.
    edit.undo();
    QCOMPARE(edit.toPlainText(), QStringLiteral("a (cat:1.1), dog"));
}

void TestPromptWeights::editorCtrlEnterSubmits()
{
    PromptEdit edit;
    edit.setPlainText(QStringLiteral("x"));
    QSignalSpy spy(&edit, &PromptEdit::submitRequested);
    QTest::keyClick(&edit, Qt::Key_Return, Qt::ControlModifier);
    QCOMPARE(spy.count(), 1);
    QCOMPARE(edit.toPlainText(), QStringLiteral("x")); // no newline inserted
}

QTEST_MAIN(TestPromptWeights)
#include "TestPromptWeights.moc"
