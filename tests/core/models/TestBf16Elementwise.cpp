// The one-pass bfloat16 kernels (core/models/common/Bf16Elementwise): each
// result is checked against float64 arithmetic on the same bfloat16 inputs,
// and must be as close to it as the float32 path it replaces (convert,
// compute in float32, round once), for shapes with and without a 16-wide
// tail. Skips on CPUs without AVX512-BF16.
#include "core/models/common/Bf16Elementwise.h"
#include "core/models/common/Normalization.h"
#include "core/models/unet/Transformer2D.h"

#include <ATen/ATen.h>
#include <c10/core/GradMode.h>

#include <cmath>

#include <QTest>

using namespace stipple::core;

namespace {

struct Errors {
    double kernel = 0, floatPath = 0, scale = 0;
    double differing = 0;  // share of elements whose bfloat16 differs from the float32 path's
    double kernelCloser = 0; // ... of those, the share where the kernel is nearer float64
    std::int64_t apart = 0; // ... by more than one bfloat16 step of their magnitude
};

// Largest |result - reference| for the kernel's and the float32 path's
// bfloat16 results, and the reference's largest magnitude.
Errors compare(const at::Tensor &kernel, const at::Tensor &floatPath, const at::Tensor &reference)
{
    Errors e;
    e.kernel = (kernel.to(at::kDouble) - reference).abs().max().item<double>();
    e.floatPath = (floatPath.to(at::kDouble) - reference).abs().max().item<double>();
    e.scale = reference.abs().max().item<double>();
    const at::Tensor k = kernel.to(at::kDouble), f = floatPath.to(at::kDouble);
    const at::Tensor gap = (k - f).abs();
    e.differing = gap.ne(0).to(at::kDouble).mean().item<double>();
    const at::Tensor differs = gap.ne(0);
    if (differs.any().item<bool>()) {
        const at::Tensor closer = (k - reference).abs().lt((f - reference).abs());
        e.kernelCloser = closer.logical_and(differs).sum().item<double>() / differs.sum().item<double>();
    }
    // One bfloat16 step is at most 2^-7 of the value; values near zero are
    // compared on the absolute float32 noise of the result's scale.
    const at::Tensor step = at::maximum(k.abs(), f.abs()) / 128.0 + 1e-6 * e.scale;
    e.apart = gap.gt(step).sum().item<std::int64_t>();
    return e;
}

// The kernel rounds its float32 result once, as the float32 path does: its
// error may differ from that path's only by float32 noise in the statistics
// and the exp/erf approximations, and stays within one bfloat16 step (2^-8
// relative) of the largest value.
void checkErrors(const char *what, const Errors &e)
{
    qInfo("%s: max |error| vs float64: kernel %.3g, float32 path %.3g (scale %.3g); %.3f%% of values differ "
          "from the float32 path's (the kernel nearer float64 for %.0f%% of them), %lld by more than one bf16 step",
          what, e.kernel, e.floatPath, e.scale, 100.0 * e.differing, 100.0 * e.kernelCloser,
          static_cast<long long>(e.apart));
    QVERIFY2(e.kernel <= 1.02 * e.floatPath + 1e-6 * e.scale, what);
    QVERIFY2(e.kernel <= e.scale / 256.0, what);
    // Same float32 arithmetic up to rounding: values land at most on the
    // neighbouring bfloat16. Few do, except where the float32 path is the
    // less accurate one: torch's float32 GELU computes 1 + erf(x), which
    // cancels for negative x (relative error ~0.3% at x = -4), and the
    // kernel's erfc does not; there the kernel must be the nearer to float64.
    QVERIFY2(e.apart == 0, what);
    QVERIFY2(e.differing < 0.02 || e.kernelCloser > 0.9, what);
}

at::Tensor randomBf16(at::IntArrayRef sizes, double scale, double shift = 0.0)
{
    return (at::randn(sizes, at::kDouble) * scale + shift).to(at::kBFloat16);
}

} // namespace

class TestBf16Elementwise : public QObject {
    Q_OBJECT

private Q_SLOTS:
    void initTestCase() { c10::GradMode::set_enabled(false); }
    void init()
    {
        // Every case but declinesWhatItDoesNotTake needs the kernels.
        if (!bf16ElementwiseAvailable() && QByteArray(QTest::currentTestFunction()) != "declinesWhatItDoesNotTake")
            QSKIP("no AVX512-BF16 on this CPU (or STIPPLE_BF16_ELEMENTWISE=0): the float32 path runs instead");
    }

    void layerNorm_data()
    {
        QTest::addColumn<int>("rows");
        QTest::addColumn<int>("channels");
        QTest::addColumn<double>("shift");
        QTest::newRow("SD 1.5 level 1 rows") << 300 << 320 << 0.0;
        QTest::newRow("1280 channels, offset mean") << 37 << 1280 << 3.0;
        QTest::newRow("tail of 8 (40 channels)") << 65 << 40 << -1.0;
        QTest::newRow("odd width 77") << 5 << 77 << 0.5;
    }
    void layerNorm()
    {
        QFETCH(int, rows);
        QFETCH(int, channels);
        QFETCH(double, shift);
        at::manual_seed(rows + channels);
        const at::Tensor x = randomBf16({2, rows, channels}, 2.0, shift);
        torch::nn::LayerNorm norm(torch::nn::LayerNormOptions({channels}).eps(1e-5));
        norm->weight.uniform_(0.5, 1.5);
        norm->bias.uniform_(-0.5, 0.5);
        norm->to(at::kBFloat16);
        const at::Tensor kernel = layerNormBf16(x, norm->weight, norm->bias, 1e-5);
        QVERIFY(kernel.defined());
        QCOMPARE(kernel.scalar_type(), at::kBFloat16);
        QCOMPARE(kernel.sizes(), x.sizes());
        QVERIFY(at::equal(layerNormStable(norm, x), kernel)); // what the UNet calls takes it
        const at::Tensor floatPath = at::layer_norm(x.to(at::kFloat), {channels}, norm->weight.to(at::kFloat),
                                                    norm->bias.to(at::kFloat), 1e-5)
                                         .to(at::kBFloat16);
        const at::Tensor xd = x.to(at::kDouble);
        const at::Tensor mean = xd.mean(-1, true), var = (xd - mean).pow(2).mean(-1, true);
        const at::Tensor reference =
            (xd - mean) / (var + 1e-5).sqrt() * norm->weight.to(at::kDouble) + norm->bias.to(at::kDouble);
        checkErrors("layer norm", compare(kernel, floatPath, reference));
    }

    void groupNorm_data()
    {
        QTest::addColumn<int>("channels");
        QTest::addColumn<int>("size");
        QTest::addColumn<bool>("silu");
        QTest::newRow("320 channels 32x32, SiLU") << 320 << 32 << true;
        QTest::newRow("640 channels 16x16") << 640 << 16 << false;
        QTest::newRow("1280 channels 5x5 (tails), SiLU") << 1280 << 5 << true;
        QTest::newRow("64 channels 7x7, SiLU") << 64 << 7 << true;
    }
    void groupNorm()
    {
        QFETCH(int, channels);
        QFETCH(int, size);
        QFETCH(bool, silu);
        constexpr int kGroups = 32;
        at::manual_seed(channels + size);
        const at::Tensor x = randomBf16({2, channels, size, size}, 1.5, 0.7);
        torch::nn::GroupNorm norm(torch::nn::GroupNormOptions(kGroups, channels).eps(1e-6));
        norm->weight.uniform_(0.5, 1.5);
        norm->bias.uniform_(-0.5, 0.5);
        norm->to(at::kBFloat16);
        const at::Tensor kernel = groupNormBf16(x, kGroups, norm->weight, norm->bias, 1e-6, silu);
        QVERIFY(kernel.defined());
        QCOMPARE(kernel.sizes(), x.sizes());
        QVERIFY(at::equal(silu ? groupNormSilu(norm, x) : groupNormStable(norm, x), kernel));
        at::Tensor floatPath =
            at::group_norm(x.to(at::kFloat), kGroups, norm->weight.to(at::kFloat), norm->bias.to(at::kFloat), 1e-6);
        if (silu)
            at::silu_(floatPath);
        const at::Tensor g = x.to(at::kDouble).view({2, kGroups, -1});
        const at::Tensor mean = g.mean(-1, true), var = (g - mean).pow(2).mean(-1, true);
        at::Tensor reference = ((g - mean) / (var + 1e-6).sqrt()).view(x.sizes()) *
                                   norm->weight.to(at::kDouble).view({1, channels, 1, 1}) +
                               norm->bias.to(at::kDouble).view({1, channels, 1, 1});
        if (silu)
            reference = at::silu(reference);
        checkErrors(silu ? "group norm + SiLU" : "group norm", compare(kernel, floatPath.to(at::kBFloat16), reference));
    }

    void geglu_data()
    {
        QTest::addColumn<int>("rows");
        QTest::addColumn<int>("width");
        QTest::newRow("1280 wide") << 64 << 1280;
        QTest::newRow("tail of 8 (40 wide)") << 33 << 40;
    }
    void geglu()
    {
        QFETCH(int, rows);
        QFETCH(int, width);
        at::manual_seed(rows * width);
        // As GEGLU's projection: one [2, rows, 2·width] tensor split in two;
        // gate values reach far into both tails of the GELU.
        const at::Tensor projected = randomBf16({2, rows, 2 * width}, 3.0);
        const auto parts = projected.chunk(2, -1);
        const at::Tensor kernel = gegluBf16(parts[0], parts[1]);
        QVERIFY(kernel.defined());
        QCOMPARE(kernel.sizes(), parts[0].sizes());
        const at::Tensor floatPath =
            (parts[0].to(at::kFloat) * at::gelu(parts[1].to(at::kFloat))).to(at::kBFloat16);
        const at::Tensor a = parts[0].to(at::kDouble), g = parts[1].to(at::kDouble);
        const at::Tensor reference = a * 0.5 * g * (1 + at::erf(g / std::sqrt(2.0)));
        checkErrors("GEGLU", compare(kernel, floatPath, reference));
    }

    // FeedForward's bf16 GEGLU goes through the kernel, in one row chunk and
    // in several (more rows than its 16 MiB chunk holds): the same linear
    // layers around gegluBf16 give the same bits, where the float32 path
    // differs in a few % of the values (geglu above).
    void feedForwardTakesTheKernel_data()
    {
        QTest::addColumn<int>("rows");
        QTest::newRow("one chunk") << 100;
        QTest::newRow("three chunks") << 20000;
    }
    void feedForwardTakesTheKernel()
    {
        QFETCH(int, rows);
        constexpr int kDim = 64;
        at::manual_seed(rows);
        FeedForward ff(kDim);
        ff->to(at::kBFloat16);
        const at::Tensor x = randomBf16({1, rows, kDim}, 8.0); // gates far into the negative tail
        const at::Tensor out = ff->forward(x);
        const auto p = ff->named_parameters();
        const auto parts = at::linear(x, p["net.0.proj.weight"], p["net.0.proj.bias"]).chunk(2, -1);
        const at::Tensor expected = at::linear(gegluBf16(parts[0], parts[1]), p["net.2.weight"], p["net.2.bias"]);
        QCOMPARE(out.sizes(), expected.sizes());
        QVERIFY(at::equal(out, expected));
    }

    void declinesWhatItDoesNotTake()
    {
        const at::Tensor f = at::randn({2, 64, 4, 4});
        QVERIFY(!groupNormBf16(f, 32, {}, {}, 1e-6, true).defined()); // float32
        const at::Tensor cl = randomBf16({2, 64, 4, 4}, 1.0).contiguous(at::MemoryFormat::ChannelsLast);
        QVERIFY(!groupNormBf16(cl, 32, {}, {}, 1e-6, true).defined()); // not NCHW
        QVERIFY(!groupNormBf16(randomBf16({2, 60, 4, 4}, 1.0), 32, {}, {}, 1e-6, false).defined()); // 60 % 32
        const at::Tensor t = randomBf16({8, 64}, 1.0).t();
        QVERIFY(!layerNormBf16(t, {}, {}, 1e-5).defined()); // not contiguous
        const at::Tensor x = randomBf16({4, 32}, 1.0);
        QVERIFY(!gegluBf16(x.narrow(1, 0, 16), x.narrow(1, 16, 16).contiguous()).defined()); // row strides differ
        {
            // Training: anything that needs its gradient takes ATen's path.
            c10::AutoGradMode grad(true);
            const at::Tensor w = at::ones({32}, at::kBFloat16).requires_grad_();
            QVERIFY(!layerNormBf16(x, w, {}, 1e-5).defined());
            QVERIFY(!layerNormBf16(x.clone().requires_grad_(), {}, {}, 1e-5).defined());
            QVERIFY(!groupNormBf16(randomBf16({2, 64, 4, 4}, 1.0), 32, at::ones({64}, at::kBFloat16).requires_grad_(),
                                   {}, 1e-6, true)
                         .defined());
            const at::Tensor p = randomBf16({4, 64}, 1.0).requires_grad_();
            const auto halves = p.chunk(2, -1);
            QVERIFY(!gegluBf16(halves[0], halves[1]).defined());
        }
    }

    void edgeCases()
    {
        const at::Tensor x = randomBf16({4, 32}, 1.0);
        // Without affine parameters: plain normalisation.
        const at::Tensor y = layerNormBf16(x, {}, {}, 1e-5);
        QVERIFY(y.defined());
        const at::Tensor expected = at::layer_norm(x.to(at::kFloat), {32}, {}, {}, 1e-5);
        QVERIFY((y.to(at::kFloat) - expected).abs().max().item<double>() < 0.02);
        // A constant row has variance 0: the output is the bias.
        const at::Tensor flat = at::full({3, 48}, 2.5, at::kBFloat16);
        const at::Tensor bias = at::linspace(-1, 1, 48, at::kFloat);
        const at::Tensor constant = layerNormBf16(flat, at::ones({48}, at::kFloat), bias, 1e-5);
        QVERIFY(at::equal(constant, bias.to(at::kBFloat16).expand({3, 48})));
        // float32 affine parameters with bf16 data, GroupNorm on 3-D and 2-D input, no affine.
        const auto closeToFloat = [](const at::Tensor &kernel, const at::Tensor &reference) {
            return (kernel.to(at::kFloat) - reference).abs().max().item<double>() <=
                   reference.abs().max().item<double>() / 128;
        };
        const at::Tensor g3 = randomBf16({2, 64, 50}, 1.0, 0.3), w3 = at::rand({64}), b3 = at::rand({64});
        const at::Tensor k3 = groupNormBf16(g3, 8, w3, b3, 1e-6, true);
        QVERIFY(k3.defined());
        QCOMPARE(k3.sizes(), g3.sizes());
        QVERIFY(closeToFloat(k3, at::silu(at::group_norm(g3.to(at::kFloat), 8, w3, b3, 1e-6))));
        const at::Tensor g2 = randomBf16({3, 64}, 1.0);
        const at::Tensor k2 = groupNormBf16(g2, 4, {}, {}, 1e-6, false);
        QVERIFY(k2.defined());
        QVERIFY(closeToFloat(k2, at::group_norm(g2.to(at::kFloat), 4, {}, {}, 1e-6)));
        // NaN stays NaN; SiLU and GELU far out in both tails stay finite and right.
        const at::Tensor special = at::tensor({NAN, -200.0f, -90.0f, -10.0f, 10.0f, 90.0f, 200.0f, 0.0f}).to(at::kBFloat16);
        const at::Tensor ones = at::ones_like(special);
        const at::Tensor gelu = gegluBf16(ones, special).to(at::kFloat);
        QVERIFY(std::isnan(gelu[0].item<float>()));
        const at::Tensor want = at::gelu(special.to(at::kFloat)).to(at::kBFloat16).to(at::kFloat);
        QVERIFY(at::allclose(gelu.narrow(0, 1, 7), want.narrow(0, 1, 7), 1e-2, 1e-6));
        const at::Tensor silu = groupNormBf16(special.narrow(0, 1, 7).view({1, 7, 1}), 1, {}, {}, 1e-6, true);
        QVERIFY(silu.defined());
        QVERIFY(at::isfinite(silu.to(at::kFloat)).all().item<bool>());
    }
};

QTEST_GUILESS_MAIN(TestBf16Elementwise)
#include "TestBf16Elementwise.moc"
