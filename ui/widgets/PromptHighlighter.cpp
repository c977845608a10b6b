#include "ui/widgets/PromptHighlighter.h"

#include <QRegularExpression>

#include <vector>

namespace stipple::ui {

namespace {
// Block state packs the open-bracket depths: round in the low 16 bits,
// square in the high bits. -1 (Qt's "no state") counts as zero.
int packState(int round, int square) { return (square << 16) | (round & 0xffff); }
void unpackState(int state, int *round, int *square)
{
    if (state < 0) { *round = 0; *square = 0; return; }
    *round = state & 0xffff;
    *square = state >> 16;
}
} // namespace

PromptHighlighter::PromptHighlighter(QTextDocument *document)
    : QSyntaxHighlighter(document)
{
    m_emphasis.setForeground(QColor(0xd0, 0x6a, 0x1a));   // warm: stronger attention
    m_deEmphasis.setForeground(QColor(0x3a, 0x7b, 0xc8)); // cool: weaker attention
    m_weight.setForeground(QColor(0xb0, 0x40, 0x10));
    m_weight.setFontWeight(QFont::Bold);
    m_break.setForeground(QColor(0x8a, 0x2b, 0xb8));
    m_break.setFontWeight(QFont::Bold);
    m_network.setForeground(QColor(0x2e, 0x8b, 0x57));
    m_error.setUnderlineStyle(QTextCharFormat::WaveUnderline);
    m_error.setUnderlineColor(Qt::red);
    m_error.setForeground(Qt::red);
}

void PromptHighlighter::highlightBlock(const QString &text)
{
    int round = 0, square = 0;
    unpackState(previousBlockState(), &round, &square);

    // Unmatched closers in this block are errors; openers that stay open at
    // the end of the document are flagged when the last block is reached.
    std::vector<int> openRound, openSquare; // positions opened in this block
    int i = 0;
    while (i < text.size()) {
        const QChar c = text[i];
        if (c == QLatin1Char('\\') && i + 1 < text.size()) { // escaped bracket: literal
            i += 2;
            continue;
        }
        if (c == QLatin1Char('<')) { // <lora:...> / <hypernet:...>
            const int close = text.indexOf(QLatin1Char('>'), i);
            if (close > i) {
                setFormat(i, close - i + 1, m_network);
                i = close + 1;
                continue;
            }
        }
        if (c == QLatin1Char('(')) {
            ++round;
            openRound.push_back(i);
            setFormat(i, 1, m_emphasis);
        } else if (c == QLatin1Char(')')) {
            if (round == 0) {
                setFormat(i, 1, m_error);
            } else {
                --round;
                if (!openRound.empty())
                    openRound.pop_back();
                setFormat(i, 1, m_emphasis);
            }
        } else if (c == QLatin1Char('[')) {
            ++square;
            openSquare.push_back(i);
            setFormat(i, 1, m_deEmphasis);
        } else if (c == QLatin1Char(']')) {
            if (square == 0) {
                setFormat(i, 1, m_error);
            } else {
                --square;
                if (!openSquare.empty())
                    openSquare.pop_back();
                setFormat(i, 1, m_deEmphasis);
            }
        } else if (c == QLatin1Char(':') && round > 0) {
            // ":1.2)" -> the weight in bold
            int j = i + 1;
            while (j < text.size() && (text[j].isDigit() || text[j] == QLatin1Char('.')
                                       || text[j] == QLatin1Char('-') || text[j] == QLatin1Char(' ')))
                ++j;
            if (j > i + 1 && j < text.size() && text[j] == QLatin1Char(')')) {
                setFormat(i, j - i, m_weight);
                i = j;
                continue;
            }
            setFormat(i, 1, m_emphasis);
        } else if (round > 0) {
            setFormat(i, 1, m_emphasis); // text inside ( ): stronger
        } else if (square > 0) {
            setFormat(i, 1, m_deEmphasis); // text inside [ ]: weaker
        }
        ++i;
    }

    // BREAK as a whole word (A1111 requires upper case).
    static const QRegularExpression breakRe(QStringLiteral("\\bBREAK\\b"));
    for (auto it = breakRe.globalMatch(text); it.hasNext();) {
        const auto m = it.next();
        setFormat(int(m.capturedStart()), int(m.capturedLength()), m_break);
    }

    // Brackets still open at the end of the document cannot be matched.
    if (!currentBlock().next().isValid()) {
        for (int p : openRound)
            setFormat(p, 1, m_error);
        for (int p : openSquare)
            setFormat(p, 1, m_error);
    }
    setCurrentBlockState(packState(round, square));
}

} // namespace stipple::ui
