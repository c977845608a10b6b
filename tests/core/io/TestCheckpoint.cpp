// openCheckpoint on the fixture models (both layouts bit-identical, configs,
// detection), VAE override, dtype conversion and refusals (pickles, SDXL /
// SD3 / Flux, missing / unexpected / wrong-shaped tensors).
#include "core/io/Checkpoint.h"
#include "core/io/SafeTensors.h"

#include "support/Fixtures.h"

#include <ATen/ATen.h>

#include <QDir>
#include <QFile>
#include <QTemporaryDir>
#include <QTest>

#include <fstream>

using namespace stipple::core;
using stipple::test::fixturePath;

namespace {

std::string modelPath(const QString &rel) { return fixturePath(QStringLiteral("models/") + rel); }

bool contains(const std::string &s, const std::string &what) { return s.find(what) != std::string::npos; }

// A diffusers folder in `dir` whose components link to `model`'s, except
// the unet weights, replaced by `unet`.
std::string folderWithUnet(const QTemporaryDir &dir, const QString &model, const StateDict &unet)
{
    const QString src = QString::fromStdString(modelPath(model));
    const QString dst = dir.filePath(QStringLiteral("m"));
    QDir().mkpath(dst + QStringLiteral("/unet"));
    for (const char *f : {"model_index.json", "vae", "text_encoder", "tokenizer", "scheduler"})
        QFile::link(src + QLatin1Char('/') + QLatin1String(f), dst + QLatin1Char('/') + QLatin1String(f));
    QFile::link(src + QStringLiteral("/unet/config.json"), dst + QStringLiteral("/unet/config.json"));
    const Status s = writeSafeTensors((dst + QStringLiteral("/unet/diffusion_pytorch_model.safetensors")).toStdString(), unet);
    Q_ASSERT(s.ok());
    return dst.toStdString();
}

StateDict folderUnet(const QString &model)
{
    auto f = SafeTensorsFile::open(modelPath(model + QStringLiteral("/unet/diffusion_pytorch_model.safetensors")));
    return f.value().loadAll().value();
}

void writeBytes(const std::string &path, const std::string &bytes)
{
    std::ofstream f(path, std::ios::binary);
    f.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

} // namespace

class TestCheckpoint : public QObject {
    Q_OBJECT

private Q_SLOTS:
    void layoutsAgree_data();
    void layoutsAgree();
    void detection();
    void heuristicWithoutYaml();
    void dtypeConversion();
    void deferredUnetConvWeights_data();
    void deferredUnetConvWeights();
    void deferredTextEncoderAndVae();
    void vaeOverride();
    void refusesPickles();
    void refusesOtherFamilies_data();
    void refusesOtherFamilies();
    void badFolders();
    void badSingleFile();
};

void TestCheckpoint::layoutsAgree_data()
{
    QTest::addColumn<QString>("model");
    QTest::newRow("tiny-sd1") << QStringLiteral("tiny-sd1");
    QTest::newRow("tiny-sd2") << QStringLiteral("tiny-sd2");
    QTest::newRow("tiny-sd1-inpaint") << QStringLiteral("tiny-sd1-inpaint");
}

void TestCheckpoint::layoutsAgree()
{
    STIPPLE_REQUIRE_FIXTURES();
    QFETCH(QString, model);
    auto folder = openCheckpoint(modelPath(model));
    QVERIFY2(folder.ok(), folder.ok() ? "" : folder.error().message.c_str());
    auto single = openCheckpoint(modelPath(model + QStringLiteral(".safetensors")));
    QVERIFY2(single.ok(), single.ok() ? "" : single.error().message.c_str());
    QCOMPARE(folder->info.layout, CheckpointLayout::DiffusersFolder);
    QCOMPARE(single->info.layout, CheckpointLayout::SingleFile);
    QVERIFY(!folder->tokenizerDir.empty());
    QVERIFY(single->tokenizerDir.empty());

    const std::pair<const ComponentWeights *, const ComponentWeights *> parts[] = {
        {&folder->unet, &single->unet}, {&folder->vae, &single->vae}, {&folder->textEncoder, &single->textEncoder}};
    for (const auto &[a, b] : parts) {
        QCOMPARE(a->weights.size(), b->weights.size());
        for (const auto &[name, t] : a->weights) {
            const auto it = b->weights.find(name);
            QVERIFY2(it != b->weights.end(), ("missing in single file: " + name).c_str());
            QVERIFY2(t.scalar_type() == it->second.scalar_type(), name.c_str());
            QVERIFY2(t.sizes() == it->second.sizes(), name.c_str());
            QVERIFY2(at::equal(t, it->second), ("values differ: " + name).c_str());
        }
    }
    // Synthesised configs equal the folder's on the fields that matter.
    for (const char *k : {"in_channels", "out_channels", "block_out_channels", "layers_per_block", "down_block_types",
                          "up_block_types", "cross_attention_dim", "attention_head_dim", "use_linear_projection",
                          "sample_size", "norm_num_groups", "flip_sin_to_cos", "freq_shift"})
        QVERIFY2(folder->unet.config.at(k) == single->unet.config.at(k), (std::string("unet ") + k).c_str());
    for (const char *k : {"in_channels", "out_channels", "block_out_channels", "layers_per_block", "latent_channels",
                          "scaling_factor", "sample_size", "norm_num_groups"})
        QVERIFY2(folder->vae.config.at(k) == single->vae.config.at(k), (std::string("vae ") + k).c_str());
    for (const char *k : {"hidden_size", "intermediate_size", "num_hidden_layers", "num_attention_heads", "vocab_size",
                          "max_position_embeddings", "hidden_act", "layer_norm_eps"})
        QVERIFY2(folder->textEncoder.config.at(k) == single->textEncoder.config.at(k), (std::string("text ") + k).c_str());
    for (const char *k : {"prediction_type", "beta_start", "beta_end", "beta_schedule", "num_train_timesteps"})
        QVERIFY2(folder->schedulerConfig.at(k) == single->schedulerConfig.at(k), (std::string("scheduler ") + k).c_str());

    QCOMPARE(folder->info.family, single->info.family);
    QCOMPARE(folder->info.variant, single->info.variant);
    QCOMPARE(folder->info.prediction, single->info.prediction);
    QCOMPARE(folder->info.components.size(), std::size_t(3));
    for (std::size_t i = 0; i < 3; ++i) {
        QCOMPARE(folder->info.components[i].parameters, single->info.components[i].parameters);
        QVERIFY(folder->info.components[i].parameters > 0);
    }
}

void TestCheckpoint::detection()
{
    STIPPLE_REQUIRE_FIXTURES();
    struct Case { const char *path; ModelFamily family; ModelVariant variant; PredictionType pred; const char *source; const char *dtype; };
    const Case cases[] = {
        {"tiny-sd1", ModelFamily::SD1, ModelVariant::Base, PredictionType::Epsilon, "scheduler_config", "F32"},
        {"tiny-sd1.safetensors", ModelFamily::SD1, ModelVariant::Base, PredictionType::Epsilon, "yaml", "F32"},
        {"tiny-sd2", ModelFamily::SD2, ModelVariant::Base, PredictionType::VPrediction, "scheduler_config", "F16"},
        {"tiny-sd2.safetensors", ModelFamily::SD2, ModelVariant::Base, PredictionType::VPrediction, "yaml", "F16"},
        {"tiny-sd1-inpaint", ModelFamily::SD1, ModelVariant::Inpaint, PredictionType::Epsilon, "scheduler_config", "F16"},
        {"tiny-sd1-inpaint.safetensors", ModelFamily::SD1, ModelVariant::Inpaint, PredictionType::Epsilon, "yaml", "F16"},
    };
    for (const auto &c : cases) {
        auto ck = openCheckpoint(modelPath(QString::fromLatin1(c.path)));
        QVERIFY2(ck.ok(), ck.ok() ? "" : ck.error().message.c_str());
        QCOMPARE(ck->info.family, c.family);
        QCOMPARE(ck->info.variant, c.variant);
        QCOMPARE(ck->info.prediction, c.pred);
        QVERIFY2(contains(ck->info.predictionSource, c.source), ck->info.predictionSource.c_str());
        QCOMPARE(ck->info.components[0].name, std::string("unet"));
        QCOMPARE(ck->info.components[0].storedDtype, std::string(c.dtype));
        QVERIFY(ck->info.openSeconds > 0);
        QVERIFY(ck->info.loadSeconds > 0);
    }
}

void TestCheckpoint::heuristicWithoutYaml()
{
    STIPPLE_REQUIRE_FIXTURES();
    QTemporaryDir dir;
    const QString sd2 = dir.filePath(QStringLiteral("sd2-no-yaml.safetensors"));
    QVERIFY(QFile::link(QString::fromStdString(modelPath(QStringLiteral("tiny-sd2.safetensors"))), sd2));
    auto ck = openCheckpoint(sd2.toStdString());
    QVERIFY2(ck.ok(), ck.ok() ? "" : ck.error().message.c_str());
    QCOMPARE(ck->info.prediction, PredictionType::VPrediction);
    QVERIFY(contains(ck->info.predictionSource, "heuristic"));
    // Without the yaml: 64 channels per head for SD2 ([32,64] -> [1,1]).
    QVERIFY(ck->unet.config.at("attention_head_dim") == nlohmann::json({1, 1}));
    QCOMPARE(ck->textEncoder.config.at("num_attention_heads").get<int>(), 4); // 32 / 8
    QCOMPARE(ck->schedulerConfig.at("prediction_type").get<std::string>(), std::string("v_prediction"));

    const QString sd1 = dir.filePath(QStringLiteral("sd1-no-yaml.safetensors"));
    QVERIFY(QFile::link(QString::fromStdString(modelPath(QStringLiteral("tiny-sd1.safetensors"))), sd1));
    auto ck1 = openCheckpoint(sd1.toStdString());
    QVERIFY(ck1.ok());
    QCOMPARE(ck1->info.prediction, PredictionType::Epsilon);
    QCOMPARE(ck1->unet.config.at("attention_head_dim").get<int>(), 8);
}

void TestCheckpoint::dtypeConversion()
{
    STIPPLE_REQUIRE_FIXTURES();
    OpenOptions opt;
    opt.dtype = at::kFloat;
    auto f32 = openCheckpoint(modelPath(QStringLiteral("tiny-sd2.safetensors")), opt);
    auto f16 = openCheckpoint(modelPath(QStringLiteral("tiny-sd2.safetensors")));
    QVERIFY(f32.ok() && f16.ok());
    QCOMPARE(f32->info.components[0].storedDtype, std::string("F16"));
    for (const auto &[name, t] : f32->unet.weights) {
        QCOMPARE(t.scalar_type(), at::kFloat);
        QVERIFY(at::equal(t, f16->unet.weights.at(name).to(at::kFloat)));
    }
}

void TestCheckpoint::deferredUnetConvWeights_data()
{
    QTest::addColumn<bool>("conv");
    QTest::addColumn<bool>("linear");
    QTest::newRow("convolutions") << true << false;
    QTest::newRow("linear layers") << false << true;
    QTest::newRow("both") << true << true;
}

void TestCheckpoint::deferredUnetConvWeights()
{
    // deferUnetConvWeights (deferUnetLinearWeights): the UNet's 4-D (2-D)
    // weights stay float16 views of the file (converted later, as they are
    // packed); everything else converts.
    STIPPLE_REQUIRE_FIXTURES();
    QFETCH(bool, conv);
    QFETCH(bool, linear);
    OpenOptions opt;
    opt.dtype = at::kFloat;
    opt.deferUnetConvWeights = conv;
    opt.deferUnetLinearWeights = linear;
    auto ck = openCheckpoint(modelPath(QStringLiteral("tiny-sd2.safetensors")), opt);
    auto f16 = openCheckpoint(modelPath(QStringLiteral("tiny-sd2.safetensors")));
    QVERIFY(ck.ok() && f16.ok());
    int deferred4 = 0, deferred2 = 0;
    QCOMPARE(ck->unet.weights.size(), f16->unet.weights.size());
    for (const auto &[name, t] : ck->unet.weights) {
        const auto stored = f16->unet.weights.find(name);
        QVERIFY2(stored != f16->unet.weights.end(), name.c_str());
        const bool kept = (conv && t.dim() == 4) || (linear && t.dim() == 2);
        QCOMPARE(t.scalar_type(), kept ? at::kHalf : at::kFloat);
        QVERIFY(at::equal(t.to(at::kFloat), stored->second.to(at::kFloat)));
        deferred4 += kept && t.dim() == 4 ? 1 : 0;
        deferred2 += kept && t.dim() == 2 ? 1 : 0;
    }
    QVERIFY(conv ? deferred4 > 10 : deferred4 == 0);
    QVERIFY(linear ? deferred2 > 10 : deferred2 == 0);
    for (const auto *component : {&ck->vae, &ck->textEncoder})
        for (const auto &[name, t] : component->weights)
            QVERIFY2(!t.is_floating_point() || t.scalar_type() == at::kFloat, name.c_str());
}

void TestCheckpoint::deferredTextEncoderAndVae()
{
    // deferTextEncoderMatrices: the text encoder's 2-D weights stay float16
    // views, its vectors convert; deferVaeWeights: the whole VAE stays as
    // stored, a standalone VAE file's too.
    STIPPLE_REQUIRE_FIXTURES();
    OpenOptions opt;
    opt.dtype = at::kFloat;
    opt.deferTextEncoderMatrices = true;
    opt.deferVaeWeights = true;
    auto ck = openCheckpoint(modelPath(QStringLiteral("tiny-sd2.safetensors")), opt);
    auto f16 = openCheckpoint(modelPath(QStringLiteral("tiny-sd2.safetensors")));
    QVERIFY(ck.ok() && f16.ok());
    int matrices = 0;
    for (const auto &[name, t] : ck->textEncoder.weights) {
        if (!t.is_floating_point())
            continue;
        QCOMPARE(t.scalar_type(), t.dim() == 2 ? at::kHalf : at::kFloat);
        QVERIFY(at::equal(t.to(at::kFloat), f16->textEncoder.weights.at(name).to(at::kFloat)));
        matrices += t.dim() == 2 ? 1 : 0;
    }
    QVERIFY(matrices > 4);
    for (const auto &[name, t] : ck->vae.weights)
        QVERIFY2(!t.is_floating_point() || t.scalar_type() == at::kHalf, name.c_str());
    for (const auto &[name, t] : ck->unet.weights)
        QVERIFY2(!t.is_floating_point() || t.scalar_type() == at::kFloat, name.c_str());

    QTemporaryDir dir;
    auto vaeFile = SafeTensorsFile::open(modelPath(QStringLiteral("tiny-sd1/vae/diffusion_pytorch_model.safetensors")));
    QVERIFY(vaeFile.ok());
    const StateDict floatVae = vaeFile->loadAll().value();
    StateDict halfVae;
    for (const auto &[name, t] : floatVae)
        halfVae[name] = t.to(at::kHalf);
    opt.vaePath = dir.filePath(QStringLiteral("vae.safetensors")).toStdString();
    QVERIFY(writeSafeTensors(opt.vaePath, halfVae).ok());
    auto overridden = openCheckpoint(modelPath(QStringLiteral("tiny-sd2.safetensors")), opt);
    QVERIFY2(overridden.ok(), overridden.ok() ? "" : overridden.error().message.c_str());
    QCOMPARE(overridden->vae.weights.size(), halfVae.size());
    for (const auto &[name, t] : overridden->vae.weights)
        QVERIFY2(t.scalar_type() == at::kHalf && at::equal(t, halfVae.at(name)), name.c_str());
}

void TestCheckpoint::vaeOverride()
{
    STIPPLE_REQUIRE_FIXTURES();
    const auto sd1 = openCheckpoint(modelPath(QStringLiteral("tiny-sd1")));
    QVERIFY(sd1.ok());
    // diffusers-named VAE file.
    OpenOptions opt;
    opt.vaePath = modelPath(QStringLiteral("tiny-sd1/vae/diffusion_pytorch_model.safetensors"));
    auto ck = openCheckpoint(modelPath(QStringLiteral("tiny-sd2.safetensors")), opt);
    QVERIFY2(ck.ok(), ck.ok() ? "" : ck.error().message.c_str());
    QCOMPARE(ck->info.vaeOverride, opt.vaePath);
    QCOMPARE(ck->vae.source, opt.vaePath);
    QCOMPARE(ck->info.components[1].storedDtype, std::string("F32"));
    for (const auto &[name, t] : sd1->vae.weights)
        QVERIFY2(at::equal(t, ck->vae.weights.at(name)), name.c_str());

    // LDM-named VAE file (first_stage_model.* as in full checkpoints).
    QTemporaryDir dir;
    auto single = SafeTensorsFile::open(modelPath(QStringLiteral("tiny-sd1.safetensors")));
    QVERIFY(single.ok());
    StateDict ldmVae;
    const StateDict singleAll = single->loadAll().value();
    for (const auto &[k, t] : singleAll)
        if (k.rfind("first_stage_model.", 0) == 0)
            ldmVae[k] = t;
    ldmVae["first_stage_model.loss.logvar"] = at::zeros({});
    const std::string vaePath = dir.filePath(QStringLiteral("vae.safetensors")).toStdString();
    QVERIFY(writeSafeTensors(vaePath, ldmVae).ok());
    opt.vaePath = vaePath;
    auto ck2 = openCheckpoint(modelPath(QStringLiteral("tiny-sd2")), opt);
    QVERIFY2(ck2.ok(), ck2.ok() ? "" : ck2.error().message.c_str());
    for (const auto &[name, t] : sd1->vae.weights)
        QVERIFY2(at::equal(t, ck2->vae.weights.at(name)), name.c_str());

    // A standalone VAE opened as a checkpoint says what it is.
    auto asModel = openCheckpoint(vaePath);
    QVERIFY(!asModel.ok());
    QCOMPARE(asModel.error().code, ErrorCode::UnknownModel);
    QVERIFY2(contains(asModel.error().message, "VAE"), asModel.error().message.c_str());
}

void TestCheckpoint::refusesPickles()
{
    QTemporaryDir dir;
    struct Case { const char *name; std::string bytes; };
    const Case cases[] = {
        {"model.ckpt", std::string("PK\x03\x04", 4) + std::string(100, '\0')},
        {"model.pt", std::string("\x80\x02}q\x00", 5) + std::string(100, 'x')},
        {"model.bin", "anything"},
        {"disguised.safetensors", std::string("PK\x03\x04", 4) + std::string(100, '\0')},
        {"disguised2.safetensors", std::string("\x80\x04\x95", 3) + std::string(100, '\0')},
    };
    for (const auto &c : cases) {
        const std::string path = dir.filePath(QLatin1String(c.name)).toStdString();
        writeBytes(path, c.bytes);
        auto r = openCheckpoint(path);
        QVERIFY2(!r.ok(), c.name);
        QCOMPARE(r.error().code, ErrorCode::UnsafeFormat);
        QVERIFY2(contains(r.error().message, path), r.error().message.c_str());
        QVERIFY2(contains(r.error().message, "arbitrary code"), r.error().message.c_str());
        QVERIFY2(contains(r.error().message, ".safetensors"), r.error().message.c_str());
    }
    // A pickle weights file inside a diffusers folder.
    const QString folder = dir.filePath(QStringLiteral("pf"));
    QDir().mkpath(folder + QStringLiteral("/unet"));
    writeBytes((folder + QStringLiteral("/model_index.json")).toStdString(), R"({"_class_name":"StableDiffusionPipeline"})");
    writeBytes((folder + QStringLiteral("/unet/config.json")).toStdString(), "{}");
    writeBytes((folder + QStringLiteral("/unet/diffusion_pytorch_model.bin")).toStdString(), "PK\x03\x04");
    auto r = openCheckpoint(folder.toStdString());
    QVERIFY(!r.ok());
    QCOMPARE(r.error().code, ErrorCode::UnsafeFormat);
}

void TestCheckpoint::refusesOtherFamilies_data()
{
    QTest::addColumn<QString>("key");
    QTest::addColumn<QString>("expect");
    QTest::newRow("sdxl") << QStringLiteral("conditioner.embedders.1.model.ln_final.weight") << QStringLiteral("SDXL");
    QTest::newRow("sdxl label_emb") << QStringLiteral("model.diffusion_model.label_emb.0.0.weight") << QStringLiteral("SDXL");
    QTest::newRow("sd3") << QStringLiteral("model.diffusion_model.joint_blocks.0.x_block.attn.qkv.weight") << QStringLiteral("Stable Diffusion 3");
    QTest::newRow("flux") << QStringLiteral("double_blocks.0.img_attn.qkv.weight") << QStringLiteral("Flux");
}

void TestCheckpoint::refusesOtherFamilies()
{
    QFETCH(QString, key);
    QFETCH(QString, expect);
    QTemporaryDir dir;
    const std::string path = dir.filePath(QStringLiteral("m.safetensors")).toStdString();
    QVERIFY(writeSafeTensors(path, {{key.toStdString(), at::zeros({2})},
                                    {"model.diffusion_model.input_blocks.0.0.weight", at::zeros({2})}})
                .ok());
    auto r = openCheckpoint(path);
    QVERIFY(!r.ok());
    QCOMPARE(r.error().code, ErrorCode::UnsupportedModel);
    QVERIFY2(contains(r.error().message, expect.toStdString()), r.error().message.c_str());
    QVERIFY2(contains(r.error().message, "not supported yet"), r.error().message.c_str());

    // Same for a diffusers folder of an SDXL pipeline.
    QDir().mkpath(dir.filePath(QStringLiteral("xl")));
    writeBytes(dir.filePath(QStringLiteral("xl/model_index.json")).toStdString(),
               R"({"_class_name":"StableDiffusionXLPipeline"})");
    auto xl = openCheckpoint(dir.filePath(QStringLiteral("xl")).toStdString());
    QVERIFY(!xl.ok());
    QCOMPARE(xl.error().code, ErrorCode::UnsupportedModel);
}

void TestCheckpoint::badFolders()
{
    STIPPLE_REQUIRE_FIXTURES();
    const QString model = QStringLiteral("tiny-sd1");
    const StateDict unet = folderUnet(model);
    const std::string victim = "down_blocks.0.attentions.0.proj_in.weight";
    {
        QTemporaryDir dir;
        StateDict sd = unet;
        sd.erase(victim);
        auto r = openCheckpoint(folderWithUnet(dir, model, sd));
        QVERIFY(!r.ok());
        QCOMPARE(r.error().code, ErrorCode::MissingKeys);
        QVERIFY2(contains(r.error().message, victim) && contains(r.error().message, "unet"), r.error().message.c_str());
    }
    {
        QTemporaryDir dir;
        StateDict sd = unet;
        sd["down_blocks.0.extra.weight"] = at::zeros({3});
        auto r = openCheckpoint(folderWithUnet(dir, model, sd));
        QVERIFY(!r.ok());
        QCOMPARE(r.error().code, ErrorCode::UnexpectedKeys);
        QVERIFY2(contains(r.error().message, "down_blocks.0.extra.weight"), r.error().message.c_str());
    }
    {
        QTemporaryDir dir;
        StateDict sd = unet;
        sd[victim] = at::zeros({32, 32});
        auto r = openCheckpoint(folderWithUnet(dir, model, sd));
        QVERIFY(!r.ok());
        QCOMPARE(r.error().code, ErrorCode::ShapeMismatch);
        QVERIFY2(contains(r.error().message, victim) && contains(r.error().message, "[32, 32, 1, 1]"),
                 r.error().message.c_str());
    }
    {
        QTemporaryDir dir; // no vae/
        const QString dst = dir.filePath(QStringLiteral("m"));
        QDir().mkpath(dst);
        const QString src = QString::fromStdString(modelPath(model));
        for (const char *f : {"model_index.json", "unet", "text_encoder", "scheduler"})
            QFile::link(src + QLatin1Char('/') + QLatin1String(f), dst + QLatin1Char('/') + QLatin1String(f));
        auto r = openCheckpoint(dst.toStdString());
        QVERIFY(!r.ok());
        QCOMPARE(r.error().code, ErrorCode::FileNotFound);
        QVERIFY2(contains(r.error().message, "vae"), r.error().message.c_str());
    }
    {
        auto r = openCheckpoint("/nonexistent/model");
        QVERIFY(!r.ok());
        QCOMPARE(r.error().code, ErrorCode::FileNotFound);
        QTemporaryDir empty;
        auto e = openCheckpoint(empty.path().toStdString());
        QVERIFY(!e.ok());
        QVERIFY2(contains(e.error().message, "model_index.json"), e.error().message.c_str());
    }
}

void TestCheckpoint::badSingleFile()
{
    STIPPLE_REQUIRE_FIXTURES();
    auto file = SafeTensorsFile::open(modelPath(QStringLiteral("tiny-sd2.safetensors")));
    QVERIFY(file.ok());
    const StateDict all = file->loadAll().value();
    QTemporaryDir dir;
    {
        StateDict sd = all;
        sd.erase("model.diffusion_model.middle_block.1.proj_out.weight");
        const std::string path = dir.filePath(QStringLiteral("missing.safetensors")).toStdString();
        QVERIFY(writeSafeTensors(path, sd).ok());
        auto r = openCheckpoint(path);
        QVERIFY(!r.ok());
        QCOMPARE(r.error().code, ErrorCode::MissingKeys);
        QVERIFY2(contains(r.error().message, "mid_block.attentions.0.proj_out.weight"), r.error().message.c_str());
    }
    {
        StateDict sd = all;
        sd["model.diffusion_model.input_blocks.1.0.mystery.weight"] = at::zeros({1});
        const std::string path = dir.filePath(QStringLiteral("extra.safetensors")).toStdString();
        QVERIFY(writeSafeTensors(path, sd).ok());
        auto r = openCheckpoint(path);
        QVERIFY(!r.ok());
        QVERIFY2(r.error().code == ErrorCode::UnexpectedKeys, r.error().message.c_str());
        QVERIFY2(contains(r.error().message, "mystery"), r.error().message.c_str());
    }
    {
        StateDict sd = all;
        sd.erase("cond_stage_model.model.ln_final.weight");
        sd.erase("cond_stage_model.model.ln_final.bias");
        const std::string path = dir.filePath(QStringLiteral("noln.safetensors")).toStdString();
        QVERIFY(writeSafeTensors(path, sd).ok());
        auto r = openCheckpoint(path);
        QVERIFY(!r.ok());
        QCOMPARE(r.error().code, ErrorCode::MissingKeys);
        QVERIFY2(contains(r.error().message, "text_encoder") && contains(r.error().message, "final_layer_norm"),
                 r.error().message.c_str());
    }
    {
        const std::string path = dir.filePath(QStringLiteral("trunc.safetensors")).toStdString();
        std::ifstream in(modelPath(QStringLiteral("tiny-sd2.safetensors")), std::ios::binary);
        std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
        writeBytes(path, bytes.substr(0, bytes.size() / 2));
        auto r = openCheckpoint(path);
        QVERIFY(!r.ok());
        QCOMPARE(r.error().code, ErrorCode::CorruptFile);
        QVERIFY2(contains(r.error().message, "truncated"), r.error().message.c_str());
    }
}

QTEST_GUILESS_MAIN(TestCheckpoint)
#include "TestCheckpoint.moc"
