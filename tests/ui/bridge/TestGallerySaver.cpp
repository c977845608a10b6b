// Gallery saving: PNG + "parameters" chunk, counter file names, atomicity
// (an aborted or killed save leaves no image file), trash.
#include "ui/bridge/GallerySaver.h"

#include "ui/bridge/ImageMetadata.h"

#include <QDir>
#include <QElapsedTimer>
#include <QFile>
#include <QGuiApplication>
#include <QImageReader>
#include <QProcess>
#include <QRandomGenerator>
#include <QSaveFile>
#include <QStandardPaths>
#include <QTemporaryDir>
#include <QTest>
#include <QThread>

#include <cstdio>

using namespace stipple::ui;

namespace {

// Noise does not compress, so a large PNG at level 9 takes a while to write.
QImage noiseImage(int w, int h)
{
    QImage img(w, h, QImage::Format_RGBA8888);
    QRandomGenerator gen(1234);
    for (int y = 0; y < h; ++y) {
        auto *line = reinterpret_cast<quint32 *>(img.scanLine(y));
        for (int x = 0; x < w; ++x)
            line[x] = gen.generate();
    }
    return img;
}

// Bytes the process has written so far (Linux /proc/<pid>/io), -1 if unknown.
qint64 bytesWritten(qint64 pid)
{
    QFile io(QStringLiteral("/proc/%1/io").arg(pid));
    if (!io.open(QIODevice::ReadOnly))
        return -1;
    const QList<QByteArray> lines = io.readAll().split('\n');
    for (const QByteArray &line : lines)
        if (line.startsWith("wchar:"))
            return line.mid(6).trimmed().toLongLong();
    return -1;
}

QStringList pngFiles(const QString &dir)
{
    return QDir(dir).entryList({QStringLiteral("*.png")}, QDir::Files);
}

} // namespace

class TestGallerySaver : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void initTestCase()
    {
        // QFile::moveToTrash needs the data folder (where Trash/ goes) to exist.
        QDir().mkpath(QStandardPaths::writableLocation(QStandardPaths::GenericDataLocation));
    }
    void savesWithParameters();
    void counterNames();
    void abortedSaveLeavesNothing();
    void killedSaveLeavesNothing();
    void replacesAtomically();
    void trash();
};

void TestGallerySaver::savesWithParameters()
{
    QTemporaryDir dir;
    QImage img(32, 24, QImage::Format_RGB888);
    img.fill(QColor(10, 200, 30));
    const QString info = QStringLiteral("dog\nNegative prompt: cat\nSteps: 2, Sampler: Euler, CFG scale: 7, Seed: 3, Size: 32x24");
    const SaveResult r = saveToGallery(dir.filePath(QStringLiteral("gallery")), img, info, 3);
    QVERIFY2(r.ok(), qPrintable(r.error));
    QVERIFY(r.path.endsWith(QStringLiteral("00000-3.png")));
    QImageReader reader(r.path);
    QCOMPARE(reader.format(), QByteArray("png"));
    const QImage back = reader.read();
    QCOMPARE(back.text(QStringLiteral("parameters")), info);
    QCOMPARE(readImageMetadata(r.path).metadata.raw, info); // header-only reader, newlines kept
    QCOMPARE(back.convertToFormat(QImage::Format_RGB888), img);
}

void TestGallerySaver::counterNames()
{
    QTemporaryDir dir;
    QImage img(8, 8, QImage::Format_RGB888);
    img.fill(Qt::red);
    QCOMPARE(nextGalleryFileName(dir.path(), 5), QStringLiteral("00000-5.png"));
    QVERIFY(img.save(dir.filePath(QStringLiteral("00041-1.png"))));
    QVERIFY(img.save(dir.filePath(QStringLiteral("notes.png"))));
    QCOMPARE(nextGalleryFileName(dir.path(), 77), QStringLiteral("00042-77.png"));
    const SaveResult a = saveToGallery(dir.path(), img, {}, 9);
    const SaveResult b = saveToGallery(dir.path(), img, {}, 9);
    QVERIFY(a.ok() && b.ok());
    QCOMPARE(QFileInfo(a.path).fileName(), QStringLiteral("00042-9.png"));
    QCOMPARE(QFileInfo(b.path).fileName(), QStringLiteral("00043-9.png"));
}

// QSaveFile abandoned before commit: neither the final file nor a stray PNG.
void TestGallerySaver::abortedSaveLeavesNothing()
{
    QTemporaryDir dir;
    const QString target = dir.filePath(QStringLiteral("00000-1.png"));
    {
        QSaveFile file(target);
        QVERIFY(file.open(QIODevice::WriteOnly));
        QVERIFY(noiseImage(64, 64).save(&file, "png"));
        file.cancelWriting();
        QVERIFY(!file.commit());
    }
    QVERIFY(!QFileInfo::exists(target));
    QVERIFY(pngFiles(dir.path()).isEmpty());
    // The same happens if the object dies without commit (e.g. an exception).
    {
        QSaveFile file(target);
        QVERIFY(file.open(QIODevice::WriteOnly));
        file.write("\x89PNG partial");
    }
    QVERIFY(!QFileInfo::exists(target));
    QVERIFY(pngFiles(dir.path()).isEmpty());
}

// A child process saving a big image is SIGKILLed while it is writing: no
// PNG appears (neither complete nor truncated), and a save that is allowed to
// finish gives a complete, readable PNG.
void TestGallerySaver::killedSaveLeavesNothing()
{
    QTemporaryDir dir;
    const QString target = dir.filePath(QStringLiteral("00000-7.png"));
    QProcess child;
    QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
    env.insert(QStringLiteral("STIPPLE_SAVE_CHILD"), target);
    child.setProcessEnvironment(env);
    child.setProgram(QCoreApplication::applicationFilePath());
    child.start();
    QVERIFY(child.waitForStarted());
    QVERIFY2(child.waitForReadyRead(30000), "child did not start writing");
    QVERIFY(child.readAll().contains("BEGIN"));
    // Wait until the child has written a good part of the file, then kill it.
    QElapsedTimer t;
    t.start();
    const qint64 base = bytesWritten(child.processId());
    qint64 now = base;
    while (base >= 0 && now - base < (1 << 20) && t.elapsed() < 20000
           && child.state() == QProcess::Running) {
        QThread::msleep(2);
        now = bytesWritten(child.processId());
    }
    if (base < 0)
        QThread::msleep(300); // no /proc: a fixed delay instead
    QVERIFY2(child.state() == QProcess::Running, "child finished before it could be killed; make the image bigger");
    child.kill();
    QVERIFY(child.waitForFinished(10000));
    QCOMPARE(child.exitStatus(), QProcess::CrashExit);
    qInfo("killed the saving child after %lld bytes written", qlonglong(now - base));

    QVERIFY(!QFileInfo::exists(target));
    QVERIFY2(pngFiles(dir.path()).isEmpty(), qPrintable(pngFiles(dir.path()).join(QLatin1Char(','))));
    // Whatever is left (a named temporary on file systems without O_TMPFILE) is
    // not a .png and is removed by the cleanup.
    removeStaleTemporaries(dir.path(), 0);
    QVERIFY(QDir(dir.path()).entryList(QDir::Files).isEmpty());

    // Uninterrupted: the file is complete.
    QProcess full;
    full.setProcessEnvironment(env);
    full.setProgram(QCoreApplication::applicationFilePath());
    full.start();
    QVERIFY(full.waitForFinished(120000));
    QCOMPARE(full.exitStatus(), QProcess::NormalExit);
    QCOMPARE(full.exitCode(), 0);
    QImageReader reader(target);
    const QImage img = reader.read();
    QCOMPARE(img.size(), QSize(1536, 1536));
    QCOMPARE(img.text(QStringLiteral("parameters")),
             QStringLiteral("child\nSteps: 1, Sampler: Euler, CFG scale: 1, Seed: 7, Size: 1536x1536"));
}

void TestGallerySaver::replacesAtomically()
{
    QTemporaryDir dir;
    const QString target = dir.filePath(QStringLiteral("x.png"));
    QImage a(8, 8, QImage::Format_RGB888), b(8, 8, QImage::Format_RGB888);
    a.fill(Qt::red);
    b.fill(Qt::blue);
    QVERIFY(savePngAtomically(target, a, QStringLiteral("A")).ok());
    QVERIFY(savePngAtomically(target, b, QStringLiteral("B")).ok());
    const QImage back(target);
    QCOMPARE(back.text(QStringLiteral("parameters")), QStringLiteral("B"));
    QCOMPARE(back.pixelColor(0, 0), QColor(Qt::blue));
    QVERIFY(!savePngAtomically(target, QImage(), {}).ok());
}

void TestGallerySaver::trash()
{
    QTemporaryDir dir;
    QImage img(4, 4, QImage::Format_RGB888);
    img.fill(Qt::green);
    const SaveResult r = saveToGallery(dir.path(), img, {}, 1);
    QVERIFY(r.ok());
    const QString error = moveToTrash(r.path);
    if (!error.isEmpty())
        QSKIP(qPrintable(QStringLiteral("no usable trash here: ") + error));
    QVERIFY(!QFileInfo::exists(r.path));
    QVERIFY(!moveToTrash(r.path).isEmpty()); // already gone: an error, not a crash
}

// Child mode: save a large noise image slowly and exit.
static int childMain(const QString &target)
{
    const QImage img = noiseImage(1536, 1536);
    std::printf("BEGIN\n");
    std::fflush(stdout);
    const SaveResult r = savePngAtomically(
        target, img, QStringLiteral("child\nSteps: 1, Sampler: Euler, CFG scale: 1, Seed: 7, Size: 1536x1536"), 9);
    return r.ok() ? 0 : 1;
}

int main(int argc, char **argv)
{
    const QString childTarget = qEnvironmentVariable("STIPPLE_SAVE_CHILD");
    if (!childTarget.isEmpty()) {
        QCoreApplication app(argc, argv);
        return childMain(childTarget);
    }
    QGuiApplication app(argc, argv);
    TestGallerySaver test;
    return QTest::qExec(&test, argc, argv);
}

#include "TestGallerySaver.moc"
