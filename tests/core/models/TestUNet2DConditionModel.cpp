// UNet2DConditionModel against diffusers 0.25 fixtures (fp32 parity, atol
// 1e-4), also prepared for inference as Engine::load runs it, intermediate
// activations, bf16 sanity, config parsing.
#include "core/models/unet/UNet2DConditionModel.h"

#include "core/io/SafeTensors.h"
#include "core/models/common/Conv2d.h"
#include "core/models/common/DiffusersFolder.h"
#include "core/models/common/Linear.h"

#include "FixtureSupport.h"

#include <ATen/Parallel.h>
#include <nlohmann/json.hpp>

#include <QTemporaryDir>
#include <QTest>

#include <c10/core/InferenceMode.h>

#include <optional>

using namespace stipple::core;
using namespace stipple::test;

class TestUNet2DConditionModel : public QObject {
    Q_OBJECT

private Q_SLOTS:
    void initTestCase()
    {
        at::set_num_threads(2);
        // Inference: forward() records autograd unless grad mode is off.
        at::GradMode::set_enabled(false);
    }

    void fixtures_data()
    {
        QTest::addColumn<QString>("caseId");
        // "prepared": as Engine::load runs it (packed convolutions, 3x3
        // layers on DnnlConvolution, linear layers on DnnlMatmul).
        QTest::addColumn<bool>("prepared");
        for (const char *id : {"unet-sd1-000", "unet-sd1-001", "unet-sd2-000", "unet-inpaint-000"}) {
            QTest::newRow(id) << QString::fromLatin1(id) << false;
            QTest::newRow((std::string(id) + " prepared").c_str()) << QString::fromLatin1(id) << true;
        }
    }

    void fixtures()
    {
        STIPPLE_REQUIRE_FIXTURES();
        QFETCH(QString, caseId);
        const auto c = manifestCase(caseId.toStdString());
        QVERIFY(!c.is_null());
        auto unet = loadUNetFromDiffusersDir(modelDir(c.at("model")) + "/unet");
        QVERIFY2(unet.ok(), unet.ok() ? "" : unet.error().message.c_str());
        QFETCH(bool, prepared);
        if (prepared) {
            prepareConvolutionsForInference(**unet);
            const int linears = prepareLinearsForInference(**unet);
            const int projections = countDnnlMatmulConvolutions(**unet);
            qInfo("%d linear layers and %d 1x1 projections on DnnlMatmul", linears, projections);
            if (DnnlMatmul::available() && DnnlMatmul::enabled()) {
                QVERIFY(linears > 0);
                // SD 1.x configs project with 1x1 convolutions, SD 2.x with linear layers.
                QVERIFY(projections > 0 || caseId.startsWith("unet-sd2"));
            }
        }

        auto file = SafeTensorsFile::open(fixturePath(QString::fromStdString(c.at("file"))));
        QVERIFY2(file.ok(), file.ok() ? "" : file.error().message.c_str());
        auto get = [&](const std::string &name) { return file->tensor(name).value(); };

        ActivationMap dbg;
        const at::Tensor out =
            (*unet)->forward(get("sample"), get("timestep"), get("encoder_hidden_states"), &dbg);
        const double diff = maxAbsDiff(out, get("out"));
        qInfo("%s out max|diff| = %.3g", qPrintable(caseId), diff);
        for (const auto &name : file->names()) {
            if (name.rfind("dbg.", 0) != 0)
                continue;
            const std::string key = name.substr(4);
            QVERIFY2(dbg.count(key), ("no activation recorded for " + key).c_str());
            const double d = maxAbsDiff(dbg.at(key), get(name));
            if (d > 1e-4)
                qWarning("  %s max|diff| = %.3g", key.c_str(), d);
            QVERIFY2(d <= 1e-4, (key + " differs").c_str());
        }
        QVERIFY(diff <= 1e-4);
    }

    // Engine::load's UNet (loadUNetPackingLater): its first forward packs
    // each layer for that call only, the second for good. Every output must
    // equal, bit for bit, that of a UNet packed as it loads, from a float16
    // file as SD checkpoints ship (weights converted on their way) and from
    // the float32 fixture file itself (views used as they are).
    void packedDuringFirstStepsEqualsPackedAtLoad_data()
    {
        QTest::addColumn<QString>("caseId");
        QTest::addColumn<bool>("bf16");
        QTest::addColumn<bool>("float16File");
        // Loaded and run under InferenceMode, as the studio does; loaded
        // outside it and run inside, as stipple-cli; neither (NoGrad only).
        QTest::addColumn<bool>("loadInInferenceMode");
        QTest::addColumn<bool>("runInInferenceMode");
        QTest::addColumn<bool>("thirdOutside"); // the third forward outside InferenceMode
        for (const char *id : {"unet-sd1-000", "unet-sd2-000", "unet-inpaint-000"})
            for (bool bf16 : {false, true})
                QTest::newRow((std::string(id) + (bf16 ? " bf16" : " fp32")).c_str())
                    << QString::fromLatin1(id) << bf16 << true << true << true << false;
        const QString sd1("unet-sd1-000");
        QTest::newRow("unet-sd1-000 fp32 float32 file") << sd1 << false << false << true << true << false;
        QTest::newRow("unet-sd1-000 bf16 float32 file") << sd1 << true << false << true << true << false;
        for (bool bf16 : {false, true}) {
            QTest::newRow(bf16 ? "unet-sd1-000 bf16 loaded outside InferenceMode"
                               : "unet-sd1-000 fp32 loaded outside InferenceMode")
                << sd1 << bf16 << true << false << true << false;
            QTest::newRow(bf16 ? "unet-sd1-000 bf16 packed under InferenceMode, run outside"
                               : "unet-sd1-000 fp32 packed under InferenceMode, run outside")
                << sd1 << bf16 << true << true << true << true;
        }
        QTest::newRow("unet-sd1-000 fp32 no InferenceMode") << sd1 << false << true << false << false << false;
    }

    void packedDuringFirstStepsEqualsPackedAtLoad()
    {
        STIPPLE_REQUIRE_FIXTURES();
        QFETCH(QString, caseId);
        QFETCH(bool, bf16);
        QFETCH(bool, float16File);
        QFETCH(bool, loadInInferenceMode);
        QFETCH(bool, runInInferenceMode);
        QFETCH(bool, thirdOutside);
        const at::ScalarType dtype = bf16 ? at::kBFloat16 : at::kFloat;
        const auto c = manifestCase(caseId.toStdString());
        const std::string dir = modelDir(c.at("model")) + "/unet";
        auto config = readJsonFile(dir + "/config.json");
        auto weightsPath = findDiffusersWeights(dir);
        QVERIFY(config.ok() && weightsPath.ok());
        std::string path = *weightsPath;
        QTemporaryDir tmp;
        if (float16File) {
            StateDict half = SafeTensorsFile::open(path)->loadAll().value();
            for (auto &kv : half)
                if (kv.second.is_floating_point())
                    kv.second = kv.second.to(at::kHalf);
            path = tmp.filePath("unet.safetensors").toStdString();
            QVERIFY(writeSafeTensors(path, half).ok());
        }
        std::optional<c10::InferenceMode> mode;
        if (loadInInferenceMode)
            mode.emplace();
        // Each model gets its own views (packing empties the parameters that
        // adopted them, and the dict's tensors with them).
        MappedFilesScope mapped;
        const auto component = [&] {
            return ComponentWeights{*config, SafeTensorsFile::open(path)->loadAll().value(), path};
        };
        auto atLoad = loadUNetForInference(component(), dtype);
        QVERIFY2(atLoad.ok(), atLoad.ok() ? "" : atLoad.error().message.c_str());
        prepareLinearsForInference(**atLoad); // as Engine::load did
        auto later = loadUNetPackingLater(component(), dtype, mapped.files());
        QVERIFY2(later.ok(), later.ok() ? "" : later.error().message.c_str());
        QCOMPARE((*later)->dtype(), dtype);
        const int deferred = (*later)->layersAwaitingPacking();
        QVERIFY(deferred > 0);
        QCOMPARE(countDnnlConvolutions(**later), 0);

        if (runInInferenceMode && !mode)
            mode.emplace();
        auto file = SafeTensorsFile::open(fixturePath(QString::fromStdString(c.at("file")))).value();
        const at::Tensor sample = file.tensor("sample").value();
        const at::Tensor context = file.tensor("encoder_hidden_states").value();
        const at::Tensor timestep = file.tensor("timestep").value();
        for (int step = 1; step <= 3; ++step) {
            if (step == 3 && thirdOutside)
                mode.reset(); // grad stays off (initTestCase)
            const at::Tensor expected = (*atLoad)->forward(sample + 0.1 * step, timestep, context);
            const at::Tensor got = (*later)->forward(sample + 0.1 * step, timestep, context);
            QVERIFY2(at::equal(got, expected), ("forward " + std::to_string(step) + " differs: max|diff| " +
                                                std::to_string(maxAbsDiff(got, expected)))
                                                   .c_str());
            if (step == 1) {
                // Packed for that call only.
                QCOMPARE((*later)->layersAwaitingPacking(), deferred);
                QCOMPARE(countDnnlConvolutions(**later), 0);
            } else {
                QCOMPARE((*later)->layersAwaitingPacking(), 0);
                QCOMPARE(countDnnlConvolutions(**later), countDnnlConvolutions(**atLoad));
                QCOMPARE(countDnnlMatmulConvolutions(**later), countDnnlMatmulConvolutions(**atLoad));
            }
        }
        if (!bf16 && DnnlConvolution::available() && DnnlConvolution::enabled())
            QVERIFY(countDnnlConvolutions(**later) > 0); // the float32 3x3 path was exercised
    }

    void bf16Close()
    {
        STIPPLE_REQUIRE_FIXTURES();
        const auto c = manifestCase("unet-sd1-000");
        auto unet = loadUNetFromDiffusersDir(modelDir("tiny-sd1") + "/unet", at::kBFloat16);
        QVERIFY(unet.ok());
        QCOMPARE((*unet)->dtype(), at::kBFloat16);
        auto file = SafeTensorsFile::open(fixturePath(QString::fromStdString(c.at("file")))).value();
        const at::Tensor out = (*unet)->forward(file.tensor("sample").value(),
                                                file.tensor("timestep").value(),
                                                file.tensor("encoder_hidden_states").value());
        QCOMPARE(out.scalar_type(), at::kFloat);
        const at::Tensor ref = file.tensor("out").value();
        const double rel = ((out - ref).norm() / ref.norm()).item<double>();
        qInfo("bf16 relative L2 error = %.3g, max|diff| = %.3g", rel, maxAbsDiff(out, ref));
        QVERIFY(rel < 0.05);
    }

    void longContextAndFloatTimestep()
    {
        // A1111 chunked prompts: context length 154; per-sample float timesteps.
        UNetConfig cfg;
        cfg.blockOutChannels = {32, 64};
        cfg.downBlockTypes = {"CrossAttnDownBlock2D", "DownBlock2D"};
        cfg.upBlockTypes = {"UpBlock2D", "CrossAttnUpBlock2D"};
        cfg.numHeads = {4, 4};
        cfg.crossAttentionDim = 16;
        torch::manual_seed(0);
        UNet2DConditionModel unet(cfg);
        const at::Tensor out = unet->forward(at::randn({2, 4, 6, 10}), at::tensor({10.5f, 900.0f}),
                                             at::randn({2, 154, 16}));
        QCOMPARE(out.sizes(), (at::IntArrayRef{2, 4, 6, 10}));
        QVERIFY(at::isfinite(out).all().item<bool>());
    }

    void timestepEmbeddingFormula()
    {
        // cos first (flip_sin_to_cos), freqs exp(-ln(1e4) i / half).
        const at::Tensor e = timestepEmbedding(at::tensor({500.5f}), 8, true, 0.0);
        QCOMPARE(e.size(1), 8);
        for (int i = 0; i < 4; ++i) {
            const double f = std::exp(-std::log(10000.0) * i / 4.0);
            QVERIFY(std::abs(e[0][i].item<double>() - std::cos(500.5 * f)) < 1e-3);
            QVERIFY(std::abs(e[0][i + 4].item<double>() - std::sin(500.5 * f)) < 1e-3);
        }
    }

    void configParsing()
    {
        auto sd2 = UNetConfig::fromJson(nlohmann::json::parse(R"({
            "attention_head_dim": [5, 10, 20, 20], "use_linear_projection": true,
            "upcast_attention": true, "cross_attention_dim": 1024})"));
        QVERIFY(sd2.ok());
        QCOMPARE(sd2->numHeads, (std::vector<std::int64_t>{5, 10, 20, 20}));
        QVERIFY(sd2->useLinearProjection && sd2->upcastAttention);
        auto sd1 = UNetConfig::fromJson(nlohmann::json::parse(R"({"attention_head_dim": 8})"));
        QVERIFY(sd1.ok());
        QCOMPARE(sd1->numHeads, (std::vector<std::int64_t>{8, 8, 8, 8}));
        auto xl = UNetConfig::fromJson(nlohmann::json::parse(
            R"({"addition_embed_type": "text_time", "transformer_layers_per_block": [1, 2, 10]})"));
        QVERIFY(!xl.ok());
        QCOMPARE(xl.error().code, ErrorCode::UnsupportedModel);
        auto broken = UNetConfig::fromJson(nlohmann::json::parse(R"({"block_out_channels": "x"})"));
        QVERIFY(!broken.ok());
    }
};

QTEST_GUILESS_MAIN(TestUNet2DConditionModel)
#include "TestUNet2DConditionModel.moc"
