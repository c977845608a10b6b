// VocabularyLocator + Sha256: search order, the error message, hash checks.
#include "core/text/Sha256.h"
#include "core/text/VocabularyLocator.h"

#include "support/Fixtures.h"

#include <QDir>
#include <QFile>
#include <QTemporaryDir>
#include <QTest>

#include <cstdlib>

using namespace stipple::core;

class TestVocabularyLocator : public QObject {
    Q_OBJECT

private:
    QTemporaryDir m_home;

    static void touch(const QString &path, const QByteArray &bytes = "x")
    {
        QDir().mkpath(QFileInfo(path).absolutePath());
        QFile f(path);
        QVERIFY(f.open(QIODevice::WriteOnly));
        f.write(bytes);
    }

private Q_SLOTS:
    void initTestCase()
    {
        QVERIFY(m_home.isValid());
        qputenv("XDG_DATA_HOME", m_home.filePath(QStringLiteral("data")).toUtf8());
    }

    void sha256KnownVectors()
    {
        // FIPS 180-4 examples.
        QCOMPARE(QString::fromStdString(Sha256::hashHex("")),
                 QStringLiteral("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"));
        QCOMPARE(QString::fromStdString(Sha256::hashHex("abc")),
                 QStringLiteral("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"));
        QCOMPARE(QString::fromStdString(Sha256::hashHex("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq")),
                 QStringLiteral("248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1"));
        Sha256 h; // streaming in odd pieces == one shot
        const std::string million(1000000, 'a');
        for (size_t i = 0; i < million.size(); i += 777)
            h.update(million.data() + i, std::min<size_t>(777, million.size() - i));
        QCOMPARE(QString::fromStdString(Sha256::hex(h.finish())),
                 QStringLiteral("cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0"));
    }

    void appDataDir()
    {
        QCOMPARE(QString::fromStdString(VocabularyLocator::appDataDir()), m_home.filePath(QStringLiteral("data/stipple")));
        const QByteArray saved = qgetenv("XDG_DATA_HOME");
        qunsetenv("XDG_DATA_HOME");
        QCOMPARE(QString::fromStdString(VocabularyLocator::appDataDir()),
                 QString::fromLocal8Bit(qgetenv("HOME")) + QStringLiteral("/.local/share/stipple"));
        qputenv("XDG_DATA_HOME", saved);
    }

    void searchOrder()
    {
        const QString dataFile = m_home.filePath(QStringLiteral("data/stipple/bpe_simple_vocab_16e6.txt.gz"));
        QFile::remove(dataFile);
        // Nothing anywhere: a MissingVocabulary error that says what to put where.
        auto r = VocabularyLocator::locateClipBpe();
        QVERIFY(!r.ok());
        QCOMPARE(int(r.error().code), int(ErrorCode::MissingVocabulary));
        const QString msg = QString::fromStdString(r.error().message);
        QVERIFY2(msg.contains(QStringLiteral("bpe_simple_vocab_16e6.txt.gz")), qPrintable(msg));
        QVERIFY2(msg.contains(m_home.filePath(QStringLiteral("data/stipple/"))), qPrintable(msg));
        QVERIFY2(msg.contains(QString::fromLatin1(VocabularyLocator::kClipBpeUrl)), qPrintable(msg));

        // App data folder.
        touch(dataFile);
        r = VocabularyLocator::locateClipBpe();
        QVERIFY(r.ok());
        QCOMPARE(QString::fromStdString(r.value()), dataFile);

        // A user path (file, or folder holding the file) wins.
        const QString userFile = m_home.filePath(QStringLiteral("mine/bpe_simple_vocab_16e6.txt.gz"));
        touch(userFile);
        r = VocabularyLocator::locateClipBpe(userFile.toStdString());
        QVERIFY(r.ok());
        QCOMPARE(QString::fromStdString(r.value()), userFile);
        r = VocabularyLocator::locateClipBpe(m_home.filePath(QStringLiteral("mine")).toStdString());
        QVERIFY(r.ok());
        QCOMPARE(QString::fromStdString(r.value()), userFile);
        // A stale user path falls back to the data folder.
        r = VocabularyLocator::locateClipBpe(m_home.filePath(QStringLiteral("gone.txt.gz")).toStdString());
        QVERIFY(r.ok());
        QCOMPARE(QString::fromStdString(r.value()), dataFile);
    }

    void verify()
    {
        const QString bad = m_home.filePath(QStringLiteral("bad.txt.gz"));
        touch(bad, "not the vocabulary");
        auto st = VocabularyLocator::verifyClipBpe(bad.toStdString());
        QVERIFY(!st.ok());
        QCOMPARE(int(st.error().code), int(ErrorCode::CorruptFile));
        st = VocabularyLocator::verifyClipBpe(m_home.filePath(QStringLiteral("absent")).toStdString());
        QVERIFY(!st.ok());

        STIPPLE_REQUIRE_FIXTURES();
        const std::string real = (stipple::test::sharedDir() + QStringLiteral("/clip/bpe_simple_vocab_16e6.txt.gz")).toStdString();
        st = VocabularyLocator::verifyClipBpe(real);
        QVERIFY2(st.ok(), st.ok() ? "" : st.error().message.c_str());
        QCOMPARE(qint64(QFileInfo(QString::fromStdString(real)).size()), qint64(VocabularyLocator::kClipBpeSize));
    }
};

QTEST_GUILESS_MAIN(TestVocabularyLocator)
#include "TestVocabularyLocator.moc"
