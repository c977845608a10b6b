// ClipTokenizer: exact ids against transformers' CLIPTokenizer (fixtures/tokenizer.json,
// SD1 and SD2 conventions), the openai .txt.gz path, errors, and speed.
#include "core/text/ClipTokenizer.h"
#include "core/text/TextNormalizer.h"
#include "core/text/Utf8.h"

#include "support/Fixtures.h"

#include <QElapsedTimer>
#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QTemporaryDir>
#include <QTest>

#include <algorithm>
#include <fstream>
#include <memory>

using namespace stipple::core;

namespace {

QString clipDir() { return stipple::test::sharedDir() + QStringLiteral("/clip"); }

std::vector<int> toIds(const QJsonArray &a)
{
    std::vector<int> v;
    for (const auto &x : a)
        v.push_back(x.toInt());
    return v;
}

QString idsText(const std::vector<int> &ids)
{
    QStringList parts;
    for (int id : ids)
        parts << QString::number(id);
    return parts.join(QLatin1Char(' '));
}

void writeFile(const QString &path, const QByteArray &bytes)
{
    QFile f(path);
    QVERIFY(f.open(QIODevice::WriteOnly));
    f.write(bytes);
}

} // namespace

class TestClipTokenizer : public QObject {
    Q_OBJECT

private:
    std::shared_ptr<ClipTokenizer> m_sd1;
    std::shared_ptr<ClipTokenizer> m_sd2;
    std::shared_ptr<ClipTokenizer> m_gz;
    QJsonArray m_cases;
    int m_sd1Matched = 0, m_sd2Matched = 0, m_gzMatched = 0;

    void addCaseRows()
    {
        QTest::addColumn<QString>("prompt");
        QTest::addColumn<QJsonArray>("sd1");
        QTest::addColumn<QJsonArray>("sd2");
        if (m_cases.isEmpty()) {
            QTest::newRow("no-fixtures") << QString() << QJsonArray() << QJsonArray();
            return;
        }
        for (const auto &c : m_cases) {
            const QJsonObject o = c.toObject();
            QTest::newRow(qPrintable(o.value(QStringLiteral("id")).toString()))
                << o.value(QStringLiteral("prompt")).toString() << o.value(QStringLiteral("sd_input_ids")).toArray()
                << o.value(QStringLiteral("sd2_input_ids")).toArray();
        }
    }

private Q_SLOTS:
    void initTestCase()
    {
        if (!stipple::test::haveFixtures())
            return;
        auto sd1 = ClipTokenizer::fromFolder((clipDir() + QStringLiteral("/hf-sd1-tokenizer")).toStdString());
        QVERIFY2(sd1.ok(), sd1.ok() ? "" : sd1.error().message.c_str());
        m_sd1 = sd1.value();
        auto sd2 = ClipTokenizer::fromFolder((clipDir() + QStringLiteral("/hf-sd2-tokenizer")).toStdString());
        QVERIFY2(sd2.ok(), sd2.ok() ? "" : sd2.error().message.c_str());
        m_sd2 = sd2.value();
        auto gz = ClipTokenizer::fromBpeFile((clipDir() + QStringLiteral("/bpe_simple_vocab_16e6.txt.gz")).toStdString());
        QVERIFY2(gz.ok(), gz.ok() ? "" : gz.error().message.c_str());
        m_gz = gz.value();

        QFile f(QString::fromStdString(stipple::test::fixturePath(QStringLiteral("tokenizer.json"))));
        QVERIFY(f.open(QIODevice::ReadOnly));
        const QJsonObject root = QJsonDocument::fromJson(f.readAll()).object();
        m_cases = root.value(QStringLiteral("cases")).toArray();
        QCOMPARE(m_cases.size(), 199);
    }

    void cleanupTestCase()
    {
        if (!m_cases.isEmpty())
            qInfo("fixture prompts matched: SD1 %d/%d, SD2 %d/%d, txt.gz %d/%d", m_sd1Matched,
                  int(m_cases.size()), m_sd2Matched, int(m_cases.size()), m_gzMatched, int(m_cases.size()));
    }

    void specialIds()
    {
        STIPPLE_REQUIRE_FIXTURES();
        QCOMPARE(m_sd1->vocabSize(), 49408);
        QCOMPARE(m_sd1->bosId(), 49406);
        QCOMPARE(m_sd1->eosId(), 49407);
        QCOMPARE(m_sd1->padId(), 49407);
        QCOMPARE(m_sd2->padId(), 0);
        QCOMPARE(m_gz->padId(), 49407);
        QCOMPARE(m_sd1->modelMaxLength(), 77);
        QCOMPARE(m_gz->vocabulary().tokens, m_sd1->vocabulary().tokens);
        QCOMPARE(m_gz->vocabulary().merges, m_sd1->vocabulary().merges);
    }

    void sd1Ids_data() { addCaseRows(); }
    void sd1Ids()
    {
        STIPPLE_REQUIRE_FIXTURES();
        QFETCH(QString, prompt);
        QFETCH(QJsonArray, sd1);
        const auto got = m_sd1->encodeWindow(prompt.toStdString());
        const auto want = toIds(sd1);
        if (got == want)
            ++m_sd1Matched;
        QCOMPARE(idsText(got), idsText(want));
    }

    void sd2Ids_data() { addCaseRows(); }
    void sd2Ids()
    {
        STIPPLE_REQUIRE_FIXTURES();
        QFETCH(QString, prompt);
        QFETCH(QJsonArray, sd2);
        const auto got = m_sd2->encodeWindow(prompt.toStdString());
        const auto want = toIds(sd2);
        if (got == want)
            ++m_sd2Matched;
        QCOMPARE(idsText(got), idsText(want));
    }

    // The openai file builds the same tokenizer as the SD1 folder.
    void bpeFileMatchesFolder_data() { addCaseRows(); }
    void bpeFileMatchesFolder()
    {
        STIPPLE_REQUIRE_FIXTURES();
        QFETCH(QString, prompt);
        QFETCH(QJsonArray, sd1);
        const auto got = m_gz->encodeWindow(prompt.toStdString());
        if (got == toIds(sd1))
            ++m_gzMatched;
        QCOMPARE(idsText(got), idsText(m_sd1->encodeWindow(prompt.toStdString())));
    }

    void bpeFileSd2Convention()
    {
        STIPPLE_REQUIRE_FIXTURES();
        auto gz2 = ClipTokenizer::fromBpeFile((clipDir() + QStringLiteral("/bpe_simple_vocab_16e6.txt.gz")).toStdString(),
                                              ClipTokenizer::kSd2PadToken);
        QVERIFY(gz2.ok());
        const std::string p = "wow! so cool!! <|endoftext|>";
        QCOMPARE(idsText(gz2.value()->encodeWindow(p)), idsText(m_sd2->encodeWindow(p)));
    }

    void windowLayout()
    {
        STIPPLE_REQUIRE_FIXTURES();
        const auto empty = m_sd1->encodeWindow("");
        QCOMPARE(int(empty.size()), 77);
        QCOMPARE(empty[0], 49406);
        QCOMPARE(empty[1], 49407);
        QCOMPARE(empty[76], 49407);
        const auto empty2 = m_sd2->encodeWindow("");
        QCOMPARE(empty2[1], 49407);
        QCOMPARE(empty2[2], 0);
        std::string lng;
        for (int i = 0; i < 100; ++i)
            lng += "cat ";
        const auto body = m_sd1->encode(lng);
        QCOMPARE(int(body.size()), 100);
        const auto w = m_sd1->makeWindow(body);
        QCOMPARE(int(w.size()), 77);
        QCOMPARE(w[75], body[74]);
        QCOMPARE(w[76], 49407);
        QCOMPARE(int(m_sd1->makeWindow(body, 10).size()), 10);
    }

    void knownTokens()
    {
        STIPPLE_REQUIRE_FIXTURES();
        QCOMPARE(m_sd1->tokenize("a photo of a cat"),
                 (std::vector<std::string>{"a</w>", "photo</w>", "of</w>", "a</w>", "cat</w>"}));
        // Digits are single tokens; contractions split; special strings map to ids.
        QCOMPARE(int(m_sd1->encode("1080p").size()), 5);
        QCOMPARE(m_sd1->tokenize("don't"), (std::vector<std::string>{"don</w>", "'t</w>"}));
        QCOMPARE(m_sd1->encode("<|startoftext|>"), std::vector<int>{49406});
        QCOMPARE(m_sd1->encode("<|EndOfText|>"), std::vector<int>{49407});
        // SD2 splits every literal '!' out as id 0 (its pad token) before cleaning.
        QCOMPARE(m_sd2->encode("hi!"), (std::vector<int>{m_sd2->tokenToId("hi</w>"), 0}));
        QVERIFY(m_sd1->encode("hi!") != m_sd2->encode("hi!"));
    }

    void decodeRoundTrip()
    {
        STIPPLE_REQUIRE_FIXTURES();
        const std::string text = "a photograph of an astronaut riding a horse, café, 東京 🔥. it's";
        QCOMPARE(QString::fromStdString(m_sd1->decode(m_sd1->encodeWindow(text))), QString::fromStdString(text));
    }

    // decode(sd_input_ids) equals transformers' decode(..., skip_special_tokens=True).
    void decodeMatchesTransformers_data()
    {
        QTest::addColumn<QJsonArray>("ids");
        QTest::addColumn<QString>("decoded");
        if (m_cases.isEmpty())
            QTest::newRow("no-fixtures") << QJsonArray() << QString();
        for (const auto &c : m_cases) {
            const QJsonObject o = c.toObject();
            QTest::newRow(qPrintable(o.value(QStringLiteral("id")).toString()))
                << o.value(QStringLiteral("sd_input_ids")).toArray() << o.value(QStringLiteral("hf_decoded_window")).toString();
        }
    }
    void decodeMatchesTransformers()
    {
        STIPPLE_REQUIRE_FIXTURES();
        QFETCH(QJsonArray, ids);
        QFETCH(QString, decoded);
        QCOMPARE(QString::fromStdString(m_sd1->decode(toIds(ids))), decoded);
    }

    void preTokenizer()
    {
        const auto t = ClipTokenizer::preTokenize(U"it's 42 <|endoftext|>!? naïve");
        const std::vector<std::u32string> want = {U"it", U"'s", U"4", U"2", U"<|endoftext|>", U"!?", U"naïve"};
        QCOMPARE(t.size(), want.size());
        for (size_t i = 0; i < want.size(); ++i)
            QVERIFY2(t[i] == want[i], utf8::encode(t[i]).c_str());
        // Combining marks are neither letters nor numbers (Python regex \p{L}).
        QCOMPARE(ClipTokenizer::preTokenize(U"e\u0301").size(), size_t(2));
        // U+0345 matches neither letter nor punctuation class under IGNORECASE: skipped.
        QCOMPARE(ClipTokenizer::preTokenize(U"a\u0345b").size(), size_t(2));
    }

    void missingFolder()
    {
        auto r = ClipTokenizer::fromFolder("/nonexistent/tokenizer");
        QVERIFY(!r.ok());
        QCOMPARE(int(r.error().code), int(ErrorCode::MissingVocabulary));
        auto g = ClipTokenizer::fromBpeFile("/nonexistent/bpe_simple_vocab_16e6.txt.gz");
        QVERIFY(!g.ok());
        QCOMPARE(int(g.error().code), int(ErrorCode::MissingVocabulary));
    }

    void corruptFiles()
    {
        QTemporaryDir dir;
        QVERIFY(dir.isValid());
        // Broken vocab.json.
        writeFile(dir.filePath(QStringLiteral("vocab.json")), "{\"a\": 0, ");
        writeFile(dir.filePath(QStringLiteral("merges.txt")), "#version: 0.2\na b\n");
        auto r = ClipTokenizer::fromFolder(dir.path().toStdString());
        QVERIFY(!r.ok());
        QCOMPARE(int(r.error().code), int(ErrorCode::CorruptFile));
        // Valid JSON but too few merges.
        writeFile(dir.filePath(QStringLiteral("vocab.json")), "{\"a\": 0, \"b\": 1}");
        r = ClipTokenizer::fromFolder(dir.path().toStdString());
        QVERIFY(!r.ok());
        QCOMPARE(int(r.error().code), int(ErrorCode::CorruptFile));
        QVERIFY(QString::fromStdString(r.error().message).contains(QStringLiteral("merges")));
        // A gzip header followed by garbage.
        const QString gz = dir.filePath(QStringLiteral("bpe.txt.gz"));
        writeFile(gz, QByteArray("\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\x03garbage-garbage", 26));
        auto g = ClipTokenizer::fromBpeFile(gz.toStdString());
        QVERIFY(!g.ok());
        QCOMPARE(int(g.error().code), int(ErrorCode::CorruptFile));
    }

    // A 2000-character prompt must tokenize in well under 5 ms (cold cache included).
    void speed()
    {
        STIPPLE_REQUIRE_FIXTURES();
        std::string prompt;
        const char *pieces[] = {"masterpiece, best quality, (ultra detailed:1.2), ", "a café in Zürich at dusk, ",
                                "neon reflections on wet asphalt, 35mm, f/1.8, ", "by greg rutkowski and alphonse mucha, ",
                                "東京の夜景 🔥, ", "supercalifragilisticexpialidocious! "};
        std::u32string chars;
        for (int i = 0; chars.size() < 2000; ++i)
            chars += utf8::decode(pieces[i % 6]);
        chars.resize(2000); // exactly 2000 characters
        prompt = utf8::encode(chars);

        auto fresh = ClipTokenizer::fromFolder((clipDir() + QStringLiteral("/hf-sd1-tokenizer")).toStdString());
        QVERIFY(fresh.ok());
        QElapsedTimer timer;
        timer.start();
        const auto cold = fresh.value()->encode(prompt);
        const double coldMs = timer.nsecsElapsed() / 1e6;
        const int runs = 50;
        double bestMs = 1e9;
        timer.restart();
        for (int i = 0; i < runs; ++i) {
            QElapsedTimer one;
            one.start();
            const auto ids = fresh.value()->encode(prompt);
            bestMs = std::min(bestMs, one.nsecsElapsed() / 1e6);
            QVERIFY(ids == cold);
        }
        const double warmMs = timer.nsecsElapsed() / 1e6 / runs;
        qInfo("2000-character prompt (%d bytes, %d tokens): cold cache %.3f ms, warm mean %.3f ms, best %.3f ms",
              int(prompt.size()), int(cold.size()), coldMs, warmMs, bestMs);
        QVERIFY2(coldMs < 5.0, qPrintable(QStringLiteral("cold: %1 ms").arg(coldMs)));
        QVERIFY2(warmMs < 5.0, qPrintable(QStringLiteral("warm: %1 ms").arg(warmMs)));
    }
};

QTEST_GUILESS_MAIN(TestClipTokenizer)
#include "TestClipTokenizer.moc"
