// TextNormalizer: the ftfy 6.1.1 subset, whitespace collapsing and Python lower().
// Expected strings are what ftfy 6.1.1's fix_text + re.sub(r"\s+", " ").strip()
// + str.lower() return for the inputs (checked with the real ftfy).
#include "core/text/TextNormalizer.h"
#include "core/text/Utf8.h"

#include <QTest>

using namespace stipple::core;

namespace {
QString q(const std::u32string &s) { return QString::fromStdString(utf8::encode(s)); }
QString q(const std::string &s) { return QString::fromStdString(s); }
} // namespace

class TestTextNormalizer : public QObject {
    Q_OBJECT

private Q_SLOTS:
    void clipClean_data()
    {
        QTest::addColumn<QString>("input");
        QTest::addColumn<QString>("expected");
        QTest::newRow("plain") << "A Photo of a CAT" << "a photo of a cat";
        QTest::newRow("whitespace") << "\t\n  mixed \t white\u3000space \u00a0\r\n" << "mixed white space";
        QTest::newRow("fullwidth") << "ＦＵＬＬ　ｗｉｄｔｈ！" << "full width!";
        QTest::newRow("halfwidth-katakana") << "ｶﾀｶﾅ" << "カタカナ";
        QTest::newRow("ligatures") << "ﬂuﬃeﬆ Ĳssel" << "fluffiest ijssel";
        QTest::newRow("ligatures-digraphs") << "Ǆ ǅ ﬅ ŉ" << "dž dž ſt 'n";
        QTest::newRow("curly") << "“quoted” ‘single’ ʼn" << "\"quoted\" 'single' 'n";
        QTest::newRow("control") << QString::fromUtf8("a\x00" "b\x07" "c\x1b" "d\x0b" "e\x7f" "f\ufeff" "g", 15)
                                 << "abcdefg";
        QTest::newRow("ansi") << "\x1b[36;44mblue\x1b[0m sky" << "blue sky";
        QTest::newRow("c1") << QString(QChar(0x93)) + "hi" + QChar(0x94) + QChar(0x85) << "\"hi\"…";
        QTest::newRow("linesep") << "a\u2028b\u2029c\u0085d" << "a b c…d";
        QTest::newRow("mojibake") << "cafÃ© donâ€™t Ã¼ber" << "café don't über";
        QTest::newRow("mojibake-latin1-c1") << QString("don") + QChar(0xE2) + QChar(0x80) + QChar(0x99) + "t" << "don't";
        QTest::newRow("mojibake-byte-a0") << "voilÃ le travail" << "voilà le travail";
        QTest::newRow("lone-a-hat-kept") << "   Â a dog" << "â a dog";
        QTest::newRow("mojibake-cjk-emoji") << "æ—¥æœ¬ and ðŸ˜€" << "日本 and 😀";
        QTest::newRow("not-mojibake") << "Ü° 2×½ «CAFÉ» â„¢" << "ü° 2×½ «café» â\"¢";
        QTest::newRow("legit-latin") << "naïve crème brûlée Ærøskøbing Øresund" << "naïve crème brûlée ærøskøbing øresund";
        QTest::newRow("nfc") << "cafe\u0301" << "café";
        QTest::newRow("entities") << "Tom &amp; Jerry &lt;3 &eacute; &EACUTE; &#x1F600; &#65;&#66 &nbsp;x"
                                  << "tom & jerry <3 é é 😀 a&#66 x";
        QTest::newRow("entities-kept") << "&amp no semicolon &ampx &#xZZ; &bogus;" << "&amp no semicolon &ampx &#xzz; &bogus;";
        QTest::newRow("no-unescape-with-tag") << "<b>x</b> &amp;" << "<b>x</b> &amp;";
        QTest::newRow("tag-on-later-line") << "&amp;\n<i> &amp;" << "& <i> &amp;";
        QTest::newRow("sigma") << "ΟΔΟΣ Σ ΑΣ." << "οδος σ ας.";
        QTest::newRow("dotted-I") << "İstanbul" << QString::fromUtf8("i\u0307stanbul");
        QTest::newRow("zero-width-kept") << "zero\u200bwidth" << "zero\u200bwidth";
        QTest::newRow("empty") << "" << "";
    }
    void clipClean()
    {
        QFETCH(QString, input);
        QFETCH(QString, expected);
        QCOMPARE(q(TextNormalizer::clipClean(input.toStdString())), expected);
    }

    void pythonSpace()
    {
        for (char32_t c : {U' ', U'\t', U'\n', U'\r', U'\f', U'\v', char32_t(0x1C), char32_t(0x1F), char32_t(0x85),
                           char32_t(0xA0), char32_t(0x1680), char32_t(0x2000), char32_t(0x200A), char32_t(0x2028),
                           char32_t(0x202F), char32_t(0x205F), char32_t(0x3000)})
            QVERIFY2(TextNormalizer::isPythonSpace(c), qPrintable(QString::number(uint(c), 16)));
        for (char32_t c : {U'a', U'_', char32_t(0x200B), char32_t(0x180E), char32_t(0xFEFF), char32_t(0x0)})
            QVERIFY2(!TextNormalizer::isPythonSpace(c), qPrintable(QString::number(uint(c), 16)));
    }

    void fixIsIdempotent()
    {
        const std::u32string once = TextNormalizer::fixText(U"cafÃ© &amp;amp; “x”");
        QCOMPARE(q(once), QStringLiteral("café & \"x\"")); // ftfy loops until stable
        QCOMPARE(q(TextNormalizer::fixText(once)), q(once));
    }

    void utf8Replacement()
    {
        QCOMPARE(q(utf8::decode(std::string("a\xff" "b\xe2\x82" "c", 6))), QStringLiteral("a\uFFFDb\uFFFDc"));
        QCOMPARE(q(utf8::decode(std::string("\xf0\x9f\x94\xa5"))), QStringLiteral("🔥"));
    }
};

QTEST_GUILESS_MAIN(TestTextNormalizer)
#include "TestTextNormalizer.moc"
