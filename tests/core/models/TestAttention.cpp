// Chunked attention vs the plain reference (fp32, bf16, upcast, multi-head
// layout) and the chunked GEGLU feed-forward.
#include "core/models/common/Attention.h"
#include "core/models/unet/Transformer2D.h"

#include <ATen/ATen.h>
#include <ATen/Parallel.h>

#include <QTest>

using namespace stipple::core;

class TestAttention : public QObject {
    Q_OBJECT

    static double maxDiff(const at::Tensor &a, const at::Tensor &b)
    {
        return (a.to(at::kFloat) - b.to(at::kFloat)).abs().max().item<double>();
    }

private Q_SLOTS:
    void initTestCase() { at::set_num_threads(2); }

    void chunkedEqualsPlain_data()
    {
        QTest::addColumn<qint64>("chunkBytes");
        QTest::addColumn<bool>("upcast");
        QTest::newRow("1 row per chunk") << qint64(1) << false;
        QTest::newRow("uneven chunks") << qint64(7 * 6 * 50 * 4) << false;
        QTest::newRow("single chunk") << qint64(1 << 30) << false;
        QTest::newRow("upcast") << qint64(4096) << true;
    }

    void chunkedEqualsPlain()
    {
        QFETCH(qint64, chunkBytes);
        QFETCH(bool, upcast);
        torch::manual_seed(1);
        const at::Tensor q = at::randn({6, 123, 16}), k = at::randn({6, 50, 16}),
                         v = at::randn({6, 50, 24});
        AttentionOptions o;
        o.chunkBytes = chunkBytes;
        o.upcastAttention = upcast;
        const at::Tensor got = scaledDotProductAttention(q, k, v, 0.25, o);
        const at::Tensor ref = scaledDotProductAttentionPlain(q, k, v, 0.25, upcast);
        QCOMPARE(got.sizes(), (at::IntArrayRef{6, 123, 24}));
        QVERIFY(maxDiff(got, ref) < 1e-6);
        // Against the textbook formula softmax(q kᵀ s) v in double.
        const at::Tensor textbook =
            at::bmm(at::softmax(at::bmm(q.to(at::kDouble), k.to(at::kDouble).transpose(1, 2)) * 0.25, -1),
                    v.to(at::kDouble));
        QVERIFY(maxDiff(got, textbook) < 1e-5);
        // Scratch reuse across calls of another shape stays correct.
        const at::Tensor q2 = at::randn({2, 9, 16});
        QVERIFY(maxDiff(scaledDotProductAttention(q2, k.narrow(0, 0, 2), v.narrow(0, 0, 2), 0.25, o),
                        scaledDotProductAttentionPlain(q2, k.narrow(0, 0, 2), v.narrow(0, 0, 2), 0.25)) <
                1e-6);
    }

    void poisonedScratchIsIgnored()
    {
        // A call whose scores are NaN leaves NaN in the reused scratch; the next
        // call must not see it. Small blocks (d·rows·M < 400) take libtorch
        // 1.13's own baddbmm kernel, which does not ignore the buffer at beta = 0.
        torch::manual_seed(5);
        const at::Tensor q = at::randn({6, 10, 4}), k = at::randn({6, 7, 4}), v = at::randn({6, 7, 4});
        const AttentionOptions o;
        const at::Tensor poisoned = scaledDotProductAttention(at::full_like(q, NAN), k, v, 0.5, o);
        QVERIFY(poisoned.isnan().all().item<bool>());
        const at::Tensor got = scaledDotProductAttention(q, k, v, 0.5, o);
        QVERIFY(got.isfinite().all().item<bool>());
        QVERIFY(maxDiff(got, scaledDotProductAttentionPlain(q, k, v, 0.5)) < 1e-6);
    }

    void headsOverThreadsGiveTheSameBits()
    {
        // float32 blocks spread over the two threads by head, each with its own
        // scratch: the same bits as every call split between the threads, and
        // several query chunks per head (64 rows of 4096 bytes in 256 KiB).
        QCOMPARE(at::get_num_threads(), 2);
        torch::manual_seed(9);
        const at::Tensor q = at::randn({6, 300, 16}), k = at::randn({6, 1024, 16}), v = at::randn({6, 1024, 8});
        AttentionOptions byHead, byCall;
        byHead.chunkBytes = byCall.chunkBytes = 256 << 10;
        byCall.parallelHeads = false;
        const at::Tensor a = scaledDotProductAttention(q, k, v, 0.25, byHead);
        QVERIFY(at::equal(a, scaledDotProductAttention(q, k, v, 0.25, byCall)));
        QVERIFY(maxDiff(a, scaledDotProductAttentionPlain(q, k, v, 0.25)) < 1e-6);
    }

    void bf16()
    {
        torch::manual_seed(2);
        const at::Tensor q = at::randn({4, 77, 32}), k = at::randn({4, 77, 32}), v = at::randn({4, 77, 32});
        AttentionOptions o;
        o.chunkBytes = 4 * 77 * 4 * 10;
        const at::Tensor got =
            scaledDotProductAttention(q.to(at::kBFloat16), k.to(at::kBFloat16), v.to(at::kBFloat16),
                                      1.0 / std::sqrt(32.0), o);
        QCOMPARE(got.scalar_type(), at::kBFloat16);
        const at::Tensor ref = scaledDotProductAttentionPlain(q, k, v, 1.0 / std::sqrt(32.0));
        QVERIFY(maxDiff(got, ref) < 0.05);
    }

    void multiHeadLayout()
    {
        // [B, N, H·d] split into heads equals per-head attention on slices.
        torch::manual_seed(3);
        const at::Tensor q = at::randn({2, 10, 12}), k = at::randn({2, 7, 12}), v = at::randn({2, 7, 12});
        const at::Tensor got = multiHeadAttention(q, k, v, 3);
        for (int b = 0; b < 2; ++b)
            for (int h = 0; h < 3; ++h) {
                auto sl = [&](const at::Tensor &t) { return t[b].narrow(1, h * 4, 4).unsqueeze(0); };
                const at::Tensor ref = scaledDotProductAttentionPlain(sl(q), sl(k), sl(v), 0.5);
                // Float noise only: the batched and the per-head GEMMs may sum in a
                // different order.
                QVERIFY(maxDiff(sl(got), ref) < 1e-5);
            }
    }

    void feedForwardChunks()
    {
        torch::manual_seed(4);
        FeedForward ff(16);
        // 2 x 40000 tokens x 128 floats per GEGLU row: several 16 MiB chunks.
        const at::Tensor x = at::randn({2, 40000, 16});
        torch::NoGradGuard ng;
        const at::Tensor got = ff->forward(x);
        auto named = ff->named_parameters();
        const at::Tensor h = at::linear(x, named["net.0.proj.weight"], named["net.0.proj.bias"]);
        auto parts = h.chunk(2, -1);
        const at::Tensor ref =
            at::linear(parts[0] * at::gelu(parts[1]), named["net.2.weight"], named["net.2.bias"]);
        QCOMPARE(got.sizes(), x.sizes());
        QVERIFY(maxDiff(got, ref) < 1e-5);
    }
};

QTEST_GUILESS_MAIN(TestAttention)
#include "TestAttention.moc"
