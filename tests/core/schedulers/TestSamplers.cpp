// Samplers without reference fixtures (Heun, LMS Karras, DPM++ SDE, UniPC)
// and the behaviour of the whole interface: names, config parsing, schedule
// shapes, img2img start, add_noise, cancellation, callbacks, errors.
//
// Analytic model: data x0 ~ N(mu, s^2) per element. Then p_sigma = N(mu, s^2 +
// sigma^2), the exact denoiser is D(x, sigma) = mu + s^2 / (s^2 + sigma^2) (x - mu)
// and the probability-flow ODE maps x(sigma0) to
// x(sigma1) = mu + (x(sigma0) - mu) sqrt(s^2 + sigma1^2) / sqrt(s^2 + sigma0^2),
// so deterministic samplers must converge to that as steps grow, and
// stochastic ones must end with samples of mean mu and std s.
#include "core/schedulers/BrownianTree.h"
#include "core/schedulers/Sampler.h"

#include <ATen/ATen.h>
#include <ATen/CPUGeneratorImpl.h>
#include <nlohmann/json.hpp>

#include <QTest>

#include <cmath>
#include <limits>

using namespace stipple::core;

namespace {

constexpr double kMu = 0.5;
constexpr double kS = 0.4;

at::Generator seeded(uint64_t seed) { return at::make_generator<at::CPUGeneratorImpl>(seed); }

SamplerSpec spec(const std::string &name, const std::string &type = {}, double eta = 0)
{
    auto s = samplerFromName(name, type, eta);
    if (!s.ok())
        qFatal("%s", s.error().message.c_str());
    return *s;
}

Schedule makeSchedule(const SamplerSpec &sp, int steps, ModelOutputType pred = ModelOutputType::Epsilon)
{
    SchedulerConfig c = SchedulerConfig::stableDiffusion();
    c.predictionType = pred;
    auto s = Schedule::create(sp, c, steps);
    if (!s.ok())
        qFatal("%s", s.error().message.c_str());
    return *s;
}

enum class Space { Sigma, Lambda, Alpha };
Space spaceOf(SamplerKind k)
{
    switch (k) {
    case SamplerKind::DpmppTwoM:
    case SamplerKind::UniPc:
        return Space::Lambda;
    case SamplerKind::Ddim:
    case SamplerKind::Pndm:
    case SamplerKind::Ddpm:
        return Space::Alpha;
    default:
        return Space::Sigma;
    }
}

// sigma(t) by log-linear interpolation of the training table (how diffusers
// inverts fractional timesteps), exact at integer t.
struct SigmaOfT {
    std::vector<double> logSigma;
    explicit SigmaOfT(const Schedule &s)
    {
        at::Tensor a = s.alphasCumprod().to(at::kDouble);
        for (int64_t i = 0; i < a.size(0); ++i) {
            const double ab = a[i].item<double>();
            logSigma.push_back(0.5 * std::log((1 - ab) / ab));
        }
    }
    double operator()(double t) const
    {
        const int n = static_cast<int>(logSigma.size());
        if (t >= n - 1)
            return std::exp(logSigma.back());
        const int j = static_cast<int>(std::floor(t));
        const double w = t - j;
        return std::exp((1 - w) * logSigma[j] + w * logSigma[j + 1]);
    }
};

// The exact model for Gaussian data, returning eps or v for the
// alpha-space input x_a = x_sigma / sqrt(sigma^2 + 1).
ModelFn gaussianModel(const Schedule &s, ModelOutputType pred, std::vector<at::Tensor> *outputs = nullptr,
                      std::vector<double> *times = nullptr)
{
    auto sigmaOf = std::make_shared<SigmaOfT>(s);
    return [=](const at::Tensor &xa, double t) {
        const double sigma = (*sigmaOf)(t);
        const double alpha = 1 / std::sqrt(1 + sigma * sigma);
        at::Tensor xs = xa.to(at::kDouble) / alpha;
        at::Tensor d = kMu + kS * kS / (kS * kS + sigma * sigma) * (xs - kMu);
        at::Tensor eps = (xs - d) / sigma;
        at::Tensor out = pred == ModelOutputType::VPrediction ? alpha * eps - sigma * alpha * d : eps;
        if (outputs)
            outputs->push_back(out);
        if (times)
            times->push_back(t);
        return out.to(at::kFloat);
    };
}

struct Endpoints {
    at::Tensor start;      // latents handed to sample()
    at::Tensor startSigma; // x_sigma at sigma0 (double)
    double sigma0 = 0;
};

double sigmaOfAbar(double abar) { return std::sqrt((1 - abar) / abar); }

Endpoints startLatents(const Schedule &s, at::IntArrayRef shape, uint64_t seed)
{
    Endpoints e;
    const Space sp = spaceOf(s.sampler().kind);
    if (sp == Space::Alpha)
        e.sigma0 = sigmaOfAbar(s.alphasCumprod()[int64_t(s.timestep(0))].item<double>());
    else
        e.sigma0 = s.sigmas()[0].item<double>();
    at::Tensor z = at::randn(shape, seeded(seed), at::kDouble);
    e.startSigma = kMu + std::sqrt(kS * kS + e.sigma0 * e.sigma0) * z;
    e.start = (sp == Space::Sigma ? e.startSigma : e.startSigma / std::sqrt(1 + e.sigma0 * e.sigma0)).to(at::kFloat);
    return e;
}

// Final latents converted back to x_sigma, and sigma at the end of the run.
std::pair<at::Tensor, double> endSigmaSpace(const Schedule &s, const at::Tensor &latents)
{
    const Space sp = spaceOf(s.sampler().kind);
    at::Tensor x = latents.to(at::kDouble);
    if (sp == Space::Sigma)
        return {x, 0.0};
    if (sp == Space::Lambda) {
        const double se = s.sigmas()[-1].item<double>();
        return {x * std::sqrt(1 + se * se), se};
    }
    const double abar = s.sampler().kind == SamplerKind::Ddpm ? 1.0 : s.finalAlphaCumprod();
    return {x / std::sqrt(abar), sigmaOfAbar(abar)};
}

// Max error of a deterministic run against the exact ODE solution.
double odeError(const SamplerSpec &sp, int steps, ModelOutputType pred = ModelOutputType::Epsilon)
{
    Schedule s = makeSchedule(sp, steps, pred);
    Endpoints e = startLatents(s, {1, 4, 8, 8}, 7);
    auto r = sample(s, e.start, gaussianModel(s, pred));
    if (!r.ok())
        qFatal("%s", r.error().message.c_str());
    auto [xe, se] = endSigmaSpace(s, r->latents);
    at::Tensor exact = kMu + (e.startSigma - kMu) * std::sqrt(kS * kS + se * se) /
                                 std::sqrt(kS * kS + e.sigma0 * e.sigma0);
    return (xe - exact).abs().max().item<double>();
}

void expectClose(const at::Tensor &a, const at::Tensor &b, double tol, const char *what)
{
    const double e = (a.to(at::kDouble) - b.to(at::kDouble)).abs().max().item<double>();
    const double scale = b.to(at::kDouble).abs().max().item<double>();
    if (!(e <= tol * std::max(1.0, scale)))
        QFAIL(qPrintable(QStringLiteral("%1: max diff %2 (scale %3)").arg(what).arg(e).arg(scale)));
}

} // namespace

class TestSamplers : public QObject {
    Q_OBJECT

private Q_SLOTS:
    void names();
    void namesErrors();
    void configFromJson();
    void configErrors();
    void scheduleShapes();
    void strengthStart();
    void deterministicConvergence_data();
    void deterministicConvergence();
    void stochasticDistribution_data();
    void stochasticDistribution();
    void eulerAncestralEqualsDdpm();
    void heunFirstStep();
    void lmsKarrasFirstSteps();
    void dpmppSdeFirstStage();
    void uniPcFirstSteps();
    void ddimEtaNoise();
    void addNoiseFormulas();
    void img2imgStartIndex();
    void cancelAndMutate();
    void errorsAreValues();
};

void TestSamplers::names()
{
    for (const std::string &n : samplerNames()) {
        auto s = samplerFromName(n);
        QVERIFY2(s.ok(), n.c_str());
        QCOMPARE(s->name, n); // canonical names round-trip
    }
    QCOMPARE(samplerNames().size(), size_t(13));
    QCOMPARE(samplerFromName("EulerAncestralDiscreteScheduler")->kind, SamplerKind::EulerAncestral);
    QCOMPARE(samplerFromName("euler_a")->kind, SamplerKind::EulerAncestral);
    QCOMPARE(samplerFromName("euler")->kind, SamplerKind::Euler);
    QCOMPARE(samplerFromName("dpm++2m")->kind, SamplerKind::DpmppTwoM);
    QCOMPARE(samplerFromName("heun")->kind, SamplerKind::Heun);
    QCOMPARE(samplerFromName("UniPCMultistepScheduler")->kind, SamplerKind::UniPc);
    QCOMPARE(samplerFromName("PNDMScheduler")->name, std::string("PLMS"));
    auto trailing = samplerFromName("ddim_trailing");
    QVERIFY(trailing.ok() && trailing->spacing == TimestepSpacing::Trailing);
    auto karras = samplerFromName("DPM++ 2M", "Karras");
    QVERIFY(karras.ok() && karras->karras);
    QCOMPARE(karras->name, std::string("DPM++ 2M Karras"));
    QCOMPARE(samplerFromName("dpm++ sde karras")->kind, SamplerKind::DpmppSde);
    QVERIFY(samplerFromName("DPM++ SDE Karras")->karras);
    QCOMPARE(samplerFromName("DDIM", "", 0.5)->eta, 0.5);
    QCOMPARE(samplerFromName("Euler", "", 0.5)->eta, 0.0);
    QVERIFY(isStochastic(*samplerFromName("Euler a")));
    QVERIFY(isStochastic(*samplerFromName("DDPM")));
    QVERIFY(isStochastic(*samplerFromName("DPM++ SDE Karras")));
    QVERIFY(!isStochastic(*samplerFromName("DDIM")));
    QVERIFY(isStochastic(*samplerFromName("DDIM", "", 1.0)));
    QVERIFY(!isStochastic(*samplerFromName("UniPC")));
}

void TestSamplers::namesErrors()
{
    auto unknown = samplerFromName("Euler b");
    QVERIFY(!unknown.ok());
    QCOMPARE(unknown.error().code, ErrorCode::InvalidArgument);
    QVERIFY(unknown.error().message.find("DPM++ 2M Karras") != std::string::npos); // lists valid names
    auto lcm = samplerFromName("lcm");
    QVERIFY(!lcm.ok());
    QVERIFY(lcm.error().message.find("not implemented") != std::string::npos);
    QVERIFY(!samplerFromName("DDIM", "Karras").ok());
    QVERIFY(!samplerFromName("Euler", "Polyexponential").ok());
    QVERIFY(!samplerFromName("DDIM", "", -1).ok());
}

void TestSamplers::configFromJson()
{
    const char *text = R"({"_class_name": "PNDMScheduler", "_diffusers_version": "0.6.0",
        "beta_end": 0.012, "beta_schedule": "scaled_linear", "beta_start": 0.00085,
        "num_train_timesteps": 1000, "set_alpha_to_one": false, "skip_prk_steps": true,
        "steps_offset": 1, "trained_betas": null, "clip_sample": false})";
    auto c = SchedulerConfig::fromJsonText(text);
    QVERIFY2(c.ok(), c.ok() ? "" : c.error().message.c_str());
    QCOMPARE(c->betaSchedule, BetaSchedule::ScaledLinear);
    QCOMPARE(c->timestepSpacing, TimestepSpacing::Leading);
    QCOMPARE(c->stepsOffset, 1);
    QCOMPARE(c->predictionType, ModelOutputType::Epsilon);

    nlohmann::json v = {{"prediction_type", "v_prediction"}, {"beta_schedule", "linear"},
                        {"beta_start", 0.0001}, {"beta_end", 0.02}, {"timestep_spacing", "trailing"},
                        {"steps_offset", 0}, {"set_alpha_to_one", true}, {"lambda_min_clipped", "-inf"},
                        {"rescale_betas_zero_snr", true}, {"clip_sample", true}, {"clip_sample_range", 2.0}};
    auto c2 = SchedulerConfig::fromJson(v);
    QVERIFY2(c2.ok(), c2.ok() ? "" : c2.error().message.c_str());
    QCOMPARE(c2->predictionType, ModelOutputType::VPrediction);
    QCOMPARE(c2->betaSchedule, BetaSchedule::Linear);
    QCOMPARE(c2->timestepSpacing, TimestepSpacing::Trailing);
    QVERIFY(c2->setAlphaToOne && c2->rescaleBetasZeroSnr && c2->clipSample);
    QCOMPARE(c2->clipSampleRange, 2.0);

    // Zero-terminal-SNR betas (Lin et al. 2023): alphas_cumprod ends at 0 for DDIM.
    auto s = Schedule::create(*samplerFromName("DDIM"), *c2, 10);
    QVERIFY(s.ok());
    QCOMPARE(s->alphasCumprod()[-1].item<double>(), 0.0);
    QCOMPARE(s->finalAlphaCumprod(), 1.0);
    // Euler keeps the first sigma finite (alphas_cumprod[-1] = 2^-24).
    auto e = Schedule::create(*samplerFromName("Euler"), *c2, 10);
    QVERIFY(e.ok());
    QVERIFY(std::isfinite(e->sigmas()[0].item<double>()));
    QVERIFY(std::abs(e->sigmas()[0].item<double>() - 4096.0) < 1.0);

    // Glide cosine betas.
    auto cos = SchedulerConfig::fromJson({{"beta_schedule", "squaredcos_cap_v2"}});
    QVERIFY(cos.ok());
    auto sc = Schedule::create(*samplerFromName("DDIM"), *cos, 10);
    QVERIFY(sc.ok());
    QVERIFY(sc->betas().max().item<double>() <= 0.999 + 1e-6);
}

void TestSamplers::configErrors()
{
    QCOMPARE(SchedulerConfig::fromJsonText("{not json").error().code, ErrorCode::CorruptFile);
    QCOMPARE(SchedulerConfig::fromJson(nlohmann::json::array()).error().code, ErrorCode::InvalidArgument);
    auto bad = SchedulerConfig::fromJson({{"beta_schedule", "sigmoid"}});
    QVERIFY(!bad.ok());
    QVERIFY(bad.error().message.find("beta_schedule") != std::string::npos);
    QVERIFY(!SchedulerConfig::fromJson({{"prediction_type", "flow"}}).ok());
    QVERIFY(!SchedulerConfig::fromJson({{"timestep_spacing", "random"}}).ok());
    QVERIFY(!SchedulerConfig::fromJson({{"num_train_timesteps", "many"}}).ok());
    QVERIFY(!Schedule::create(*samplerFromName("Euler"), SchedulerConfig::stableDiffusion(), 0).ok());
    QVERIFY(!Schedule::create(*samplerFromName("Euler"), SchedulerConfig::stableDiffusion(), 1001).ok());
}

void TestSamplers::scheduleShapes()
{
    const int n = 10;
    Schedule heun = makeSchedule(spec("Heun"), n);
    QCOMPARE(heun.order(), 2);
    QCOMPARE(heun.size(), 2 * n - 1);
    QCOMPARE(heun.sigmas().size(0), int64_t(2 * n));
    QCOMPARE(heun.timestep(1), heun.timestep(2)); // interleaved
    QCOMPARE(heun.sigmas()[-1].item<double>(), 0.0);
    Schedule sde = makeSchedule(spec("DPM++ SDE Karras"), n);
    QCOMPARE(sde.size(), 2 * n - 1);
    QCOMPARE(sde.timesteps().scalar_type(), at::kDouble);
    // the second call of each step sits between the two sigmas' timesteps
    QVERIFY(sde.timestep(1) < sde.timestep(0) && sde.timestep(1) > sde.timestep(2));
    Schedule plms = makeSchedule(spec("PLMS"), n);
    QCOMPARE(plms.size(), n + 1);
    Schedule lmsK = makeSchedule(spec("LMS Karras"), n);
    QCOMPARE(lmsK.timesteps().scalar_type(), at::kDouble);
    // Karras sigmas (Karras et al. 2022 eq. 5) between sigma(t_last) and sigma(t_first)
    // of the leading timesteps (901 .. 1 for 10 steps).
    const at::Tensor table = ((1 - lmsK.alphasCumprod()) / lmsK.alphasCumprod()).sqrt().to(at::kDouble);
    const double smax = table[901].item<double>(), smin = table[1].item<double>();
    for (int i = 0; i < n; ++i) {
        const double r = std::pow(smax, 1 / 7.0) + i / double(n - 1) * (std::pow(smin, 1 / 7.0) - std::pow(smax, 1 / 7.0));
        QVERIFY(std::abs(lmsK.sigmas()[i].item<double>() - std::pow(r, 7.0)) < 1e-5 * std::pow(r, 7.0));
    }
    Schedule uni = makeSchedule(spec("UniPC"), n);
    QCOMPARE(uni.size(), n);
    QCOMPARE(uni.timesteps().scalar_type(), at::kLong);
    QCOMPARE(uni.timestep(0), 901.0); // leading over N + 1 points: 10 * (1000 // 11) + 1
    QCOMPARE(uni.initNoiseSigma(), 1.0);
    QVERIFY(std::abs(heun.initNoiseSigma() - std::sqrt(std::pow(heun.sigmas()[0].item<double>(), 2) + 1)) < 1e-5);
}

void TestSamplers::strengthStart()
{
    Schedule ddim = makeSchedule(spec("DDIM"), 20);
    QCOMPARE(ddim.startIndexForStrength(0.75), 5);  // init 15 -> start 5
    QCOMPARE(ddim.startIndexForStrength(0.3), 14);  // int(6.0) = 6
    QCOMPARE(ddim.startIndexForStrength(1.0), 0);
    QCOMPARE(ddim.startIndexForStrength(0.0), 20);
    QCOMPARE(ddim.timestep(ddim.startIndexForStrength(0.75)), 701.0);
    Schedule heun = makeSchedule(spec("Heun"), 20);
    QCOMPARE(heun.startIndexForStrength(0.75), 10); // start * order
    QCOMPARE(heun.startIndexForStrength(0.0), heun.size());
    Schedule plms = makeSchedule(spec("PLMS"), 20);
    QCOMPARE(plms.timestep(plms.startIndexForStrength(0.3)), 301.0);
}

void TestSamplers::deterministicConvergence_data()
{
    // Observed (eps, 1x4x8x8, leading spacing): errors fall as steps grow at
    // the method's order until the final sigma(1) -> 0 step dominates (Heun's
    // last step is a plain Euler step, so it levels off near 7e-3).
    QTest::addColumn<QString>("name");
    QTest::addColumn<QString>("type");
    QTest::addColumn<bool>("vpred");
    QTest::addColumn<int>("n1");
    QTest::addColumn<int>("n2");
    QTest::addColumn<double>("tol");  // max error allowed at n2 steps
    QTest::addColumn<double>("gain"); // error(n1) / error(n2) at least
    QTest::newRow("Euler") << "Euler" << "" << false << 25 << 50 << 0.1 << 1.6;     // first order
    QTest::newRow("DDIM") << "DDIM" << "" << false << 25 << 50 << 0.1 << 1.6;       // first order
    QTest::newRow("DPM++ 2M") << "DPM++ 2M" << "" << false << 50 << 100 << 0.04 << 2.3;
    QTest::newRow("UniPC") << "UniPC" << "" << false << 50 << 100 << 0.025 << 2.2;
    QTest::newRow("UniPC v") << "UniPC" << "" << true << 50 << 100 << 0.025 << 2.2;
    QTest::newRow("Heun") << "Heun" << "" << false << 10 << 25 << 0.01 << 5.0;
    QTest::newRow("Heun v") << "Heun" << "" << true << 10 << 25 << 0.01 << 5.0;
    QTest::newRow("Heun Karras") << "Heun" << "karras" << false << 10 << 25 << 0.01 << 5.0;
    QTest::newRow("LMS") << "LMS" << "" << false << 10 << 25 << 0.005 << 10.0;
    QTest::newRow("LMS v") << "LMS" << "" << true << 10 << 25 << 0.005 << 10.0;
    QTest::newRow("LMS Karras") << "LMS" << "karras" << false << 10 << 25 << 0.005 << 10.0;
    QTest::newRow("PLMS") << "PLMS" << "" << false << 25 << 50 << 0.01 << 3.0;
}

void TestSamplers::deterministicConvergence()
{
    QFETCH(QString, name);
    QFETCH(QString, type);
    QFETCH(bool, vpred);
    QFETCH(int, n1);
    QFETCH(int, n2);
    QFETCH(double, tol);
    QFETCH(double, gain);
    const SamplerSpec sp = spec(name.toStdString(), type.toStdString());
    const ModelOutputType pred = vpred ? ModelOutputType::VPrediction : ModelOutputType::Epsilon;
    if (qEnvironmentVariableIsSet("STIPPLE_EXPLORE")) {
        for (int n : {10, 25, 50, 100, 200, 400})
            qInfo("  %d steps: %.4g", n, odeError(sp, n, pred));
    }
    const double e1 = odeError(sp, n1, pred);
    const double e2 = odeError(sp, n2, pred);
    qInfo("%s %s%s: error %d steps %.3g, %d steps %.3g", qPrintable(name), qPrintable(type), vpred ? " v" : "", n1,
          e1, n2, e2);
    QVERIFY2(e2 < tol, qPrintable(QStringLiteral("error at %1 steps %2").arg(n2).arg(e2)));
    QVERIFY2(e1 / std::max(e2, 1e-12) > gain, qPrintable(QStringLiteral("no convergence: %1 -> %2").arg(e1).arg(e2)));
    if (vpred) // same trajectory as with eps prediction
        QVERIFY(std::abs(e2 - odeError(sp, n2, ModelOutputType::Epsilon)) < 1e-4);
}

void TestSamplers::stochasticDistribution_data()
{
    QTest::addColumn<QString>("name");
    QTest::addColumn<double>("eta");
    QTest::newRow("Euler a") << "Euler a" << 0.0;
    QTest::newRow("DDPM") << "DDPM" << 0.0;
    QTest::newRow("DPM++ SDE") << "DPM++ SDE" << 0.0;
    QTest::newRow("DPM++ SDE Karras") << "DPM++ SDE Karras" << 0.0;
    QTest::newRow("DDIM eta 1") << "DDIM" << 1.0;
}

void TestSamplers::stochasticDistribution()
{
    // Final samples must be N(mu, s^2 + sigma_end^2); the std converges from
    // below as steps grow (observed: about -12% at 50 steps, -2.5% at 400).
    QFETCH(QString, name);
    QFETCH(double, eta);
    const SamplerSpec sp = spec(name.toStdString(), "", eta);
    auto run = [&](int steps, uint64_t seed) {
        Schedule s = makeSchedule(sp, steps);
        Endpoints e = startLatents(s, {1, 4, 64, 64}, 11);
        SampleOptions o;
        o.generator = seeded(seed);
        auto r = sample(s, e.start, gaussianModel(s, ModelOutputType::Epsilon), o);
        if (!r.ok())
            qFatal("%s", r.error().message.c_str());
        auto [xe, se] = endSigmaSpace(s, r->latents);
        return std::make_tuple(r->latents, xe, std::sqrt(kS * kS + se * se));
    };
    auto [lat50, x50, std50] = run(50, 12);
    auto [lat200, x200, std200] = run(200, 12);
    const double mean = x200.mean().item<double>();
    const double sd50 = x50.std().item<double>(), sd200 = x200.std().item<double>();
    qInfo("%s: mean %.4f (exact %.4f), std 50 steps %.4f, 200 steps %.4f (exact %.4f)", qPrintable(name), mean, kMu,
          sd50, sd200, std200);
    QVERIFY(std::abs(mean - kMu) < 0.02);
    QVERIFY(std::abs(sd200 - std200) < 0.08 * std200);
    QVERIFY(std::abs(sd200 - std200) <= std::abs(sd50 - std50) + 0.005);
    // The run is a function of the generator: same seed, same result; other seed, other result.
    QVERIFY(at::equal(std::get<0>(run(50, 12)), lat50));
    QVERIFY(!at::equal(std::get<0>(run(50, 13)), lat50));
}

void TestSamplers::eulerAncestralEqualsDdpm()
{
    // With eta = 1, Euler a (sigma space) and DDPM's posterior sampling
    // (alpha space) are the same Markov chain; with the same generator they
    // give the same samples up to float rounding.
    Schedule ea = makeSchedule(spec("Euler a"), 30), ddpm = makeSchedule(spec("DDPM"), 30);
    Endpoints e1 = startLatents(ea, {1, 4, 16, 16}, 21), e2 = startLatents(ddpm, {1, 4, 16, 16}, 21);
    SampleOptions o1, o2;
    o1.generator = seeded(5);
    o2.generator = seeded(5);
    auto r1 = sample(ea, e1.start, gaussianModel(ea, ModelOutputType::Epsilon), o1);
    auto r2 = sample(ddpm, e2.start, gaussianModel(ddpm, ModelOutputType::Epsilon), o2);
    QVERIFY(r1.ok() && r2.ok());
    expectClose(endSigmaSpace(ea, r1->latents).first, endSigmaSpace(ddpm, r2->latents).first, 1e-3,
                "Euler a vs DDPM");
}

void TestSamplers::heunFirstStep()
{
    Schedule s = makeSchedule(spec("Heun"), 10);
    Endpoints e = startLatents(s, {1, 4, 8, 8}, 3);
    std::vector<at::Tensor> outs;
    std::vector<at::Tensor> lat;
    SampleOptions o;
    o.onStep = [&](int, int, at::Tensor &x, const at::Tensor &) { lat.push_back(x.clone()); return lat.size() < 2; };
    auto r = sample(s, e.start, gaussianModel(s, ModelOutputType::Epsilon, &outs), o);
    QVERIFY(r.ok() && r->cancelled);
    QCOMPARE(int(outs.size()), 2);
    const double s0 = s.sigmas()[0].item<double>(), s1 = s.sigmas()[1].item<double>();
    const at::Tensor x = e.start.to(at::kDouble);
    // Euler predictor: d = (x - D) / sigma = eps.
    expectClose(lat[0], x + outs[0] * (s1 - s0), 1e-5, "Heun predictor");
    // Trapezoidal corrector from the same start.
    expectClose(lat[1], x + 0.5 * (outs[0] + outs[1]) * (s1 - s0), 1e-5, "Heun corrector");
}

void TestSamplers::lmsKarrasFirstSteps()
{
    Schedule s = makeSchedule(spec("LMS Karras"), 10);
    Endpoints e = startLatents(s, {1, 4, 8, 8}, 4);
    std::vector<at::Tensor> outs, lat;
    SampleOptions o;
    o.onStep = [&](int, int, at::Tensor &x, const at::Tensor &) { lat.push_back(x.clone()); return lat.size() < 2; };
    auto r = sample(s, e.start, gaussianModel(s, ModelOutputType::Epsilon, &outs), o);
    QVERIFY(r.ok());
    const double s0 = s.sigmas()[0].item<double>(), s1 = s.sigmas()[1].item<double>(),
                 s2 = s.sigmas()[2].item<double>();
    const at::Tensor x = e.start.to(at::kDouble);
    expectClose(lat[0], x + outs[0] * (s1 - s0), 1e-5, "LMS order 1");
    // Order 2: integrals of the Lagrange basis through (s1, s0) over [s1, s2].
    const double c0 = ((s2 - s0) * (s2 - s0) - (s1 - s0) * (s1 - s0)) / (2 * (s1 - s0));
    const double c1 = (s2 - s1) * (s2 - s1) / (2 * (s0 - s1));
    expectClose(lat[1], lat[0].to(at::kDouble) + c0 * outs[1] + c1 * outs[0], 1e-5, "LMS order 2");
}

void TestSamplers::dpmppSdeFirstStage()
{
    Schedule s = makeSchedule(spec("DPM++ SDE Karras"), 10);
    Endpoints e = startLatents(s, {1, 4, 8, 8}, 5);
    std::vector<at::Tensor> outs, lat;
    std::vector<double> times;
    SampleOptions o;
    o.generator = seeded(99);
    o.onStep = [&](int, int, at::Tensor &x, const at::Tensor &) { lat.push_back(x.clone()); return lat.size() < 2; };
    std::vector<at::Tensor> inputs;
    ModelFn exact = gaussianModel(s, ModelOutputType::Epsilon, &outs, &times);
    ModelFn model = [&](const at::Tensor &xin, double t) { inputs.push_back(xin.clone()); return exact(xin, t); };
    auto r = sample(s, e.start, model, o);
    QVERIFY(r.ok());
    const double s0 = s.sigmas()[0].item<double>(), s1 = s.sigmas()[1].item<double>();
    const double mid = std::sqrt(s0 * s1); // log-midpoint
    const double up = std::min(mid, std::sqrt(mid * mid * (s0 * s0 - mid * mid) / (s0 * s0)));
    const double down = std::sqrt(mid * mid - up * up);
    const at::Tensor x = e.start.to(at::kDouble);
    const at::Tensor d0 = x - s0 * outs[0];
    // The noise is diffusers' BrownianTreeNoiseSampler: a torchsde Brownian
    // tree over [min sigma > 0, max sigma] seeded by randint(0, 2^63 - 1)
    // from the run's generator, queried at exp(-t) recomputed in float32.
    at::Generator g = seeded(99);
    const int64_t entropy = at::randint(0, std::numeric_limits<int64_t>::max(), {}, g, at::kLong).item<int64_t>();
    const at::Tensor sig = s.sigmas();
    BrownianTree tree(sig.masked_select(sig > 0).min().item<double>(), sig.max().item<double>(), uint64_t(entropy),
                      {1, 4, 8, 8});
    auto f32 = [](double v) { return at::scalar_tensor(v, at::kFloat); };
    const at::Tensor tS0 = f32(s0).log().neg(), tS1 = f32(s1).log().neg();
    const double s0q = tS0.neg().exp().item<double>();
    const double midq = (tS0 + (tS1 - tS0) * 0.5).neg().exp().item<double>();
    const double s1q = tS1.neg().exp().item<double>();
    // (W(b) - W(a)) / sqrt|b - a| with b < a: the negated increment over [b, a].
    const at::Tensor z1 = -tree.increment(midq, s0q).to(at::kDouble) / std::sqrt(s0q - midq);
    QVERIFY(std::abs(z1.std().item<double>() - 1) < 0.25);
    // Ancestral step to sigma_mid: Euler to sigma_down, then sigma_up noise.
    expectClose(lat[0], d0 + (down / s0) * (x - d0) + up * z1, 2e-5, "SDE stage 1");
    // The second model call sees x1 / sqrt(mid^2 + 1) at the midpoint's timestep.
    expectClose(inputs[1], lat[0].to(at::kDouble) / std::sqrt(mid * mid + 1), 1e-5, "SDE stage 2 input");
    SigmaOfT sigmaOf(s);
    QVERIFY(std::abs(sigmaOf(times[1]) - mid) < 1e-4 * mid);
    // Stage 2: from x with the midpoint's x0 to sigma_1, noise with the
    // Brownian increment over the whole step, which contains stage 1's.
    const at::Tensor dMid = lat[0].to(at::kDouble) - mid * outs[1];
    const double up2 = std::min(s1, std::sqrt(s1 * s1 * (s0 * s0 - s1 * s1) / (s0 * s0)));
    const double down2 = std::sqrt(s1 * s1 - up2 * up2);
    const at::Tensor w = -tree.increment(s1q, s0q).to(at::kDouble) / std::sqrt(s0q - s1q);
    const at::Tensor rest = -tree.increment(s1q, midq).to(at::kDouble);
    expectClose(w * std::sqrt(s0q - s1q), z1 * std::sqrt(s0q - midq) + rest, 1e-5, "Brownian increments add up");
    expectClose(lat[1], dMid + (down2 / s0) * (x - dMid) + up2 * w, 2e-5, "SDE stage 2");
}

void TestSamplers::uniPcFirstSteps()
{
    Schedule s = makeSchedule(spec("UniPC"), 10);
    Endpoints e = startLatents(s, {1, 4, 8, 8}, 6);
    std::vector<at::Tensor> outs, lat;
    SampleOptions o;
    o.onStep = [&](int, int, at::Tensor &x, const at::Tensor &) { lat.push_back(x.clone()); return lat.size() < 2; };
    auto r = sample(s, e.start, gaussianModel(s, ModelOutputType::Epsilon, &outs), o);
    QVERIFY(r.ok());
    auto a = [&](int i) { return 1 / std::sqrt(1 + std::pow(s.sigmas()[i].item<double>(), 2)); };
    auto sg = [&](int i) { return s.sigmas()[i].item<double>() * a(i); };
    auto lambda = [&](int i) { return std::log(a(i)) - std::log(sg(i)); };
    const at::Tensor x = e.start.to(at::kDouble);
    const at::Tensor m0 = (x - sg(0) * outs[0]) / a(0); // data prediction
    const double h1 = lambda(1) - lambda(0);
    // UniP-1 = DPM-Solver++ first order.
    const at::Tensor x1 = sg(1) / sg(0) * x - a(1) * std::expm1(-h1) * m0;
    expectClose(lat[0], x1, 1e-5, "UniPC step 1");
    // UniC-1 on x1 with the new model output (rho = 1/2, B(h) = expm1(-h)), then UniP-2.
    const at::Tensor m1 = (lat[0].to(at::kDouble) - sg(1) * outs[1]) / a(1);
    const at::Tensor x1c = x1 - a(1) * std::expm1(-h1) * 0.5 * (m1 - m0);
    const double h2 = lambda(2) - lambda(1);
    const double rk = (lambda(0) - lambda(1)) / h2;
    const at::Tensor x2 = sg(2) / sg(1) * x1c - a(2) * std::expm1(-h2) * m1 -
                          a(2) * std::expm1(-h2) * 0.5 * (m0 - m1) / rk;
    expectClose(lat[1], x2, 1e-5, "UniPC step 2 (corrector + 2nd-order predictor)");
}

void TestSamplers::ddimEtaNoise()
{
    Schedule s = makeSchedule(spec("DDIM", "", 1.0), 10);
    Endpoints e = startLatents(s, {1, 4, 8, 8}, 8);
    std::vector<at::Tensor> outs, lat;
    SampleOptions o;
    o.generator = seeded(5);
    o.onStep = [&](int, int, at::Tensor &x, const at::Tensor &) { lat.push_back(x.clone()); return false; };
    auto r = sample(s, e.start, gaussianModel(s, ModelOutputType::Epsilon, &outs), o);
    QVERIFY(r.ok() && r->cancelled && r->modelCalls == 1);
    const double at_ = s.alphasCumprod()[901].item<double>(), ap = s.alphasCumprod()[801].item<double>();
    const double sigma = std::sqrt((1 - ap) / (1 - at_) * (1 - at_ / ap)); // Song et al. eq. 16, eta = 1
    const at::Tensor x = e.start.to(at::kDouble);
    const at::Tensor x0 = (x - std::sqrt(1 - at_) * outs[0]) / std::sqrt(at_);
    const at::Tensor z = at::randn({1, 4, 8, 8}, seeded(5), at::kFloat).to(at::kDouble);
    expectClose(lat[0], std::sqrt(ap) * x0 + std::sqrt(1 - ap - sigma * sigma) * outs[0] + sigma * z, 1e-5,
                "DDIM eta 1");
}

void TestSamplers::addNoiseFormulas()
{
    const at::Tensor x = at::randn({1, 4, 8, 8}, seeded(1));
    const at::Tensor n = at::randn({1, 4, 8, 8}, seeded(2));
    Schedule euler = makeSchedule(spec("Euler"), 20);
    const double sg = euler.sigmas()[5].item<double>();
    expectClose(addNoise(euler, x, n, 5), x.to(at::kDouble) + sg * n.to(at::kDouble), 1e-6, "sigma add_noise");
    Schedule ddim = makeSchedule(spec("DDIM"), 20);
    const double ab = ddim.alphasCumprod()[int64_t(ddim.timestep(5))].item<double>();
    expectClose(addNoise(ddim, x, n, 5), std::sqrt(ab) * x.to(at::kDouble) + std::sqrt(1 - ab) * n.to(at::kDouble),
                1e-6, "alpha add_noise");
    Schedule dpm = makeSchedule(spec("DPM++ 2M"), 20);
    const double abd = dpm.alphasCumprod()[int64_t(dpm.timestep(5))].item<double>();
    expectClose(addNoise(dpm, x, n, 5), std::sqrt(abd) * x.to(at::kDouble) + std::sqrt(1 - abd) * n.to(at::kDouble),
                1e-5, "DPM add_noise");
    // scale_model_input
    expectClose(scaleModelInput(euler, x, 5), x.to(at::kDouble) / std::sqrt(sg * sg + 1), 1e-6, "scale input");
    QVERIFY(at::equal(scaleModelInput(ddim, x, 5), x));
    bool threw = false;
    try {
        (void)addNoise(euler, x, n, euler.size());
    } catch (const c10::Error &) {
        threw = true;
    }
    QVERIFY(threw);
}

void TestSamplers::img2imgStartIndex()
{
    for (const char *name : {"DDIM", "Euler", "Heun", "DPM++ 2M", "PLMS", "UniPC"}) {
        Schedule s = makeSchedule(spec(name), 20);
        const int start = s.startIndexForStrength(0.75);
        std::vector<double> times;
        const at::Tensor x = at::randn({1, 4, 8, 8}, seeded(1));
        auto r = sample(s, addNoise(s, x, at::randn({1, 4, 8, 8}, seeded(2)), start),
                        gaussianModel(s, ModelOutputType::Epsilon, nullptr, &times), SampleOptions{start, {}, {}});
        QVERIFY2(r.ok(), name);
        QCOMPARE(r->modelCalls, s.size() - start);
        QCOMPARE(times.front(), s.timestep(start));
        QVERIFY(at::isfinite(r->latents).all().item<bool>());
    }
}

void TestSamplers::cancelAndMutate()
{
    Schedule s = makeSchedule(spec("Euler"), 10);
    const at::Tensor x = at::randn({1, 4, 8, 8}, seeded(1)) * s.initNoiseSigma();
    std::vector<at::Tensor> inputs;
    ModelFn model = [&](const at::Tensor &xin, double) { inputs.push_back(xin.clone()); return at::zeros_like(xin); };
    int calls = 0;
    SampleOptions o;
    o.onStep = [&](int step, int total, at::Tensor &latents, const at::Tensor &) {
        if (total != 10 || step != calls)
            return false;
        ++calls;
        if (step == 1)
            latents = at::full_like(latents, 2.0); // legacy-inpaint style replacement
        if (step == 3)
            latents.mul_(0.5);                     // in-place edit
        return step < 4;
    };
    auto r = sample(s, x, model, o);
    QVERIFY(r.ok());
    QVERIFY(r->cancelled);
    QCOMPARE(r->modelCalls, 5); // stopped before the 6th model call
    QCOMPARE(calls, 5);
    // The model saw the replaced latents (zero eps keeps them: x stays 2).
    const double s2 = s.sigmas()[2].item<double>();
    expectClose(inputs[2], at::full_like(x, 2.0 / std::sqrt(s2 * s2 + 1)), 1e-6, "replaced latents");
    expectClose(r->latents, at::full_like(x, 1.0), 1e-6, "in-place edit kept");
}

void TestSamplers::errorsAreValues()
{
    Schedule s = makeSchedule(spec("Heun"), 10);
    const at::Tensor x = at::randn({1, 4, 8, 8});
    ModelFn ok = [](const at::Tensor &xin, double) { return at::zeros_like(xin); };
    QCOMPARE(sample(s, x, ok, SampleOptions{-1, {}, {}}).error().code, ErrorCode::InvalidArgument);
    QCOMPARE(sample(s, x, ok, SampleOptions{s.size() + 1, {}, {}}).error().code, ErrorCode::InvalidArgument);
    QCOMPARE(sample(s, x, ok, SampleOptions{1, {}, {}}).error().code, ErrorCode::InvalidArgument); // odd for order 2
    QCOMPARE(sample(s, x, ModelFn{}).error().code, ErrorCode::InvalidArgument);
    auto none = sample(s, x, ok, SampleOptions{s.size(), {}, {}});
    QVERIFY(none.ok() && none->modelCalls == 0 && at::equal(none->latents, x));
    ModelFn throwing = [](const at::Tensor &xin, double) { return xin.view({-1, 7}); }; // c10::Error
    auto r = sample(s, x, throwing);
    QVERIFY(!r.ok());
    QCOMPARE(r.error().code, ErrorCode::Internal);
    ModelFn aborting = [](const at::Tensor &, double) -> at::Tensor {
        throw SamplerAbort{makeError(ErrorCode::OutOfMemory, "unet")};
    };
    auto ab = sample(s, x, aborting);
    QVERIFY(!ab.ok());
    QCOMPARE(ab.error().code, ErrorCode::OutOfMemory);
    QCOMPARE(ab.error().message, std::string("unet"));
    ModelFn wrongShape = [](const at::Tensor &xin, double) { return xin.slice(1, 0, 2); };
    QCOMPARE(sample(s, x, wrongShape).error().code, ErrorCode::Internal);
}

QTEST_GUILESS_MAIN(TestSamplers)
#include "TestSamplers.moc"
