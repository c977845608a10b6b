// The pipeline's exception boundary: out-of-memory becomes OutOfMemory,
// torch errors Internal, nothing escapes.
#include "core/pipeline/ErrorBoundary.h"

#include <ATen/ATen.h>
#include <QTest>

using namespace stipple::core;

class TestErrorBoundary : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void mapsExceptions()
    {
        auto ok = runGuarded<int>("x", [] { return Result<int>(3); });
        QVERIFY(ok.ok());
        auto badAlloc = runGuarded<int>("generating", []() -> Result<int> { throw std::bad_alloc(); });
        QCOMPARE(int(badAlloc.error().code), int(ErrorCode::OutOfMemory));
        QVERIFY(badAlloc.error().message.find("generating") != std::string::npos);
        auto torchOom = runGuarded<int>("generating", []() -> Result<int> {
            TORCH_CHECK(false, "DefaultCPUAllocator: can't allocate memory: you tried to allocate 1099511627776 bytes.");
        });
        QCOMPARE(int(torchOom.error().code), int(ErrorCode::OutOfMemory));
        auto shape = runGuarded<int>("generating", []() -> Result<int> {
            at::ones({2, 3}).matmul(at::ones({2, 3}));
            return 0;
        });
        QCOMPARE(int(shape.error().code), int(ErrorCode::Internal));
        QVERIFY(!shape.error().message.empty());
        auto other = runGuarded<int>("x", []() -> Result<int> { throw std::runtime_error("boom"); });
        QCOMPARE(int(other.error().code), int(ErrorCode::Internal));
    }
    void realAllocationFailureIsReported()
    {
        // An allocation far beyond any machine (2^62 bytes) fails up front
        // without touching memory.
        auto r = runGuarded<int>("allocating", []() -> Result<int> {
            at::empty({int64_t(1) << 60}, at::kFloat);
            return 0;
        });
        QVERIFY(!r.ok());
        QCOMPARE(int(r.error().code), int(ErrorCode::OutOfMemory));
        qInfo("%s", r.error().message.c_str());
    }
};

QTEST_GUILESS_MAIN(TestErrorBoundary)
#include "TestErrorBoundary.moc"
