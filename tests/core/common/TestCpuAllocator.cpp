// CpuAllocator: small blocks forwarded, large blocks aligned and reused,
// cache cap respected, concurrent use, installation as c10's CPU allocator.
#include "core/common/CpuAllocator.h"

#include <ATen/ATen.h>
#include <c10/core/CPUAllocator.h>

#include <QTest>

#include <atomic>
#include <cstdint>
#include <cstring>
#include <thread>
#include <vector>

using namespace stipple::core;

namespace {
constexpr std::size_t MiB = std::size_t(1) << 20;

bool aligned2M(const void *p) { return reinterpret_cast<std::uintptr_t>(p) % (2 * MiB) == 0; }
} // namespace

class TestCpuAllocator : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void roundedSizes_data()
    {
        QTest::addColumn<qulonglong>("bytes");
        QTest::addColumn<qulonglong>("expected");
        QTest::newRow("exactly 2 MiB") << qulonglong(2 * MiB) << qulonglong(2 * MiB);
        QTest::newRow("2 MiB + 1") << qulonglong(2 * MiB + 1) << qulonglong(4 * MiB);
        QTest::newRow("31 MiB") << qulonglong(31 * MiB) << qulonglong(32 * MiB);
        QTest::newRow("33 MiB -> 32/8 steps") << qulonglong(33 * MiB) << qulonglong(36 * MiB);
        QTest::newRow("100 MiB -> 64/8 steps") << qulonglong(100 * MiB) << qulonglong(104 * MiB);
        QTest::newRow("1 GiB") << qulonglong(1024 * MiB) << qulonglong(1024 * MiB);
    }
    void roundedSizes()
    {
        QFETCH(qulonglong, bytes);
        QFETCH(qulonglong, expected);
        const std::size_t r = CpuAllocator::roundedSize(bytes);
        QCOMPARE(qulonglong(r), expected);
        QVERIFY(r >= bytes);
        QVERIFY(r % (2 * MiB) == 0);
        QVERIFY(r - bytes <= std::max<std::size_t>(2 * MiB, bytes / 8));
    }

    void smallBlocksGoToFallback()
    {
        CpuAllocator a(c10::GetDefaultCPUAllocator());
        c10::DataPtr p = a.allocate(1000);
        QVERIFY(p.get() != nullptr);
        std::memset(p.get(), 1, 1000);
        const auto s = a.stats();
        QCOMPARE(s.smallAllocations, std::uint64_t(1));
        QCOMPARE(s.largeAllocations, std::uint64_t(0));
        QCOMPARE(s.bytesInUse, std::size_t(0));
    }

    void largeBlocksAlignedAndReused()
    {
        CpuAllocator a(c10::GetDefaultCPUAllocator());
        void *first = nullptr;
        {
            c10::DataPtr p = a.allocate(5 * MiB);
            QVERIFY(aligned2M(p.get()));
            std::memset(p.get(), 7, 5 * MiB); // writable over the whole request
            first = p.get();
            QCOMPARE(a.stats().bytesInUse, 6 * MiB);
        }
        auto s = a.stats();
        QCOMPARE(s.bytesInUse, std::size_t(0));
        QCOMPARE(s.bytesCached, 6 * MiB);
        QCOMPARE(s.cacheHits, std::uint64_t(0));
        {
            // Same size class (5.5 MiB rounds to 6 MiB): the cached block comes back.
            c10::DataPtr p = a.allocate(5 * MiB + MiB / 2);
            QCOMPARE(p.get(), first);
            // A different class while the first is in use: a fresh block.
            c10::DataPtr q = a.allocate(9 * MiB);
            QVERIFY(q.get() != first);
            QVERIFY(aligned2M(q.get()));
            s = a.stats();
            QCOMPARE(s.cacheHits, std::uint64_t(1));
            QCOMPARE(s.bytesCached, std::size_t(0));
            QCOMPARE(s.bytesInUse, 16 * MiB);
            QCOMPARE(s.peakBytesInUse, 16 * MiB);
        }
        a.releaseCached();
        QCOMPARE(a.stats().bytesCached, std::size_t(0));
        QCOMPARE(a.stats().bytesFreshlyMapped, 16 * MiB);
    }

    // DeferredPacking's temporaries: inside the scope a request takes the
    // smallest cached block that fits, which keeps its own class.
    void looseFitReusesLargerBlocks()
    {
        CpuAllocator a(c10::GetDefaultCPUAllocator());
        void *eight = nullptr, *forty = nullptr;
        {
            c10::DataPtr p = a.allocate(8 * MiB);
            c10::DataPtr q = a.allocate(40 * MiB);
            eight = p.get();
            forty = q.get();
        }
        QCOMPARE(a.stats().bytesCached, 48 * MiB);
        {
            // Outside the scope: only the same class.
            c10::DataPtr p = a.allocate(4 * MiB);
            QVERIFY(p.get() != eight && p.get() != forty);
        }
        a.releaseCached();
        {
            c10::DataPtr p = a.allocate(8 * MiB);
            c10::DataPtr q = a.allocate(40 * MiB);
            eight = p.get();
            forty = q.get();
        }
        const auto mapped = a.stats().bytesFreshlyMapped;
        {
            AllocatorLooseFit looseFit;
            {
                AllocatorLooseFit nested;
            } // the outer scope still holds
            c10::DataPtr p = a.allocate(3 * MiB); // 4 MiB class: the 8 MiB block, the smaller
            QCOMPARE(p.get(), eight);
            QCOMPARE(a.stats().bytesInUse, 8 * MiB);
            c10::DataPtr q = a.allocate(6 * MiB); // the 40 MiB block
            QCOMPARE(q.get(), forty);
            c10::DataPtr r = a.allocate(10 * MiB); // none left: fresh
            QVERIFY(r.get() != eight && r.get() != forty);
        }
        QCOMPARE(a.stats().bytesFreshlyMapped, mapped + 10 * MiB);
        QCOMPARE(a.stats().bytesInUse, std::size_t(0));
        QCOMPARE(a.stats().bytesCached, 58 * MiB); // each back under its own class
        {
            c10::DataPtr p = a.allocate(8 * MiB); // outside again: its own class
            QCOMPARE(p.get(), eight);
        }
        a.releaseCached();
    }

    // ideep (oneDNN) allocates through raw_allocate/raw_deallocate.
    void rawAllocateRoundTrip()
    {
        CpuAllocator a(c10::GetDefaultCPUAllocator());
        QVERIFY(a.raw_deleter() != nullptr);
        void *big = a.raw_allocate(3 * MiB);
        void *small = a.raw_allocate(100);
        QVERIFY(aligned2M(big));
        std::memset(big, 1, 3 * MiB);
        std::memset(small, 1, 100);
        QCOMPARE(a.stats().bytesInUse, 4 * MiB);
        a.raw_deallocate(big);
        a.raw_deallocate(small); // goes back to the fallback
        QCOMPARE(a.stats().bytesInUse, std::size_t(0));
        QCOMPARE(a.stats().bytesCached, 4 * MiB);
        void *again = a.raw_allocate(4 * MiB);
        QCOMPARE(again, big);
        a.raw_deallocate(again);
        a.releaseCached();
    }

    void cacheCapEvictsOldest()
    {
        CpuAllocatorOptions o;
        o.cacheCapBytes = 10 * MiB;
        CpuAllocator a(c10::GetDefaultCPUAllocator(), o);
        {
            c10::DataPtr p4 = a.allocate(4 * MiB);
            c10::DataPtr p6 = a.allocate(6 * MiB);
            c10::DataPtr p2 = a.allocate(2 * MiB);
            p4.clear(); // cached: 4
            p6.clear(); // cached: 4 + 6 = 10 (at the cap)
            QCOMPARE(a.stats().bytesCached, 10 * MiB);
            p2.clear(); // 12 > 10: the oldest (4 MiB) goes
            QCOMPARE(a.stats().bytesCached, 8 * MiB);
        }
        {
            c10::DataPtr again4 = a.allocate(4 * MiB);
            QCOMPARE(a.stats().cacheHits, std::uint64_t(0)); // it was evicted
            c10::DataPtr again6 = a.allocate(6 * MiB);
            QCOMPARE(a.stats().cacheHits, std::uint64_t(1));
        }
        // A block larger than the cap is never cached.
        {
            c10::DataPtr big = a.allocate(12 * MiB);
        }
        QVERIFY(a.stats().bytesCached <= 10 * MiB);
        a.releaseCached();
    }

    void concurrentUse()
    {
        CpuAllocatorOptions o;
        o.cacheCapBytes = 64 * MiB;
        CpuAllocator a(c10::GetDefaultCPUAllocator(), o);
        std::atomic<int> failures{0};
        std::vector<std::thread> threads;
        for (int t = 0; t < 4; ++t) {
            threads.emplace_back([&, t] {
                for (int i = 0; i < 200; ++i) {
                    const std::size_t bytes = (i % 2 ? 1000 : (2 + (i + t) % 5) * MiB);
                    c10::DataPtr p = a.allocate(bytes);
                    auto *c = static_cast<unsigned char *>(p.get());
                    const unsigned char tag = static_cast<unsigned char>(t * 50 + i);
                    c[0] = tag;
                    c[bytes - 1] = tag;
                    std::this_thread::yield();
                    if (c[0] != tag || c[bytes - 1] != tag)
                        ++failures;
                    if (bytes >= 2 * MiB && !aligned2M(p.get()))
                        ++failures;
                }
            });
        }
        for (auto &th : threads)
            th.join();
        QCOMPARE(failures.load(), 0);
        const auto s = a.stats();
        QCOMPARE(s.bytesInUse, std::size_t(0));
        QCOMPARE(s.largeAllocations + s.smallAllocations, std::uint64_t(800));
        QVERIFY(s.cacheHits > 0);
        QVERIFY(s.bytesCached <= 64 * MiB);
        a.releaseCached();
    }

    void installedForTensors()
    {
        CpuAllocator *a = installCpuAllocator();
        QVERIFY(a != nullptr);
        QCOMPARE(installedCpuAllocator(), a);
        QCOMPARE(installCpuAllocator(), a); // idempotent
        QCOMPARE(static_cast<c10::Allocator *>(a), c10::GetCPUAllocator());
        const auto before = a->stats();
        {
            at::Tensor big = at::ones({1024, 1024}, at::kFloat); // 4 MiB
            QVERIFY(aligned2M(big.data_ptr()));
            QCOMPARE(big.sum().item<double>(), 1024.0 * 1024.0);
            at::Tensor small = at::ones({16}); // through the previous allocator
            QCOMPARE(small.sum().item<double>(), 16.0);
        }
        const auto after = a->stats();
        QVERIFY(after.largeAllocations > before.largeAllocations);
        QVERIFY(after.smallAllocations > before.smallAllocations);
        // A tensor that outlives the uninstall is freed back into the cache.
        at::Tensor survivor = at::zeros({1024, 1024});
        uninstallCpuAllocator();
        QVERIFY(installedCpuAllocator() == nullptr);
        QVERIFY(c10::GetCPUAllocator() != static_cast<c10::Allocator *>(a));
        const std::size_t cachedBefore = a->stats().bytesCached;
        survivor = at::Tensor();
        QCOMPARE(a->stats().bytesCached, cachedBefore + 4 * MiB);
        QCOMPARE(installCpuAllocator(), a); // same instance comes back
        uninstallCpuAllocator();
    }

    // The VAE's scope: nothing cached inside it, the cap restored after it.
    void cacheOffScope()
    {
        CpuAllocator *a = installCpuAllocator();
        const std::size_t cap = a->options().cacheCapBytes;
        QVERIFY(cap >= 8 * MiB);
        (void)at::ones({1024, 1024}); // freed at once: 4 MiB cached
        QVERIFY(a->stats().bytesCached >= 4 * MiB);
        {
            AllocatorCacheOff off;
            QCOMPARE(a->stats().bytesCached, std::size_t(0)); // emptied on entry
            QCOMPARE(a->options().cacheCapBytes, std::size_t(0));
            at::Tensor t = at::ones({1024, 1024});
            QCOMPARE(t.sum().item<double>(), 1024.0 * 1024.0);
            t = at::Tensor();
            QCOMPARE(a->stats().bytesCached, std::size_t(0)); // freed, not kept
        }
        QCOMPARE(a->options().cacheCapBytes, cap);
        (void)at::ones({1024, 1024});
        QVERIFY(a->stats().bytesCached >= 4 * MiB); // caching again
        // Lowering the cap evicts down to it.
        const std::size_t old = a->setCacheCap(0);
        QCOMPARE(old, cap);
        QCOMPARE(a->stats().bytesCached, std::size_t(0));
        a->setCacheCap(cap);
        uninstallCpuAllocator();
    }
};

QTEST_GUILESS_MAIN(TestCpuAllocator)
#include "TestCpuAllocator.moc"
