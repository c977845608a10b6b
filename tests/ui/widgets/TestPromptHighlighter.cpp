// Tests for PromptHighlighter: emphasis, de-emphasis, weights, BREAK,
// extra-network tags and unbalanced brackets get their formats.
#include "ui/widgets/PromptEdit.h"
#include "ui/widgets/PromptHighlighter.h"

#include <QTest>
#include <QTextBlock>
#include <QTextDocument>
#include <QTextLayout>

using namespace stipple::ui;

class TestPromptHighlighter : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void formats();
    void unbalancedBrackets();
    void bracketsAcrossLines();

private:
    static QTextCharFormat formatAt(const QTextDocument &doc, int position);
};

QTextCharFormat TestPromptHighlighter::formatAt(const QTextDocument &doc, int position)
{
    const QTextBlock block = doc.findBlock(position);
    const int offset = position - block.position();
    for (const QTextLayout::FormatRange &r : block.layout()->formats()) {
        if (offset >= r.start && offset < r.start + r.length)
            return r.format;
    }
    return {};
}

void TestPromptHighlighter::formats()
{
    // The highlighter as the prompt editor uses it.
    PromptEdit edit;
    QTextDocument &doc = *edit.document();
    PromptHighlighter &h = *edit.highlighter();
    //                        0123456789012345678901234567890123456
    edit.setPlainText(QStringLiteral("(cat:1.2) [dog] BREAK <lora:x:0.5> z"));
    const QColor emphasis = h.emphasisFormat().foreground().color();
    QCOMPARE(formatAt(doc, 0).foreground().color(), emphasis);          // (
    QCOMPARE(formatAt(doc, 1).foreground().color(), emphasis);          // c
    QCOMPARE(formatAt(doc, 5).fontWeight(), int(QFont::Bold));          // 1.2
    QCOMPARE(formatAt(doc, 5).foreground().color(), h.weightFormat().foreground().color());
    QCOMPARE(formatAt(doc, 10).foreground().color(), h.deEmphasisFormat().foreground().color()); // [
    QCOMPARE(formatAt(doc, 12).foreground().color(), h.deEmphasisFormat().foreground().color()); // o
    QCOMPARE(formatAt(doc, 16).foreground().color(), h.breakFormat().foreground().color());     // BREAK
    QCOMPARE(formatAt(doc, 20).foreground().color(), h.breakFormat().foreground().color());
    QCOMPARE(formatAt(doc, 23).foreground().color(), h.networkFormat().foreground().color());   // lora
    QVERIFY(!formatAt(doc, 35).foreground().style() || formatAt(doc, 35).foreground().color() != emphasis); // z plain
    // "break" in lower case is an ordinary word for A1111.
    edit.setPlainText(QStringLiteral("break"));
    QVERIFY(formatAt(doc, 0).foreground().color() != h.breakFormat().foreground().color());
}

void TestPromptHighlighter::unbalancedBrackets()
{
    // The highlighter as the prompt editor uses it.
    PromptEdit edit;
    QTextDocument &doc = *edit.document();
    PromptHighlighter &h = *edit.highlighter();
    edit.setPlainText(QStringLiteral("a) (b"));
    QCOMPARE(formatAt(doc, 1).underlineStyle(), QTextCharFormat::WaveUnderline); // stray )
    QCOMPARE(formatAt(doc, 3).underlineStyle(), QTextCharFormat::WaveUnderline); // never closed (
    edit.setPlainText(QStringLiteral("(a) [b]"));
    for (int i = 0; i < 7; ++i)
        QVERIFY2(formatAt(doc, i).underlineStyle() != QTextCharFormat::WaveUnderline, qPrintable(QString::number(i)));
}

void TestPromptHighlighter::bracketsAcrossLines()
{
    // The highlighter as the prompt editor uses it.
    PromptEdit edit;
    QTextDocument &doc = *edit.document();
    PromptHighlighter &h = *edit.highlighter();
    edit.setPlainText(QStringLiteral("(cat\n:1.3) ok"));
    // The ")" on the second line closes the "(" of the first: no error.
    QVERIFY(formatAt(doc, 9).underlineStyle() != QTextCharFormat::WaveUnderline);
    QCOMPARE(formatAt(doc, 9).foreground().color(), h.emphasisFormat().foreground().color());
    QCOMPARE(formatAt(doc, 6).fontWeight(), int(QFont::Bold)); // the weight
}

QTEST_MAIN(TestPromptHighlighter)
#include "TestPromptHighlighter.moc"
