// DnnlMatmul (core/models/common): oneDNN's GEMM on a weight packed once
// gives float32 results within float32 noise of a float64 reference, for 2-D
// and batched inputs, with and without bias; few rows go to at::linear on the
// unpacked weight; Linear hands its float32 weight to it when prepared for
// inference and refuses what a prepared layer cannot run; 1x1 convolutions
// marked as token projections run through it too.
#include "core/models/common/Conv2d.h"
#include "core/models/common/DnnlMatmul.h"
#include "core/models/common/Linear.h"

#include <ATen/ATen.h>
#include <ATen/Parallel.h>
#include <c10/util/Exception.h>
#include <torch/nn/modules/container/sequential.h>

#include <QTest>

#include <vector>

using namespace stipple::core;

namespace {

double maxError(const at::Tensor &ours, const at::Tensor &reference)
{
    return (ours.to(at::kDouble) - reference).abs().max().item<double>();
}

at::Tensor reference(const at::Tensor &x, const at::Tensor &w, const at::Tensor &b)
{
    return at::linear(x.to(at::kDouble), w.to(at::kDouble), b.defined() ? b.to(at::kDouble) : at::Tensor());
}

// Weights scaled like a trained layer's (unit-variance outputs).
at::Tensor weightFor(std::int64_t out, std::int64_t in) { return at::randn({out, in}) * (1.0 / std::sqrt(double(in))); }

// Float32 noise for a sum of `in` unit-variance products: a few ulps of
// the output's scale, growing like sqrt(in) (OpenBLAS is held to the same).
double boundFor(std::int64_t in, const at::Tensor &ref)
{
    return 4e-7 * std::sqrt(double(in)) * std::max(1.0, ref.abs().max().item<double>());
}

} // namespace

#define STIPPLE_REQUIRE_DNNL()                                                                                \
    do {                                                                                                     \
        if (!DnnlMatmul::available())                                                                        \
            QSKIP("oneDNN's matmul kernel is not available (built without libdnnl-dev, or no AVX-512 here)"); \
    } while (false)

class TestDnnlMatmul : public QObject {
    Q_OBJECT

private Q_SLOTS:
    void initTestCase()
    {
        at::set_num_threads(2);
        at::GradMode::set_enabled(false);
    }

    void withoutItLinearsStayOnTorch()
    {
        if (DnnlMatmul::available() && DnnlMatmul::enabled())
            QSKIP("oneDNN's kernel is available here: the fallback is what other machines run");
        Linear linear(64, 32);
        QVERIFY(!linear->prepareForInference());
        QVERIFY(linear->dnnlMatmul() == nullptr);
        QCOMPARE(linear->weight.numel(), 64 * 32);
    }

    void matchesFloat64_data()
    {
        QTest::addColumn<QList<int>>("xSizes"); // the last one is `in`
        QTest::addColumn<int>("out");
        QTest::addColumn<bool>("withBias");
        QTest::addColumn<bool>("packed"); // expected: oneDNN's kernel rather than at::linear
        QTest::newRow("SD level 1 q/k/v at 256², batch 2") << QList<int>{2, 1024, 320} << 320 << false << true;
        QTest::newRow("GEGLU proj, level 3") << QList<int>{2, 256, 1280} << 10240 << true << true;
        QTest::newRow("feed-forward out, level 2") << QList<int>{512, 2560} << 640 << true << true;
        QTest::newRow("cross-attention k/v") << QList<int>{2, 77, 768} << 320 << false << true;
        QTest::newRow("odd sizes") << QList<int>{3, 37, 45} << 29 << true << true;
        QTest::newRow("time embedding (2 rows)") << QList<int>{2, 1280} << 1280 << true << true;
        QTest::newRow("one vector") << QList<int>{320} << 64 << true << true;
        QTest::newRow("no rows") << QList<int>{0, 64} << 96 << true << false;
    }

    void matchesFloat64()
    {
        STIPPLE_REQUIRE_DNNL();
        QFETCH(QList<int>, xSizes);
        QFETCH(int, out);
        QFETCH(bool, withBias);
        QFETCH(bool, packed);
        std::vector<std::int64_t> sizes(xSizes.begin(), xSizes.end());
        const std::int64_t in = sizes.back();
        const at::Tensor x = at::randn(sizes);
        const at::Tensor w = weightFor(out, in);
        const at::Tensor b = withBias ? at::randn({out}) : at::Tensor();
        DnnlMatmul mm(w, b);
        QCOMPARE(mm.inFeatures(), in);
        QCOMPARE(mm.outFeatures(), std::int64_t(out));
        QCOMPARE(mm.packedFor(x.numel() / in), packed);
        const at::Tensor y = mm.forward(x);
        std::vector<std::int64_t> expected = sizes;
        expected.back() = out;
        QCOMPARE(y.sizes().vec(), expected);
        if (x.numel() == 0)
            return; // the shape is what there is to check
        const at::Tensor ref = reference(x, w, b);
        const double err = maxError(y, ref), bound = boundFor(in, ref);
        const double torchErr = maxError(at::linear(x, w, b), ref);
        qInfo("max error %.3g (at::linear %.3g, bound %.3g)", err, torchErr, bound);
        QVERIFY(err <= bound);
        QVERIFY(maxError(mm.forward(x), ref) == err); // a second call reuses the plan
    }

    // The packed copy reads back exactly, for any strides and for sizes that
    // oneDNN's blocked layout pads.
    void unpacksTheSameWeight_data()
    {
        QTest::addColumn<int>("out");
        QTest::addColumn<int>("in");
        QTest::addColumn<bool>("transposedView");
        QTest::newRow("640x320, transposed view") << 640 << 320 << true;
        QTest::newRow("320x1280 (SD feed-forward out)") << 320 << 1280 << false;
        QTest::newRow("1280x768 (cross-attention k/v)") << 1280 << 768 << false;
        QTest::newRow("100x37 (padded both ways)") << 100 << 37 << false;
        QTest::newRow("64x16") << 64 << 16 << false;
        QTest::newRow("3x2") << 3 << 2 << true;
    }
    void unpacksTheSameWeight()
    {
        STIPPLE_REQUIRE_DNNL();
        QFETCH(int, out);
        QFETCH(int, in);
        QFETCH(bool, transposedView);
        const at::Tensor w = weightFor(out, in);
        DnnlMatmul mm(transposedView ? w.t().contiguous().t() : w, at::Tensor());
        QVERIFY(at::equal(mm.plainWeight(), w));
    }

    // Packed into memory the caller lends (DeferredPacking's first step):
    // that memory holds the weight, and the results are the same, bit for
    // bit; memory too small is not used.
    void packsIntoLentStorage()
    {
        STIPPLE_REQUIRE_DNNL();
        const at::Tensor w = weightFor(320, 768), b = at::randn({320}), x = at::randn({77, 768});
        DnnlMatmul own(w, b);
        const at::Tensor storage = at::zeros({std::int64_t(4) << 20}, at::TensorOptions().dtype(at::kByte));
        DnnlMatmul lent(w, b, storage);
        QVERIFY(storage.abs().sum().item<double>() > 0); // the packed weight is in it
        QVERIFY(at::equal(lent.forward(x), own.forward(x)));
        QVERIFY(at::equal(lent.plainWeight(), w));
        const at::Tensor tooSmall = at::zeros({1024}, at::TensorOptions().dtype(at::kByte));
        DnnlMatmul beside(w, b, tooSmall);
        QVERIFY(tooSmall.abs().sum().item<double>() == 0);
        QVERIFY(at::equal(beside.forward(x), own.forward(x)));
    }

    // A weight given a chunk of rows at a time (DeferredPacking's first
    // step) packs into the same bytes: several chunks of whole 64-feature
    // blocks, one chunk, and a size whose packing takes the whole copy.
    void packsFromRows_data()
    {
        QTest::addColumn<int>("out");
        QTest::addColumn<int>("in");
        QTest::addColumn<int>("chunks");
        QTest::newRow("5120 -> 1280: 64 features a chunk") << 1280 << 5120 << 20;
        QTest::newRow("768 -> 320: one chunk") << 320 << 768 << 1;
        QTest::newRow("64 -> 48: not whole blocks") << 48 << 64 << 1;
        QTest::newRow("4200 -> 128: padded input blocks, 2 chunks") << 128 << 4200 << 2;
    }
    void packsFromRows()
    {
        STIPPLE_REQUIRE_DNNL();
        QFETCH(int, out);
        QFETCH(int, in);
        QFETCH(int, chunks);
        const at::Tensor w = weightFor(out, in), b = at::randn({out}), x = at::randn({33, in});
        DnnlMatmul whole(w, b);
        std::int64_t next = 0;
        int calls = 0;
        at::Tensor buffer = at::empty({std::int64_t(out) * in}); // reused, as DeferredPacking's
        const auto rows = [&](std::int64_t n0, std::int64_t count) {
            ++calls;
            if (n0 != next) // in order, each row once
                throw std::runtime_error("rows out of order");
            next = n0 + count;
            at::Tensor chunk = buffer.narrow(0, 0, count * in).view({count, in});
            chunk.copy_(w.narrow(0, n0, count));
            return chunk;
        };
        // Not zero, as reused memory is: a byte the packing missed shows.
        const at::Tensor storage =
            at::full({std::int64_t(out) * in * 4 + 65536}, 0x7f, at::TensorOptions().dtype(at::kByte));
        DnnlMatmul byRows(DnnlMatmul::Rows{}, rows, out, in, b, storage);
        QCOMPARE(next, std::int64_t(out));
        QCOMPARE(calls, chunks);
        QVERIFY(at::equal(byRows.plainWeight(), w));
        QVERIFY(at::equal(byRows.forward(x), whole.forward(x)));
        // A source that gives the wrong rows is an error, not a wrong weight.
        const auto wrong = [&](std::int64_t, std::int64_t count) { return at::zeros({count, in + 1}); };
        QVERIFY_THROWS_EXCEPTION(c10::Error, DnnlMatmul(DnnlMatmul::Rows{}, wrong, out, in, b));
    }

    void stridedInput()
    {
        STIPPLE_REQUIRE_DNNL();
        const at::Tensor w = weightFor(96, 64), b = at::randn({96});
        DnnlMatmul mm(w, b);
        const at::Tensor x = at::randn({64, 40}).t(); // [40, 64], not contiguous
        const at::Tensor ref = reference(x, w, b);
        QVERIFY(maxError(mm.forward(x), ref) <= boundFor(64, ref));
    }

    void threadCountChangesKeepResults()
    {
        STIPPLE_REQUIRE_DNNL();
        const at::Tensor w = weightFor(320, 320), x = at::randn({512, 320});
        DnnlMatmul mm(w, at::Tensor());
        const at::Tensor ref = reference(x, w, at::Tensor());
        const at::Tensor two = mm.forward(x);
        at::set_num_threads(1);
        const at::Tensor one = mm.forward(x);
        at::set_num_threads(2);
        QVERIFY(maxError(one, ref) <= boundFor(320, ref));
        QVERIFY(maxError(two, ref) <= boundFor(320, ref));
    }

    void rejectsWrongInput()
    {
        STIPPLE_REQUIRE_DNNL();
        DnnlMatmul mm(weightFor(32, 64), at::Tensor());
        QVERIFY_THROWS_EXCEPTION(c10::Error, mm.forward(at::randn({4, 63})));
        QVERIFY_THROWS_EXCEPTION(c10::Error, mm.forward(at::randn({4, 64}).to(at::kBFloat16)));
        QVERIFY_THROWS_EXCEPTION(c10::Error, DnnlMatmul(at::randn({32, 64}).to(at::kDouble), at::Tensor()));
    }

    void linearPreparesFloat32Layers()
    {
        STIPPLE_REQUIRE_DNNL();
        torch::nn::Sequential holder(Linear(320, 1280), Linear(1280, 320));
        Linear bf16(64, 64);
        bf16->weight.set_data(bf16->weight.to(at::kBFloat16));
        holder->push_back(bf16);
        const at::Tensor x = at::randn({2, 100, 320});
        auto *first = holder[0]->as<LinearImpl>();
        const at::Tensor w = first->weight.clone(), b = first->bias.clone();
        const at::Tensor before = first->forward(x);
        QCOMPARE(prepareLinearsForInference(*holder), 2); // not the bf16 one
        QVERIFY(first->dnnlMatmul() != nullptr);
        QCOMPARE(first->weight.numel(), 0); // one copy of the weights: the packed one
        QVERIFY(at::equal(first->bias, b));
        QVERIFY(bf16->dnnlMatmul() == nullptr);

        const at::Tensor ref = reference(x, w, b);
        QVERIFY(maxError(first->forward(x), ref) <= boundFor(320, ref));
        QVERIFY(maxError(before, ref) <= boundFor(320, ref));
        QVERIFY(first->prepareForInference()); // again: a no-op
        QVERIFY_THROWS_EXCEPTION(c10::Error, first->forward(x.to(at::kBFloat16)));
        {
            at::AutoGradMode grad(true);
            QVERIFY_THROWS_EXCEPTION(c10::Error, first->forward(x));
        }
    }

    // Weights still in float16 (file views deferred by openCheckpoint) are
    // converted through one scratch as they are packed for float32; with
    // onlyToConvert, layers already in float32 are left for later.
    void linearPacksOtherDtypesForFloat32()
    {
        STIPPLE_REQUIRE_DNNL();
        torch::nn::Sequential holder(Linear(64, 96), Linear(96, 48), Linear(48, 32));
        std::vector<at::Tensor> w, b;
        for (int i = 0; i < 3; ++i) {
            auto *layer = holder[i]->as<LinearImpl>();
            if (i < 2) { // the first two as a float16 file would hold them
                layer->weight.set_data(layer->weight.to(at::kHalf));
                layer->bias.set_data(layer->bias.to(at::kHalf));
            }
            w.push_back(layer->weight.to(at::kFloat).clone());
            b.push_back(layer->bias.to(at::kFloat).clone());
        }
        QCOMPARE(prepareLinearsForInference(*holder, at::kFloat, /*onlyToConvert=*/true), 2);
        auto *third = holder[2]->as<LinearImpl>();
        QVERIFY(third->dnnlMatmul() == nullptr);
        QCOMPARE(prepareLinearsForInference(*holder, at::kFloat), 3); // the rest now
        at::Tensor x = at::randn({5, 64}), ref = x.to(at::kDouble);
        for (int i = 0; i < 3; ++i) {
            auto *layer = holder[i]->as<LinearImpl>();
            QVERIFY(layer->dnnlMatmul() != nullptr);
            QCOMPARE(layer->weight.numel(), 0);
            QCOMPARE(layer->bias.scalar_type(), at::kFloat);
            x = layer->forward(x);
            ref = at::linear(ref, w[i].to(at::kDouble), b[i].to(at::kDouble));
        }
        QVERIFY(maxError(x, ref) <= boundFor(96, ref));
    }

    void tokenProjectionConvolutionsRunAsMatmuls()
    {
        STIPPLE_REQUIRE_DNNL();
        Conv2d projection(torch::nn::Conv2dOptions(64, 96, 1));
        projection->setTokenProjection(true);
        Conv2d shortcut(torch::nn::Conv2dOptions(64, 96, 1)); // not marked: packed for torch's kernel
        shortcut->weight.set_data(projection->weight.clone());
        shortcut->bias.set_data(projection->bias.clone());
        const at::Tensor w = projection->weight.clone(), b = projection->bias.clone();
        const at::Tensor x = at::randn({2, 64, 12, 10});
        const at::Tensor ref = at::conv2d(x.to(at::kDouble), w.to(at::kDouble), b.to(at::kDouble));
        QVERIFY(projection->prepareForInference(at::kFloat));
        QVERIFY(shortcut->prepareForInference(at::kFloat));
        QVERIFY(projection->dnnlMatmul() != nullptr);
        QVERIFY(shortcut->dnnlMatmul() == nullptr);
        for (const at::Tensor &input : {x, x.contiguous(at::MemoryFormat::ChannelsLast)}) {
            const at::Tensor y = projection->forward(input);
            QCOMPARE(y.sizes().vec(), (std::vector<std::int64_t>{2, 96, 12, 10}));
            QVERIFY(maxError(y, ref) <= boundFor(64, ref));
            QVERIFY(maxError(shortcut->forward(input), ref) <= boundFor(64, ref));
        }
        // On tokens ([N, H·W, C]), as Transformer2D calls it.
        const at::Tensor tokens = x.permute({0, 2, 3, 1}).reshape({2, 120, 64});
        const at::Tensor refTokens = ref.permute({0, 2, 3, 1}).reshape({2, 120, 96});
        QVERIFY(maxError(projection->dnnlMatmul()->forward(tokens), refTokens) <= boundFor(64, ref));
    }
};

QTEST_GUILESS_MAIN(TestDnnlMatmul)
#include "TestDnnlMatmul.moc"
