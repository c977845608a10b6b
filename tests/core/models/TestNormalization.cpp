// GroupNorm helpers (core/models/common/Normalization): the in-place GroupNorm+SiLU
// used for the VAE's large activations agrees with the plain path in both
// layouts, runs in place only on tensors nobody else can see, and a
// ResnetBlock2D given its input with std::move computes the same result.
#include "core/models/common/Normalization.h"
#include "core/models/common/ResnetBlock2D.h"

#include <ATen/ATen.h>
#include <c10/core/GradMode.h>

#include <QTest>

using namespace stipple::core;

namespace {

torch::nn::GroupNorm makeNorm(std::int64_t groups, std::int64_t channels)
{
    torch::nn::GroupNorm norm(torch::nn::GroupNormOptions(groups, channels).eps(1e-6));
    at::manual_seed(3);
    norm->weight.uniform_(0.5, 1.5);
    norm->bias.uniform_(-0.5, 0.5);
    return norm;
}

// silu(GroupNorm(x)) in float64, written out from the definition.
at::Tensor referenceGroupNormSilu(const torch::nn::GroupNorm &norm, const at::Tensor &x)
{
    const std::int64_t n = x.size(0), c = x.size(1), groups = norm->options.num_groups();
    const at::Tensor g = x.to(at::kDouble).contiguous().view({n, groups, -1});
    const at::Tensor mean = g.mean(-1, true);
    const at::Tensor var = (g - mean).pow(2).mean(-1, true);
    const at::Tensor normed = ((g - mean) / (var + norm->options.eps()).sqrt()).view(x.sizes());
    const at::Tensor y = normed * norm->weight.to(at::kDouble).view({1, c, 1, 1})
                         + norm->bias.to(at::kDouble).view({1, c, 1, 1});
    return at::silu(y);
}

double maxDifference(const at::Tensor &a, const at::Tensor &b)
{
    return (a - b).abs().max().item<double>();
}

} // namespace

class TestNormalization : public QObject {
    Q_OBJECT

private Q_SLOTS:
    void initTestCase() { c10::GradMode::set_enabled(false); }

    void inPlaceMatchesPlain_data()
    {
        QTest::addColumn<bool>("channelsLast");
        QTest::addColumn<int>("dtype");
        QTest::newRow("NCHW float32") << false << int(at::kFloat);
        QTest::newRow("channels_last float32") << true << int(at::kFloat);
        QTest::newRow("NCHW bfloat16 (group chunks)") << false << int(at::kBFloat16);
    }
    void inPlaceMatchesPlain()
    {
        QFETCH(bool, channelsLast);
        QFETCH(int, dtype);
        const auto norm = makeNorm(4, 16);
        at::manual_seed(11);
        // An offset mean and a spread of scales: the sums-of-squares variance
        // must not lose precision to the mean.
        at::Tensor x = (at::randn({2, 16, 24, 20}) * 3 + 20).to(static_cast<at::ScalarType>(dtype));
        if (channelsLast)
            x = x.contiguous(at::MemoryFormat::ChannelsLast);
        // Reference in float64; ATen's own float32 channels_last kernel is off
        // by ~6e-5 here (float sums of squares), the in-place path must do better.
        const at::Tensor expected = referenceGroupNormSilu(norm, x);
        at::Tensor y = x.clone(channelsLast ? at::MemoryFormat::ChannelsLast : at::MemoryFormat::Contiguous);
        const void *before = y.data_ptr();
        groupNormSiluInPlace(norm, y);
        QCOMPARE(y.data_ptr(), before);
        QCOMPARE(y.scalar_type(), x.scalar_type());
        const double tolerance = dtype == int(at::kFloat) ? 1e-5 : 5e-2;
        const double difference = maxDifference(y.to(at::kDouble), expected);
        QVERIFY2(difference < tolerance, qPrintable(QString::number(difference)));
    }

    void consumingWritesOnlyWhatItOwns()
    {
        const auto norm = makeNorm(4, 16);
        at::Tensor x = at::randn({1, 16, 8, 8});
        const at::Tensor original = x.clone();
        // The caller keeps a handle: never in place, x unchanged.
        const at::Tensor kept = groupNormSiluConsuming(norm, x, /*minInPlaceBytes=*/0);
        QVERIFY(at::equal(x, original));
        QVERIFY(kept.data_ptr() != x.data_ptr());
        // A view of x alive elsewhere: the storage is shared, so not in place either.
        at::Tensor owned = x.clone();
        const at::Tensor view = owned.narrow(1, 0, 4);
        const void *ownedData = owned.data_ptr();
        const at::Tensor fromView = groupNormSiluConsuming(norm, std::move(owned), 0);
        QVERIFY(fromView.data_ptr() != ownedData);
        QVERIFY(at::equal(view, original.narrow(1, 0, 4)));
        // Handed over and large enough: the same storage comes back, normalised.
        at::Tensor handed = x.clone();
        const void *handedData = handed.data_ptr();
        const at::Tensor inPlace = groupNormSiluConsuming(norm, std::move(handed), 0);
        QCOMPARE(inPlace.data_ptr(), handedData);
        QVERIFY(maxDifference(inPlace, kept) < 1e-5);
        // Below the size threshold: the plain (bit-exact) path.
        at::Tensor small = x.clone();
        QVERIFY(at::equal(groupNormSiluConsuming(norm, std::move(small)), kept));
        // With autograd on, never in place.
        c10::GradMode::set_enabled(true);
        at::Tensor tracked = x.clone();
        const void *trackedData = tracked.data_ptr();
        QVERIFY(groupNormSiluConsuming(norm, std::move(tracked), 0).data_ptr() != trackedData);
        c10::GradMode::set_enabled(false);
    }

    void layerNormInFloat32()
    {
        torch::nn::LayerNorm norm(torch::nn::LayerNormOptions({64}).eps(1e-5));
        at::manual_seed(8);
        norm->weight.uniform_(0.5, 1.5);
        norm->bias.uniform_(-0.5, 0.5);
        const at::Tensor x = at::randn({2, 50, 64}) * 2 + 3;
        // float32: exactly torch's LayerNorm.
        QVERIFY(at::equal(layerNormStable(norm, x), norm->forward(x)));
        // bfloat16: bf16 out, and closer to float64 than torch's bf16 LayerNorm.
        const at::Tensor xb = x.to(at::kBFloat16);
        const at::Tensor got = layerNormStable(norm, xb);
        QCOMPARE(got.scalar_type(), at::kBFloat16);
        const at::Tensor exact = at::layer_norm(xb.to(at::kDouble), {64}, norm->weight.to(at::kBFloat16).to(at::kDouble),
                                                norm->bias.to(at::kBFloat16).to(at::kDouble), 1e-5);
        torch::nn::LayerNorm bf16Norm(torch::nn::LayerNormOptions({64}).eps(1e-5));
        bf16Norm->weight.copy_(norm->weight);
        bf16Norm->bias.copy_(norm->bias);
        bf16Norm->to(at::kBFloat16);
        const double ours = maxDifference(got.to(at::kDouble), exact);
        const double torchBf16 = maxDifference(bf16Norm->forward(xb).to(at::kDouble), exact);
        qInfo("bf16 LayerNorm, largest error against float64: float32 path %.3g, torch's bf16 kernel %.3g", ours, torchBf16);
        QVERIFY(ours <= torchBf16);
        QVERIFY(ours < 0.05);
    }

    void resnetBlockWithHandedOverInput()
    {
        // 256 -> 128 channels with a 1x1 shortcut at 256x256 (64 MiB input):
        // the VAE decoder's consuming path, against the same block given a copy.
        ResnetBlock2DOptions o;
        o.inChannels = 256;
        o.outChannels = 128;
        o.eps = 1e-6;
        at::manual_seed(5);
        ResnetBlock2D block(o);
        at::Tensor x = at::randn({1, 256, 256, 256}).contiguous(at::MemoryFormat::ChannelsLast);
        QVERIFY(static_cast<std::int64_t>(x.nbytes()) >= kInPlaceGroupNormBytes);
        const at::Tensor expected = block->forward(x); // x kept: the plain path
        at::Tensor handed = x.clone(at::MemoryFormat::ChannelsLast);
        const at::Tensor got = block->forward(std::move(handed));
        QVERIFY(!handed.defined());
        QVERIFY2(maxDifference(got, expected) < 1e-4, qPrintable(QString::number(maxDifference(got, expected))));
    }
};

QTEST_GUILESS_MAIN(TestNormalization)
#include "TestNormalization.moc"
