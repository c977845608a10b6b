// CLIP text encoder (ClipTextModel) and TextConditioner against the
// transformers reference tensors in ../shared/fixtures/text_encoder
// (te-sd1-000, te-sd2-000), from both model layouts (diffusers folder and
// single-file checkpoint), with the fixture's ids and with ids made by the
// real tokenizer from the manifest's prompts.
#include "core/io/Checkpoint.h"
#include "core/io/SafeTensors.h"
#include "core/models/clip/ClipTextModel.h"
#include "core/text/ClipTokenizer.h"
#include "core/text/TextConditioner.h"

#include "support/Fixtures.h"

#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QTest>

#include <ATen/ATen.h>
#include <c10/core/InferenceMode.h>
#include <torch/utils.h>

#include <map>
#include <memory>

using namespace stipple::core;
using stipple::test::fixturePath;

namespace {

constexpr double kTolerance = 1e-4;

struct Reference {
    at::Tensor ids, last, hidden, pooled, penultimate;
    std::vector<std::string> prompts;
};

double maxDiff(const at::Tensor &a, const at::Tensor &b)
{
    return (a.to(at::kFloat) - b.to(at::kFloat)).abs().max().item<double>();
}

std::vector<std::string> manifestPrompts(const QString &caseId)
{
    QFile f(QString::fromStdString(fixturePath(QStringLiteral("manifest.json"))));
    if (!f.open(QIODevice::ReadOnly))
        return {};
    const auto cases = QJsonDocument::fromJson(f.readAll()).object().value("cases").toArray();
    std::vector<std::string> out;
    for (const auto &c : cases) {
        const auto o = c.toObject();
        if (o.value("id").toString() != caseId)
            continue;
        for (const auto &p : o.value("prompts").toArray())
            out.push_back(p.toString().toStdString());
    }
    return out;
}

Reference loadReference(const QString &caseId)
{
    Reference r;
    auto file = SafeTensorsFile::open(fixturePath("text_encoder/" + caseId + ".safetensors"));
    if (!file.ok())
        qFatal("cannot open %s: %s", qPrintable(caseId), file.error().message.c_str());
    auto get = [&](const char *name) {
        auto t = file->tensor(name);
        if (!t.ok())
            qFatal("%s: %s", name, t.error().message.c_str());
        return t->clone();
    };
    r.ids = get("input_ids");
    r.last = get("last_hidden_state");
    r.hidden = get("hidden_states");
    r.pooled = get("pooler_output");
    r.penultimate = get("penultimate_ln");
    r.prompts = manifestPrompts(caseId);
    return r;
}

QString modelName(const QString &caseId)
{
    return caseId.startsWith(QLatin1String("te-sd2")) ? QStringLiteral("tiny-sd2")
                                                      : QStringLiteral("tiny-sd1");
}

// Model path for a layout: "folder" or "single".
std::string modelPath(const QString &caseId, const QString &layout)
{
    const QString base = QStringLiteral("models/") + modelName(caseId);
    return fixturePath(layout == QLatin1String("folder") ? base : base + ".safetensors");
}

Result<ClipTextModel> loadModel(const QString &caseId, const QString &layout,
                                c10::ScalarType dtype = c10::ScalarType::Float)
{
    auto ckpt = openCheckpoint(modelPath(caseId, layout));
    if (!ckpt.ok())
        return ckpt.error();
    auto config = ClipTextConfig::fromJson(ckpt->textEncoder.config);
    if (!config.ok())
        return config.error();
    return loadClipTextModel(*config, ckpt->textEncoder.weights, dtype);
}

void addLayoutRows()
{
    QTest::addColumn<QString>("caseId");
    QTest::addColumn<QString>("layout");
    for (const char *c : {"te-sd1-000", "te-sd2-000"})
        for (const char *l : {"folder", "single"})
            QTest::addRow("%s-%s", c, l) << QString::fromLatin1(c) << QString::fromLatin1(l);
}

} // namespace

class TestTextEncoder : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void initTestCase() { at::set_num_threads(2); }

    void configFromJson()
    {
        auto ok = ClipTextConfig::fromJson(nlohmann::json::parse(
            R"({"hidden_size": 32, "num_hidden_layers": 5, "num_attention_heads": 4,
                "intermediate_size": 37, "hidden_act": "gelu", "layer_norm_eps": 1e-5,
                "max_position_embeddings": 77, "vocab_size": 49408})"));
        QVERIFY(ok.ok());
        QCOMPARE(ok->hiddenSize, 32);
        QCOMPARE(ok->numHiddenLayers, 5);
        QCOMPARE(ok->headDim(), 8);
        QVERIFY(ok->hiddenAct == ClipActivation::Gelu);
        QVERIFY(!ClipTextConfig::fromJson(nlohmann::json::parse(R"({"hidden_act": "relu"})")).ok());
        QVERIFY(!ClipTextConfig::fromJson(
                     nlohmann::json::parse(R"({"hidden_size": 30, "num_attention_heads": 4})"))
                     .ok());
        QVERIFY(!ClipTextConfig::fromJson(nlohmann::json::parse(R"({"num_hidden_layers": -1})")).ok());
        QVERIFY(!ClipTextConfig::fromJson(nlohmann::json::parse("[]")).ok());
    }

    void strictLoadingReportsKeys()
    {
        ClipTextConfig c;
        c.hiddenSize = 8;
        c.numAttentionHeads = 2;
        c.numHiddenLayers = 1;
        c.intermediateSize = 16;
        c.vocabSize = 10;
        c.maxPositionEmbeddings = 4;
        StateDict w;
        for (const auto &p : ClipTextModel(c)->named_parameters())
            w[p.key()] = p.value().detach().clone();
        w["text_model.embeddings.position_ids"] = at::arange(4).view({1, 4});
        QVERIFY(loadClipTextModel(c, w).ok()); // position_ids is dropped
        auto missing = w;
        missing.erase("text_model.final_layer_norm.weight");
        auto r = loadClipTextModel(c, missing);
        QVERIFY(!r.ok());
        QVERIFY(r.error().code == ErrorCode::MissingKeys);
        auto extra = w;
        extra["text_model.encoder.layers.1.mlp.fc1.weight"] = at::zeros({16, 8});
        QVERIFY(!loadClipTextModel(c, extra).ok());
    }

    // MatrixStorage::AsGiven (the engine's load): float16 matrices stay as
    // given and convert at each use, with the same results, bit for bit, as
    // a model converted at load; under InferenceMode, outside it, and while
    // autograd records (where the converted weight is not the shared buffer).
    void matricesAsGivenMatchConverted_data()
    {
        QTest::addColumn<int>("dtype");
        QTest::addRow("float32") << int(at::kFloat);
        QTest::addRow("bfloat16") << int(at::kBFloat16);
    }
    void matricesAsGivenMatchConverted()
    {
        QFETCH(int, dtype);
        const auto type = static_cast<c10::ScalarType>(dtype);
        ClipTextConfig c;
        c.hiddenSize = 64;
        c.numAttentionHeads = 4;
        c.numHiddenLayers = 2;
        c.intermediateSize = 256;
        c.vocabSize = 100;
        c.maxPositionEmbeddings = 16;
        at::manual_seed(3);
        StateDict w;
        for (const auto &p : ClipTextModel(c)->named_parameters())
            w[p.key()] = (at::randn(p.value().sizes()) * 0.2).to(at::kHalf);
        auto converted = loadClipTextModel(c, w, type);
        auto asGiven = loadClipTextModel(c, w, type, MatrixStorage::AsGiven);
        QVERIFY(converted.ok() && asGiven.ok());
        const auto &layer = *(*asGiven)->text_model->encoder->layers->ptr<ClipEncoderLayerImpl>(0);
        QCOMPARE(layer.mlp->fc1->weight.scalar_type(), at::kHalf); // not copied
        QCOMPARE(layer.mlp->fc1->bias.scalar_type(), type);
        QCOMPARE((*asGiven)->text_model->embeddings->token_embedding->weight.scalar_type(), at::kHalf);
        QCOMPARE(layer.layer_norm1->weight.scalar_type(), type);
        QCOMPARE((*asGiven)->dtype(), type);

        const at::Tensor ids = at::randint(0, c.vocabSize, {2, c.maxPositionEmbeddings}, at::kLong);
        at::Tensor reference;
        const auto uses = layer.mlp->fc1->weight.use_count();
        {
            c10::InferenceMode inference;
            reference = (*converted)->forward(ids).lastHiddenState.clone();
            QVERIFY(at::equal((*asGiven)->forward(ids).lastHiddenState, reference));
        }
        // No autograd graph kept the weight (or its file mapping) alive.
        QCOMPARE(layer.mlp->fc1->weight.use_count(), uses);
        {
            torch::NoGradGuard noGrad; // the buffer made under InferenceMode, reused outside it
            QVERIFY(at::equal((*asGiven)->forward(ids).lastHiddenState, reference));
            QVERIFY(at::equal((*asGiven)->forward(ids, 1).lastHiddenState,
                              (*converted)->forward(ids, 1).lastHiddenState));
        }
        at::Tensor recorded = (*asGiven)->forward(ids).lastHiddenState;
        QVERIFY(at::equal(recorded.detach(), reference));
        recorded.to(at::kFloat).square().sum().backward();
        QVERIFY(layer.layer_norm1->weight.grad().defined());
    }

    // Every hidden state, last_hidden_state, pooler_output and
    // penultimate_ln for the fixture's own ids.
    void fixtureIds_data() { addLayoutRows(); }
    void fixtureIds()
    {
        STIPPLE_REQUIRE_FIXTURES();
        QFETCH(QString, caseId);
        QFETCH(QString, layout);
        const auto ref = loadReference(caseId);
        auto model = loadModel(caseId, layout);
        QVERIFY2(model.ok(), model.ok() ? "" : model.error().message.c_str());
        torch::NoGradGuard noGrad;
        const auto out = (*model)->forward(ref.ids);
        QCOMPARE(int(out.hiddenStates.size()), int(ref.hidden.size(0)));
        double worst = 0;
        for (size_t i = 0; i < out.hiddenStates.size(); ++i) {
            const double d = maxDiff(out.hiddenStates[i], ref.hidden[static_cast<long>(i)]);
            worst = std::max(worst, d);
            QVERIFY2(d < kTolerance, qPrintable(QStringLiteral("hidden_states[%1] max diff %2").arg(i).arg(d)));
        }
        const double dLast = maxDiff(out.lastHiddenState, ref.last);
        const double dPooled = maxDiff(out.pooled, ref.pooled);
        const double dPen = maxDiff((*model)->encode(ref.ids, 2), ref.penultimate);
        const double dSkip1 = maxDiff((*model)->encode(ref.ids, 1), out.lastHiddenState);
        qInfo("%s %s: max diff hidden %.3g last %.3g pooled %.3g penultimate %.3g", qPrintable(caseId),
              qPrintable(layout), worst, dLast, dPooled, dPen);
        QVERIFY2(dLast < kTolerance, qPrintable(QString::number(dLast)));
        QVERIFY2(dPooled < kTolerance, qPrintable(QString::number(dPooled)));
        QVERIFY2(dPen < kTolerance, qPrintable(QString::number(dPen)));
        QCOMPARE(dSkip1, 0.0);
    }

    // The real tokenizer turns the manifest's prompts into the fixture ids,
    // and the conditioner (diffusers syntax) gives last_hidden_state.
    void tokenizerIds_data() { addLayoutRows(); }
    void tokenizerIds()
    {
        STIPPLE_REQUIRE_FIXTURES();
        QFETCH(QString, caseId);
        QFETCH(QString, layout);
        const auto ref = loadReference(caseId);
        QCOMPARE(int(ref.prompts.size()), int(ref.ids.size(0)));
        auto ckpt = openCheckpoint(modelPath(caseId, layout));
        QVERIFY2(ckpt.ok(), ckpt.ok() ? "" : ckpt.error().message.c_str());
        // Single files have no tokenizer folder: use the shared BPE file.
        auto cond = TextConditioner::fromCheckpoint(*ckpt, c10::ScalarType::Float,
                                                    stipple::test::sharedDir().toStdString() + "/clip");
        QVERIFY2(cond.ok(), cond.ok() ? "" : cond.error().message.c_str());
        double worst = 0;
        for (size_t i = 0; i < ref.prompts.size(); ++i) {
            const auto window = (*cond)->chunker().literalWindow(ref.prompts[i]);
            const auto expected = ref.ids[static_cast<long>(i)];
            for (int k = 0; k < 77; ++k)
                QCOMPARE(window.ids[static_cast<size_t>(k)], int(expected[k].item<std::int64_t>()));
            auto z = (*cond)->encode(ref.prompts[i], PromptSyntax::Diffusers, 1);
            QVERIFY(z.ok());
            QCOMPARE(z->sizes().vec(), (std::vector<std::int64_t>{1, 77, 32}));
            worst = std::max(worst, maxDiff(z->squeeze(0), ref.last[static_cast<long>(i)]));
            auto pen = (*cond)->encode(ref.prompts[i], PromptSyntax::Diffusers, 2);
            QVERIFY(pen.ok());
            worst = std::max(worst, maxDiff(pen->squeeze(0), ref.penultimate[static_cast<long>(i)]));
        }
        qInfo("%s %s: tokenizer path max diff %.3g", qPrintable(caseId), qPrintable(layout), worst);
        QVERIFY2(worst < kTolerance, qPrintable(QString::number(worst)));
    }

    // A1111 syntax without weights and under 75 tokens feeds the same ids as
    // diffusers (SD1 pads with eos, SD2 with 0 after the first eos).
    void a1111PlainEqualsDiffusers_data()
    {
        QTest::addColumn<QString>("caseId");
        QTest::addRow("te-sd1-000") << QStringLiteral("te-sd1-000");
        QTest::addRow("te-sd2-000") << QStringLiteral("te-sd2-000");
    }
    void a1111PlainEqualsDiffusers()
    {
        STIPPLE_REQUIRE_FIXTURES();
        QFETCH(QString, caseId);
        const QString layout = QStringLiteral("folder");
        const auto ref = loadReference(caseId);
        auto cond = TextConditioner::fromDiffusersFolder(modelPath(caseId, layout));
        QVERIFY(cond.ok());
        for (size_t i : {size_t(0), size_t(1), size_t(4)}) {
            const auto chunks = (*cond)->chunker().chunk(ref.prompts[i]);
            QCOMPARE(int(chunks.chunks.size()), 1);
            for (int k = 0; k < 77; ++k)
                QCOMPARE(chunks.chunks[0].ids[static_cast<size_t>(k)],
                         int(ref.ids[static_cast<long>(i)][k].item<std::int64_t>()));
            auto z = (*cond)->encode(ref.prompts[i], PromptSyntax::A1111, 1);
            QVERIFY(z.ok());
            QVERIFY(maxDiff(z->squeeze(0), ref.last[static_cast<long>(i)]) < kTolerance);
        }
    }

    // Weighted prompt: z = encode(ids) * w, rescaled to the unweighted mean.
    void a1111Emphasis()
    {
        STIPPLE_REQUIRE_FIXTURES();
        auto cond = TextConditioner::fromDiffusersFolder(modelPath("te-sd1-000", "folder"));
        QVERIFY(cond.ok());
        const std::string prompt = "a (red:1.5) fox, [blurry]";
        const auto chunks = (*cond)->chunker().chunk(prompt).chunks;
        QCOMPARE(int(chunks.size()), 1);
        // "a" "red" "fox" "," "blurry": red 1.5, blurry 1/1.1
        QCOMPARE(chunks[0].weights[2], 1.5f);
        QCOMPARE(chunks[0].weights[5], float(1.0 / 1.1));
        auto plain = (*cond)->encodeChunks(chunks, 1, /*applyWeights=*/false);
        auto weighted = (*cond)->encode(prompt, PromptSyntax::A1111, 1);
        QVERIFY(plain.ok() && weighted.ok());
        at::Tensor w = at::ones({1, 77, 1});
        w[0][2][0] = 1.5f;
        w[0][5][0] = float(1.0 / 1.1);
        at::Tensor expected = *plain * w;
        expected = expected * (plain->mean() / expected.mean());
        QVERIFY(maxDiff(*weighted, expected) < 1e-6);
        QVERIFY(std::abs(weighted->mean().item<double>() - plain->mean().item<double>()) < 1e-6);
        QVERIFY(maxDiff(*weighted, *plain) > 1e-3); // the weights did something
    }

    // >75 tokens: windows of 77 concatenated; BREAK adds a window; the
    // shorter of cond/uncond is padded with empty-prompt windows.
    void a1111LongPromptsAndPadding()
    {
        STIPPLE_REQUIRE_FIXTURES();
        const auto ref = loadReference("te-sd1-000");
        auto cond = TextConditioner::fromDiffusersFolder(modelPath("te-sd1-000", "folder"));
        QVERIFY(cond.ok());
        // The fixture's long prompt has 65 tokens; this one has 134, with a
        // comma 7 tokens before the end of the first window.
        const std::string longPrompt = ref.prompts.at(3) + ", a cat, " + ref.prompts.at(3);
        const auto all = (*cond)->tokenizer().encode(longPrompt);
        QVERIFY2(all.size() > 75 && all.size() <= 150, qPrintable(QString::number(all.size())));
        const auto chunked = (*cond)->chunker().chunk(longPrompt);
        QCOMPARE(int(chunked.chunks.size()), 2);
        // No token lost, the first window ends at a comma (backtracking).
        std::vector<int> joined;
        for (const auto &c : chunked.chunks)
            for (int k = 1; k < 76 && c.ids[static_cast<size_t>(k)] != 49407; ++k)
                joined.push_back(c.ids[static_cast<size_t>(k)]);
        QCOMPARE(joined, all);
        int firstLen = 0;
        while (chunked.chunks[0].ids[static_cast<size_t>(1 + firstLen)] != 49407 && firstLen < 75)
            ++firstLen;
        QCOMPARE(firstLen, 69);
        QCOMPARE(chunked.chunks[0].ids[static_cast<size_t>(firstLen)], (*cond)->chunker().commaId());

        auto z = (*cond)->encode(longPrompt, PromptSyntax::A1111, 1);
        QVERIFY(z.ok());
        QCOMPARE(z->sizes().vec(), (std::vector<std::int64_t>{1, 154, 32}));
        auto z0 = (*cond)->encodeChunks({chunked.chunks[0]}, 1, true);
        auto z1 = (*cond)->encodeChunks({chunked.chunks[1]}, 1, true);
        QVERIFY(maxDiff(z->slice(1, 0, 77), *z0) < 1e-5);
        QVERIFY(maxDiff(z->slice(1, 77, 154), *z1) < 1e-5);

        auto br = (*cond)->encode("a cat BREAK a dog", PromptSyntax::A1111, 1);
        QVERIFY(br.ok());
        QCOMPARE(br->size(1), 154);
        auto dif = (*cond)->encode(longPrompt, PromptSyntax::Diffusers, 1);
        QVERIFY(dif.ok());
        QCOMPARE(dif->size(1), 77); // truncated to one window
        const auto window = (*cond)->chunker().literalWindow(longPrompt);
        QCOMPARE(std::vector<int>(window.ids.begin() + 1, window.ids.end() - 1),
                 std::vector<int>(all.begin(), all.begin() + 75));

        at::Tensor c = *z;
        at::Tensor u = *(*cond)->encode("", PromptSyntax::A1111, 1);
        const at::Tensor empty = u.clone();
        QVERIFY((*cond)->padToSameLength(c, u, 1).ok());
        QCOMPARE(u.size(1), 154);
        QCOMPARE(c.size(1), 154);
        QCOMPARE(maxDiff(u.slice(1, 0, 77), empty), 0.0);
        QCOMPARE(maxDiff(u.slice(1, 77, 154), empty), 0.0);
        QVERIFY(maxDiff(empty.squeeze(0), ref.last[1]) < kTolerance); // "" = fixture's empty prompt
    }

    void cacheHits()
    {
        STIPPLE_REQUIRE_FIXTURES();
        auto cond = TextConditioner::fromDiffusersFolder(modelPath("te-sd1-000", "folder"));
        QVERIFY(cond.ok());
        auto &c = **cond;
        auto a = c.encode("a cat", PromptSyntax::A1111, 1);
        QCOMPARE(int(c.cacheMisses()), 1);
        QCOMPARE(int(c.cacheHits()), 0);
        auto b = c.encode("a cat", PromptSyntax::A1111, 1);
        QCOMPARE(int(c.cacheHits()), 1);
        QVERIFY(a->is_same(*b)); // the cached tensor itself, not a re-encoding
        (void)c.encode("a cat", PromptSyntax::A1111, 2);              // other clip skip
        (void)c.encode("a cat", PromptSyntax::Diffusers, 1);          // other syntax
        (void)c.encode("a cat", PromptSyntax::A1111, 1, at::kBFloat16); // other dtype
        (void)c.encode("a cat ", PromptSyntax::A1111, 1);             // other text
        QCOMPARE(int(c.cacheMisses()), 5);
        QCOMPARE(int(c.cacheHits()), 1);
        auto bf = c.encode("a cat", PromptSyntax::A1111, 1, at::kBFloat16);
        QCOMPARE(int(c.cacheHits()), 2);
        QVERIFY(bf->scalar_type() == at::kBFloat16);
        // LRU eviction
        TextConditioner small(std::shared_ptr<const Tokenizer>(&c.tokenizer(), [](const Tokenizer *) {}),
                              *loadClipTextModelFromFolder(modelPath("te-sd1-000", "folder") + "/text_encoder"),
                              2);
        (void)small.encode("one", PromptSyntax::A1111, 1);
        (void)small.encode("two", PromptSyntax::A1111, 1);
        (void)small.encode("one", PromptSyntax::A1111, 1); // hit, "one" most recent
        (void)small.encode("three", PromptSyntax::A1111, 1); // evicts "two"
        QCOMPARE(int(small.cacheSize()), 2);
        (void)small.encode("one", PromptSyntax::A1111, 1);
        QCOMPARE(int(small.cacheHits()), 2);
        (void)small.encode("two", PromptSyntax::A1111, 1);
        QCOMPARE(int(small.cacheMisses()), 4);
    }

    // CLIP skip N = final_layer_norm(hidden_states[-N]); layers after it are not run.
    void clipSkip()
    {
        STIPPLE_REQUIRE_FIXTURES();
        const auto ref = loadReference("te-sd1-000");
        auto model = loadModel("te-sd1-000", "folder");
        QVERIFY(model.ok());
        torch::NoGradGuard noGrad;
        auto ln = (*model)->text_model->final_layer_norm;
        const long layers = ref.hidden.size(0) - 1;
        for (int n = 1; n <= 5; ++n) {
            const auto expected = ln->forward(ref.hidden[layers + 1 - n]);
            const double d = maxDiff((*model)->encode(ref.ids, n), expected);
            QVERIFY2(d < kTolerance, qPrintable(QStringLiteral("clip skip %1: %2").arg(n).arg(d)));
        }
        // clamped to the model's depth
        QCOMPARE(maxDiff((*model)->encode(ref.ids, 99), (*model)->encode(ref.ids, 5)), 0.0);
        QCOMPARE(maxDiff((*model)->encode(ref.ids, 0), (*model)->encode(ref.ids, 1)), 0.0);
        auto cond = TextConditioner::fromDiffusersFolder(modelPath("te-sd1-000", "folder"));
        auto s2 = (*cond)->encode(ref.prompts[0], PromptSyntax::A1111, 2);
        QVERIFY(maxDiff(s2->squeeze(0), ref.penultimate[0]) < kTolerance);
    }

    void bfloat16()
    {
        STIPPLE_REQUIRE_FIXTURES();
        const auto ref = loadReference("te-sd1-000");
        auto model = loadModel("te-sd1-000", "folder", c10::ScalarType::BFloat16);
        QVERIFY(model.ok());
        QVERIFY((*model)->dtype() == at::kBFloat16);
        torch::NoGradGuard noGrad;
        const auto out = (*model)->forward(ref.ids);
        QVERIFY(out.lastHiddenState.scalar_type() == at::kBFloat16);
        const double d = maxDiff(out.lastHiddenState, ref.last);
        qInfo("bf16 last_hidden_state max diff %.3g", d);
        QVERIFY2(d < 0.15, qPrintable(QString::number(d)));
    }
};

QTEST_GUILESS_MAIN(TestTextEncoder)
#include "TestTextEncoder.moc"
