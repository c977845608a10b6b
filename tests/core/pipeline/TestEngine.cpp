// Engine behaviour on the tiny fixture models: errors instead of crashes,
// cancellation within one UNet call, one preview per step, progress,
// compositing that keeps unmasked pixels, seeds, infotext, preview cost.
#include "PipelineFixtures.h"

#include "core/image/LatentPreview.h"
#include "core/image/Mask.h"
#include "core/io/SafeTensors.h"
#include "core/models/common/DiffusersFolder.h"
#include "core/text/Sha256.h"

#include <ATen/ATen.h>
#include <c10/core/InferenceMode.h>
#include <QDir>
#include <QElapsedTimer>
#include <QTemporaryDir>
#include <QTest>

#include <chrono>
#include <map>

using namespace stipple::core;
using namespace stipple::test;

class TestEngine : public QObject {
    Q_OBJECT

    std::unique_ptr<Engine> m_base, m_inpaint;

    static GenerationRequest smallRequest()
    {
        GenerationRequest r;
        r.prompt = "a red sofa";
        r.negativePrompt = "blurry";
        r.width = r.height = 64;
        r.steps = 4;
        r.sampler = "Euler";
        r.seed = 5;
        r.cfgScale = 7.5f;
        return r;
    }
    static Image fixtureImage(const char *rel)
    {
        auto img = readImage(fixturePath(QString::fromLatin1(rel)));
        return img ? *img : Image{};
    }

private Q_SLOTS:
    void initTestCase()
    {
        if (!haveFixtures())
            return;
        m_base = std::make_unique<Engine>();
        std::vector<ProgressEvent> events;
        Observer obs;
        obs.onProgress = [&](const ProgressEvent &e) { events.push_back(e); };
        auto info = m_base->load(loadOptionsFor(QStringLiteral("tiny-sd1"), Layout::Diffusers), obs);
        QVERIFY2(info.ok(), info.ok() ? "" : info.error().message.c_str());
        QVERIFY(info->loadSeconds > 0);
        QVERIFY(!events.empty());
        QCOMPARE(int(events.back().stage), int(Stage::Load));
        QCOMPARE(events.back().step, events.back().total);
        m_inpaint = std::make_unique<Engine>();
        auto info2 = m_inpaint->load(loadOptionsFor(QStringLiteral("tiny-sd1-inpaint"), Layout::Diffusers));
        QVERIFY2(info2.ok(), info2.ok() ? "" : info2.error().message.c_str());
        QCOMPARE(int(info2->variant), int(ModelVariant::Inpaint));
    }

    void errorsNotCrashes()
    {
        Engine empty;
        auto none = empty.generate(smallRequest());
        QVERIFY(!none.ok());
        QCOMPARE(int(none.error().code), int(ErrorCode::InvalidArgument));
        auto missing = empty.load({"/nonexistent/model.safetensors"});
        QVERIFY(!missing.ok());
        QVERIFY(!empty.isLoaded());

        STIPPLE_REQUIRE_FIXTURES();
        {
            // A single file without a vocabulary anywhere: said before the
            // conversion starts (the load never reaches its first stage).
            QTemporaryDir home;
            const QByteArray oldHome = qgetenv("HOME"), oldData = qgetenv("XDG_DATA_HOME");
            qputenv("HOME", home.path().toUtf8());
            qunsetenv("XDG_DATA_HOME");
            LoadOptions o = loadOptionsFor(QStringLiteral("tiny-sd1"), Layout::SingleFile);
            o.vocabPath = home.filePath(QStringLiteral("nowhere")).toStdString();
            int furthest = -1;
            Observer obs;
            obs.onProgress = [&](const ProgressEvent &p) { furthest = std::max(furthest, p.step); };
            auto noVocabulary = empty.load(o, obs);
            qputenv("HOME", oldHome);
            if (!oldData.isNull())
                qputenv("XDG_DATA_HOME", oldData);
            QVERIFY(!noVocabulary.ok());
            QCOMPARE(int(noVocabulary.error().code), int(ErrorCode::MissingVocabulary));
            QVERIFY2(furthest < 1, qPrintable(QString::number(furthest)));
        }
        const std::vector<std::pair<const char *, std::function<void(GenerationRequest &)>>> bad{
            {"size not /8", [](GenerationRequest &r) { r.width = 60; }},
            {"0 steps", [](GenerationRequest &r) { r.steps = 0; }},
            {"strength", [](GenerationRequest &r) { r.initImage = Image::blank(64, 64, 3, 90); r.strength = 2; }},
            {"mask size", [](GenerationRequest &r) {
                 r.initImage = Image::blank(64, 64, 3, 90);
                 r.mask = Image::blank(32, 32, 1, 255);
             }},
            {"mask without init", [](GenerationRequest &r) { r.mask = Image::blank(64, 64, 1, 255); }},
            {"absurd size", [](GenerationRequest &r) { r.width = r.height = 1 << 20; }},
            {"unknown sampler", [](GenerationRequest &r) { r.sampler = "no such sampler"; }},
            {"depth map on base model", [](GenerationRequest &r) { r.depthMap = Image::blank(8, 8, 1); }},
        };
        for (const auto &[name, mutate] : bad) {
            GenerationRequest r = smallRequest();
            mutate(r);
            auto out = m_base->generate(r);
            QVERIFY2(!out.ok(), name);
            QVERIFY2(out.error().code == ErrorCode::InvalidArgument || out.error().code == ErrorCode::OutOfMemory, name);
            QVERIFY2(!out.error().message.empty(), name);
            qInfo("%s -> %s: %s", name, errorCodeName(out.error().code), out.error().message.c_str());
        }
    }

    void cancelDuringStepReturnsWithinOneUNetCall_data()
    {
        QTest::addColumn<int>("k");
        QTest::addRow("step 1") << 1;
        QTest::addRow("step 3") << 3;
    }
    void cancelDuringStepReturnsWithinOneUNetCall()
    {
        STIPPLE_REQUIRE_FIXTURES();
        QFETCH(int, k);
        GenerationRequest r = smallRequest();
        r.steps = 6;
        Observer obs;
        int unetCalls = 0;
        // Cancel while the k-th UNet call runs (from the trace, inside the call).
        m_base->setTensorTrace([&](const std::string &name, const at::Tensor &) {
            if (name == "unet_out" && ++unetCalls == k)
                obs.cancel.cancel();
        });
        auto out = m_base->generate(r, obs);
        m_base->setTensorTrace(nullptr);
        QVERIFY(out.ok());
        QVERIFY(out->cancelled);
        QCOMPARE(unetCalls, k); // no further UNet call after the cancel
        QVERIFY(out->images.empty());
        QVERIFY(out->lastPreview.has_value());
        QCOMPARE(out->lastPreview->width, 8);
        // Cancelled before starting: no UNet call at all.
        Observer pre;
        pre.cancel.cancel();
        unetCalls = 0;
        m_base->setTensorTrace([&](const std::string &name, const at::Tensor &) { unetCalls += name == "unet_out"; });
        auto out2 = m_base->generate(r, pre);
        m_base->setTensorTrace(nullptr);
        QVERIFY(out2.ok());
        QVERIFY(out2->cancelled);
        QCOMPARE(unetCalls, 0);
    }

    void onePreviewPerStepAndProgress()
    {
        STIPPLE_REQUIRE_FIXTURES();
        GenerationRequest r = smallRequest();
        r.steps = 5;
        std::vector<int> previewSteps, previewTotals, previewWidths;
        std::vector<ProgressEvent> events;
        Observer obs;
        obs.onPreview = [&](const Image &p, int step, int total) {
            previewSteps.push_back(step);
            previewTotals.push_back(total);
            previewWidths.push_back(p.width);
        };
        obs.onProgress = [&](const ProgressEvent &e) { events.push_back(e); };
        auto out = m_base->generate(r, obs);
        QVERIFY(out.ok());
        QCOMPARE(previewSteps, (std::vector<int>{1, 2, 3, 4, 5}));
        QCOMPARE(previewTotals, std::vector<int>(5, 5));
        QCOMPARE(previewWidths, std::vector<int>(5, 8)); // latent resolution
        int denoiseEvents = 0, last = -1;
        bool sawEncode = false, sawDecode = false;
        for (const auto &e : events) {
            sawEncode |= e.stage == Stage::Encode;
            sawDecode |= e.stage == Stage::Decode;
            if (e.stage == Stage::Denoise) {
                ++denoiseEvents;
                QVERIFY(e.step > last);
                last = e.step;
                QCOMPARE(e.total, 5);
            }
        }
        QVERIFY(sawEncode && sawDecode);
        QCOMPARE(denoiseEvents, 6); // 0..5
        // img2img at strength 0.5: previews only for the steps that run.
        GenerationRequest i2i = smallRequest();
        i2i.steps = 6;
        i2i.initImage = fixtureImage("inputs/init0_w64_h64.png");
        i2i.strength = 0.5f;
        previewSteps.clear();
        previewTotals.clear();
        QVERIFY(m_base->generate(i2i, obs).ok());
        QCOMPARE(previewSteps, (std::vector<int>{1, 2, 3}));
        QCOMPARE(previewTotals, std::vector<int>(3, 3));
    }

    void seedsAndInfotext()
    {
        STIPPLE_REQUIRE_FIXTURES();
        GenerationRequest r = smallRequest();
        r.steps = 2;
        r.batchCount = 2;
        r.seed = 1000;
        auto a = m_base->generate(r);
        QVERIFY(a.ok());
        QCOMPARE(a->images.size(), std::size_t(2));
        QCOMPARE(a->images[0].seed, std::int64_t(1000));
        QCOMPARE(a->images[1].seed, std::int64_t(1001));
        QVERIFY(a->images[0].image.pixels != a->images[1].image.pixels);
        const QString info = QString::fromStdString(a->images[1].infotext);
        QVERIFY2(info.contains(QStringLiteral("Seed: 1001")), qPrintable(info));
        // A diffusers folder's "Model hash" is its UNet file's SHA-256 (hashed
        // in the background, ModelHashJob).
        const auto unetFile =
            findDiffusersWeights(loadOptionsFor(QStringLiteral("tiny-sd1"), Layout::Diffusers).modelPath + "/unet");
        QVERIFY(unetFile.ok());
        const auto unetHash = Sha256::fileHex(unetFile.value());
        QVERIFY(unetHash.ok());
        QVERIFY2(info.contains(QStringLiteral("Model hash: ") + QString::fromStdString(unetHash->substr(0, 10))),
                 qPrintable(info));
        QVERIFY(info.startsWith(QStringLiteral("a red sofa\nNegative prompt: blurry\nSteps: 2, Sampler: Euler")));
        // Same seed, same bytes; the second batch equals a run seeded 1001.
        GenerationRequest one = r;
        one.batchCount = 1;
        one.seed = 1001;
        auto b = m_base->generate(one);
        QVERIFY(b.ok());
        QVERIFY(b->images[0].image.pixels == a->images[1].image.pixels);
        // Random seed: non-negative, reported.
        one.seed = -1;
        auto c = m_base->generate(one);
        QVERIFY(c.ok());
        QVERIFY(c->images[0].seed >= 0);
    }

    void compositeKeepsUnmaskedPixels_data()
    {
        QTest::addColumn<bool>("inpaintModel");
        QTest::addColumn<bool>("onlyMasked");
        QTest::addRow("9-channel") << true << false;
        QTest::addRow("legacy 4-channel") << false << false;
        QTest::addRow("9-channel only masked") << true << true;
    }
    void compositeKeepsUnmaskedPixels()
    {
        STIPPLE_REQUIRE_FIXTURES();
        QFETCH(bool, inpaintModel);
        QFETCH(bool, onlyMasked);
        Engine &engine = inpaintModel ? *m_inpaint : *m_base;
        GenerationRequest r = smallRequest();
        r.initImage = fixtureImage("inputs/init0_w64_h64.png");
        r.mask = fixtureImage("inputs/mask0_w64_h64.png");
        QVERIFY(!r.initImage->isNull() && !r.mask->isNull());
        r.strength = 0.9f;
        r.maskBlur = 2;
        r.inpaintOnlyMasked = onlyMasked;
        r.onlyMaskedPadding = 4;
        auto out = engine.generate(r);
        QVERIFY2(out.ok(), out.ok() ? "" : out.error().message.c_str());
        const Image &img = out->images[0].image;
        QCOMPARE(img.width, 64);
        const Image soft = blurMask(*r.mask, r.maskBlur);
        const Image init = *r.initImage;
        int kept = 0, changed = 0;
        for (int y = 0; y < 64; ++y)
            for (int x = 0; x < 64; ++x) {
                const bool outside = soft.row(y)[x] == 0;
                for (int c = 0; c < 3; ++c) {
                    const auto a = img.row(y)[3 * x + c], b = init.row(y)[init.channels * x + std::min(c, init.channels - 1)];
                    if (outside) {
                        QCOMPARE(int(a), int(b));
                        ++kept;
                    } else if (a != b) {
                        ++changed;
                    }
                }
            }
        QVERIFY(kept > 0);
        QVERIFY(changed > 0);
        if (onlyMasked)
            return;
        // Without compositing the unmasked area is the decoder's, not the original's.
        r.composite = false;
        auto raw = engine.generate(r);
        QVERIFY(raw.ok());
        QVERIFY(raw->images[0].image.pixels != img.pixels);
    }

    void a1111SyntaxChunksLongPrompts()
    {
        STIPPLE_REQUIRE_FIXTURES();
        // > 75 tokens with emphasis: A1111 syntax concatenates 77-token
        // windows; the short negative prompt is padded to the same length.
        GenerationRequest r = smallRequest();
        r.steps = 2;
        QString words;
        for (int i = 0; i < 60; ++i)
            words += QStringLiteral("red sofa, ");
        r.prompt = ("(masterpiece:1.3), " + words + "[blurry]").toStdString();
        r.promptSyntax = PromptSyntax::A1111;
        std::vector<std::int64_t> shape;
        m_base->setTensorTrace([&](const std::string &name, const at::Tensor &t) {
            if (name == "prompt_embeds")
                shape = t.sizes().vec();
        });
        auto out = m_base->generate(r);
        m_base->setTensorTrace(nullptr);
        QVERIFY2(out.ok(), out.ok() ? "" : out.error().message.c_str());
        QCOMPARE(shape.size(), std::size_t(3));
        QCOMPARE(shape[0], std::int64_t(2));
        QVERIFY(shape[1] >= 154 && shape[1] % 77 == 0);
        // Diffusers syntax truncates to one window.
        r.promptSyntax = PromptSyntax::Diffusers;
        m_base->setTensorTrace([&](const std::string &name, const at::Tensor &t) {
            if (name == "prompt_embeds")
                shape = t.sizes().vec();
        });
        QVERIFY(m_base->generate(r).ok());
        m_base->setTensorTrace(nullptr);
        QCOMPARE(shape[1], std::int64_t(77));
    }

    void inpaintModelWithoutMaskRunsTxt2img()
    {
        STIPPLE_REQUIRE_FIXTURES();
        GenerationRequest r = smallRequest();
        r.steps = 2;
        auto out = m_inpaint->generate(r);
        QVERIFY2(out.ok(), out.ok() ? "" : out.error().message.c_str());
        QCOMPARE(out->images.size(), std::size_t(1));
        // A1111 masked content options run too.
        r.initImage = fixtureImage("inputs/init0_w64_h64.png");
        r.mask = fixtureImage("inputs/mask0_w64_h64.png");
        for (MaskedContent mc : {MaskedContent::Fill, MaskedContent::LatentNoise, MaskedContent::LatentNothing}) {
            r.maskedContent = mc;
            r.strength = 0.8f;
            QVERIFY(m_base->generate(r).ok());
            QVERIFY(m_inpaint->generate(r).ok());
        }
    }

    void previewCostsUnderOnePercentOfAStep()
    {
        STIPPLE_REQUIRE_FIXTURES();
        // The step time of the tiny model at 256x256 (32x32 latents), against
        // the preview of the same latents.
        GenerationRequest r = smallRequest();
        r.width = r.height = 256;
        r.steps = 3;
        double denoiseSeconds = 0;
        Observer obs;
        obs.onProgress = [&](const ProgressEvent &e) {
            if (e.stage == Stage::Denoise)
                denoiseSeconds = e.elapsedSec;
        };
        QVERIFY(m_base->generate(r, obs).ok());
        const double step = denoiseSeconds / r.steps;
        const at::Tensor z = at::randn({1, 4, 32, 32});
        latentPreview(z);
        QElapsedTimer t;
        t.start();
        const int n = 200;
        for (int i = 0; i < n; ++i)
            latentPreview(z);
        const double preview = t.nsecsElapsed() / 1e9 / n;
        qInfo("step %.1f ms (tiny model, 32x32 latents), preview %.4f ms = %.3f%% of a step", step * 1e3,
              preview * 1e3, 100 * preview / step);
        QVERIFY(preview < 0.01 * step);
    }

    void depthModelUsesTheDepthMap()
    {
        STIPPLE_REQUIRE_FIXTURES();
        // A 5-channel (depth2img) variant of tiny-sd1: conv_in gets a 5th
        // input channel with its own random weights; everything else is shared.
        QTemporaryDir dir;
        const QString src = QString::fromStdString(loadOptionsFor(QStringLiteral("tiny-sd1"), Layout::Diffusers).modelPath);
        for (const char *sub : {"text_encoder", "tokenizer", "vae", "scheduler"})
            QVERIFY(QFile::link(src + QLatin1Char('/') + QLatin1String(sub), dir.filePath(QLatin1String(sub))));
        QVERIFY(QFile::copy(src + QStringLiteral("/model_index.json"), dir.filePath(QStringLiteral("model_index.json"))));
        QVERIFY(QDir(dir.path()).mkdir(QStringLiteral("unet")));
        QFile cfgIn(src + QStringLiteral("/unet/config.json"));
        QVERIFY(cfgIn.open(QIODevice::ReadOnly));
        QJsonObject cfg = QJsonDocument::fromJson(cfgIn.readAll()).object();
        cfg[QStringLiteral("in_channels")] = 5;
        QFile cfgOut(dir.filePath(QStringLiteral("unet/config.json")));
        QVERIFY(cfgOut.open(QIODevice::WriteOnly));
        cfgOut.write(QJsonDocument(cfg).toJson());
        cfgOut.close();
        auto weights = SafeTensorsFile::open((src + QStringLiteral("/unet/diffusion_pytorch_model.safetensors")).toStdString());
        QVERIFY(weights.ok());
        auto all = weights->loadAll(at::kFloat);
        QVERIFY(all.ok());
        StateDict sd = *all;
        at::Tensor w = sd.at("conv_in.weight");
        sd["conv_in.weight"] = at::cat({w, at::randn({w.size(0), 1, 3, 3}) * 0.5}, 1);
        QVERIFY(writeSafeTensors(dir.filePath(QStringLiteral("unet/diffusion_pytorch_model.safetensors")).toStdString(), sd).ok());

        Engine e;
        auto info = e.load({dir.path().toStdString()});
        QVERIFY2(info.ok(), info.ok() ? "" : info.error().message.c_str());
        QCOMPARE(int(info->variant), int(ModelVariant::Depth));
        GenerationRequest r = smallRequest();
        r.steps = 3;
        auto noDepth = e.generate(r);
        QVERIFY(!noDepth.ok());
        QCOMPARE(int(noDepth.error().code), int(ErrorCode::InvalidArgument));
        // Two depth maps (any size: resized to the latent grid, min-max normalised).
        Image ramp = Image::blank(40, 30, 1), flip = Image::blank(40, 30, 1);
        for (int y = 0; y < 30; ++y)
            for (int x = 0; x < 40; ++x) {
                ramp.row(y)[x] = std::uint8_t(x * 6);
                flip.row(y)[x] = std::uint8_t(255 - x * 6);
            }
        r.depthMap = ramp;
        auto a = e.generate(r);
        QVERIFY2(a.ok(), a.ok() ? "" : a.error().message.c_str());
        r.depthMap = flip;
        auto b = e.generate(r);
        QVERIFY(b.ok());
        QVERIFY(a->images[0].image.pixels != b->images[0].image.pixels);
        // img2img with depth.
        r.initImage = fixtureImage("inputs/init0_w64_h64.png");
        r.strength = 0.6f;
        QVERIFY(e.generate(r).ok());
    }

    // A float16 file (what artists have): the text encoder's matrices and the
    // VAE stay float16 views and convert at use (OpenOptions::
    // deferTextEncoderMatrices, deferVaeWeights), the UNet converts as it
    // packs. Its embeddings, latents and image equal, bit for bit, those of a
    // float32 file holding the same values: in fp32 that file converts
    // nothing, in bf16 its matrices convert from float32 instead. (Against
    // modules converted at load: test_text_encoder matricesAsGivenMatchConverted,
    // test_autoencoderkl convertedAtFirstUse.)
    void float16FileEqualsItsFloat32Values_data()
    {
        QTest::addColumn<int>("dtype");
        QTest::addRow("fp32") << int(ComputeDType::Float32);
        QTest::addRow("bf16") << int(ComputeDType::BFloat16);
    }
    void float16FileEqualsItsFloat32Values()
    {
        STIPPLE_REQUIRE_FIXTURES();
        QFETCH(int, dtype);
        const LoadOptions source = loadOptionsFor(QStringLiteral("tiny-sd1"), Layout::SingleFile);
        auto file = SafeTensorsFile::open(source.modelPath);
        QVERIFY(file.ok());
        auto all = file->loadAll();
        QVERIFY(all.ok());
        StateDict half, rounded;
        for (const auto &[name, t] : *all) {
            half[name] = t.is_floating_point() ? t.to(at::kHalf) : t;
            rounded[name] = t.is_floating_point() ? half[name].to(at::kFloat) : t;
        }
        QTemporaryDir dir;
        QVERIFY(dir.isValid());
        const std::string halfPath = dir.filePath(QStringLiteral("half.safetensors")).toStdString();
        const std::string floatPath = dir.filePath(QStringLiteral("float.safetensors")).toStdString();
        QVERIFY(writeSafeTensors(halfPath, half, file->metadata()).ok());
        QVERIFY(writeSafeTensors(floatPath, rounded, file->metadata()).ok());
        GenerationRequest r = smallRequest();
        r.steps = 2;
        r.dtype = static_cast<ComputeDType>(dtype);
        std::vector<Image> images;
        std::vector<std::map<std::string, at::Tensor>> traces(2);
        for (int i = 0; i < 2; ++i) {
            Engine e;
            e.setTensorTrace([&traces, i](const std::string &name, const at::Tensor &t) {
                traces[i][name] = t.to(at::kFloat).clone(); // the last of each name
            });
            LoadOptions o = source;
            o.modelPath = i == 0 ? halfPath : floatPath;
            o.dtype = r.dtype;
            auto info = e.load(o);
            QVERIFY2(info.ok(), info.ok() ? "" : info.error().message.c_str());
            auto out = e.generate(r);
            QVERIFY2(out.ok(), out.ok() ? "" : out.error().message.c_str());
            images.push_back(out->images[0].image);
        }
        // The text encoder's output, the UNet's last latents and the image.
        for (const char *name : {"prompt_embeds", "vae_decode_in"}) {
            QVERIFY2(traces[0].count(name) && traces[1].count(name), name);
            QVERIFY2(at::equal(traces[0][name], traces[1][name]), name);
        }
        QCOMPARE(images[0].width, images[1].width);
        QVERIFY(images[0].pixels == images[1].pixels);
    }

    // The GUI's inference thread loads and generates under InferenceMode
    // (GenerationController): the weights adopted from the file are then
    // inference tensors, which the first use converts and packs.
    void loadsAndRunsUnderInferenceMode_data()
    {
        QTest::addColumn<QString>("model");
        QTest::addColumn<int>("layout");
        QTest::addColumn<int>("dtype");
        QTest::addRow("folder fp32") << QStringLiteral("tiny-sd1") << int(Layout::Diffusers) << int(ComputeDType::Float32);
        QTest::addRow("single fp32") << QStringLiteral("tiny-sd1") << int(Layout::SingleFile) << int(ComputeDType::Float32);
        // tiny-sd2's single file is float16: its text encoder and VAE convert at use.
        QTest::addRow("float16 single fp32") << QStringLiteral("tiny-sd2") << int(Layout::SingleFile) << int(ComputeDType::Float32);
        QTest::addRow("float16 single bf16") << QStringLiteral("tiny-sd2") << int(Layout::SingleFile) << int(ComputeDType::BFloat16);
        QTest::addRow("inpaint folder") << QStringLiteral("tiny-sd1-inpaint") << int(Layout::Diffusers) << int(ComputeDType::Float32);
    }
    void loadsAndRunsUnderInferenceMode()
    {
        STIPPLE_REQUIRE_FIXTURES();
        QFETCH(QString, model);
        QFETCH(int, layout);
        QFETCH(int, dtype);
        c10::InferenceMode inference;
        Engine e;
        LoadOptions o = loadOptionsFor(model, static_cast<Layout>(layout));
        o.dtype = static_cast<ComputeDType>(dtype);
        auto info = e.load(o);
        QVERIFY2(info.ok(), info.ok() ? "" : info.error().message.c_str());
        GenerationRequest r = smallRequest();
        r.steps = 2;
        r.dtype = o.dtype;
        for (int run = 0; run < 2; ++run) { // the second run finds everything set up
            auto out = e.generate(r);
            QVERIFY2(out.ok(), out.ok() ? "" : out.error().message.c_str());
        }
    }

    // The GUI switches models and precision in one engine on its inference
    // thread: the thread's reused buffers (attention, the text encoder's
    // conversion) serve every model in turn.
    void switchesModelsUnderInferenceMode()
    {
        STIPPLE_REQUIRE_FIXTURES();
        c10::InferenceMode inference;
        Engine e;
        GenerationRequest r = smallRequest();
        r.steps = 2;
        const struct {
            const char *model;
            ComputeDType dtype;
        } loads[] = {{"tiny-sd2", ComputeDType::Float32},
                     {"tiny-sd2", ComputeDType::BFloat16},
                     {"tiny-sd1-inpaint", ComputeDType::Float32},
                     {"tiny-sd2", ComputeDType::Float32}};
        for (const auto &l : loads) {
            LoadOptions o = loadOptionsFor(QString::fromLatin1(l.model), Layout::SingleFile);
            o.dtype = r.dtype = l.dtype;
            auto info = e.load(o);
            QVERIFY2(info.ok(), info.ok() ? "" : info.error().message.c_str());
            auto out = e.generate(r);
            QVERIFY2(out.ok(), out.ok() ? "" : out.error().message.c_str());
        }
    }

    void bf16Runs()
    {
        STIPPLE_REQUIRE_FIXTURES();
        Engine e;
        LoadOptions o = loadOptionsFor(QStringLiteral("tiny-sd1"), Layout::Diffusers);
        o.dtype = ComputeDType::BFloat16;
        QVERIFY(e.load(o).ok());
        GenerationRequest r = smallRequest();
        r.steps = 3;
        r.dtype = ComputeDType::BFloat16;
        auto out = e.generate(r);
        QVERIFY2(out.ok(), out.ok() ? "" : out.error().message.c_str());
        QVERIFY(QString::fromStdString(out->images[0].infotext).contains(QStringLiteral("Precision: bf16")));
    }
};

QTEST_GUILESS_MAIN(TestEngine)
#include "TestEngine.moc"
