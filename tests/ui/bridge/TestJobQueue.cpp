// JobQueue: add / remove / reorder, persistence to JSON (with input images)
// across instances, running jobs one after another on a controller.
#include "ui/bridge/JobQueue.h"

#include "support/Fixtures.h"
#include "ui/bridge/GenerationController.h"
#include "ui/bridge/ImageConvert.h"

#include <QAbstractItemModelTester>
#include <QFile>
#include <QGuiApplication>
#include <QJsonDocument>
#include <QSignalSpy>
#include <QStandardPaths>
#include <QTemporaryDir>
#include <QTest>

using namespace stipple;
using namespace stipple::ui;

namespace {

core::GenerationRequest request(const std::string &prompt, int steps = 2)
{
    core::GenerationRequest r;
    r.prompt = prompt;
    r.steps = steps;
    r.width = 64;
    r.height = 64;
    r.seed = 7;
    return r;
}

QStringList prompts(const JobQueue &q)
{
    QStringList out;
    for (int i = 0; i < q.count(); ++i)
        out << QString::fromStdString(q.job(i).request.prompt);
    return out;
}

} // namespace

class TestJobQueue : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void initTestCase();
    void editAndPersist();
    void defaultStoreInAppData();
    void corruptFileIsIgnored();
    void failsWithoutModelAndKeepsGoing();
    void runsJobsInOrder();

private:
    QTemporaryDir m_dir;
};

void TestJobQueue::initTestCase()
{
    QStandardPaths::setTestModeEnabled(true);
    QVERIFY(m_dir.isValid());
}

void TestJobQueue::editAndPersist()
{
    const QString store = m_dir.filePath(QStringLiteral("edit/queue.json"));
    QImage init(40, 24, QImage::Format_RGB888);
    init.fill(QColor(10, 20, 30));
    QImage mask(40, 24, QImage::Format_Grayscale8);
    mask.fill(0);
    mask.setPixel(3, 4, 255);
    QUuid idB;
    {
        JobQueue q(store);
        QAbstractItemModelTester tester(&q, QAbstractItemModelTester::FailureReportingMode::QtTest);
        QCOMPARE(q.count(), 0);
        q.add(request("a"));
        core::GenerationRequest b = request("b", 9);
        b.initImage = toCoreImage(init, 3);
        b.mask = toCoreImage(mask, 1);
        b.strength = 0.35f;
        b.maskedContent = core::MaskedContent::Fill;
        b.seed = 123456789012345;
        idB = q.add(b, QStringLiteral("/models/x.safetensors"));
        q.add(request("c"));
        q.add(request("d"));
        QCOMPARE(prompts(q), (QStringList{"a", "b", "c", "d"}));
        QVERIFY(q.move(3, 0));
        QCOMPARE(prompts(q), (QStringList{"d", "a", "b", "c"}));
        QVERIFY(q.move(0, 2));
        QCOMPARE(prompts(q), (QStringList{"a", "b", "d", "c"}));
        QVERIFY(!q.move(0, 9));
        QVERIFY(q.remove(q.job(0).id));
        QCOMPARE(prompts(q), (QStringList{"b", "d", "c"}));
        QCOMPARE(q.pendingCount(), 3);
        QCOMPARE(q.index(0).data(JobQueue::StepsRole).toInt(), 9);
        QCOMPARE(q.index(0).data(Qt::DisplayRole).toString(), QStringLiteral("b"));
    }
    QVERIFY(QFile::exists(store));
    QVERIFY(QJsonDocument::fromJson([&] { QFile f(store); f.open(QIODevice::ReadOnly); return f.readAll(); }()).isObject());

    // A new instance (= after a restart) sees the same jobs in the same order.
    JobQueue q(store);
    QCOMPARE(prompts(q), (QStringList{"b", "d", "c"}));
    const JobQueue::Job &b = q.job(0);
    QCOMPARE(b.id, idB);
    QCOMPARE(b.modelPath, QStringLiteral("/models/x.safetensors"));
    QCOMPARE(b.request.steps, 9);
    QCOMPARE(b.request.strength, 0.35f);
    QCOMPARE(b.request.maskedContent, core::MaskedContent::Fill);
    QCOMPARE(b.request.seed, std::int64_t(123456789012345));
    QVERIFY(b.request.initImage.has_value());
    QVERIFY(b.request.mask.has_value());
    QCOMPARE(toQImage(*b.request.initImage), init);
    QCOMPARE(b.request.mask->channels, 1);
    QCOMPARE(toQImage(*b.request.mask), mask);
    QVERIFY(!q.job(1).request.initImage.has_value());
    QCOMPARE(b.status, JobQueue::Status::Pending);

    // Removing deletes the job's images too.
    QVERIFY(q.remove(idB));
    JobQueue again(store);
    QCOMPARE(prompts(again), (QStringList{"d", "c"}));
    again.clear();
    QCOMPARE(JobQueue(store).count(), 0);
}

void TestJobQueue::defaultStoreInAppData()
{
    JobQueue q;
    QVERIFY(q.storePath().startsWith(QStandardPaths::writableLocation(QStandardPaths::AppDataLocation)));
    q.clear();
}

void TestJobQueue::corruptFileIsIgnored()
{
    const QString store = m_dir.filePath(QStringLiteral("corrupt.json"));
    QFile f(store);
    QVERIFY(f.open(QIODevice::WriteOnly));
    f.write("{ not json");
    f.close();
    JobQueue q(store);
    QCOMPARE(q.count(), 0);
    q.add(request("x"));
    QCOMPARE(JobQueue(store).count(), 1);
}

// No model loaded: the job fails with a translated message, stays in the
// queue as Failed, and the queue moves on to the next job.
void TestJobQueue::failsWithoutModelAndKeepsGoing()
{
    const QString store = m_dir.filePath(QStringLiteral("fail.json"));
    GenerationController gen;
    JobQueue q(store);
    QSignalSpy failed(&q, &JobQueue::jobFailed);
    QSignalSpy empty(&q, &JobQueue::queueEmpty);
    q.add(request("one"));
    q.add(request("two"));
    q.setController(&gen);
    QTRY_COMPARE_WITH_TIMEOUT(failed.size(), 2, 20000);
    QVERIFY(!empty.isEmpty());
    QCOMPARE(q.count(), 2);
    QCOMPARE(q.job(0).status, JobQueue::Status::Failed);
    QVERIFY(!q.job(0).error.isEmpty());
    QCOMPARE(q.index(0).data(JobQueue::StatusRole).toInt(), int(JobQueue::Status::Failed));
    // Failed jobs come back as Failed after a restart; retry makes them pending.
    JobQueue reloaded(store);
    QCOMPARE(reloaded.job(1).status, JobQueue::Status::Failed);
    QVERIFY(reloaded.retry(reloaded.job(1).id));
    QCOMPARE(reloaded.job(1).status, JobQueue::Status::Pending);
    q.setController(nullptr);
}

void TestJobQueue::runsJobsInOrder()
{
    STIPPLE_REQUIRE_FIXTURES();
    const QString store = m_dir.filePath(QStringLiteral("run.json"));
    GenerationController gen;
    JobQueue q(store);
    QAbstractItemModelTester tester(&q, QAbstractItemModelTester::FailureReportingMode::QtTest);
    QSignalSpy started(&q, &JobQueue::jobStarted);
    QSignalSpy done(&q, &JobQueue::jobFinished);
    QSignalSpy failed(&q, &JobQueue::jobFailed);
    QSignalSpy results(&gen, &GenerationController::resultReady);
    QSignalSpy loads(&gen, &GenerationController::modelLoaded);
    // The first job names the model: the queue loads it before running.
    const QString model = QString::fromStdString(test::fixturePath(QStringLiteral("models/tiny-sd1")));
    const QUuid a = q.add(request("first", 3), model);
    q.setController(&gen);
    QTRY_VERIFY_WITH_TIMEOUT(!started.isEmpty(), 20000);
    // Added while the first one runs; then reordered so "third" runs before "second".
    const QUuid b = q.add(request("second", 2));
    const QUuid c = q.add(request("third", 2));
    QCOMPARE(q.runningJob(), a);
    QVERIFY(q.move(q.rowOf(c), q.rowOf(b)));
    QTRY_VERIFY_WITH_TIMEOUT(done.size() + failed.size() == 3, 300000);
    if (!failed.isEmpty())
        QFAIL(qPrintable(failed.first().at(1).toString()));
    QCOMPARE(done.at(0).first().value<QUuid>(), a);
    QCOMPARE(done.at(1).first().value<QUuid>(), c);
    QCOMPARE(done.at(2).first().value<QUuid>(), b);
    QCOMPARE(loads.size(), 1); // the model is loaded once
    QCOMPARE(results.size(), 3);
    QCOMPARE(q.count(), 0);
    QCOMPARE(JobQueue(store).count(), 0);
}

int main(int argc, char **argv)
{
    QGuiApplication app(argc, argv);
    app.setApplicationName(QStringLiteral("test_bridge_job_queue"));
    TestJobQueue test;
    return QTest::qExec(&test, argc, argv);
}

#include "TestJobQueue.moc"
