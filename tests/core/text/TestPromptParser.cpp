// A1111 prompt syntax (PromptParser) and chunking (PromptChunker).
// Parser rows include A1111's own doctest examples (modules/prompt_parser.py);
// the other expectations were derived by hand from A1111's algorithm.
// Chunking uses a small word tokenizer so that token positions are exact.
#include "core/text/PromptChunker.h"
#include "core/text/PromptParser.h"

#include <QTest>

#include <cmath>
#include <sstream>

using namespace stipple::core;

namespace {

struct Expected {
    std::string text;
    double weight; // NaN = BREAK
};

struct ParserRow {
    const char *name;
    std::string prompt;
    std::vector<Expected> runs;
};

const double kBreak = std::nan("");

const std::vector<ParserRow> &parserRows()
{
    static const std::vector<ParserRow> rows = {
        // A1111 doctests
        {"doctest plain", "normal text", {{"normal text", 1.0}}},
        {"doctest round", "an (important) word", {{"an ", 1.0}, {"important", 1.1}, {" word", 1.0}}},
        {"doctest unbalanced", "(unbalanced", {{"unbalanced", 1.1}}},
        {"doctest escapes", "\\(literal\\]", {{"(literal]", 1.0}}},
        {"doctest merge", "(unnecessary)(parens)", {{"unnecessaryparens", 1.1}}},
        {"doctest mixed", "a (((house:1.3)) [on] a (hill:0.5), sun, (((sky))).",
         {{"a ", 1.0}, {"house", 1.5730000000000004}, {" ", 1.1}, {"on", 1.0}, {" a ", 1.1},
          {"hill", 0.55}, {", sun, ", 1.1}, {"sky", 1.4641000000000006}, {".", 1.1}}},
        // weights and nesting
        {"empty", "", {{"", 1.0}}},
        {"double round", "((x))", {{"x", 1.1 * 1.1}}},
        {"triple round", "(((x)))", {{"x", 1.1 * 1.1 * 1.1}}},
        {"explicit weight", "(x:1.3)", {{"x", 1.3}}},
        {"explicit below one", "(x:0.5)", {{"x", 0.5}}},
        {"square", "[x]", {{"x", 1.0 / 1.1}}},
        {"double square", "[[x]]", {{"x", (1.0 / 1.1) * (1.0 / 1.1)}}},
        {"round of square", "([x])", {{"x", (1.0 / 1.1) * 1.1}}},
        {"negative weight", "(x:-1)", {{"x", -1.0}}},
        {"plus sign weight", "(x:+2)", {{"x", 2.0}}},
        {"leading dot weight", "(x:.5)", {{"x", 0.5}}},
        {"trailing dot weight", "(x:1.)", {{"x", 1.0}}},
        {"nested explicit", "((x:1.2))", {{"x", 1.2 * 1.1}}},
        {"nested outer text", "((a) b)", {{"a", 1.1 * 1.1}, {" b", 1.1}}},
        {"separated equal weights", "(a:1.5) (b:1.5)", {{"a", 1.5}, {" ", 1.0}, {"b", 1.5}}},
        {"adjacent equal weights", "(a:1.5)(b:1.5)", {{"ab", 1.5}}},
        {"weight zero", "a (b:0) c", {{"a ", 1.0}, {"b", 0.0}, {" c", 1.0}}},
        // colons
        {"colon text", "a:b", {{"a:b", 1.0}}},
        {"colon in brackets", "(a:b)", {{"a:b", 1.1}}},
        {"weight without opener", "x:1.2)", {{"x:1.2)", 1.0}}},
        {"empty weight", "(x:)", {{"x:", 1.1}}},
        {"malformed weight", "(x:1..2)", {{"x:1..2)", 1.1}}},
        {"weight in square", "[x:1.5]", {{"x:1.5", 1.0 / 1.1}}},
        {"unclosed weight", "(x:1.2", {{"x:1.2", 1.1}}},
        // unbalanced
        {"stray close round", "a) b", {{"a) b", 1.0}}},
        {"stray close square", "a] b", {{"a] b", 1.0}}},
        {"unclosed square", "[unclosed", {{"unclosed", 1.0 / 1.1}}},
        {"both unclosed", "(a [b", {{"a ", 1.1}, {"b", 1.1 * (1.0 / 1.1)}}},
        {"mismatched kinds", "(a]", {{"a]", 1.1}}},
        {"only openers", "((([[", {{"", 1.0}}},
        {"only closers", "))]]", {{"))]]", 1.0}}},
        // escapes
        {"escaped backslash", "a\\\\b", {{"a\\b", 1.0}}},
        {"lone backslash", "a\\b", {{"ab", 1.0}}},
        {"escaped parens", "\\(x\\)", {{"(x)", 1.0}}},
        {"escape closes nothing", "(x\\)", {{"x)", 1.1}}},
        {"escaped square in round", "(\\[x\\]:1.4)", {{"[x]", 1.4}}},
        // BREAK
        {"break", "a BREAK b", {{"a", 1.0}, {"", kBreak}, {"b", 1.0}}},
        {"break glued left", "aBREAK b", {{"aBREAK b", 1.0}}},
        {"break glued right", "a BREAKb", {{"a BREAKb", 1.0}}},
        {"break lower case", "a break b", {{"a break b", 1.0}}},
        {"break alone", "BREAK", {{"", 1.0}, {"", kBreak}, {"", 1.0}}},
        {"break first", "BREAK a", {{"", 1.0}, {"", kBreak}, {"a", 1.0}}},
        {"two breaks", "a BREAK BREAK b",
         {{"a", 1.0}, {"", kBreak}, {"", 1.0}, {"", kBreak}, {"b", 1.0}}},
        {"break in brackets is literal", "(a BREAK b)", {{"a", 1.1}, {"BREAK", -1.1}, {"b", 1.1}}},
        {"break between commas", "a,BREAK,b", {{"a,", 1.0}, {"", kBreak}, {",b", 1.0}}},
        {"break whitespace", "a\t BREAK\n  b", {{"a", 1.0}, {"", kBreak}, {"b", 1.0}}},
        {"break between weights", "(x) BREAK (y)",
         {{"x", 1.1}, {"", 1.0}, {"", kBreak}, {"", 1.0}, {"y", 1.1}}},
        {"break after escapes", "\\(BREAK\\)", {{"(", 1.0}, {"", kBreak}, {")", 1.0}}},
        {"break underscore", "a_BREAK b", {{"a_BREAK b", 1.0}}},
        // UTF-8
        {"cjk break", "\xe6\x9d\xb1\xe4\xba\xac BREAK \xe5\xa4\x9c",
         {{"\xe6\x9d\xb1\xe4\xba\xac", 1.0}, {"", kBreak}, {"\xe5\xa4\x9c", 1.0}}},
        {"cjk glued break", "\xe6\x9d\xb1\xe4\xba\xac" "BREAK", {{"\xe6\x9d\xb1\xe4\xba\xac" "BREAK", 1.0}}},
        {"cjk weight", "(\xe5\xa4\x9c:1.2)", {{"\xe5\xa4\x9c", 1.2}}},
        {"emoji round", "(\xf0\x9f\x90\xb1)", {{"\xf0\x9f\x90\xb1", 1.1}}},
    };
    return rows;
}

// A word tokenizer for chunking tests: "," is 267 (CLIP ",</w>"), "wN" is
// 1000 + N, any other word is 500; CLIP's bos/eos, configurable pad.
class WordTokenizer : public Tokenizer {
public:
    explicit WordTokenizer(int pad = 49407) : m_pad(pad) {}
    std::vector<int> encode(const std::string &utf8) const override
    {
        std::vector<int> ids;
        std::string word;
        auto flush = [&] {
            if (word.empty())
                return;
            if (word.size() > 1 && word[0] == 'w' &&
                word.find_first_not_of("0123456789", 1) == std::string::npos)
                ids.push_back(1000 + std::stoi(word.substr(1)));
            else
                ids.push_back(500);
            word.clear();
        };
        for (char c : utf8) {
            if (c == ' ' || c == '\t' || c == '\n') {
                flush();
            } else if (c == ',') {
                flush();
                ids.push_back(267);
            } else {
                word += c;
            }
        }
        flush();
        return ids;
    }
    std::string decode(const std::vector<int> &) const override { return {}; }
    int bosId() const override { return 49406; }
    int eosId() const override { return 49407; }
    int padId() const override { return m_pad; }
    int vocabSize() const override { return 49408; }
    int modelMaxLength() const override { return 77; }

private:
    int m_pad;
};

// "w0 w1 ... w(n-1)" starting at `first`.
std::string words(int n, int first = 0)
{
    std::string s;
    for (int i = 0; i < n; ++i)
        s += (i ? " w" : "w") + std::to_string(first + i);
    return s;
}

// Body lengths (non-padding tokens between bos and the padding) of each chunk.
std::vector<int> bodyLengths(const ChunkedPrompt &p)
{
    std::vector<int> out;
    for (const auto &c : p.chunks) {
        int n = 0;
        while (n < PromptChunker::kChunkLength && c.ids[static_cast<size_t>(1 + n)] != 49407)
            ++n;
        out.push_back(n);
    }
    return out;
}

QString lengthsString(const std::vector<int> &v)
{
    QStringList parts;
    for (int x : v)
        parts << QString::number(x);
    return parts.join(QLatin1Char(','));
}

} // namespace

class TestPromptParser : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void parse_data()
    {
        QTest::addColumn<int>("row");
        const auto &rows = parserRows();
        for (size_t i = 0; i < rows.size(); ++i)
            QTest::addRow("%s", rows[i].name) << int(i);
    }
    void parse()
    {
        QFETCH(int, row);
        const auto &r = parserRows()[static_cast<size_t>(row)];
        const auto runs = parsePromptAttention(r.prompt);
        const QString got = QString::fromStdString(describePromptRuns(runs));
        QVERIFY2(runs.size() == r.runs.size(), qPrintable(got));
        for (size_t i = 0; i < runs.size(); ++i) {
            const auto &e = r.runs[i];
            if (std::isnan(e.weight)) {
                QVERIFY2(runs[i].isBreak, qPrintable(got));
                continue;
            }
            QVERIFY2(!runs[i].isBreak, qPrintable(got));
            QCOMPARE(QString::fromStdString(runs[i].text), QString::fromStdString(e.text));
            QVERIFY2(std::abs(runs[i].weight - e.weight) < 1e-12, qPrintable(got));
        }
    }

    // The multiplication order is A1111's, so weights match Python's doubles bit for bit.
    void exactDoubles()
    {
        const auto runs = parsePromptAttention("a (((house:1.3)) [on] a (hill:0.5), sun, (((sky))).");
        QCOMPARE(runs[1].weight, 1.5730000000000004);
        QCOMPARE(runs[7].weight, 1.4641000000000006);
        QCOMPARE(runs[3].weight, 1.0);
    }

    void chunk_data()
    {
        QTest::addColumn<QString>("prompt");
        QTest::addColumn<QString>("lengths"); // body tokens per chunk
        QTest::addColumn<int>("tokenCount");
        QTest::addRow("empty") << QString() << "0" << 0;
        QTest::addRow("two words") << "w1 w2" << "2" << 2;
        QTest::addRow("75 words") << QString::fromStdString(words(75)) << "75" << 75;
        QTest::addRow("76 words") << QString::fromStdString(words(76)) << "75,1" << 76;
        QTest::addRow("150 words") << QString::fromStdString(words(150)) << "75,75" << 150;
        QTest::addRow("151 words") << QString::fromStdString(words(151)) << "75,75,1" << 151;
        QTest::addRow("comma 5 from end")
            << QString::fromStdString(words(70) + ", " + words(10, 70)) << "71,10" << 85;
        QTest::addRow("comma 20 from end")
            << QString::fromStdString(words(55) + ", " + words(30, 55)) << "56,30" << 105;
        QTest::addRow("comma 21 from end")
            << QString::fromStdString(words(54) + ", " + words(30, 54)) << "75,10" << 85;
        QTest::addRow("comma 25 from end")
            << QString::fromStdString(words(50) + ", " + words(40, 50)) << "75,16" << 91;
        QTest::addRow("comma is 76th token")
            << QString::fromStdString(words(75) + ",") << "75,1" << 76;
        QTest::addRow("comma is 75th token")
            << QString::fromStdString(words(74) + ", " + words(5, 74)) << "75,5" << 80;
        QTest::addRow("two commas, last wins")
            << QString::fromStdString(words(60) + ", " + words(5, 60) + ", " + words(20, 65))
            << "67,20" << 95;
        QTest::addRow("break") << "w1 BREAK w2" << "1,1" << 76;
        QTest::addRow("break first") << "BREAK w1" << "0,1" << 76;
        QTest::addRow("break last") << "w1 BREAK" << "1" << 75;
        QTest::addRow("two breaks") << "w1 BREAK BREAK w2" << "1,0,1" << 151;
        QTest::addRow("break after full chunk")
            << QString::fromStdString(words(75) + " BREAK w1") << "75,1" << 76;
        QTest::addRow("break in brackets is a word") << "(w1 BREAK w2)" << "3" << 3;
    }
    void chunk()
    {
        QFETCH(QString, prompt);
        QFETCH(QString, lengths);
        QFETCH(int, tokenCount);
        WordTokenizer tok;
        PromptChunker chunker(tok);
        QCOMPARE(chunker.commaId(), 267);
        const auto p = chunker.chunk(prompt.toStdString());
        QCOMPARE(lengthsString(bodyLengths(p)), lengths);
        QCOMPARE(p.tokenCount, tokenCount);
        for (const auto &c : p.chunks) {
            QCOMPARE(int(c.ids.size()), PromptChunker::kWindow);
            QCOMPARE(int(c.weights.size()), PromptChunker::kWindow);
            QCOMPARE(c.ids.front(), 49406);
            QCOMPARE(c.ids.back(), 49407);
        }
    }

    void backtrackMovesTokensAfterComma()
    {
        WordTokenizer tok;
        PromptChunker chunker(tok);
        const auto p = chunker.chunk(words(70) + ", " + words(10, 70));
        QCOMPARE(int(p.chunks.size()), 2);
        QCOMPARE(p.chunks[0].ids[71], 267);    // the comma ends chunk 0
        QCOMPARE(p.chunks[0].ids[72], 49407);  // then padding
        QCOMPARE(p.chunks[1].ids[1], 1070);    // w70 starts chunk 1
        QCOMPARE(p.chunks[1].ids[10], 1079);
    }

    void weightsPerToken()
    {
        WordTokenizer tok;
        PromptChunker chunker(tok);
        const auto p = chunker.chunk("w1 (w2 w3) [w4] (w5:1.5), w6");
        const auto &c = p.chunks.at(0);
        const std::vector<int> ids(c.ids.begin(), c.ids.begin() + 9);
        QCOMPARE(ids, (std::vector<int>{49406, 1001, 1002, 1003, 1004, 1005, 267, 1006, 49407}));
        const std::vector<float> expected = {1.0f, 1.0f, 1.1f, 1.1f, float(1.0 / 1.1),
                                             1.5f, 1.0f, 1.0f, 1.0f};
        for (size_t i = 0; i < expected.size(); ++i)
            QCOMPARE(c.weights[i], expected[i]);
        for (size_t i = 9; i < c.weights.size(); ++i)
            QCOMPARE(c.weights[i], 1.0f);
    }

    void sd2PadsAfterFirstEos()
    {
        WordTokenizer tok(/*pad=*/0);
        PromptChunker chunker(tok);
        const auto p = chunker.chunk("w1 w2");
        const auto &ids = p.chunks.at(0).ids;
        QCOMPARE(ids[0], 49406);
        QCOMPARE(ids[3], 49407);
        for (size_t i = 4; i < ids.size(); ++i)
            QCOMPARE(ids[i], 0);
        const auto empty = chunker.emptyChunk();
        QCOMPARE(empty.ids[1], 49407);
        QCOMPARE(empty.ids[2], 0);
        QCOMPARE(empty.ids.back(), 0);
        // a full chunk keeps its final eos
        const auto full = chunker.chunk(words(75));
        QCOMPARE(full.chunks.at(0).ids.back(), 49407);
    }

    void emptyPromptEqualsEmptyChunk()
    {
        WordTokenizer tok;
        PromptChunker chunker(tok);
        const auto p = chunker.chunk("");
        QCOMPARE(int(p.chunks.size()), 1);
        QCOMPARE(p.chunks[0].ids, chunker.emptyChunk().ids);
        QCOMPARE(p.chunks[0].ids[1], 49407);
    }

    void literalWindowTruncates()
    {
        WordTokenizer tok(0);
        PromptChunker chunker(tok);
        const auto w = chunker.literalWindow(words(80));
        QCOMPARE(int(w.ids.size()), 77);
        QCOMPARE(w.ids[75], 1074);
        QCOMPARE(w.ids[76], 49407);
        const auto s = chunker.literalWindow("(w1:1.5) BREAK");
        QCOMPARE(s.ids[1], 500); // no syntax: "(w1:1.5)" is one literal word
        QCOMPARE(s.ids[2], 500);
        QCOMPARE(s.ids[3], 49407);
        QCOMPARE(s.ids[4], 0);
        for (float x : s.weights)
            QCOMPARE(x, 1.0f);
    }
};

QTEST_GUILESS_MAIN(TestPromptParser)
#include "TestPromptParser.moc"
