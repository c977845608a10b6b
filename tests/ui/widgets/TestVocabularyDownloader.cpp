// Tests for VocabularyDownloader's verification: a file whose SHA-256 differs
// from openai's published one is never written; the real vocabulary (from
// ../shared/clip) is accepted and installed atomically; the offline text
// names the file, the URL and the folder. (No network access in tests.)
#include "tests/support/Fixtures.h"

#include "core/text/VocabularyLocator.h"
#include "ui/widgets/VocabularyDownloader.h"

#include <QCryptographicHash>
#include <QFile>
#include <QTemporaryDir>
#include <QTest>

using namespace stipple::ui;

class TestVocabularyDownloader : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void constantsComeFromCore();
    void wrongHashIsNotWritten();
    void matchingHashIsWritten();
    void realVocabularyInstalls();
    void offlineInstructionsNameEverything();
};

void TestVocabularyDownloader::constantsComeFromCore()
{
    QCOMPARE(VocabularyDownloader::expectedSha256(),
             QString::fromLatin1(stipple::core::VocabularyLocator::kClipBpeSha256));
    QVERIFY(VocabularyDownloader::defaultUrl().toString().endsWith(QStringLiteral("bpe_simple_vocab_16e6.txt.gz")));
}

void TestVocabularyDownloader::wrongHashIsNotWritten()
{
    QTemporaryDir dir;
    const QString target = dir.filePath(QStringLiteral("sub/bpe_simple_vocab_16e6.txt.gz"));
    const QString error = VocabularyDownloader::verifyAndSave(QByteArray("<html>captive portal</html>"), target);
    QVERIFY(!error.isEmpty());
    QVERIFY(error.contains(QStringLiteral("SHA-256")));
    QVERIFY(!QFile::exists(target));
}

void TestVocabularyDownloader::matchingHashIsWritten()
{
    QTemporaryDir dir;
    const QByteArray data("some bytes");
    const QString sha = QString::fromLatin1(QCryptographicHash::hash(data, QCryptographicHash::Sha256).toHex());
    const QString target = dir.filePath(QStringLiteral("deep/folder/vocab.gz"));
    QCOMPARE(VocabularyDownloader::verifyAndSave(data, target, sha), QString());
    QFile f(target);
    QVERIFY(f.open(QIODevice::ReadOnly));
    QCOMPARE(f.readAll(), data);
}

void TestVocabularyDownloader::realVocabularyInstalls()
{
    const QString source = stipple::test::sharedDir() + QStringLiteral("/clip/bpe_simple_vocab_16e6.txt.gz");
    if (!QFile::exists(source))
        QSKIP(qPrintable(QStringLiteral("%1 not found (set STIPPLE_SHARED_DIR)").arg(source)));
    QTemporaryDir dir;
    const QString target = dir.filePath(QStringLiteral("bpe_simple_vocab_16e6.txt.gz"));
    QCOMPARE(VocabularyDownloader::installFile(source, target), QString());
    QCOMPARE(QFileInfo(target).size(), stipple::core::VocabularyLocator::kClipBpeSize);
    // The core agrees with what was installed.
    QVERIFY(stipple::core::VocabularyLocator::verifyClipBpe(target.toStdString()).ok());
}

void TestVocabularyDownloader::offlineInstructionsNameEverything()
{
    const QString text = VocabularyDownloader::offlineInstructions();
    QVERIFY(text.contains(QStringLiteral("bpe_simple_vocab_16e6.txt.gz")));
    QVERIFY(text.contains(QStringLiteral("https://")));
    QVERIFY(text.contains(QStringLiteral("stipple")));
}

QTEST_MAIN(TestVocabularyDownloader)
#include "TestVocabularyDownloader.moc"
