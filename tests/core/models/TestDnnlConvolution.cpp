// DnnlConvolution (core/models/common): oneDNN's Winograd and direct kernels
// on one blocked weight give float32 results within float32 noise of a
// float64 reference, in both memory layouts; the algorithm follows the map
// size; layers sharing a workspace do not disturb each other; Conv2d hands
// its float32 3x3 layers to it when prepared for inference.
#include "core/models/common/Conv2d.h"
#include "core/models/common/DnnlConvolution.h"

#include <ATen/ATen.h>
#include <c10/util/Exception.h>

#include <QTest>

using namespace stipple::core;
using Algorithm = DnnlConvolution::Algorithm;

namespace {

double maxError(const at::Tensor &ours, const at::Tensor &reference)
{
    return (ours.to(at::kDouble) - reference).abs().max().item<double>();
}

at::Tensor reference(const at::Tensor &x, const at::Tensor &w, const at::Tensor &b, std::int64_t stride = 1)
{
    return at::conv2d(x.to(at::kDouble), w.to(at::kDouble), b.defined() ? b.to(at::kDouble) : at::Tensor(), stride,
                      1);
}

// Weights scaled like a trained layer's (unit-variance outputs).
at::Tensor weightFor(std::int64_t oc, std::int64_t ic)
{
    return at::randn({oc, ic, 3, 3}) * (1.0 / std::sqrt(9.0 * double(ic)));
}

} // namespace

// Every test that runs the class skips, visibly, without it; one test checks
// the fallback instead.
#define STIPPLE_REQUIRE_DNNL()                                                                                    \
    do {                                                                                                         \
        if (!DnnlConvolution::available())                                                                       \
            QSKIP("oneDNN's Winograd kernel is not available (built without libdnnl-dev, or no AVX-512 here)"); \
    } while (false)

class TestDnnlConvolution : public QObject {
    Q_OBJECT

private Q_SLOTS:
    void initTestCase() { at::GradMode::set_enabled(false); }

    void withoutItConvolutionsStayOnTorch()
    {
        if (DnnlConvolution::available() && DnnlConvolution::enabled())
            QSKIP("oneDNN's kernel is available here: the fallback is what other machines run");
        Conv2d conv(torch::nn::Conv2dOptions(64, 64, 3).padding(1));
        const at::Tensor x = at::randn({2, 64, 32, 32});
        const at::Tensor ref = reference(x, conv->weight, conv->bias);
        QCOMPARE(prepareDnnlConvolutions(*conv, std::make_shared<DnnlConvolution::Workspace>()), 0);
        conv->prepareForInference(at::kFloat);
        QVERIFY(conv->dnnlConvolution() == nullptr);
        QVERIFY(maxError(conv->forward(x), ref) < 3e-6 * ref.abs().max().item<double>());
    }

    void suitsOnlyWhatItRuns()
    {
        QVERIFY(DnnlConvolution::suits({320, 640, 3, 3}, {1, 1}, {1, 1}, {1, 1}, 1));
        QVERIFY(DnnlConvolution::suits({320, 640, 3, 3}, {2, 2}, {1, 1}, {1, 1}, 1));   // UNet downsampler
        QVERIFY(!DnnlConvolution::suits({320, 640, 3, 3}, {2, 2}, {0, 0}, {1, 1}, 1));  // VAE downsampler
        QVERIFY(!DnnlConvolution::suits({320, 640, 3, 3}, {2, 1}, {1, 1}, {1, 1}, 1));
        QVERIFY(!DnnlConvolution::suits({320, 640, 3, 3}, {3, 3}, {1, 1}, {1, 1}, 1));
        QVERIFY(!DnnlConvolution::suits({320, 640, 1, 1}, {1, 1}, {0, 0}, {1, 1}, 1)); // shortcut
        QVERIFY(!DnnlConvolution::suits({320, 4, 3, 3}, {1, 1}, {1, 1}, {1, 1}, 1));   // conv_in
        QVERIFY(!DnnlConvolution::suits({4, 320, 3, 3}, {1, 1}, {1, 1}, {1, 1}, 1));   // conv_out
        QVERIFY(!DnnlConvolution::suits({320, 320, 3, 3}, {1, 1}, {1, 1}, {2, 2}, 1));
        QVERIFY(!DnnlConvolution::suits({320, 160, 3, 3}, {1, 1}, {1, 1}, {1, 1}, 2));
    }

    void matchesFloat64_data()
    {
        QTest::addColumn<int>("ic");
        QTest::addColumn<int>("oc");
        QTest::addColumn<int>("n");
        QTest::addColumn<int>("h");
        QTest::addColumn<int>("w");
        QTest::addColumn<bool>("channelsLast");
        QTest::addColumn<bool>("withBias");
        QTest::addColumn<bool>("winograd");
        QTest::addColumn<int>("stride");
        // Winograd from 256 pixels and 65536 pixel-channels; the direct
        // kernel below (small maps, where Winograd's transforms cost more)
        // and for stride 2.
        QTest::newRow("320 at 16x16, CFG batch") << 320 << 320 << 2 << 16 << 16 << false << true << true << 1;
        QTest::newRow("128->64 at 32x48") << 128 << 64 << 1 << 32 << 48 << false << true << true << 1;
        QTest::newRow("channels_last, no bias") << 256 << 128 << 1 << 40 << 24 << true << false << true << 1;
        QTest::newRow("odd map 33x65") << 64 << 96 << 2 << 33 << 65 << false << true << true << 1;
        QTest::newRow("1280 at 8x8: direct") << 1280 << 640 << 2 << 8 << 8 << false << true << false << 1;
        QTest::newRow("32 channels: direct") << 32 << 32 << 1 << 32 << 32 << true << true << false << 1;
        QTest::newRow("downsampler 320 at 32x32") << 320 << 320 << 2 << 32 << 32 << false << true << false << 2;
        QTest::newRow("stride 2, odd map 33x17, channels_last")
            << 64 << 96 << 2 << 33 << 17 << true << true << false << 2;
    }

    void matchesFloat64()
    {
        STIPPLE_REQUIRE_DNNL();
        QFETCH(int, ic);
        QFETCH(int, oc);
        QFETCH(int, n);
        QFETCH(int, h);
        QFETCH(int, w);
        QFETCH(bool, channelsLast);
        QFETCH(bool, withBias);
        QFETCH(bool, winograd);
        QFETCH(int, stride);
        at::manual_seed(3);
        const at::Tensor weight = weightFor(oc, ic);
        const at::Tensor bias = withBias ? at::randn({oc}) * 0.1 : at::Tensor();
        at::Tensor x = at::randn({n, ic, h, w});
        if (channelsLast)
            x = x.contiguous(at::MemoryFormat::ChannelsLast);
        DnnlConvolution conv(weight, bias, nullptr, stride);
        const bool expectWinograd = winograd && DnnlConvolution::enabled();
        QCOMPARE(conv.algorithmFor(n, h, w, channelsLast) == Algorithm::Winograd, expectWinograd);

        const at::Tensor out = conv.forward(x);
        const at::Tensor ref = reference(x, weight, bias, stride);
        QCOMPARE(out.sizes(), ref.sizes());
        QCOMPARE(out.size(2), std::int64_t((h - 1) / stride + 1));
        QCOMPARE(out.scalar_type(), at::kFloat);
        QCOMPARE(out.is_contiguous(at::MemoryFormat::ChannelsLast) && !out.is_contiguous(), channelsLast);
        const double scale = ref.abs().max().item<double>();
        const double err = maxError(out, ref);
        // Measured: direct 1.5-2.7e-6, Winograd 1-2e-5 on outputs up to ~6
        // (stipple-bench --stages conv); float32 itself is 6e-8 relative.
        const double bound = (expectWinograd ? 2e-5 : 3e-6) * scale;
        if (err > bound)
            QFAIL(qPrintable(QString("max error %1 > %2 (outputs up to %3)").arg(err).arg(bound).arg(scale)));
        // The same input again (the plan and workspace are reused): same bits.
        QVERIFY(at::equal(conv.forward(x), out));
    }

    void bandsGiveTheSameSums_data()
    {
        QTest::addColumn<int>("channels");
        QTest::addColumn<int>("batch");
        QTest::addColumn<bool>("channelsLast");
        QTest::addColumn<int>("rows");
        QTest::addColumn<int>("stride");
        QTest::addColumn<int>("h");
        // 40 rows: bands of 4, 8 and 12 rows (a short last band for 12);
        // with stride 2, 20 output rows (21 of 41).
        QTest::newRow("Winograd, 4-row bands") << 128 << 1 << false << 4 << 1 << 40;
        QTest::newRow("Winograd, channels_last, 12-row bands") << 128 << 1 << true << 12 << 1 << 40;
        QTest::newRow("Winograd, batch 2, 8-row bands") << 128 << 2 << false << 8 << 1 << 40;
        QTest::newRow("Winograd, batch 2, channels_last") << 128 << 2 << true << 12 << 1 << 40;
        QTest::newRow("direct, 8-row bands") << 32 << 1 << true << 8 << 1 << 40;
        QTest::newRow("stride 2, 4-row bands") << 64 << 2 << false << 4 << 2 << 40;
        QTest::newRow("stride 2, channels_last, 8-row bands") << 128 << 1 << true << 8 << 2 << 40;
        QTest::newRow("stride 2, odd height 41, 4-row bands") << 64 << 1 << false << 4 << 2 << 41;
    }

    void bandsGiveTheSameSums()
    {
        STIPPLE_REQUIRE_DNNL();
        QFETCH(int, channels);
        QFETCH(int, batch);
        QFETCH(bool, channelsLast);
        QFETCH(int, rows);
        QFETCH(int, stride);
        QFETCH(int, h);
        at::manual_seed(13);
        const at::Tensor weight = weightFor(channels, channels), bias = at::randn({channels});
        at::Tensor x = at::randn({batch, channels, h, 24});
        if (channelsLast)
            x = x.contiguous(at::MemoryFormat::ChannelsLast);
        DnnlConvolution whole(weight, bias, nullptr, stride), banded(weight, bias, nullptr, stride);
        // Per output row: `stride` input rows and the output row; plus the
        // input's two halo rows.
        const std::int64_t inRowBytes = std::int64_t(batch) * 24 * channels * 4, outRowBytes = inRowBytes / stride;
        banded.setMaxBandBytes(rows * (stride * inRowBytes + outRowBytes) + 2 * inRowBytes);
        const int outRows = (h - 1) / stride + 1;
        QCOMPARE(whole.bandsFor(batch, h, 24, channelsLast), 1);
        QCOMPARE(banded.bandsFor(batch, h, 24, channelsLast), (outRows + rows - 1) / rows);
        const Algorithm algorithm = banded.algorithmFor(batch, h, 24, channelsLast);
        QCOMPARE(algorithm, whole.algorithmFor(batch, h, 24, channelsLast));
        QCOMPARE(algorithm == Algorithm::Winograd, DnnlConvolution::enabled() && channels == 128 && stride == 1);
        const at::Tensor ref = reference(x, weight, bias, stride);
        const at::Tensor out = banded.forward(x);
        QCOMPARE(out.is_contiguous(at::MemoryFormat::ChannelsLast) && !out.is_contiguous(), channelsLast);
        if (algorithm == Algorithm::Direct)
            QVERIFY(at::equal(out, whole.forward(x))); // the same sums in the same order
        QVERIFY(maxError(out, ref) < 2e-5 * ref.abs().max().item<double>());
        // The rows at band edges see their neighbours (not zero padding).
        QVERIFY(maxError(out.narrow(2, rows - 1, 2), ref.narrow(2, rows - 1, 2)) <
                2e-5 * ref.abs().max().item<double>());
    }

    // A Winograd layer over its workspace's scratch bound runs its output
    // channels in groups (whole blocks of 16): each group's channels land
    // in their place, with the bias, in either layout, banded or not.
    void groupsGiveTheSameSums_data()
    {
        QTest::addColumn<int>("out");
        QTest::addColumn<int>("in");
        QTest::addColumn<int>("h");
        QTest::addColumn<int>("w");
        QTest::addColumn<bool>("channelsLast");
        QTest::addColumn<bool>("banded");
        QTest::addColumn<int>("maxGroups");
        // A 1-byte bound: as many groups as the blocks allow (a power of two)
        // while each halving still saves a quarter of the scratch. Small maps
        // keep the input's tile buffers small beside the transformed weight.
        QTest::newRow("256 out at 16x16") << 256 << 256 << 16 << 16 << false << false << 16;
        QTest::newRow("256 out at 24x16, channels_last, banded") << 256 << 256 << 24 << 16 << true << true << 16;
        QTest::newRow("48 out (3 blocks): one group") << 48 << 64 << 48 << 48 << true << false << 1;
    }
    void groupsGiveTheSameSums()
    {
        STIPPLE_REQUIRE_DNNL();
        if (!DnnlConvolution::enabled())
            QSKIP("STIPPLE_DNNL_CONV=0: no Winograd plans to group");
        QFETCH(int, out);
        QFETCH(int, in);
        QFETCH(int, h);
        QFETCH(int, w);
        QFETCH(bool, channelsLast);
        QFETCH(bool, banded);
        QFETCH(int, maxGroups);
        at::manual_seed(17);
        const at::Tensor weight = weightFor(out, in), bias = at::randn({out});
        at::Tensor x = at::randn({2, in, h, w});
        if (channelsLast)
            x = x.contiguous(at::MemoryFormat::ChannelsLast);
        DnnlConvolution whole(weight, bias);
        auto workspace = std::make_shared<DnnlConvolution::Workspace>();
        workspace->groupScratchBytes = 1;
        if (banded)
            workspace->maxBandBytes = 2 * std::int64_t(w) * (in + out) * 4 * 12; // about 8 rows a band
        DnnlConvolution grouped(weight, bias, workspace);
        QCOMPARE(whole.groupsFor(2, h, w, channelsLast), 1);
        QCOMPARE(grouped.algorithmFor(2, h, w, channelsLast), Algorithm::Winograd);
        const int groups = grouped.groupsFor(2, h, w, channelsLast);
        QVERIFY2(groups <= maxGroups && (maxGroups == 1) == (groups == 1), std::to_string(groups).c_str());
        QCOMPARE(grouped.bandsFor(2, h, w, channelsLast) > 1, banded);
        const at::Tensor ref = reference(x, weight, bias);
        const at::Tensor y = grouped.forward(x);
        QCOMPARE(y.is_contiguous(at::MemoryFormat::ChannelsLast) && !y.is_contiguous(), channelsLast);
        QVERIFY(maxError(y, ref) < 2e-5 * ref.abs().max().item<double>());
        // Every channel checked, not only the largest error: a group written
        // to the wrong place would leave another's channels unwritten.
        for (std::int64_t c = 0; c < out; c += 16)
            QVERIFY2(maxError(y.narrow(1, c, 16), ref.narrow(1, c, 16)) < 2e-5 * ref.abs().max().item<double>(),
                     ("channels from " + std::to_string(c)).c_str());
        QVERIFY(maxError(y, ref) <= 2 * maxError(whole.forward(x), ref) + 1e-6);
    }

    void layersShareOneWorkspace()
    {
        STIPPLE_REQUIRE_DNNL();
        at::manual_seed(5);
        auto workspace = std::make_shared<DnnlConvolution::Workspace>();
        const at::Tensor w1 = weightFor(64, 128), w2 = weightFor(128, 64), b1 = at::randn({64}), b2 = at::randn({128});
        DnnlConvolution shared1(w1, b1, workspace), shared2(w2, b2, workspace);
        DnnlConvolution alone1(w1, b1), alone2(w2, b2);
        // Sizes that make the shared buffers grow between calls.
        for (int hw : {16, 48, 24}) {
            const at::Tensor x = at::randn({1, 128, hw, hw});
            const at::Tensor y = shared1.forward(x);
            QVERIFY(at::equal(y, alone1.forward(x)));
            QVERIFY(at::equal(shared2.forward(y), alone2.forward(y)));
        }
        QVERIFY(workspace->source.defined() && workspace->destination.defined());

        // The band bound is the workspace's: set through one layer, it
        // re-plans the other too.
        QCOMPARE(shared2.bandsFor(1, 48, 48), 1);
        shared1.setMaxBandBytes(1 << 20);
        QVERIFY(shared2.bandsFor(1, 48, 48) > 1);
        const at::Tensor y = at::randn({1, 64, 48, 48});
        QVERIFY(maxError(shared2.forward(y), reference(y, w2, b2)) < 2e-5 * reference(y, w2, b2).abs().max().item<double>());

        // Released buffers grow again on the next call, with the same result.
        const at::Tensor before = shared2.forward(y);
        shared1.releaseWorkspace();
        QVERIFY(!workspace->source.defined() && !workspace->destination.defined() && !workspace->scratch.defined());
        QVERIFY(at::equal(shared2.forward(y), before));
    }

    void manyShapesStayCorrect()
    {
        STIPPLE_REQUIRE_DNNL();
        // More shapes than the per-layer plan cache holds: old plans are
        // dropped and rebuilt, results stay right.
        at::manual_seed(9);
        const at::Tensor weight = weightFor(64, 64), bias = at::randn({64});
        DnnlConvolution conv(weight, bias);
        for (int round = 0; round < 2; ++round)
            for (int hw = 16; hw <= 48; hw += 4) {
                const at::Tensor x = at::randn({1, 64, hw, hw + 1});
                const at::Tensor ref = reference(x, weight, bias);
                QVERIFY(maxError(conv.forward(x), ref) < 2e-5 * ref.abs().max().item<double>());
            }
    }

    // A weight blocked a group of output channels at a time while the layer
    // runs (DeferredPacking's first step) gives the results of the weight
    // the class packs itself, bit for bit: Winograd and direct, stride 1
    // and 2, in groups the buffer sets, with Winograd's scratch groups on
    // top, and in bands (each group filled once per band).
    void streamedIsTheSameWeight_data()
    {
        QTest::addColumn<int>("out");
        QTest::addColumn<int>("in");
        QTest::addColumn<int>("size");
        QTest::addColumn<int>("stride");
        QTest::addColumn<int>("bufferBlocks"); // 16-channel blocks the buffer holds (0: the whole weight)
        QTest::addColumn<bool>("scratchGrouped");
        QTest::addColumn<bool>("banded");
        QTest::addColumn<int>("groups"); // expected; 0: two or more
        QTest::newRow("Winograd 64 at 32x32, whole") << 64 << 64 << 32 << 1 << 0 << false << false << 1;
        QTest::newRow("Winograd 256 at 16x16, 4 blocks a group") << 256 << 256 << 16 << 1 << 4 << false << false << 4;
        QTest::newRow("Winograd 256 at 16x16, 3 fit: 2 a group") << 256 << 256 << 16 << 1 << 3 << false << false << 8;
        QTest::newRow("Winograd, scratch groups as well") << 256 << 256 << 16 << 1 << 8 << true << false << 0;
        QTest::newRow("Winograd in bands, 2 groups") << 128 << 128 << 40 << 1 << 4 << false << true << 2;
        QTest::newRow("direct 160->320 at 8x8, 5 blocks a group") << 320 << 160 << 8 << 1 << 5 << false << false << 4;
        QTest::newRow("direct 64->48 at 8x8, 1 block a group") << 48 << 64 << 8 << 1 << 1 << false << false << 3;
        QTest::newRow("stride 2, 64 at 32x32, 2 groups") << 64 << 64 << 32 << 2 << 2 << false << false << 2;
        // SD 1.5's largest downsampler as the first 512² step runs it.
        QTest::newRow("stride 2, 1280 at 32x32, 4 groups") << 1280 << 1280 << 32 << 2 << 20 << false << false << 4;
    }
    void streamedIsTheSameWeight()
    {
        STIPPLE_REQUIRE_DNNL();
        QFETCH(int, out);
        QFETCH(int, in);
        QFETCH(int, size);
        QFETCH(int, stride);
        QFETCH(int, bufferBlocks);
        QFETCH(bool, scratchGrouped);
        QFETCH(bool, banded);
        QFETCH(int, groups);
        if (scratchGrouped && !DnnlConvolution::enabled())
            QSKIP("STIPPLE_DNNL_CONV=0: no Winograd plans to group");
        at::manual_seed(19);
        const at::Tensor weight = weightFor(out, in), bias = at::randn({out});
        DnnlConvolution packed(weight, bias, nullptr, stride);
        const auto blockBytes = static_cast<std::int64_t>(DnnlConvolution::blockedWeightBytes(16, in));
        QCOMPARE(blockBytes, std::int64_t(16) * in * 9 * std::int64_t(sizeof(float)));
        // Memory of the caller's, not zero, as a reused buffer is; half a
        // block more than the whole blocks it is said to hold.
        const std::int64_t bytes = bufferBlocks > 0
                                       ? bufferBlocks * blockBytes + blockBytes / 2
                                       : static_cast<std::int64_t>(DnnlConvolution::blockedWeightBytes(out, in));
        const at::Tensor buffer = at::full({bytes}, 0x7f, at::TensorOptions().dtype(at::kByte));
        int fills = 0;
        std::int64_t groupOc = 0;
        auto fill = [&](std::int64_t o0, std::int64_t k, void *dst) {
            ++fills;
            QVERIFY(dst == buffer.data_ptr() && k == groupOc && o0 % k == 0);
            // In two calls where the group has more than one block.
            const std::int64_t first = k > 16 ? 16 : k;
            DnnlConvolution::blockRows(weight.narrow(0, o0, first).contiguous(), 0, dst);
            if (k > first)
                DnnlConvolution::blockRows(weight.narrow(0, o0 + first, k - first).contiguous(), first, dst);
        };
        auto workspace = std::make_shared<DnnlConvolution::Workspace>();
        if (scratchGrouped)
            workspace->groupScratchBytes = 1;
        if (banded)
            workspace->maxBandBytes = 2 * std::int64_t(size) * (in + out) * 4 * 10; // about 8 rows a band
        DnnlConvolution streamed(DnnlConvolution::Streamed{}, fill, buffer, out, in, bias, workspace, stride);
        for (bool channelsLast : {false, true}) {
            const int planned = streamed.groupsFor(2, size, size, channelsLast);
            QVERIFY2(groups > 0 ? planned == groups : planned >= 2, std::to_string(planned).c_str());
            groupOc = out / planned;
            const int bands = streamed.bandsFor(2, size, size, channelsLast);
            QCOMPARE(bands > 1, banded);
            at::Tensor x = at::randn({2, in, size, size});
            if (channelsLast)
                x = x.contiguous(at::MemoryFormat::ChannelsLast);
            fills = 0;
            const at::Tensor y = streamed.forward(x);
            QCOMPARE(fills, planned * bands);
            QCOMPARE(y.size(3), std::int64_t((size - 1) / stride + 1));
            QVERIFY(at::equal(y, packed.forward(x)));
        }
    }

    void blockingRejectsWhatItCannotPlace()
    {
        STIPPLE_REQUIRE_DNNL();
        const at::Tensor buffer = at::empty({64 * 64 * 9}, at::TensorOptions().dtype(at::kFloat));
        // Rows and their offset come in blocks of 16 output channels.
        QVERIFY_THROWS_EXCEPTION(c10::Error, DnnlConvolution::blockRows(weightFor(8, 64), 0, buffer.data_ptr()));
        QVERIFY_THROWS_EXCEPTION(c10::Error, DnnlConvolution::blockRows(weightFor(16, 64), 8, buffer.data_ptr()));
        QVERIFY_THROWS_EXCEPTION(c10::Error, DnnlConvolution::blockRows(weightFor(16, 64).to(at::kHalf), 0,
                                                                        buffer.data_ptr()));
        // A streamed layer's buffer too small for one block of 16 output
        // channels, and one with no filler.
        const auto fill = [](std::int64_t, std::int64_t, void *) {};
        QVERIFY_THROWS_EXCEPTION(c10::Error, DnnlConvolution(DnnlConvolution::Streamed{}, fill,
                                                             buffer.narrow(0, 0, 16 * 64 * 9 - 1), 64, 64, at::Tensor()));
        QVERIFY_THROWS_EXCEPTION(c10::Error, DnnlConvolution(DnnlConvolution::Streamed{}, nullptr,
                                                             buffer.narrow(0, 0, 16 * 64 * 9), 64, 64, at::Tensor()));
    }

    void rejectsWrongInput()
    {
        STIPPLE_REQUIRE_DNNL();
        DnnlConvolution conv(weightFor(32, 64), at::Tensor());
        bool threw = false;
        try {
            (void)conv.forward(at::randn({1, 32, 16, 16})); // 32 channels, needs 64
        } catch (const c10::Error &) {
            threw = true;
        }
        QVERIFY(threw);
        threw = false;
        try {
            (void)conv.forward(at::randn({1, 64, 16, 16}).to(at::kDouble));
        } catch (const c10::Error &) {
            threw = true;
        }
        QVERIFY(threw);
        threw = false;
        try {
            DnnlConvolution odd(at::randn({30, 64, 3, 3}), at::Tensor()); // 30: not a multiple of 16
        } catch (const c10::Error &) {
            threw = true;
        }
        QVERIFY(threw);
    }

    void conv2dHandsItsFloat32LayersOver()
    {
        STIPPLE_REQUIRE_DNNL();
        if (!convolutionPackingEnabled())
            QSKIP("convolution preparation is off here (STIPPLE_CONV_PREPACK=0 or no oneDNN in torch)");
        at::manual_seed(11);
        Conv2d wino(torch::nn::Conv2dOptions(64, 64, 3).padding(1));
        Conv2d down(torch::nn::Conv2dOptions(64, 64, 3).stride(2).padding(1));
        const at::Tensor x = at::randn({2, 64, 32, 32});
        const at::Tensor refWino = reference(x, wino->weight, wino->bias);
        const at::Tensor refDown =
            at::conv2d(x.to(at::kDouble), down->weight.to(at::kDouble), down->bias.to(at::kDouble), 2, 1);
        QVERIFY(wino->prepareForInference(at::kFloat));
        QVERIFY(down->prepareForInference(at::kFloat));
        QCOMPARE(wino->dnnlConvolution() != nullptr, DnnlConvolution::enabled());
        QCOMPARE(down->dnnlConvolution() != nullptr, DnnlConvolution::enabled()); // the UNet's downsampler
        QVERIFY(maxError(wino->forward(x), refWino) < 2e-5 * refWino.abs().max().item<double>());
        QVERIFY(maxError(down->forward(x), refDown) < 3e-6 * refDown.abs().max().item<double>());
        // bf16 layers keep torch's packed kernel (Winograd is float32 only).
        Conv2d half(torch::nn::Conv2dOptions(64, 64, 3).padding(1));
        QVERIFY(half->prepareForInference(at::kBFloat16));
        QVERIFY(half->dnnlConvolution() == nullptr);
    }
};

QTEST_GUILESS_MAIN(TestDnnlConvolution)
#include "TestDnnlConvolution.moc"
