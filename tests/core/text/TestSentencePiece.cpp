// SentencePieceTokenizer in a process that also runs libtorch: the shim module
// is dlopen()ed with RTLD_DEEPBIND, so the protobuf clash cannot crash us.
// The model is trained at test time with the spm_train CLI on a generated
// corpus; ids are checked against the spm_encode CLI.
#include "core/text/SentencePieceTokenizer.h"

#include <ATen/ATen.h>

#include <QFile>
#include <QProcess>
#include <QStandardPaths>
#include <QTemporaryDir>
#include <QTest>
#include <QTextStream>

using namespace stipple::core;

class TestSentencePiece : public QObject {
    Q_OBJECT

private:
    QTemporaryDir m_dir;
    QString m_model;

    static QStringList sentences()
    {
        return {QStringLiteral("a photograph of an astronaut riding a horse on the moon"),
                QStringLiteral("a cozy cabin in a snowy forest at night with warm light"),
                QStringLiteral("portrait of an old fisherman, dramatic lighting, oil painting"),
                QStringLiteral("cyberpunk city street in the rain with neon signs"),
                QStringLiteral("a red fox sitting in a field of lavender during golden hour"),
                QStringLiteral("watercolor painting of a hummingbird drinking from a flower"),
                QStringLiteral("café au lait on a marble counter, naïve art, 東京の夜景")};
    }

private Q_SLOTS:
    void initTestCase()
    {
        // Touch libtorch first so both libraries live in this process.
        const auto t = at::arange(4, at::kLong);
        QCOMPARE(t.sum().item<int64_t>(), int64_t(6));

        const QString trainer = QStandardPaths::findExecutable(QStringLiteral("spm_train"));
        if (trainer.isEmpty())
            QSKIP("spm_train (Debian package sentencepiece) is not installed");
        QVERIFY(m_dir.isValid());
        const QString corpus = m_dir.filePath(QStringLiteral("corpus.txt"));
        {
            QFile f(corpus);
            QVERIFY(f.open(QIODevice::WriteOnly | QIODevice::Text));
            QTextStream out(&f);
            const QStringList base = sentences();
            // Deterministic variations so the trainer sees enough text.
            for (int i = 0; i < 400; ++i)
                out << base[i % base.size()] << QLatin1Char(' ') << base[(i * 3 + 1) % base.size()]
                    << QStringLiteral(" number ") << i << QLatin1Char('\n');
        }
        QProcess p;
        p.start(trainer, {QStringLiteral("--input=") + corpus,
                          QStringLiteral("--model_prefix=") + m_dir.filePath(QStringLiteral("m")),
                          QStringLiteral("--vocab_size=128"), QStringLiteral("--model_type=unigram"),
                          QStringLiteral("--character_coverage=1.0"), QStringLiteral("--pad_id=3"),
                          QStringLiteral("--num_threads=1"), QStringLiteral("--minloglevel=2")});
        QVERIFY(p.waitForFinished(120000));
        QVERIFY2(p.exitCode() == 0, p.readAllStandardError().constData());
        m_model = m_dir.filePath(QStringLiteral("m.model"));
        QVERIFY(QFile::exists(m_model));
    }

    void moduleFound()
    {
        auto path = SentencePieceTokenizer::findModule();
        QVERIFY2(path.ok(), path.ok() ? "" : path.error().message.c_str());
    }

    void encodeMatchesCli()
    {
        auto tok = SentencePieceTokenizer::load(m_model.toStdString());
        QVERIFY2(tok.ok(), tok.ok() ? "" : tok.error().message.c_str());
        const auto &t = *tok.value();
        QCOMPARE(t.vocabSize(), 128);
        QCOMPARE(t.unkId(), 0);
        QCOMPARE(t.bosId(), 1);
        QCOMPARE(t.eosId(), 2);
        QCOMPARE(t.padId(), 3);

        const QString text = QStringLiteral("a horse riding an astronaut in the neon rain, café");
        const auto ids = t.encode(text.toStdString());
        QVERIFY(!ids.empty());

        const QString encoder = QStandardPaths::findExecutable(QStringLiteral("spm_encode"));
        if (!encoder.isEmpty()) {
            QProcess p;
            p.start(encoder, {QStringLiteral("--model=") + m_model, QStringLiteral("--output_format=id")});
            QVERIFY(p.waitForStarted());
            p.write(text.toUtf8() + '\n');
            p.closeWriteChannel();
            QVERIFY(p.waitForFinished(30000));
            QStringList expected = QString::fromUtf8(p.readAllStandardOutput()).trimmed().split(QLatin1Char(' '));
            QStringList got;
            for (int id : ids)
                got << QString::number(id);
            QCOMPARE(got, expected);
        }

        QCOMPARE(QString::fromStdString(t.decode(ids)), text);
        for (int id : ids)
            QCOMPARE(t.pieceToId(t.idToPiece(id)), id);
        QCOMPARE(t.pieceToId("\xe2\x96\x81horse-not-a-piece"), t.unkId());
        QVERIFY(t.encode("").empty());
        // Invalid ids are ignored by decode, not a crash.
        QCOMPARE(QString::fromStdString(t.decode({-5, 100000})), QString());

        // The ids feed a tensor in the same process.
        const auto tensor = at::tensor(std::vector<int64_t>(ids.begin(), ids.end()));
        QCOMPARE(tensor.size(0), int64_t(ids.size()));
    }

    void usableThroughInterface()
    {
        auto tok = SentencePieceTokenizer::load(m_model.toStdString());
        QVERIFY(tok.ok());
        std::shared_ptr<Tokenizer> base = tok.value();
        QCOMPARE(base->encode("a red fox"), tok.value()->encode("a red fox"));
    }

    void errors()
    {
        auto missing = SentencePieceTokenizer::load(m_dir.filePath(QStringLiteral("absent.model")).toStdString());
        QVERIFY(!missing.ok());
        QCOMPARE(int(missing.error().code), int(ErrorCode::MissingVocabulary));

        const QString bogus = m_dir.filePath(QStringLiteral("bogus.model"));
        {
            QFile f(bogus);
            QVERIFY(f.open(QIODevice::WriteOnly));
            f.write("this is not a protobuf model");
        }
        auto corrupt = SentencePieceTokenizer::load(bogus.toStdString());
        QVERIFY(!corrupt.ok());
        QCOMPARE(int(corrupt.error().code), int(ErrorCode::CorruptFile));
    }
};

QTEST_GUILESS_MAIN(TestSentencePiece)
#include "TestSentencePiece.moc"
