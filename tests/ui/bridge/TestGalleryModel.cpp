// GalleryModel + GalleryIndex: model consistency (QAbstractItemModelTester),
// SQLite index filters, rebuild when the database is missing or stale,
// background thumbnails announced with dataChanged, add / trash.
#include "ui/bridge/GalleryModel.h"

#include "ui/bridge/GalleryIndex.h"
#include "ui/bridge/GallerySaver.h"

#include <QAbstractItemModelTester>
#include <QDir>
#include <QFile>
#include <QGuiApplication>
#include <QImageWriter>
#include <QSignalSpy>
#include <QStandardPaths>
#include <QTemporaryDir>
#include <QTest>

#include <memory>

using namespace stipple::ui;

namespace {

QString infotext(const QString &prompt, qint64 seed, const QString &model)
{
    return QStringLiteral("%1\nNegative prompt: ugly\nSteps: 4, Sampler: Euler, CFG scale: 7, Seed: %2, Size: 64x48, Model: %3")
        .arg(prompt).arg(seed).arg(model);
}

QString writeImage(const QString &folder, const QString &prompt, qint64 seed, const QString &model,
                   const QDateTime &mtime = {})
{
    QImage img(64, 48, QImage::Format_RGB888);
    img.fill(QColor::fromHsv(int(seed * 37 % 360), 200, 200));
    const SaveResult r = saveToGallery(folder, img, infotext(prompt, seed, model), seed);
    if (!r.ok())
        qFatal("save failed: %s", qPrintable(r.error));
    if (mtime.isValid()) {
        QFile f(r.path);
        f.open(QIODevice::ReadWrite);
        f.setFileTime(mtime, QFileDevice::FileModificationTime);
    }
    return r.path;
}

} // namespace

class TestGalleryModel : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void initTestCase();
    void init();
    void cleanup();
    void indexFilters();
    void indexRebuildsAndSyncs();
    void modelLoadsAndFilters();
    void thumbnailsArriveAsync();
    void addAndTrash();

private:
    std::unique_ptr<QTemporaryDir> m_dir;
    QString m_gallery, m_db;
};

void TestGalleryModel::initTestCase()
{
    QStandardPaths::setTestModeEnabled(true);
    // QFile::moveToTrash needs the data folder (where Trash/ goes) to exist.
    QDir().mkpath(QStandardPaths::writableLocation(QStandardPaths::GenericDataLocation));
}

void TestGalleryModel::init()
{
    m_dir = std::make_unique<QTemporaryDir>();
    QVERIFY(m_dir->isValid());
    m_gallery = m_dir->filePath(QStringLiteral("gallery"));
    m_db = m_dir->filePath(QStringLiteral("data/index.sqlite"));
    QDir().mkpath(m_gallery);
    const QDateTime base = QDateTime(QDate(2024, 5, 1), QTime(12, 0));
    writeImage(m_gallery, QStringLiteral("a red fox in snow"), 11, QStringLiteral("dreamshaper"), base);
    writeImage(m_gallery, QStringLiteral("a blue bird"), 22, QStringLiteral("v1-5-pruned"), base.addDays(1));
    writeImage(m_gallery, QStringLiteral("Red house, 100% real"), 33, QStringLiteral("v1-5-pruned"), base.addDays(2));
    // A PNG without metadata is listed too.
    QImage plain(10, 10, QImage::Format_RGB888);
    plain.fill(Qt::black);
    QVERIFY(plain.save(m_gallery + QStringLiteral("/plain.png")));
    QFile f(m_gallery + QStringLiteral("/plain.png"));
    QVERIFY(f.open(QIODevice::ReadWrite));
    QVERIFY(f.setFileTime(base.addDays(-1), QFileDevice::FileModificationTime));
}

void TestGalleryModel::cleanup() { m_dir.reset(); }

void TestGalleryModel::indexFilters()
{
    GalleryIndex index(m_db, m_gallery);
    QVERIFY2(index.isOpen(), qPrintable(index.lastError()));
    const GallerySyncStats stats = index.sync();
    QVERIFY(stats.rebuilt);
    QCOMPARE(stats.added, 4);
    QCOMPARE(stats.total, 4);

    QList<GalleryEntry> all = index.query();
    QCOMPARE(all.size(), 4);
    QCOMPARE(all.first().seed, qint64(33)); // newest first
    QCOMPARE(all.last().fileName, QStringLiteral("plain.png"));
    QCOMPARE(all.first().width, 64);
    QVERIFY(all.first().parameters.contains(QStringLiteral("Seed: 33")));

    GalleryFilter f;
    f.text = QStringLiteral("red");
    QCOMPARE(index.query(f).size(), 2); // case-insensitive
    f.text = QStringLiteral("100%");
    QCOMPARE(index.query(f).size(), 1); // LIKE wildcards are escaped
    f.text = QStringLiteral("ugly");
    QCOMPARE(index.query(f).size(), 3); // negative prompt matches too
    f = {};
    f.seed = 22;
    QCOMPARE(index.query(f).size(), 1);
    QCOMPARE(index.query(f).first().prompt, QStringLiteral("a blue bird"));
    f = {};
    f.model = QStringLiteral("v1-5");
    QCOMPARE(index.query(f).size(), 2);
    f = {};
    f.from = QDateTime(QDate(2024, 5, 2), QTime(0, 0));
    f.to = QDateTime(QDate(2024, 5, 2), QTime(23, 59));
    QCOMPARE(index.query(f).size(), 1);
    f.newestFirst = false;
    f.to = {};
    const QList<GalleryEntry> oldest = index.query(f);
    QCOMPARE(oldest.size(), 2);
    QCOMPARE(oldest.first().seed, qint64(22));
    QCOMPARE(index.models(), (QStringList{QStringLiteral("dreamshaper"), QStringLiteral("v1-5-pruned")}));
}

void TestGalleryModel::indexRebuildsAndSyncs()
{
    {
        GalleryIndex index(m_db, m_gallery);
        QCOMPARE(index.sync().added, 4);
        QCOMPARE(index.sync().added, 0); // nothing changed
    }
    // Stale: a file removed, one added, one rewritten outside Stipple.
    const QList<QString> files = QDir(m_gallery).entryList({QStringLiteral("0*.png")}, QDir::Files, QDir::Name);
    QVERIFY(QFile::remove(m_gallery + QLatin1Char('/') + files.at(0)));
    writeImage(m_gallery, QStringLiteral("new one"), 44, QStringLiteral("m"));
    const QString rewritten = m_gallery + QLatin1Char('/') + files.at(1);
    QImage img(64, 48, QImage::Format_RGB888);
    img.fill(Qt::white);
    QVERIFY(savePngAtomically(rewritten, img, infotext(QStringLiteral("edited"), 55, QStringLiteral("m"))).ok());
    {
        GalleryIndex index(m_db, m_gallery);
        const GallerySyncStats s = index.sync();
        QVERIFY(!s.rebuilt);
        QCOMPARE(s.added, 1);
        QCOMPARE(s.removed, 1);
        QCOMPARE(s.updated, 1);
        QCOMPARE(s.total, 4);
        GalleryFilter f;
        f.text = QStringLiteral("edited");
        QCOMPARE(index.query(f).size(), 1);
    }
    // Missing database: rebuilt from the PNGs.
    QVERIFY(QFile::remove(m_db));
    {
        GalleryIndex index(m_db, m_gallery);
        const GallerySyncStats s = index.sync();
        QVERIFY(s.rebuilt);
        QCOMPARE(s.added, 4);
    }
    // Garbage database file: recreated, not an error.
    {
        QFile f(m_db);
        QVERIFY(f.open(QIODevice::WriteOnly | QIODevice::Truncate));
        f.write(QByteArray(4096, 'x'));
    }
    {
        GalleryIndex index(m_db, m_gallery);
        QVERIFY2(index.isOpen(), qPrintable(index.lastError()));
        QCOMPARE(index.sync().total, 4);
    }
    // Index of another folder in the same file: rebuilt for this one.
    const QString other = m_dir->filePath(QStringLiteral("other"));
    QDir().mkpath(other);
    writeImage(other, QStringLiteral("elsewhere"), 1, QStringLiteral("m"));
    {
        GalleryIndex index(m_db, other);
        const GallerySyncStats s = index.sync();
        QVERIFY(s.rebuilt);
        QCOMPARE(s.total, 1);
    }
}

void TestGalleryModel::modelLoadsAndFilters()
{
    GalleryModel model;
    QAbstractItemModelTester tester(&model, QAbstractItemModelTester::FailureReportingMode::QtTest);
    QSignalSpy loaded(&model, &GalleryModel::loaded);
    model.setFolder(m_gallery, m_db);
    QVERIFY(loaded.wait(10000));
    QCOMPARE(model.rowCount(), 4);
    const QModelIndex first = model.index(0);
    QCOMPARE(first.data(GalleryModel::SeedRole).toLongLong(), qint64(33));
    QCOMPARE(first.data(GalleryModel::PromptRole).toString(), QStringLiteral("Red house, 100% real"));
    QCOMPARE(first.data(Qt::DisplayRole).toString(), QStringLiteral("Red house, 100% real"));
    QCOMPARE(first.data(GalleryModel::ModelRole).toString(), QStringLiteral("v1-5-pruned"));
    QCOMPARE(first.data(GalleryModel::DateRole).toDateTime(), QDateTime(QDate(2024, 5, 3), QTime(12, 0)));
    QCOMPARE(first.data(GalleryModel::SizeRole).toSize(), QSize(64, 48));
    QVERIFY(first.data(GalleryModel::ParametersRole).toString().startsWith(QStringLiteral("Red house")));
    QVERIFY(QFileInfo::exists(first.data(GalleryModel::PathRole).toString()));
    QVERIFY(model.roleNames().contains(GalleryModel::ThumbnailRole));

    GalleryFilter f;
    f.text = QStringLiteral("red");
    model.setFilter(f);
    QVERIFY(loaded.wait(10000));
    QCOMPARE(model.rowCount(), 2);
    f = {};
    f.seed = 11;
    model.setFilter(f);
    QVERIFY(loaded.wait(10000));
    QCOMPARE(model.rowCount(), 1);
    QCOMPARE(model.index(0).data(GalleryModel::PromptRole).toString(), QStringLiteral("a red fox in snow"));
    model.setFilter({});
    QVERIFY(loaded.wait(10000));
    QCOMPARE(model.rowCount(), 4);

    // Files appearing outside Stipple show up after refresh().
    writeImage(m_gallery, QStringLiteral("external"), 66, QStringLiteral("m"));
    model.refresh();
    QVERIFY(loaded.wait(10000));
    QCOMPARE(model.rowCount(), 5);
}

void TestGalleryModel::thumbnailsArriveAsync()
{
    // No QAbstractItemModelTester here: it reads DecorationRole itself.
    GalleryModel model;
    model.setThumbnailSize(QSize(32, 32));
    QSignalSpy loaded(&model, &GalleryModel::loaded);
    model.setFolder(m_gallery, m_db);
    QVERIFY(loaded.wait(10000));
    QSignalSpy changed(&model, &QAbstractItemModel::dataChanged);
    const QModelIndex i = model.index(0);
    // First request: nothing yet (decoding runs in the background)...
    QVERIFY(i.data(GalleryModel::ThumbnailRole).value<QImage>().isNull());
    // ...then dataChanged for that row and the thumbnail is there.
    QTRY_VERIFY_WITH_TIMEOUT(!changed.isEmpty(), 10000);
    QCOMPARE(changed.first().at(0).toModelIndex(), i);
    QVERIFY(changed.first().at(2).value<QList<int>>().contains(GalleryModel::ThumbnailRole));
    const QImage thumb = i.data(GalleryModel::ThumbnailRole).value<QImage>();
    QCOMPARE(thumb.size(), QSize(32, 24)); // 64x48 fitted into 32x32
    QCOMPARE(i.data(Qt::DecorationRole).value<QImage>(), thumb);

    // Deleting the model with thumbnails still being decoded is safe.
    auto *doomed = new GalleryModel;
    QSignalSpy doomedLoaded(doomed, &GalleryModel::loaded);
    doomed->setFolder(m_gallery, m_db);
    QVERIFY(doomedLoaded.wait(10000));
    for (int r = 0; r < doomed->rowCount(); ++r)
        doomed->index(r).data(GalleryModel::ThumbnailRole);
    delete doomed;
    QTest::qWait(50);
}

void TestGalleryModel::addAndTrash()
{
    GalleryModel model;
    QAbstractItemModelTester tester(&model, QAbstractItemModelTester::FailureReportingMode::QtTest);
    QSignalSpy loaded(&model, &GalleryModel::loaded);
    model.setFolder(m_gallery, m_db);
    QVERIFY(loaded.wait(10000));
    QSignalSpy inserted(&model, &QAbstractItemModel::rowsInserted);
    const QString path = writeImage(m_gallery, QStringLiteral("fresh result"), 77, QStringLiteral("tiny"));
    model.addImage(path);
    QVERIFY(inserted.wait(10000));
    QCOMPARE(model.rowCount(), 5);
    QCOMPARE(model.rowForPath(path), 0);
    QCOMPARE(model.index(0).data(GalleryModel::SeedRole).toLongLong(), qint64(77));
    // It is in the index too.
    {
        GalleryIndex index(m_db, m_gallery);
        GalleryFilter f;
        f.seed = 77;
        QCOMPARE(index.query(f).size(), 1);
    }
    const QString error = model.moveToTrash(0);
    if (!error.isEmpty())
        QSKIP(qPrintable(QStringLiteral("no usable trash here: ") + error));
    QCOMPARE(model.rowCount(), 4);
    QVERIFY(!QFileInfo::exists(path));
    QCOMPARE(model.rowForPath(path), -1);
    QVERIFY(!model.moveToTrash(42).isEmpty());
}

int main(int argc, char **argv)
{
    QGuiApplication app(argc, argv);
    TestGalleryModel test;
    return QTest::qExec(&test, argc, argv);
}

#include "TestGalleryModel.moc"
