// Strict weight loading: missing, unexpected and wrong-shape keys are each
// reported clearly; dtype conversion on copy; single-file UNet parity.
#include "core/io/SafeTensors.h"
#include "core/models/common/Conv2d.h"
#include "core/models/common/Linear.h"
#include "core/models/common/WeightLoading.h"
#include "core/models/unet/UNet2DConditionModel.h"

#include "FixtureSupport.h"

#include <ATen/Parallel.h>
#include <c10/core/InferenceMode.h>
#include <torch/nn/modules/conv.h>
#include <torch/nn/modules/linear.h>

#include <QTest>

#include <optional>

using namespace stipple::core;
using namespace stipple::test;

namespace {
struct Tiny : torch::nn::Module {
    Tiny()
    {
        fc = register_module("fc", torch::nn::Linear(3, 2));
        conv = register_module("block", torch::nn::Conv2d(torch::nn::Conv2dOptions(2, 4, 1)));
        register_buffer("scale", at::ones({2}));
    }
    torch::nn::Linear fc{nullptr};
    torch::nn::Conv2d conv{nullptr};
};

StateDict fullDict()
{
    return {{"fc.weight", at::full({2, 3}, 0.5, at::kHalf)},
            {"fc.bias", at::zeros({2})},
            {"block.weight", at::ones({4, 2, 1, 1}, at::kBFloat16)},
            {"block.bias", at::zeros({4})},
            {"scale", at::full({2}, 3.0)}};
}
} // namespace

class TestWeightLoading : public QObject {
    Q_OBJECT

private Q_SLOTS:
    void initTestCase()
    {
        at::set_num_threads(2);
        // Inference: forward() records autograd unless grad mode is off.
        at::GradMode::set_enabled(false);
    }

    void loadsAndConverts()
    {
        Tiny m;
        WeightLoadReport rep;
        QVERIFY(loadWeightsStrict(m, fullDict(), "tiny", &rep).ok());
        QVERIFY(rep.missing.empty() && rep.unexpected.empty() && rep.shapeMismatches.empty());
        QCOMPARE(m.fc->weight.scalar_type(), at::kFloat);
        QCOMPARE(m.fc->weight[1][2].item<float>(), 0.5f);
        QCOMPARE(m.named_buffers()["scale"][0].item<float>(), 3.0f);
    }

    // Adopting tensors opened in the other InferenceMode state than the
    // module was built in: the parameters keep their own state (a copy is
    // adopted) and work in it, rather than ending half one, half the other.
    void adoptsAcrossInferenceMode_data()
    {
        QTest::addColumn<bool>("builtInInference");
        QTest::newRow("module built under InferenceMode") << true;
        QTest::newRow("weights made under InferenceMode") << false;
    }
    void adoptsAcrossInferenceMode()
    {
        QFETCH(bool, builtInInference);
        auto make = [](bool inference, auto fn) {
            std::optional<c10::InferenceMode> mode;
            if (inference)
                mode.emplace();
            return fn();
        };
        Linear linear = make(builtInInference, [] { return Linear(4, 3); });
        StateDict weights = make(!builtInInference, [] {
            return StateDict{{"weight", at::randn({3, 4})}, {"bias", at::randn({3})}};
        });
        std::optional<c10::InferenceMode> mode;
        if (builtInInference)
            mode.emplace();
        QVERIFY(loadWeightsStrict(*linear, weights, "linear", nullptr, WeightTransfer::Adopt).ok());
        QCOMPARE(linear->weight.is_inference(), builtInInference);
        QVERIFY(at::equal(linear->weight, weights.at("weight")));
        const at::Tensor x = at::randn({2, 4});
        const at::AutoGradMode recording(!builtInInference);
        const at::Tensor y = linear->forward(x.view({2, 4}));
        QVERIFY(at::allclose(y, at::linear(x, weights.at("weight"), weights.at("bias"))));
        if (!builtInInference) {
            y.sum().backward();
            QVERIFY(linear->weight.grad().defined());
        }
    }

    void missingKey()
    {
        Tiny m;
        StateDict d = fullDict();
        d.erase("block.bias");
        WeightLoadReport rep;
        auto st = loadWeightsStrict(m, d, "tiny", &rep);
        QVERIFY(!st.ok());
        QCOMPARE(st.error().code, ErrorCode::MissingKeys);
        QCOMPARE(rep.missing, (std::vector<std::string>{"block.bias"}));
        QVERIFY(st.error().message.find("block.bias") != std::string::npos);
        QVERIFY(st.error().message.find("tiny") != std::string::npos);
    }

    void unexpectedKey()
    {
        Tiny m;
        StateDict d = fullDict();
        d["fc.extra"] = at::zeros({1});
        WeightLoadReport rep;
        auto st = loadWeightsStrict(m, d, "tiny", &rep);
        QVERIFY(!st.ok());
        QCOMPARE(st.error().code, ErrorCode::UnexpectedKeys);
        QCOMPARE(rep.unexpected, (std::vector<std::string>{"fc.extra"}));
        QVERIFY(st.error().message.find("fc.extra") != std::string::npos);
    }

    void wrongShape()
    {
        Tiny m;
        StateDict d = fullDict();
        d["block.weight"] = at::zeros({4, 2}); // SD1 conv vs SD2 linear style mismatch
        WeightLoadReport rep;
        auto st = loadWeightsStrict(m, d, "tiny", &rep);
        QVERIFY(!st.ok());
        QCOMPARE(st.error().code, ErrorCode::ShapeMismatch);
        QCOMPARE(rep.shapeMismatches.size(), size_t(1));
        QVERIFY(st.error().message.find("block.weight: expected [4,2,1,1] got [4,2]") !=
                std::string::npos);
        // Nothing was copied on failure.
        QVERIFY(m.fc->weight.abs().sum().item<float>() != 0.5f * 6);
    }

    void manyKeysAreSummarised()
    {
        UNetConfig cfg;
        cfg.blockOutChannels = {32, 64};
        cfg.downBlockTypes = {"CrossAttnDownBlock2D", "DownBlock2D"};
        cfg.upBlockTypes = {"UpBlock2D", "CrossAttnUpBlock2D"};
        cfg.numHeads = {8, 8};
        cfg.crossAttentionDim = 32;
        auto r = loadUNet(cfg, StateDict{});
        QVERIFY(!r.ok());
        QCOMPARE(r.error().code, ErrorCode::MissingKeys);
        QVERIFY(r.error().message.find("more)") != std::string::npos);
    }

    void sd2WeightsIntoSd1ModelFail()
    {
        STIPPLE_REQUIRE_FIXTURES();
        // SD2 (Linear proj_in) weights into an SD1-style (conv proj_in) UNet.
        auto sd1 = openCheckpoint(modelDir("tiny-sd1"));
        auto sd2 = openCheckpoint(modelDir("tiny-sd2"));
        QVERIFY2(sd1.ok() && sd2.ok(), "openCheckpoint failed");
        auto cfg = UNetConfig::fromJson(sd1->unet.config).value();
        auto r = loadUNet(cfg, sd2->unet.weights);
        QVERIFY(!r.ok());
        QCOMPARE(r.error().code, ErrorCode::ShapeMismatch);
        QVERIFY(r.error().message.find("proj_in.weight") != std::string::npos);
    }

    void singleFileUNet_data()
    {
        QTest::addColumn<QString>("caseId");
        QTest::newRow("sd1") << "unet-sd1-000";
        QTest::newRow("sd2") << "unet-sd2-000";
        QTest::newRow("inpaint") << "unet-inpaint-000";
    }

    void singleFileUNet()
    {
        STIPPLE_REQUIRE_FIXTURES();
        QFETCH(QString, caseId);
        const auto c = manifestCase(caseId.toStdString());
        auto ckpt = openCheckpoint(singleFile(c.at("model")));
        QVERIFY2(ckpt.ok(), ckpt.ok() ? "" : ckpt.error().message.c_str());
        auto unet = loadUNet(ckpt->unet);
        QVERIFY2(unet.ok(), unet.ok() ? "" : unet.error().message.c_str());
        auto file = SafeTensorsFile::open(fixturePath(QString::fromStdString(c.at("file")))).value();
        const at::Tensor out = (*unet)->forward(file.tensor("sample").value(),
                                                file.tensor("timestep").value(),
                                                file.tensor("encoder_hidden_states").value());
        const double d = maxAbsDiff(out, file.tensor("out").value());
        qInfo("%s from single file: max|diff| = %.3g", qPrintable(caseId), d);
        QVERIFY(d <= 1e-4);
    }

    // The app's load: convolutions (and float32 linear layers) left as
    // float16 file views by openCheckpoint are converted as they are packed.
    // Same output, bit for bit, as converting everything first and packing
    // afterwards.
    void inferenceLoadPacksDeferredWeights_data()
    {
        QTest::addColumn<bool>("bf16");
        QTest::newRow("fp32") << false;
        QTest::newRow("bf16") << true;
    }

    void inferenceLoadPacksDeferredWeights()
    {
        STIPPLE_REQUIRE_FIXTURES();
        QFETCH(bool, bf16);
        const at::ScalarType dtype = bf16 ? at::kBFloat16 : at::kFloat;
        const auto c = manifestCase("unet-sd2-000");
        auto file = SafeTensorsFile::open(fixturePath(QString::fromStdString(c.at("file")))).value();
        const at::Tensor sample = file.tensor("sample").value();
        const at::Tensor timestep = file.tensor("timestep").value();
        const at::Tensor context = file.tensor("encoder_hidden_states").value();
        torch::NoGradGuard noGrad;

        OpenOptions plain;
        plain.dtype = dtype;
        auto refCk = openCheckpoint(singleFile(c.at("model")), plain);
        QVERIFY(refCk.ok());
        QCOMPARE(refCk->info.components[0].storedDtype, std::string("F16"));
        auto ref = loadUNet(refCk->unet, dtype);
        QVERIFY(ref.ok());
        prepareConvolutionsForInference(**ref);
        prepareLinearsForInference(**ref);
        const at::Tensor expected = (*ref)->forward(sample, timestep, context);

        MappedFilesScope mapped;
        OpenOptions deferred = plain;
        deferred.deferUnetConvWeights = true;
        deferred.deferUnetLinearWeights = true; // bf16: converted with the rest, as Linear packs only float32
        auto ck = openCheckpoint(singleFile(c.at("model")), deferred);
        QVERIFY(ck.ok());
        auto unet = loadUNetForInference(ck->unet, dtype);
        QVERIFY2(unet.ok(), unet.ok() ? "" : unet.error().message.c_str());
        int convs = 0, prepared = 0;
        for (const auto &m : (*unet)->modules(/*include_self=*/false))
            if (const auto *conv = m->as<Conv2dImpl>()) {
                ++convs;
                prepared += conv->preparedForInference() ? 1 : 0;
                QCOMPARE(conv->bias.scalar_type(), dtype);
            }
        QVERIFY(convs > 10);
        if (convolutionPackingEnabled())
            QCOMPARE(prepared, convs);
        int linears = 0, packedLinears = 0;
        for (const auto &m : (*unet)->modules(/*include_self=*/false))
            if (const auto *linear = m->as<LinearImpl>()) {
                ++linears;
                packedLinears += linear->dnnlMatmul() ? 1 : 0;
            }
        QVERIFY(linears > 10);
        QCOMPARE(packedLinears, !bf16 && DnnlMatmul::available() && DnnlMatmul::enabled() ? linears : 0);
        for (const auto &p : (*unet)->parameters())
            QCOMPARE(p.scalar_type(), dtype);
        QVERIFY(at::equal((*unet)->forward(sample, timestep, context), expected));

        // Without oneDNN packing (STIPPLE_CONV_PREPACK=0, or no oneDNN) the
        // deferred views are converted with the rest: every parameter ends
        // in `dtype`, and the output matches to rounding (another
        // convolution kernel).
        auto ck2 = openCheckpoint(singleFile(c.at("model")), deferred);
        QVERIFY(ck2.ok());
        at::globalContext().setUserEnabledMkldnn(false);
        auto plainUnet = loadUNetForInference(ck2->unet, dtype);
        at::globalContext().setUserEnabledMkldnn(true);
        QVERIFY2(plainUnet.ok(), plainUnet.ok() ? "" : plainUnet.error().message.c_str());
        for (const auto &m : (*plainUnet)->modules(/*include_self=*/false))
            if (const auto *conv = m->as<Conv2dImpl>())
                QVERIFY(!conv->preparedForInference());
        for (const auto &p : (*plainUnet)->parameters())
            QCOMPARE(p.scalar_type(), dtype);
        const at::Tensor out = (*plainUnet)->forward(sample, timestep, context);
        const double tolerance = bf16 ? 0.1 : 1e-4;
        qInfo("unpacked %s: max|diff| = %.3g", bf16 ? "bf16" : "fp32", maxAbsDiff(out, expected));
        QVERIFY(maxAbsDiff(out, expected) <= tolerance);
    }
};

QTEST_GUILESS_MAIN(TestWeightLoading)
#include "TestWeightLoading.moc"
