// Parity of every `scheduler` fixture (diffusers 0.25.0 reference tensors in
// ../shared/fixtures/schedulers, and the 24 extra cases of ref/ made by
// ref/make_reference.py for Heun, LMS/Euler Karras, UniPC, DPM++ SDE with
// torchsde's Brownian-tree noise, ...)
// with Schedule + sample(): tables
// (timesteps, betas, alphas_cumprod, sigmas, init_noise_sigma, order), the
// scaled model inputs, every step's prev_sample and pred_original_sample, and
// the generator's draws (initial sample and step noise). `pipelines` replays
// the scheduler side of the txt2img / img2img / inpaint pipeline cases.
#include "core/io/SafeTensors.h"
#include "core/schedulers/Sampler.h"

#include "support/Fixtures.h"

#include <ATen/ATen.h>
#include <ATen/CPUGeneratorImpl.h>
#include <nlohmann/json.hpp>

#include <QTest>

#include <fstream>
#include <limits>

using namespace stipple::core;

namespace {

const QString kRefDir = QStringLiteral(STIPPLE_SOURCE_DIR "/tests/core/schedulers/ref");

nlohmann::json loadManifest(const QString &dir)
{
    std::ifstream in((dir + QStringLiteral("/manifest.json")).toStdString());
    return nlohmann::json::parse(in);
}

// max |a - b| / (atol + rtol |b|): <= 1 passes.
double normalisedError(const at::Tensor &a, const at::Tensor &b, double atol, double rtol)
{
    at::Tensor ad = a.to(at::kDouble), bd = b.to(at::kDouble);
    return ((ad - bd).abs() / (atol + rtol * bd.abs())).max().item<double>();
}

double maxAbs(const at::Tensor &a, const at::Tensor &b)
{
    return (a.to(at::kDouble) - b.to(at::kDouble)).abs().max().item<double>();
}

at::Generator seeded(uint64_t seed)
{
    return at::make_generator<at::CPUGeneratorImpl>(seed);
}

double g_worst = 0;  // largest absolute step difference over all cases
double g_worstT = 0; // largest timestep difference

} // namespace

class TestSchedulerParity : public QObject {
    Q_OBJECT

private Q_SLOTS:
    void cases_data();
    void cases();
    void pipelines_data();
    void pipelines();
    void cleanupTestCase()
    {
        qInfo("largest prev_sample / pred_original_sample difference over all cases: %.3g, timesteps: %.3g",
              g_worst, g_worstT);
    }
};

void TestSchedulerParity::cases_data()
{
    QTest::addColumn<QString>("dir");
    QTest::addColumn<QString>("id");
    if (!stipple::test::haveFixtures()) {
        QTest::newRow("shared-fixtures-missing") << QString() << QString();
    } else {
        int count = 0;
        const nlohmann::json manifest = loadManifest(stipple::test::fixturesDir());
        for (const auto &c : manifest.at("cases")) {
            if (c.at("kind") != "scheduler")
                continue;
            const QString id = QString::fromStdString(c.at("id").get<std::string>());
            QTest::newRow(qPrintable(id)) << stipple::test::fixturesDir() << id;
            ++count;
        }
        if (count != 38)
            qFatal("expected the 38 scheduler cases of the shared fixtures, found %d", count);
    }
    const nlohmann::json ref = loadManifest(kRefDir);
    for (const auto &c : ref.at("cases")) {
        const QString id = QString::fromStdString(c.at("id").get<std::string>());
        QTest::newRow(qPrintable(id)) << kRefDir << id;
    }
}

void TestSchedulerParity::cases()
{
    QFETCH(QString, dir);
    QFETCH(QString, id);
    if (dir.isEmpty())
        STIPPLE_REQUIRE_FIXTURES();
    nlohmann::json c;
    const nlohmann::json manifest = loadManifest(dir);
    for (const auto &k : manifest.at("cases"))
        if (k.at("id") == id.toStdString())
            c = k;
    QVERIFY(!c.is_null());

    // Sampler and config from the fixture's diffusers class + config.
    const auto &cfgJson = c.at("scheduler").at("config");
    const bool karras = cfgJson.value("use_karras_sigmas", false);
    auto spec = samplerFromName(c.at("scheduler").at("class").get<std::string>(), karras ? "karras" : "");
    QVERIFY2(spec.ok(), spec.ok() ? "" : spec.error().message.c_str());
    auto config = SchedulerConfig::fromJson(cfgJson);
    QVERIFY2(config.ok(), config.ok() ? "" : config.error().message.c_str());
    const int steps = c.at("num_inference_steps").get<int>();
    auto schedule = Schedule::create(*spec, *config, steps);
    QVERIFY2(schedule.ok(), schedule.ok() ? "" : schedule.error().message.c_str());

    auto file = SafeTensorsFile::open((dir + QLatin1Char('/') + QString::fromStdString(c.at("file").get<std::string>())).toStdString());
    QVERIFY2(file.ok(), file.ok() ? "" : file.error().message.c_str());
    auto get = [&](const std::string &name) {
        auto t = file->tensor(name);
        if (!t.ok())
            qFatal("%s: %s", name.c_str(), t.error().message.c_str());
        return *t;
    };

    // Tables.
    const at::Tensor refT = get("timesteps");
    QCOMPARE(schedule->size(), int(refT.size(0)));
    QCOMPARE(schedule->timesteps().scalar_type(), refT.scalar_type());
    // Integer timesteps must be equal. Fractional ones inverted from sigmas
    // (Karras, DPM++ SDE midpoints) go through numpy's float32 log, which is
    // not correctly rounded (190 of the 1000 table entries differ by 1 ulp
    // from ours), so they agree to ~1e-5 instead of bit for bit.
    const double tTol = refT.is_floating_point() ? 1e-4 : 0.0;
    const double tDiff = maxAbs(schedule->timesteps(), refT);
    QVERIFY2(tDiff <= tTol, qPrintable(QStringLiteral("timesteps differ by %1").arg(tDiff)));
    g_worstT = std::max(g_worstT, tDiff);
    QCOMPARE(schedule->order(), c.at("order").get<int>());
    QVERIFY2(normalisedError(schedule->betas(), get("betas"), 1e-7, 1e-6) <= 1, "betas");
    QVERIFY2(normalisedError(schedule->alphasCumprod(), get("alphas_cumprod"), 1e-7, 1e-6) <= 1, "alphas_cumprod");
    if (file->contains("sigmas")) {
        QVERIFY(schedule->hasSigmas());
        const double e = normalisedError(schedule->sigmas(), get("sigmas"), 1e-6, 1e-6);
        QVERIFY2(e <= 1, qPrintable(QStringLiteral("sigmas normalised error %1").arg(e)));
    }
    const double refInit = c.at("init_noise_sigma").get<double>();
    QVERIFY2(std::abs(schedule->initNoiseSigma() - refInit) <= 1e-6 * refInit,
             qPrintable(QStringLiteral("init_noise_sigma %1 vs %2").arg(schedule->initNoiseSigma()).arg(refInit)));
    const auto &fac = c.at("final_alpha_cumprod");
    if (fac.is_number())
        QCOMPARE(float(schedule->finalAlphaCumprod()), fac.get<float>());

    // Generator parity: the initial sample is randn(seed) * init_noise_sigma.
    const uint64_t seed = c.at("seed").get<uint64_t>();
    const at::Tensor initial = get("initial_sample");
    {
        at::Tensor drawn = at::randn(initial.sizes(), seeded(seed), initial.options()) *
                           at::scalar_tensor(schedule->initNoiseSigma(), at::kFloat);
        QVERIFY2(maxAbs(drawn, initial) <= 1e-6, "initial sample is not randn(seed) * init_noise_sigma");
    }

    // The step generator: seeded seed + 2, or (DPM++ SDE "pipeline_rng" case)
    // the initial sample's generator after drawing it, as a pipeline does.
    auto stepGenerator = [&] {
        if (c.value("step_generator", std::string()) != "after_initial_sample")
            return seeded(seed + 2);
        at::Generator g = seeded(seed);
        at::randn(initial.sizes(), g, initial.options());
        return g;
    };
    // DPM++ SDE: diffusers seeded its Brownian tree with torch.randint(0,
    // 2**63 - 1, []) from that generator, as the sampler does.
    if (c.contains("brownian_tree_entropy")) {
        const int64_t drawn =
            at::randint(0, std::numeric_limits<int64_t>::max(), {}, stepGenerator(), at::kLong).item<int64_t>();
        QCOMPARE(uint64_t(drawn), c.at("brownian_tree_entropy").get<uint64_t>());
    }

    // The run: model outputs fed in call order; the step generator is seed + 2.
    const at::Tensor modelOutputs = get("model_outputs");
    const at::Tensor refScaled = get("scaled_inputs");
    const at::Tensor refPrev = get("prev_samples");
    const bool havePred = file->contains("pred_original_samples");
    const at::Tensor refPred = havePred ? get("pred_original_samples") : at::Tensor();
    const bool stochastic = c.at("stochastic").get<bool>();
    QCOMPARE(stochastic, isStochastic(*spec));

    int call = 0;
    double worstScaled = 0;
    ModelFn model = [&](const at::Tensor &scaled, double t) {
        worstScaled = std::max(worstScaled, normalisedError(scaled, refScaled[call], 1e-5, 1e-5));
        if (std::abs(t - refT[call].item<double>()) > tTol)
            qFatal("model call %d at t=%f, expected %f", call, t, refT[call].item<double>());
        return modelOutputs[call++].clone();
    };
    double worstPrev = 0, worstPred = 0, worstAbs = 0;
    std::vector<at::Tensor> denoisedAll;
    SampleOptions options;
    options.generator = stepGenerator();
    options.onStep = [&](int step, int total, at::Tensor &latents, const at::Tensor &denoised) {
        worstPrev = std::max(worstPrev, normalisedError(latents, refPrev[step], 1e-5, 1e-5));
        worstAbs = std::max(worstAbs, maxAbs(latents, refPrev[step]));
        if (havePred) {
            worstPred = std::max(worstPred, normalisedError(denoised, refPred[step], 1e-5, 1e-5));
            worstAbs = std::max(worstAbs, maxAbs(denoised, refPred[step]));
        }
        return true;
    };
    auto result = sample(*schedule, initial, model, options);
    QVERIFY2(result.ok(), result.ok() ? "" : result.error().message.c_str());
    QCOMPARE(result->modelCalls, schedule->size());
    QVERIFY(!result->cancelled);
    QVERIFY2(worstScaled <= 1, qPrintable(QStringLiteral("scaled_inputs error %1").arg(worstScaled)));
    QVERIFY2(worstPrev <= 1, qPrintable(QStringLiteral("prev_samples error %1 (max abs %2)").arg(worstPrev).arg(worstAbs)));
    QVERIFY2(worstPred <= 1, qPrintable(QStringLiteral("pred_original_samples error %1").arg(worstPred)));
    QVERIFY2(maxAbs(result->latents, refPrev[refPrev.size(0) - 1]) <= 1e-4, "final latents");

    // Step noise: the generator seeded seed + 2 reproduces diffusers' draws
    // (rows of zeros are steps that drew nothing, e.g. DDPM at t = 0).
    if (file->contains("step_noise")) {
        const at::Tensor refNoise = get("step_noise");
        at::Generator g = seeded(seed + 2);
        for (int64_t k = 0; k < refNoise.size(0); ++k) {
            if (refNoise[k].abs().max().item<double>() == 0)
                continue;
            at::Tensor drawn = at::randn(refNoise[k].sizes(), g, refNoise.options());
            QVERIFY2(maxAbs(drawn, refNoise[k]) == 0, qPrintable(QStringLiteral("step_noise row %1").arg(k)));
        }
    }
    g_worst = std::max(g_worst, worstAbs);
    qInfo("%s: max |diff| %.3g (normalised: prev %.3f, pred %.3f, scaled %.3f)", qPrintable(id), worstAbs,
          worstPrev, worstPred, worstScaled);
}

// Scheduler side of every txt2img / img2img / 9-channel inpaint pipeline
// case: with the stored UNet outputs (guidance applied here) and one
// generator seeded as the case says, the initial latents, img2img start
// (add_noise at timesteps[start]), every scaled UNet input and every
// latents_per_step must be reproduced. This checks the RNG order of the
// pipeline draws and the stochastic samplers' draws end to end.
void TestSchedulerParity::pipelines_data()
{
    QTest::addColumn<QString>("id");
    if (!stipple::test::haveFixtures()) {
        QTest::newRow("shared-fixtures-missing") << QString();
        return;
    }
    const nlohmann::json manifest = loadManifest(stipple::test::fixturesDir());
    for (const auto &c : manifest.at("cases")) {
        const std::string kind = c.at("kind");
        if (kind == "txt2img" || kind == "img2img" || kind == "inpaint") {
            const QString id = QString::fromStdString(c.at("id").get<std::string>());
            QTest::newRow(qPrintable(id)) << id;
        }
    }
}

void TestSchedulerParity::pipelines()
{
    STIPPLE_REQUIRE_FIXTURES();
    QFETCH(QString, id);
    nlohmann::json c;
    const nlohmann::json manifest = loadManifest(stipple::test::fixturesDir());
    for (const auto &k : manifest.at("cases"))
        if (k.at("id") == id.toStdString())
            c = k;
    QVERIFY(!c.is_null());
    const std::string kind = c.at("kind");
    const auto &cfgJson = c.at("scheduler").at("config");
    auto spec = samplerFromName(c.at("scheduler").at("class").get<std::string>(),
                                cfgJson.value("use_karras_sigmas", false) ? "karras" : "",
                                c.value("eta", 0.0));
    QVERIFY(spec.ok());
    auto config = SchedulerConfig::fromJson(cfgJson);
    QVERIFY(config.ok());
    auto schedule = Schedule::create(*spec, *config, c.at("num_inference_steps").get<int>());
    QVERIFY(schedule.ok());
    QCOMPARE(schedule->initNoiseSigma(), c.at("init_noise_sigma").get<double>());

    auto file = SafeTensorsFile::open(stipple::test::fixturePath(QString::fromStdString(c.at("file").get<std::string>())));
    QVERIFY2(file.ok(), file.ok() ? "" : file.error().message.c_str());
    auto get = [&](const std::string &name) {
        auto t = file->tensor(name);
        if (!t.ok())
            qFatal("%s: %s", name.c_str(), t.error().message.c_str());
        return *t;
    };
    at::Generator gen = seeded(c.at("seed").get<uint64_t>());
    int rng = 0;
    auto draw = [&]() {
        const at::Tensor ref = get("rng." + std::to_string(rng++));
        at::Tensor t = at::randn(ref.sizes(), gen, ref.options());
        if (!at::equal(t, ref))
            qFatal("draw %d differs from rng.%d", rng - 1, rng - 1);
        return t;
    };
    const double strength = c.at("strength").is_number() ? c.at("strength").get<double>() : 1.0;
    int start = 0;
    at::Tensor latents;
    if (kind == "txt2img" || strength >= 1.0) {
        latents = draw() * schedule->initNoiseSigma();
        if (kind == "inpaint")
            draw(); // masked image latents, drawn before the loop
    } else {
        // VAE posterior sample of the init image (mean + std * randn), scaled, then noised.
        const at::Tensor init = (get("vae_encode_mean.0") + get("vae_encode_std.0") * draw()) * 0.18215;
        const at::Tensor noise = draw();
        start = schedule->startIndexForStrength(strength);
        QCOMPARE(schedule->timestep(start), c.at("timesteps_used").at(0).get<double>());
        latents = addNoise(*schedule, init, noise, start);
        if (kind == "inpaint")
            draw();
    }
    const at::Tensor unetIn = get("unet_in"), unetOut = get("unet_out"), perStep = get("latents_per_step");
    const bool cfg = c.at("do_classifier_free_guidance").get<bool>();
    const double g = c.at("guidance_scale").get<double>();
    const int64_t batch = latents.size(0);
    int call = 0;
    double worstIn = 0, worstStep = 0;
    ModelFn model = [&](const at::Tensor &xin, double t) {
        if (std::abs(t - get("unet_t")[call].item<double>()) > 0)
            qFatal("call %d: timestep %f", call, t);
        worstIn = std::max(worstIn, maxAbs(xin, unetIn[call].slice(0, 0, batch).slice(1, 0, 4)));
        at::Tensor out = unetOut[call++];
        if (!cfg)
            return out.clone();
        auto halves = out.chunk(2);
        return halves[0] + (halves[1] - halves[0]) * g; // diffusers: u + g * (c - u)
    };
    int k = 0;
    SampleOptions options{start, gen, [&](int, int, at::Tensor &x, const at::Tensor &) {
                              worstStep = std::max(worstStep, maxAbs(x, perStep[k++]));
                              return true;
                          }};
    auto result = sample(*schedule, latents, model, options);
    QVERIFY2(result.ok(), result.ok() ? "" : result.error().message.c_str());
    QCOMPARE(result->modelCalls, int(unetOut.size(0)));
    // Every draw the pipeline made: ours before the loop plus one per step of
    // the stochastic samplers (DDPM: only at t > 0).
    int samplerDraws = 0;
    for (int i = start; i < schedule->size() && isStochastic(*spec); ++i)
        samplerDraws += (spec->kind == SamplerKind::Ddpm && schedule->timestep(i) == 0) ? 0 : 1;
    QCOMPARE(rng + samplerDraws, int(c.at("rng_calls").size()));
    qInfo("%s: max |diff| unet input %.3g, latents per step %.3g", qPrintable(id), worstIn, worstStep);
    QVERIFY2(worstIn <= 1e-5, qPrintable(QStringLiteral("unet_in differs by %1").arg(worstIn)));
    QVERIFY2(worstStep <= 1e-5, qPrintable(QStringLiteral("latents_per_step differ by %1").arg(worstStep)));
}

QTEST_GUILESS_MAIN(TestSchedulerParity)
#include "TestSchedulerParity.moc"
