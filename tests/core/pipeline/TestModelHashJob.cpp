// ModelHashJob: the first 10 hex digits of the file's SHA-256; "unknown" for
// a file it cannot read; nothing read while paused; the hand-over from a
// worker stopped part-way; cancelling the rest; the file opened once; and a
// dropped job ending quickly, paused or running.
#include "core/pipeline/ModelHashJob.h"
#include "core/text/Sha256.h"

#include <QElapsedTimer>
#include <QFile>
#include <QTemporaryDir>
#include <QTest>
#include <QThread>

#include <fstream>
#include <string>

using namespace stipple::core;

namespace {
std::string patterned(std::size_t bytes)
{
    std::string s(bytes, '\0');
    for (std::size_t i = 0; i < bytes; ++i)
        s[i] = char((i * 2654435761u) >> 13);
    return s;
}

std::string write(const QTemporaryDir &dir, const char *name, const std::string &content)
{
    const std::string path = dir.filePath(QString::fromLatin1(name)).toStdString();
    std::ofstream(path, std::ios::binary) << content;
    return path;
}
} // namespace

class TestModelHashJob : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void hashesTheFile()
    {
        QTemporaryDir dir;
        const std::string content = patterned(5 * (1 << 20) + 3); // several reads, a partial last one
        ModelHashJob job(write(dir, "m.safetensors", content));
        const std::string expected = Sha256::hashHex(content).substr(0, 10);
        QCOMPARE(job.result(), expected);
        QCOMPARE(job.result(), expected);
    }

    void unreadableFileIsUnknown()
    {
        QTemporaryDir dir;
        ModelHashJob job(dir.filePath(QStringLiteral("missing.safetensors")).toStdString());
        QCOMPARE(job.result(), std::string("unknown"));
    }

    void pausedReadsNothingAndHandsOver()
    {
        QTemporaryDir dir;
        const std::string content = patterned(48 * (1 << 20));
        ModelHashJob job(write(dir, "p.bin", content), ModelHashJob::Start::Paused);
        QThread::msleep(50);
        QCOMPARE(job.bytesHashed(), std::uint64_t(0));
        // Let it run a little, stop it part-way, and let result() finish.
        job.resume();
        QTRY_VERIFY_WITH_TIMEOUT(job.bytesHashed() > 0, 5000);
        job.pause();
        const std::uint64_t handedOver = job.bytesHashed();
        qInfo("handed over at %llu of %zu bytes", static_cast<unsigned long long>(handedOver), content.size());
        QCOMPARE(job.result(), Sha256::hashHex(content).substr(0, 10));
        job.resume(); // harmless once finished
    }

    void cancelledResultCarriesOnLater()
    {
        QTemporaryDir dir;
        const std::string content = patterned(8 * (1 << 20));
        ModelHashJob job(write(dir, "c.bin", content), ModelHashJob::Start::Paused);
        CancelToken cancel;
        cancel.cancel();
        QCOMPARE(job.result(cancel), std::string("unknown"));
        QCOMPARE(job.result(), Sha256::hashHex(content).substr(0, 10));
    }

    void fileOpenedOnce()
    {
        // The app keeps working after the checkpoint is moved (its weights
        // are mapped); the hash is still the loaded file's.
        QTemporaryDir dir;
        const std::string content = patterned(3 * (1 << 20));
        const std::string path = write(dir, "moved.bin", content);
        ModelHashJob job(path, ModelHashJob::Start::Paused);
        QVERIFY(QFile::rename(QString::fromStdString(path), dir.filePath(QStringLiteral("elsewhere.bin"))));
        QCOMPARE(job.result(), Sha256::hashHex(content).substr(0, 10));
    }

    void droppedJobEndsQuickly()
    {
        QTemporaryDir dir;
        const std::string content = patterned(256 * (1 << 20));
        const std::string path = write(dir, "big.bin", content);
        QElapsedTimer timer;
        timer.start();
        {
            ModelHashJob full(path, ModelHashJob::Start::Paused);
            QCOMPARE(full.result(), Sha256::hashHex(content).substr(0, 10));
        }
        const qint64 fullMs = timer.restart();
        {
            ModelHashJob paused(path, ModelHashJob::Start::Paused); // blocked in its wait
        }
        {
            ModelHashJob running(path);
            QTRY_VERIFY_WITH_TIMEOUT(running.bytesHashed() > 0, 5000);
            timer.restart();
        }
        const qint64 dropMs = timer.elapsed();
        qInfo("whole file %lld ms, dropping a running job %lld ms", fullMs, dropMs);
        QVERIFY(dropMs * 4 < fullMs);
    }
};

QTEST_GUILESS_MAIN(TestModelHashJob)
#include "TestModelHashJob.moc"
