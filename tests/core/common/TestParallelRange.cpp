// parallelRange (core/common/ParallelRange): every index once, one part per
// worker with distinct part numbers, really on more than one thread, and
// exceptions from any part reach the caller.
#include "core/common/ParallelRange.h"

#include <ATen/Parallel.h>

#include <QTest>

#include <atomic>
#include <mutex>
#include <set>
#include <stdexcept>
#include <thread>
#include <vector>

using namespace stipple::core;

class TestParallelRange : public QObject {
    Q_OBJECT

private Q_SLOTS:
    void initTestCase()
    {
        at::set_num_threads(2);
        at::set_num_interop_threads(1); // what configureRuntime sets for 2 threads
    }

    void coversEveryIndexOnceOnTwoThreads()
    {
        std::vector<std::atomic<int>> seen(1000);
        std::mutex mutex;
        std::set<int> parts;
        std::set<std::thread::id> threads;
        std::thread::id partZero;
        parallelRange(0, 1000, 1, [&](std::int64_t b, std::int64_t e, int part) {
            for (std::int64_t i = b; i < e; ++i)
                ++seen[static_cast<std::size_t>(i)];
            // Long enough that both parts overlap in time.
            std::this_thread::sleep_for(std::chrono::milliseconds(50));
            std::lock_guard<std::mutex> lock(mutex);
            QVERIFY(parts.insert(part).second);
            threads.insert(std::this_thread::get_id());
            if (part == 0)
                partZero = std::this_thread::get_id();
        });
        QVERIFY(partZero == std::this_thread::get_id());
        for (const auto &s : seen)
            QCOMPARE(s.load(), 1);
        QCOMPARE(parts, (std::set<int>{0, 1}));
        QCOMPARE(int(threads.size()), 2);
    }

    void smallRangesStayOnTheCaller()
    {
        std::set<std::thread::id> threads;
        parallelRange(0, 10, 100, [&](std::int64_t b, std::int64_t e, int part) {
            QCOMPARE(b, std::int64_t(0));
            QCOMPARE(e, std::int64_t(10));
            QCOMPARE(part, 0);
            threads.insert(std::this_thread::get_id());
        });
        QCOMPARE(threads, (std::set<std::thread::id>{std::this_thread::get_id()}));
        parallelRange(5, 5, 1, [](std::int64_t, std::int64_t, int) { QFAIL("called for an empty range"); });
    }

    void exceptionsReachTheCaller()
    {
        for (int failing : {0, 1}) {
            bool thrown = false;
            try {
                parallelRange(0, 100, 1, [&](std::int64_t, std::int64_t, int part) {
                    if (part == failing)
                        throw std::runtime_error("part failed");
                });
            } catch (const std::runtime_error &e) {
                thrown = std::string(e.what()) == "part failed";
            }
            QVERIFY2(thrown, failing == 0 ? "from the calling thread's part" : "from a pool task");
        }
    }
};

QTEST_GUILESS_MAIN(TestParallelRange)
#include "TestParallelRange.moc"
