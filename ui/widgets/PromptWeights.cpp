#include "ui/widgets/PromptWeights.h"

#include <QRegularExpression>

#include <algorithm>
#include <cmath>

namespace stipple::ui {

namespace {

// Characters that end a word for the "word under the cursor" rule
// (A1111 edit-attention.js uses a similar delimiter set).
bool isDelimiter(QChar c)
{
    static const QString delimiters = QStringLiteral(".,\\/!?%^*;:{}=`~()[]<>|\"");
    return c.isSpace() || delimiters.contains(c);
}

// Parses "number)" starting at pos (just after ':'); returns the position
// after ')' or -1.
int parseWeightTail(const QString &text, int pos, double *weight)
{
    int end = pos;
    while (end < text.size() && (text[end].isDigit() || text[end] == QLatin1Char('.')
                                 || text[end] == QLatin1Char('-')))
        ++end;
    if (end == pos || end >= text.size() || text[end] != QLatin1Char(')'))
        return -1;
    bool ok = false;
    const double w = text.mid(pos, end - pos).toDouble(&ok);
    if (!ok)
        return -1;
    *weight = w;
    return end + 1;
}

// Finds an explicit "(phrase:w)" group around the cursor. On success sets
// [open, close] to the bracket positions and colon to the ':' position.
bool findWeightedGroup(const QString &text, int cursor, int *open, int *colon, int *close)
{
    // Walk left to the nearest unmatched '('.
    int depth = 0;
    int o = -1;
    for (int i = std::min(cursor, int(text.size())) - 1; i >= 0; --i) {
        if (text[i] == QLatin1Char(')')) {
            ++depth;
        } else if (text[i] == QLatin1Char('(')) {
            if (depth == 0) { o = i; break; }
            --depth;
        }
    }
    if (o < 0)
        return false;
    // Walk right to its ')', remembering the last top-level ':'.
    depth = 0;
    int c = -1;
    for (int i = o + 1; i < text.size(); ++i) {
        const QChar ch = text[i];
        if (ch == QLatin1Char('(')) {
            ++depth;
        } else if (ch == QLatin1Char(')')) {
            if (depth == 0) {
                if (c < 0 || i < cursor)
                    return false;
                double w = 0;
                if (parseWeightTail(text, c + 1, &w) != i + 1)
                    return false;
                *open = o;
                *colon = c;
                *close = i;
                return true;
            }
            --depth;
        } else if (ch == QLatin1Char(':') && depth == 0) {
            c = i;
        }
    }
    return false;
}

} // namespace

QString formatPromptWeight(double weight)
{
    QString s = QString::number(std::round(weight * 100.0) / 100.0, 'f', 2);
    while (s.endsWith(QLatin1Char('0')))
        s.chop(1);
    if (s.endsWith(QLatin1Char('.')))
        s.chop(1);
    return s;
}

WeightEdit nudgePromptWeight(const QString &text, int selectionStart, int selectionEnd,
                             double delta)
{
    WeightEdit out{text, selectionStart, selectionEnd, false};
    int s = std::clamp(std::min(selectionStart, selectionEnd), 0, int(text.size()));
    int e = std::clamp(std::max(selectionStart, selectionEnd), 0, int(text.size()));

    if (s == e) {
        int open = 0, colon = 0, close = 0;
        if (findWeightedGroup(text, s, &open, &colon, &close)) {
            s = open + 1;
            e = colon;
        } else {
            while (s > 0 && !isDelimiter(text[s - 1]))
                --s;
            while (e < text.size() && !isDelimiter(text[e]))
                ++e;
        }
    } else {
        // A selection of a whole "(phrase:w)" group edits its weight.
        static const QRegularExpression whole(QStringLiteral("^\\((.*):([0-9.\\-]+)\\)$"),
                                              QRegularExpression::DotMatchesEverythingOption);
        const auto m = whole.match(text.mid(s, e - s));
        if (m.hasMatch()) {
            e = s + 1 + m.capturedLength(1);
            s = s + 1;
        }
    }
    // Trim whitespace from the phrase.
    while (s < e && text[s].isSpace())
        ++s;
    while (e > s && text[e - 1].isSpace())
        --e;
    if (s == e)
        return out;

    const QString phrase = text.mid(s, e - s);
    double weight = 0;
    int tailEnd = -1;
    if (s > 0 && text[s - 1] == QLatin1Char('(') && e < text.size() && text[e] == QLatin1Char(':'))
        tailEnd = parseWeightTail(text, e + 1, &weight);

    if (tailEnd > 0) {
        const double next = std::max(0.0, std::round((weight + delta) * 100.0) / 100.0);
        if (std::abs(next - 1.0) < 1e-6) {
            // Back to neutral: drop "(" and ":w)".
            out.text = text.left(s - 1) + phrase + text.mid(tailEnd);
            out.selectionStart = s - 1;
            out.selectionEnd = e - 1;
        } else {
            out.text = text.left(e + 1) + formatPromptWeight(next) + text.mid(tailEnd - 1);
            out.selectionStart = s;
            out.selectionEnd = e;
        }
    } else {
        const double next = std::max(0.0, 1.0 + delta);
        out.text = text.left(s) + QLatin1Char('(') + phrase + QLatin1Char(':')
            + formatPromptWeight(next) + QLatin1Char(')') + text.mid(e);
        out.selectionStart = s + 1;
        out.selectionEnd = e + 1;
    }
    out.changed = out.text != text;
    return out;
}

} // namespace stipple::ui
