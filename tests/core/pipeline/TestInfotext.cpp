// Infotext (A1111 "parameters"): exact format, quoting, parsing, round trips.
#include "core/pipeline/Infotext.h"

#include <QTest>

using namespace stipple::core;

class TestInfotext : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void formatsLikeA1111()
    {
        GenerationRequest r;
        r.prompt = "a cat";
        r.negativePrompt = "blurry";
        r.steps = 20;
        r.sampler = "Euler a";
        r.cfgScale = 7.0f;
        InfotextContext c;
        c.seed = 123;
        c.width = 512;
        c.height = 768;
        c.modelHash = "6ce0161689";
        c.modelName = "v1-5-pruned-emaonly";
        QCOMPARE(QString::fromStdString(formatInfotext(makeInfotext(r, c))),
                 QStringLiteral("a cat\nNegative prompt: blurry\nSteps: 20, Sampler: Euler a, CFG scale: 7, "
                                "Seed: 123, Size: 512x768, Model hash: 6ce0161689, Model: v1-5-pruned-emaonly"));
        // img2img + clip skip + fractional CFG; no negative prompt line.
        r.negativePrompt.clear();
        r.cfgScale = 7.5f;
        r.clipSkip = 2;
        r.initImage = Image::blank(8, 8, 3);
        const std::string t = formatInfotext(makeInfotext(r, c));
        QVERIFY(t.find("Negative prompt") == std::string::npos);
        QVERIFY(t.find("CFG scale: 7.5, ") != std::string::npos);
        QVERIFY(t.find("Denoising strength: 0.75, Clip skip: 2") != std::string::npos);
    }
    void quotesValuesWithSeparators()
    {
        QCOMPARE(QString::fromStdString(quoteInfotextValue("plain")), QStringLiteral("plain"));
        QCOMPARE(QString::fromStdString(quoteInfotextValue("a, b")), QStringLiteral("\"a, b\""));
        QCOMPARE(QString::fromStdString(quoteInfotextValue("k: \"v\"")), QStringLiteral("\"k: \\\"v\\\"\""));
        QCOMPARE(QString::fromStdString(quoteInfotextValue("\xc3\xa9t\xc3\xa9: x")),
                 QString::fromUtf8("\"\xc3\xa9t\xc3\xa9: x\"")); // ensure_ascii=False
    }
    void parsesA1111Text()
    {
        const std::string text = "masterpiece, (cat:1.2)\nsecond line\nNegative prompt: ugly,\nbad hands\n"
                                 "Steps: 30, Sampler: DPM++ 2M, Schedule type: Karras, CFG scale: 6.5, Seed: 42, "
                                 "Size: 640x448, Model: \"my, model\", Denoising strength: 0.4, Clip skip: 2";
        const Infotext info = parseInfotext(text);
        QCOMPARE(QString::fromStdString(info.prompt), QStringLiteral("masterpiece, (cat:1.2)\nsecond line"));
        QCOMPARE(QString::fromStdString(info.negativePrompt), QStringLiteral("ugly,\nbad hands"));
        QCOMPARE(QString::fromStdString(info.get("Model").value_or("")), QStringLiteral("my, model"));
        GenerationRequest r;
        applyInfotext(info, r);
        QCOMPARE(r.steps, 30);
        QCOMPARE(QString::fromStdString(r.sampler), QStringLiteral("DPM++ 2M"));
        QCOMPARE(QString::fromStdString(r.scheduleType), QStringLiteral("Karras"));
        QCOMPARE(r.cfgScale, 6.5f);
        QCOMPARE(r.seed, std::int64_t(42));
        QCOMPARE(r.width, 640);
        QCOMPARE(r.height, 448);
        QCOMPARE(r.strength, 0.4f);
        QCOMPARE(r.clipSkip, 2);
    }
    void shortLastLineIsPrompt()
    {
        // Fewer than 3 "key: value" pairs: the line belongs to the prompt.
        const Infotext info = parseInfotext("a cat\nstyle: oil");
        QCOMPARE(QString::fromStdString(info.prompt), QStringLiteral("a cat\nstyle: oil"));
        QVERIFY(info.params.empty());
    }
    void roundTrips_data()
    {
        QTest::addColumn<QString>("prompt");
        QTest::addColumn<QString>("negative");
        QTest::addColumn<QString>("sampler");
        QTest::addRow("simple") << "a cat" << "" << "Euler a";
        QTest::addRow("multiline") << "line one,\nline two: (x:1.1)" << "neg\nmore" << "DPM++ 2M Karras";
        QTest::addRow("unicode") << QString::fromUtf8("\xe7\x8c\xab, \xc3\xa9t\xc3\xa9") << "a, b" << "DDIM";
        QTest::addRow("quoted sampler") << "x" << "" << "weird, name: \"q\"";
    }
    void roundTrips()
    {
        QFETCH(QString, prompt);
        QFETCH(QString, negative);
        QFETCH(QString, sampler);
        GenerationRequest r;
        r.prompt = prompt.toStdString();
        r.negativePrompt = negative.toStdString();
        r.sampler = sampler.toStdString();
        r.steps = 13;
        r.cfgScale = 4.25f;
        r.width = 320;
        r.height = 576;
        r.clipSkip = 3;
        r.batchSize = 2;
        r.promptSyntax = PromptSyntax::Diffusers;
        InfotextContext c;
        c.seed = 987654321;
        c.width = 320;
        c.height = 576;
        c.modelName = "model";
        c.modelHash = "0123456789";
        const Infotext made = makeInfotext(r, c);
        const Infotext parsed = parseInfotext(formatInfotext(made));
        QCOMPARE(parsed.prompt, made.prompt);
        QCOMPARE(parsed.negativePrompt, made.negativePrompt);
        QCOMPARE(parsed.params, made.params);
        GenerationRequest back;
        applyInfotext(parsed, back);
        QCOMPARE(back.prompt, r.prompt);
        QCOMPARE(back.sampler, r.sampler);
        QCOMPARE(back.steps, r.steps);
        QCOMPARE(back.cfgScale, r.cfgScale);
        QCOMPARE(back.seed, std::int64_t(987654321));
        QCOMPARE(back.width, 320);
        QCOMPARE(back.clipSkip, 3);
        QCOMPARE(back.batchSize, 2);
        QCOMPARE(int(back.promptSyntax), int(PromptSyntax::Diffusers));
    }
};

QTEST_GUILESS_MAIN(TestInfotext)
#include "TestInfotext.moc"
