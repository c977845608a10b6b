// Metadata: A1111 infotext parse/format as the exact inverse of core's
// Infotext writer, restoring requests, ComfyUI and InvokeAI chunks, PNG files
// with and without parameters.
#include "ui/bridge/ImageMetadata.h"

#include "core/pipeline/Infotext.h"
#include "ui/bridge/GallerySaver.h"

#include <QFile>
#include <QImage>
#include <QImageWriter>
#include <QTemporaryDir>
#include <QTest>

using namespace stipple;
using namespace stipple::ui;

class TestImageMetadata : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void parsesA1111_data();
    void parsesA1111();
    void coreRoundTrip_data();
    void coreRoundTrip();
    void formatParseRoundTrip();
    void restoresRequest();
    void bareAndEmptyText();
    void comfyPrompt();
    void comfyWithoutSampler();
    void invokeMetadata();
    void samplerNames_data();
    void samplerNames();
    void pngFiles();
};

void TestImageMetadata::parsesA1111_data()
{
    QTest::addColumn<QString>("text");
    QTest::addColumn<QString>("prompt");
    QTest::addColumn<QString>("negative");
    QTest::addColumn<int>("steps");
    QTest::addColumn<QString>("sampler");
    QTest::addColumn<double>("cfg");
    QTest::addColumn<qint64>("seed");
    QTest::addColumn<int>("width");
    QTest::addColumn<int>("height");
    QTest::addColumn<QString>("model");

    QTest::newRow("typical")
        << QStringLiteral("a cat, masterpiece\nNegative prompt: blurry, lowres\n"
                          "Steps: 20, Sampler: Euler a, CFG scale: 7, Seed: 1234, Size: 512x768, "
                          "Model hash: 6ce0161689, Model: v1-5-pruned-emaonly, Clip skip: 2")
        << QStringLiteral("a cat, masterpiece") << QStringLiteral("blurry, lowres") << 20
        << QStringLiteral("Euler a") << 7.0 << qint64(1234) << 512 << 768
        << QStringLiteral("v1-5-pruned-emaonly");
    QTest::newRow("multiline + quoted")
        << QStringLiteral("line one\nline two\nNegative prompt: bad\nworse\n"
                          "Steps: 30, Sampler: DPM++ 2M, Schedule type: Karras, CFG scale: 6.5, Seed: 42, "
                          "Size: 640x640, Model: \"my, model: v2\", Denoising strength: 0.6")
        << QStringLiteral("line one\nline two") << QStringLiteral("bad\nworse") << 30
        << QStringLiteral("DPM++ 2M") << 6.5 << qint64(42) << 640 << 640 << QStringLiteral("my, model: v2");
    QTest::newRow("no negative")
        << QStringLiteral("portrait\nSteps: 5, Sampler: DDIM, CFG scale: 1.5, Seed: 9, Size: 64x64")
        << QStringLiteral("portrait") << QString() << 5 << QStringLiteral("DDIM") << 1.5 << qint64(9) << 64
        << 64 << QString();
}

void TestImageMetadata::parsesA1111()
{
    QFETCH(QString, text);
    const ImageMetadata m = parseInfotext(text);
    QCOMPARE(m.source, MetadataSource::A1111);
    QTEST(m.prompt, "prompt");
    QTEST(m.negativePrompt, "negative");
    QTEST(m.steps, "steps");
    QTEST(m.sampler, "sampler");
    QTEST(m.cfgScale, "cfg");
    QTEST(m.seed, "seed");
    QTEST(m.width, "width");
    QTEST(m.height, "height");
    QTEST(m.model, "model");
    // Our formatter reproduces A1111 text exactly (same key order, same quoting).
    QCOMPARE(formatInfotext(m), text);
}

void TestImageMetadata::coreRoundTrip_data()
{
    QTest::addColumn<bool>("img2img");
    QTest::addColumn<bool>("inpaint");
    QTest::newRow("txt2img") << false << false;
    QTest::newRow("img2img") << true << false;
    QTest::newRow("inpaint") << true << true;
}

// core::makeInfotext -> core::formatInfotext -> our parser -> our formatter
// gives the same text, and applyToRequest restores what core's applyInfotext does.
void TestImageMetadata::coreRoundTrip()
{
    QFETCH(bool, img2img);
    QFETCH(bool, inpaint);
    core::GenerationRequest r;
    r.prompt = "a (red:1.2) fox, in snow\nsecond line";
    r.negativePrompt = "blurry: bad, \"quoted\"";
    r.sampler = "DPM++ 2M";
    r.scheduleType = "karras";
    r.steps = 27;
    r.cfgScale = 6.5f;
    r.width = 576;
    r.height = 448;
    r.clipSkip = 2;
    r.batchSize = 2;
    r.eta = 0.3f;
    if (img2img) {
        r.initImage = core::Image::blank(8, 8, 3);
        r.strength = 0.55f;
    }
    if (inpaint) {
        r.mask = core::Image::blank(8, 8, 1, 255);
        r.maskBlur = 7;
        r.inpaintOnlyMasked = true;
    }
    core::InfotextContext ctx;
    ctx.seed = 987654321012;
    ctx.width = r.width;
    ctx.height = r.height;
    ctx.modelName = "tiny, sd1";
    ctx.modelHash = "0123456789";
    ctx.batchPos = 1;
    ctx.version = "stipple 0.1.0";
    const QString text = QString::fromStdString(core::formatInfotext(core::makeInfotext(r, ctx)));

    const ImageMetadata m = parseInfotext(text);
    QCOMPARE(m.source, MetadataSource::A1111);
    QCOMPARE(m.prompt, QString::fromStdString(r.prompt));
    QCOMPARE(m.negativePrompt, QString::fromStdString(r.negativePrompt));
    QCOMPARE(m.seed, ctx.seed);
    QCOMPARE(m.model, QStringLiteral("tiny, sd1"));
    QCOMPARE(m.modelHash, QStringLiteral("0123456789"));
    QCOMPARE(m.value(QStringLiteral("Version")), QStringLiteral("stipple 0.1.0"));
    QCOMPARE(formatInfotext(m), text);

    core::GenerationRequest expected;
    core::applyInfotext(core::parseInfotext(text.toStdString()), expected);
    core::GenerationRequest restored;
    applyToRequest(m, restored);
    QCOMPARE(restored.prompt, r.prompt);
    QCOMPARE(restored.negativePrompt, r.negativePrompt);
    QCOMPARE(restored.sampler, r.sampler);
    QCOMPARE(restored.scheduleType, r.scheduleType);
    QCOMPARE(restored.steps, r.steps);
    QCOMPARE(restored.cfgScale, r.cfgScale);
    QCOMPARE(restored.seed, ctx.seed);
    QCOMPARE(restored.width, r.width);
    QCOMPARE(restored.height, r.height);
    QCOMPARE(restored.clipSkip, r.clipSkip);
    QCOMPARE(restored.batchSize, r.batchSize);
    QCOMPARE(restored.eta, r.eta);
    if (img2img)
        QCOMPARE(restored.strength, r.strength);
    if (inpaint)
        QCOMPARE(restored.maskBlur, r.maskBlur);
    // Same fields as the core's own reader.
    QCOMPARE(restored.sampler, expected.sampler);
    QCOMPARE(restored.steps, expected.steps);
    QCOMPARE(restored.cfgScale, expected.cfgScale);
    QCOMPARE(restored.seed, expected.seed);
    QCOMPARE(restored.strength, expected.strength);
    QCOMPARE(restored.maskBlur, expected.maskBlur);
}

void TestImageMetadata::formatParseRoundTrip()
{
    ImageMetadata m;
    m.source = MetadataSource::A1111;
    m.prompt = QStringLiteral("café, ünïcode: \"x\"");
    m.negativePrompt = QStringLiteral("n1\nn2");
    m.steps = 12;
    m.sampler = QStringLiteral("Euler");
    m.cfgScale = 4.25;
    m.seed = 5;
    m.width = 320;
    m.height = 192;
    m.model = QStringLiteral("a:b,c");
    m.denoisingStrength = 0.35;
    m.extra.append({QStringLiteral("Mask blur"), QStringLiteral("3")});
    const QString text = formatInfotext(m);
    const ImageMetadata back = parseInfotext(text);
    QCOMPARE(back.prompt, m.prompt);
    QCOMPARE(back.negativePrompt, m.negativePrompt);
    QCOMPARE(back.steps, m.steps);
    QCOMPARE(back.sampler, m.sampler);
    QCOMPARE(back.cfgScale, m.cfgScale);
    QCOMPARE(back.seed, m.seed);
    QCOMPARE(back.width, m.width);
    QCOMPARE(back.height, m.height);
    QCOMPARE(back.model, m.model);
    QCOMPARE(back.denoisingStrength, m.denoisingStrength);
    QCOMPARE(back.value(QStringLiteral("Mask blur")), QStringLiteral("3"));
    // And the core reads the same thing.
    const core::Infotext coreInfo = core::parseInfotext(text.toStdString());
    QCOMPARE(QString::fromStdString(coreInfo.prompt), m.prompt);
    QCOMPARE(QString::fromStdString(coreInfo.get("Model").value_or("")), m.model);
}

void TestImageMetadata::restoresRequest()
{
    const ImageMetadata m = parseInfotext(QStringLiteral(
        "x\nSteps: 8, Sampler: DPM++ 2M Karras, CFG scale: 3, Seed: 77, Size: 64x128"));
    core::GenerationRequest r;
    r.negativePrompt = "stale";
    applyToRequest(m, r);
    QCOMPARE(r.prompt, std::string("x"));
    QCOMPARE(r.negativePrompt, std::string()); // the image had none: cleared
    QCOMPARE(r.sampler, std::string("DPM++ 2M"));
    QCOMPARE(r.scheduleType, std::string("karras"));
    QCOMPARE(r.steps, 8);
    QCOMPARE(r.cfgScale, 3.0f);
    QCOMPARE(r.seed, std::int64_t(77));
    QCOMPARE(r.width, 64);
    QCOMPARE(r.height, 128);
    QCOMPARE(r.strength, core::GenerationRequest().strength); // not given: unchanged
}

void TestImageMetadata::bareAndEmptyText()
{
    QVERIFY(parseInfotext(QString()).isEmpty());
    QVERIFY(parseInfotext(QStringLiteral("  \n ")).isEmpty());
    const ImageMetadata bare = parseInfotext(QStringLiteral("just a prompt, with: colon"));
    QCOMPARE(bare.source, MetadataSource::A1111);
    QCOMPARE(bare.prompt, QStringLiteral("just a prompt, with: colon"));
    QCOMPARE(bare.steps, 0);
    QCOMPARE(bare.seed, qint64(-1));
}

static const char kComfyGraph[] = R"({
  "3": {"class_type": "KSampler", "inputs": {"seed": 156680208700286, "steps": 25, "cfg": 8.5,
        "sampler_name": "dpmpp_2m", "scheduler": "karras", "denoise": 1,
        "model": ["10", 0], "positive": ["6", 0], "negative": ["7", 0], "latent_image": ["5", 0]}},
  "4": {"class_type": "CheckpointLoaderSimple", "inputs": {"ckpt_name": "sd15/dreamshaper_8.safetensors"}},
  "10": {"class_type": "LoraLoader", "inputs": {"model": ["4", 0], "clip": ["4", 1], "lora_name": "x.safetensors"}},
  "5": {"class_type": "EmptyLatentImage", "inputs": {"width": 512, "height": 640, "batch_size": 1}},
  "6": {"class_type": "CLIPTextEncode", "inputs": {"text": "beautiful scenery", "clip": ["10", 1]}},
  "7": {"class_type": "CLIPTextEncode", "inputs": {"text": ["11", 0], "clip": ["10", 1]}},
  "11": {"class_type": "PrimitiveNode", "inputs": {"value": "text, watermark"}},
  "8": {"class_type": "VAEDecode", "inputs": {"samples": ["3", 0], "vae": ["4", 2]}}
})";

void TestImageMetadata::comfyPrompt()
{
    const ImageMetadata m = parseComfyPrompt(QString::fromUtf8(kComfyGraph));
    QCOMPARE(m.source, MetadataSource::ComfyUI);
    QCOMPARE(m.prompt, QStringLiteral("beautiful scenery"));
    QCOMPARE(m.negativePrompt, QStringLiteral("text, watermark"));
    QCOMPARE(m.seed, Q_INT64_C(156680208700286));
    QCOMPARE(m.steps, 25);
    QCOMPARE(m.cfgScale, 8.5);
    QCOMPARE(m.sampler, QStringLiteral("DPM++ 2M"));
    QCOMPARE(m.scheduleType, QStringLiteral("karras"));
    QCOMPARE(m.width, 512);
    QCOMPARE(m.height, 640);
    QCOMPARE(m.model, QStringLiteral("dreamshaper_8"));
    QCOMPARE(m.denoisingStrength, -1.0);

    core::GenerationRequest r;
    applyToRequest(m, r);
    QCOMPARE(r.seed, std::int64_t(156680208700286));
    QCOMPARE(r.sampler, std::string("DPM++ 2M"));
    QCOMPARE(r.scheduleType, std::string("karras"));
    QCOMPARE(r.height, 640);
}

void TestImageMetadata::comfyWithoutSampler()
{
    QVERIFY(parseComfyPrompt(QStringLiteral(R"({"1": {"class_type": "LoadImage", "inputs": {}}})")).isEmpty());
    QVERIFY(parseComfyPrompt(QStringLiteral("not json")).isEmpty());
}

void TestImageMetadata::invokeMetadata()
{
    const QString json = QStringLiteral(
        R"({"generation_mode": "txt2img", "positive_prompt": "a lighthouse", "negative_prompt": "fog",
            "width": 768, "height": 512, "seed": 3141, "cfg_scale": 7.5, "steps": 30,
            "scheduler": "dpmpp_2m_k", "model": {"key": "abc", "hash": "blake3:1", "name": "Deliberate", "base": "sd-1"},
            "clip_skip": 1})");
    const ImageMetadata m = parseInvokeMetadata(json);
    QCOMPARE(m.source, MetadataSource::InvokeAI);
    QCOMPARE(m.prompt, QStringLiteral("a lighthouse"));
    QCOMPARE(m.negativePrompt, QStringLiteral("fog"));
    QCOMPARE(m.seed, qint64(3141));
    QCOMPARE(m.steps, 30);
    QCOMPARE(m.cfgScale, 7.5);
    QCOMPARE(m.width, 768);
    QCOMPARE(m.height, 512);
    QCOMPARE(m.sampler, QStringLiteral("DPM++ 2M"));
    QCOMPARE(m.scheduleType, QStringLiteral("karras"));
    QCOMPARE(m.model, QStringLiteral("Deliberate"));
    QCOMPARE(m.clipSkip, 2);
    QVERIFY(parseInvokeMetadata(QStringLiteral("{}")).isEmpty());
}

void TestImageMetadata::samplerNames_data()
{
    QTest::addColumn<QString>("in");
    QTest::addColumn<QString>("out");
    QTest::addColumn<QString>("schedule");
    QTest::newRow("comfy euler_ancestral") << "euler_ancestral" << "Euler a" << "";
    QTest::newRow("invoke euler_a") << "euler_a" << "Euler a" << "";
    QTest::newRow("invoke karras") << "dpmpp_2m_k" << "DPM++ 2M" << "karras";
    QTest::newRow("a1111 case") << "euler A" << "Euler a" << "";
    QTest::newRow("diffusers class") << "EulerDiscreteScheduler" << "Euler" << "";
    QTest::newRow("unknown") << "my_sampler" << "my_sampler" << "";
}

void TestImageMetadata::samplerNames()
{
    QFETCH(QString, in);
    QString schedule;
    QTEST(a1111SamplerName(in, &schedule), "out");
    QTEST(schedule, "schedule");
}

void TestImageMetadata::pngFiles()
{
    QTemporaryDir dir;
    QVERIFY(dir.isValid());
    QImage img(16, 8, QImage::Format_RGB888);
    img.fill(Qt::darkCyan);

    // A1111: written through the gallery saver.
    const QString text = QStringLiteral("cat\nSteps: 3, Sampler: Euler, CFG scale: 2, Seed: 11, Size: 16x8");
    QVERIFY(savePngAtomically(dir.filePath(QStringLiteral("a.png")), img, text).ok());
    MetadataReadResult r = readImageMetadata(dir.filePath(QStringLiteral("a.png")));
    QVERIFY2(r.ok(), qPrintable(r.error));
    QCOMPARE(r.metadata.raw, text);
    QCOMPARE(r.metadata.seed, qint64(11));
    const auto chunks = readPngTextChunks(dir.filePath(QStringLiteral("a.png")));
    QCOMPARE(chunks.size(), 1);
    QCOMPARE(chunks.first().first, QStringLiteral("parameters"));
    QCOMPARE(chunks.first().second, text);

    // Long, non-Latin-1 text (Qt writes iTXt) and long Latin-1 text survive too.
    const QString unicode = QStringLiteral("日本の猫, ") + QString(300, QLatin1Char('x'))
        + QStringLiteral("\nNegative prompt: ü\nSteps: 3, Sampler: Euler, CFG scale: 2, Seed: 12, Size: 16x8");
    QVERIFY(savePngAtomically(dir.filePath(QStringLiteral("u.png")), img, unicode).ok());
    r = readImageMetadata(dir.filePath(QStringLiteral("u.png")));
    QVERIFY2(r.ok(), qPrintable(r.error));
    QCOMPARE(r.metadata.raw, unicode);
    QCOMPARE(r.metadata.negativePrompt, QStringLiteral("ü"));
    QCOMPARE(r.metadata.seed, qint64(12));

    // ComfyUI and InvokeAI chunks.
    {
        QImageWriter w(dir.filePath(QStringLiteral("comfy.png")), "png");
        w.setText(QStringLiteral("prompt"), QString::fromUtf8(kComfyGraph));
        w.setText(QStringLiteral("workflow"), QStringLiteral("{}"));
        QVERIFY(w.write(img));
    }
    r = readImageMetadata(dir.filePath(QStringLiteral("comfy.png")));
    QVERIFY2(r.ok(), qPrintable(r.error));
    QCOMPARE(r.metadata.source, MetadataSource::ComfyUI);
    QCOMPARE(r.metadata.prompt, QStringLiteral("beautiful scenery"));
    {
        QImageWriter w(dir.filePath(QStringLiteral("invoke.png")), "png");
        w.setText(QStringLiteral("invokeai_metadata"),
                  QStringLiteral(R"({"positive_prompt": "p", "seed": 4, "steps": 2})"));
        QVERIFY(w.write(img));
    }
    r = readImageMetadata(dir.filePath(QStringLiteral("invoke.png")));
    QVERIFY2(r.ok(), qPrintable(r.error));
    QCOMPARE(r.metadata.source, MetadataSource::InvokeAI);
    QCOMPARE(r.metadata.seed, qint64(4));
    QCOMPARE(r.metadata.width, 16); // from the image header when the metadata has no size

    // No metadata: an error the UI can show.
    QVERIFY(img.save(dir.filePath(QStringLiteral("plain.png"))));
    r = readImageMetadata(dir.filePath(QStringLiteral("plain.png")));
    QVERIFY(!r.ok());
    QVERIFY(r.metadata.isEmpty());
    QVERIFY(!r.error.isEmpty());

    // A plain tEXt chunk, as PIL (A1111) writes it: inserted after IHDR.
    {
        QFile f(dir.filePath(QStringLiteral("plain.png")));
        QVERIFY(f.open(QIODevice::ReadOnly));
        QByteArray png = f.readAll();
        const QByteArray body = QByteArray("parameters") + '\0' + QByteArray("pil\nSteps: 1, Sampler: Euler, CFG scale: 1, Seed: 99, Size: 16x8");
        QByteArray chunk;
        const quint32 n = quint32(body.size());
        chunk.append(char(n >> 24)).append(char(n >> 16)).append(char(n >> 8)).append(char(n));
        chunk.append("tEXt").append(body).append(QByteArray(4, '\0')); // CRC is not checked
        png.insert(8 + 25, chunk);
        QFile out(dir.filePath(QStringLiteral("pil.png")));
        QVERIFY(out.open(QIODevice::WriteOnly));
        out.write(png);
    }
    r = readImageMetadata(dir.filePath(QStringLiteral("pil.png")));
    QVERIFY2(r.ok(), qPrintable(r.error));
    QCOMPARE(r.metadata.prompt, QStringLiteral("pil"));
    QCOMPARE(r.metadata.seed, qint64(99));

    QVERIFY(img.save(dir.filePath(QStringLiteral("x.jpg")), "JPG"));
    r = readImageMetadata(dir.filePath(QStringLiteral("x.jpg")));
    QVERIFY(!r.ok());
    r = readImageMetadata(dir.filePath(QStringLiteral("missing.png")));
    QVERIFY(!r.ok());
}

QTEST_GUILESS_MAIN(TestImageMetadata)
#include "TestImageMetadata.moc"
