// ModelHashJob: the first 10 hex digits of the file's SHA-256, "unknown" for
// a file it cannot read, a paused job finished by result(), and a job
// dropped while paused or hashing ends.
#include "core/pipeline/ModelHashJob.h"
#include "core/text/Sha256.h"

#include <QTemporaryDir>
#include <QTest>

#include <fstream>
#include <string>

using namespace stipple::core;

class TestModelHashJob : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void hashesTheFile()
    {
        QTemporaryDir dir;
        const std::string path = dir.filePath(QStringLiteral("m.safetensors")).toStdString();
        const std::string content(5 * (1 << 20) + 3, 's'); // several read buffers
        std::ofstream(path, std::ios::binary) << content;
        ModelHashJob job(path);
        const std::string expected = Sha256::hashHex(content).substr(0, 10);
        QCOMPARE(job.result(), expected);
        QCOMPARE(job.result(), expected); // stays
    }

    void unreadableFileIsUnknown()
    {
        QTemporaryDir dir;
        ModelHashJob job(dir.filePath(QStringLiteral("missing.safetensors")).toStdString());
        QCOMPARE(job.result(), std::string("unknown"));
    }

    void pausedJobWaitsAndResultFinishesIt()
    {
        // Paused from the start (as during a generation): result() still
        // hashes the whole file, on the calling thread.
        QTemporaryDir dir;
        const std::string path = dir.filePath(QStringLiteral("p.bin")).toStdString();
        std::string content(3 * (1 << 20), '\0');
        for (std::size_t i = 0; i < content.size(); ++i)
            content[i] = char(i * 2654435761u >> 13);
        std::ofstream(path, std::ios::binary) << content;
        ModelHashJob job(path);
        job.pause();
        job.resume();
        job.pause();
        QCOMPARE(job.result(), Sha256::hashHex(content).substr(0, 10));
        job.resume(); // harmless once finished
    }

    void droppedJobStopsPromptly()
    {
        // A paused worker blocked in its wait, and a running one, both end
        // when the job goes (the engine unloading a model).
        QTemporaryDir dir;
        const std::string path = dir.filePath(QStringLiteral("big.bin")).toStdString();
        {
            std::ofstream out(path, std::ios::binary);
            const std::string mib(1 << 20, 'b');
            for (int i = 0; i < 64; ++i)
                out << mib;
        }
        {
            ModelHashJob paused(path);
            paused.pause();
        }
        {
            ModelHashJob running(path);
        }
    }
};

QTEST_GUILESS_MAIN(TestModelHashJob)
#include "TestModelHashJob.moc"
