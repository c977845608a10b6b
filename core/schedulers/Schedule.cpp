// Schedule construction: a C++ transcription of the `__init__` tables and
// `set_timesteps` of the diffusers 0.25.0 schedulers (scheduling_*.py), with
// numpy's exact arithmetic where it matters (np.linspace, np.arange with a
// float step, np.round = round-half-to-even, np.interp).
#include "core/schedulers/ScheduleData.h"

#include "core/common/Log.h"

#include <ATen/ATen.h>

#include <algorithm>
#include <cmath>

namespace stipple::core {

namespace {

// np.linspace(start, stop, num) in float64: start + i * step, last = stop.
std::vector<double> npLinspace(double start, double stop, int num)
{
    std::vector<double> y(static_cast<size_t>(std::max(num, 0)));
    if (num == 1) {
        y[0] = start;
        return y;
    }
    const double step = (stop - start) / double(num - 1);
    for (int i = 0; i < num; ++i)
        y[i] = double(i) * step + start;
    if (num > 1)
        y[num - 1] = stop;
    return y;
}

// np.arange(start, stop, step) for a float step (numpy fills start + i * delta
// with delta = (start + step) - start).
std::vector<double> npArange(double start, double stop, double step)
{
    const double lenF = std::ceil((stop - start) / step);
    const int len = lenF > 0 ? static_cast<int>(lenF) : 0;
    std::vector<double> y(static_cast<size_t>(len));
    if (len == 0)
        return y;
    y[0] = start;
    if (len == 1)
        return y;
    y[1] = start + step;
    const double delta = y[1] - y[0];
    for (int i = 2; i < len; ++i)
        y[i] = start + double(i) * delta;
    return y;
}

double npRound(double v) { return std::nearbyint(v); } // round half to even

// np.interp(x, arange(T), table) (exact table value at integer x).
double npInterp(double x, const std::vector<float> &fp)
{
    const int n = static_cast<int>(fp.size());
    if (x >= double(n - 1))
        return fp[n - 1];
    if (x < 0)
        return fp[0];
    const int j = static_cast<int>(std::floor(x));
    if (double(j) == x)
        return fp[j];
    const double slope = (double(fp[j + 1]) - double(fp[j])) / 1.0;
    return slope * (x - double(j)) + double(fp[j]);
}

// diffusers `_sigma_to_t`: piecewise-linear inversion of log(sigma) over the
// training table (log_sigmas is float32 in diffusers, the rest float64).
double sigmaToT(double sigma, const std::vector<float> &logSigmas)
{
    const double logSigma = std::log(std::max(sigma, 1e-10));
    const int n = static_cast<int>(logSigmas.size());
    int count = 0;
    for (int i = 0; i < n; ++i)
        count += (logSigma - double(logSigmas[i]) >= 0) ? 1 : 0;
    int lowIdx = count > 0 ? count - 1 : 0;
    lowIdx = std::min(lowIdx, n - 2);
    const int highIdx = lowIdx + 1;
    const double low = logSigmas[lowIdx];
    const double high = logSigmas[highIdx];
    double w = (low - logSigma) / (low - high);
    w = std::clamp(w, 0.0, 1.0);
    return (1.0 - w) * double(lowIdx) + w * double(highIdx);
}

// Karras et al. 2022, eq. 5 (rho = 7), diffusers `_convert_to_karras`.
std::vector<double> karrasSigmas(double sigmaMin, double sigmaMax, int n)
{
    const double rho = 7.0;
    const std::vector<double> ramp = npLinspace(0.0, 1.0, n);
    const double minInvRho = std::pow(sigmaMin, 1.0 / rho);
    const double maxInvRho = std::pow(sigmaMax, 1.0 / rho);
    std::vector<double> out(ramp.size());
    for (size_t i = 0; i < ramp.size(); ++i)
        out[i] = std::pow(maxInvRho + ramp[i] * (minInvRho - maxInvRho), rho);
    return out;
}

std::vector<float> toFloats(const at::Tensor &t)
{
    at::Tensor c = t.to(at::kFloat).contiguous();
    return std::vector<float>(c.data_ptr<float>(), c.data_ptr<float>() + c.numel());
}

at::Tensor tensorFromDoubles(const std::vector<double> &v, at::ScalarType dtype)
{
    at::Tensor t = at::empty({static_cast<int64_t>(v.size())}, at::kDouble);
    std::copy(v.begin(), v.end(), t.data_ptr<double>());
    return t.to(dtype);
}

at::Tensor tensorFromFloats(const std::vector<float> &v)
{
    at::Tensor t = at::empty({static_cast<int64_t>(v.size())}, at::kFloat);
    std::copy(v.begin(), v.end(), t.data_ptr<float>());
    return t;
}

// Lin et al. 2023 algorithm 1 (diffusers `rescale_zero_terminal_snr`).
at::Tensor rescaleZeroTerminalSnr(const at::Tensor &betas)
{
    at::Tensor alphas = 1.0 - betas;
    at::Tensor abar = at::cumprod(alphas, 0);
    at::Tensor sqrtAbar = abar.sqrt();
    at::Tensor first = sqrtAbar[0].clone();
    at::Tensor last = sqrtAbar[-1].clone();
    sqrtAbar -= last;
    sqrtAbar *= first / (first - last);
    at::Tensor abarNew = sqrtAbar.pow(2);
    at::Tensor a = at::cat({abarNew.slice(0, 0, 1), abarNew.slice(0, 1) / abarNew.slice(0, 0, -1)});
    return 1 - a;
}

at::Tensor makeBetas(const SchedulerConfig &c)
{
    const int T = c.numTrainTimesteps;
    if (!c.trainedBetas.empty())
        return tensorFromDoubles(c.trainedBetas, at::kFloat);
    switch (c.betaSchedule) {
    case BetaSchedule::Linear:
        return at::linspace(c.betaStart, c.betaEnd, T, at::TensorOptions().dtype(at::kFloat));
    case BetaSchedule::ScaledLinear:
        return at::linspace(std::sqrt(c.betaStart), std::sqrt(c.betaEnd), T,
                            at::TensorOptions().dtype(at::kFloat)).pow(2);
    case BetaSchedule::SquaredCosCapV2: {
        // Nichol & Dhariwal 2021, eq. 17; diffusers `betas_for_alpha_bar`.
        auto alphaBar = [](double t) {
            const double v = std::cos((t + 0.008) / 1.008 * M_PI / 2);
            return v * v;
        };
        std::vector<double> b(T);
        for (int i = 0; i < T; ++i) {
            const double t1 = double(i) / T, t2 = double(i + 1) / T;
            b[i] = std::min(1 - alphaBar(t2) / alphaBar(t1), 0.999);
        }
        return tensorFromDoubles(b, at::kFloat);
    }
    }
    return {};
}

bool classSupportsZeroSnr(SamplerKind k)
{
    return k == SamplerKind::Ddim || k == SamplerKind::Ddpm || k == SamplerKind::Euler ||
           k == SamplerKind::EulerAncestral;
}

ScheduleFamily familyOf(SamplerKind k)
{
    switch (k) {
    case SamplerKind::Euler:
    case SamplerKind::EulerAncestral:
    case SamplerKind::Lms:
        return ScheduleFamily::Sigma;
    case SamplerKind::Heun:
    case SamplerKind::DpmppSde:
        return ScheduleFamily::Interleaved;
    case SamplerKind::DpmppTwoM:
    case SamplerKind::UniPc:
        return ScheduleFamily::Lambda;
    default:
        return ScheduleFamily::Alpha;
    }
}

// Timesteps of the Euler-like classes (EulerDiscrete, LMS, Heun, DPMSolverSDE)
// before float conversion. `linspaceF32`: Euler/LMS/Heun build linspace in
// float32, DPMSolverSDE in float64.
std::vector<double> eulerLikeTimesteps(const SchedulerConfig &c, int N, bool linspaceF32)
{
    const int T = c.numTrainTimesteps;
    std::vector<double> ts;
    switch (c.timestepSpacing) {
    case TimestepSpacing::Linspace:
        ts = npLinspace(0, T - 1, N);
        std::reverse(ts.begin(), ts.end());
        if (linspaceF32)
            for (double &v : ts)
                v = float(v);
        break;
    case TimestepSpacing::Leading: {
        const int ratio = T / N;
        for (int i = N - 1; i >= 0; --i)
            ts.push_back(npRound(double(i) * ratio) + c.stepsOffset);
        break;
    }
    case TimestepSpacing::Trailing: {
        ts = npArange(T, 0, -double(T) / N);
        for (double &v : ts)
            v = npRound(v) - 1;
        break;
    }
    }
    return ts;
}

// Integer timesteps of DDIM / DDPM (descending).
std::vector<int64_t> alphaTimesteps(const SchedulerConfig &c, int N)
{
    const int T = c.numTrainTimesteps;
    std::vector<int64_t> ts;
    switch (c.timestepSpacing) {
    case TimestepSpacing::Linspace: {
        std::vector<double> v = npLinspace(0, T - 1, N);
        for (int i = N - 1; i >= 0; --i)
            ts.push_back(static_cast<int64_t>(npRound(v[i])));
        break;
    }
    case TimestepSpacing::Leading: {
        const int ratio = T / N;
        for (int i = N - 1; i >= 0; --i)
            ts.push_back(static_cast<int64_t>(i) * ratio + c.stepsOffset);
        break;
    }
    case TimestepSpacing::Trailing:
        for (double v : npArange(T, 0, -double(T) / N))
            ts.push_back(static_cast<int64_t>(npRound(v)) - 1);
        break;
    }
    return ts;
}

// PNDMScheduler.set_timesteps with skip_prk_steps (PLMS): ascending base
// timesteps, then [.. t_{N-2}, t_{N-2}, t_{N-1}] reversed (2nd one repeated).
std::vector<int64_t> pndmTimesteps(const SchedulerConfig &c, int N)
{
    const int T = c.numTrainTimesteps;
    std::vector<int64_t> asc;
    switch (c.timestepSpacing) {
    case TimestepSpacing::Linspace:
        for (double v : npLinspace(0, T - 1, N))
            asc.push_back(static_cast<int64_t>(npRound(v)));
        break;
    case TimestepSpacing::Leading: {
        const int ratio = T / N;
        for (int i = 0; i < N; ++i)
            asc.push_back(static_cast<int64_t>(i) * ratio + c.stepsOffset);
        break;
    }
    case TimestepSpacing::Trailing: {
        std::vector<double> v = npArange(T, 0, -double(T) / N);
        for (auto it = v.rbegin(); it != v.rend(); ++it)
            asc.push_back(static_cast<int64_t>(npRound(*it)) - 1);
        break;
    }
    }
    std::vector<int64_t> plms(asc.begin(), asc.end() - 1);
    if (asc.size() >= 2)
        plms.push_back(asc[asc.size() - 2]);
    plms.push_back(asc.back());
    std::reverse(plms.begin(), plms.end());
    return plms;
}

// DPMSolverMultistep / UniPC timesteps (N + 1 points, last dropped).
std::vector<int64_t> lambdaTimesteps(const SchedulerConfig &c, int N)
{
    const int T = c.numTrainTimesteps;
    const int last = T; // lambda_min_clipped = -inf: nothing clipped
    std::vector<int64_t> ts;
    switch (c.timestepSpacing) {
    case TimestepSpacing::Linspace: {
        std::vector<double> v = npLinspace(0, last - 1, N + 1);
        for (int i = N; i >= 1; --i)
            ts.push_back(static_cast<int64_t>(npRound(v[i])));
        break;
    }
    case TimestepSpacing::Leading: {
        const int ratio = last / (N + 1);
        for (int i = N; i >= 1; --i)
            ts.push_back(static_cast<int64_t>(i) * ratio + c.stepsOffset);
        break;
    }
    case TimestepSpacing::Trailing:
        for (double v : npArange(last, 0, -double(T) / N))
            ts.push_back(static_cast<int64_t>(npRound(v)) - 1);
        break;
    }
    return ts;
}

} // namespace

Result<Schedule> Schedule::create(const SamplerSpec &sampler, const SchedulerConfig &configIn, int steps)
{
    SchedulerConfig config = configIn;
    if (sampler.spacing)
        config.timestepSpacing = *sampler.spacing;
    const int T = config.numTrainTimesteps;
    if (steps < 1 || steps > T)
        return makeError(ErrorCode::InvalidArgument,
                         "steps must be in [1, " + std::to_string(T) + "], got " + std::to_string(steps));
    const ScheduleFamily family = familyOf(sampler.kind);
    if (family == ScheduleFamily::Lambda && config.timestepSpacing == TimestepSpacing::Leading && steps + 1 > T)
        return makeError(ErrorCode::InvalidArgument, "too many steps for leading spacing");
    if (sampler.karras && family == ScheduleFamily::Alpha)
        return makeError(ErrorCode::InvalidArgument, sampler.name + " has no Karras schedule");

    try {
        auto d = std::make_shared<Data>();
        d->sampler = sampler;
        d->config = config;
        d->family = family;
        d->steps = steps;
        d->stepRatio = T / steps;
        d->order = family == ScheduleFamily::Interleaved ? 2 : 1;

        at::NoGradGuard noGrad;
        at::Tensor betas = makeBetas(config);
        const bool zeroSnr = config.rescaleBetasZeroSnr && classSupportsZeroSnr(sampler.kind);
        if (config.rescaleBetasZeroSnr && !zeroSnr)
            logWarning("rescale_betas_zero_snr is ignored by " + sampler.name + " (as in diffusers 0.25)");
        if (zeroSnr)
            betas = rescaleZeroTerminalSnr(betas);
        at::Tensor abar = at::cumprod(1.0 - betas, 0);
        if (zeroSnr && family != ScheduleFamily::Alpha)
            abar[-1] = std::pow(2.0, -24); // Euler: keep the first sigma finite
        d->betas = betas;
        d->alphasCumprod = abar;
        d->abar = toFloats(abar);
        d->finalAlphaCumprod = config.setAlphaToOne ? 1.0f : d->abar[0];

        // sqrt((1 - abar) / abar) in float32, as every sigma scheduler computes it.
        const std::vector<float> table = toFloats(((1 - abar) / abar).pow(0.5));
        std::vector<float> logTable(table.size());
        for (size_t i = 0; i < table.size(); ++i)
            logTable[i] = static_cast<float>(std::log(double(table[i])));

        switch (family) {
        case ScheduleFamily::Sigma:
        case ScheduleFamily::Interleaved: {
            const bool sde = sampler.kind == SamplerKind::DpmppSde;
            std::vector<double> ts = eulerLikeTimesteps(config, steps, !sde);
            std::vector<double> sig(ts.size());
            for (size_t i = 0; i < ts.size(); ++i)
                sig[i] = npInterp(ts[i], table);
            at::ScalarType tDtype = sde ? at::kDouble : at::kFloat;
            if (sampler.karras) {
                sig = karrasSigmas(sig.back(), sig.front(), steps);
                for (size_t i = 0; i < sig.size(); ++i)
                    ts[i] = sigmaToT(sig[i], logTable);
                // Euler casts the inverted timesteps to float32; LMS/Heun keep float64.
                tDtype = sampler.kind == SamplerKind::Euler ? at::kFloat : at::kDouble;
            }
            if (tDtype == at::kFloat)
                for (double &v : ts)
                    v = float(v);
            // DPMSolverSDE: the second model call of each step sits at the
            // log-midpoint sigma_mid = exp(-(t + (t_next - t) / 2)), t = -log sigma.
            std::vector<double> midT;
            if (sde) {
                for (size_t i = 0; i + 1 < sig.size(); ++i) {
                    const double t0 = -std::log(sig[i]), t1 = -std::log(sig[i + 1]);
                    midT.push_back(sigmaToT(std::exp(-(t0 + (t1 - t0) * 0.5)), logTable));
                }
            }
            std::vector<float> sigF;
            for (double s : sig)
                sigF.push_back(float(s));
            sigF.push_back(0.0f);
            if (family == ScheduleFamily::Interleaved) {
                // [s0, s1, s1, ..., s_{N-1}, s_{N-1}, 0] and [t0, t1, t1, ..., t_{N-1}, t_{N-1}]
                std::vector<float> s2{sigF[0]};
                for (size_t i = 1; i + 1 < sigF.size(); ++i) {
                    s2.push_back(sigF[i]);
                    s2.push_back(sigF[i]);
                }
                s2.push_back(sigF.back());
                std::vector<double> t2{ts[0]};
                for (size_t i = 1; i < ts.size(); ++i) {
                    t2.push_back(sde ? midT[i - 1] : ts[i]);
                    t2.push_back(ts[i]);
                }
                sigF = s2;
                ts = t2;
            }
            d->t = ts;
            d->timesteps = tensorFromDoubles(ts, tDtype);
            d->sigma = sigF;
            d->sigmas = tensorFromFloats(sigF);
            const float maxSigma = *std::max_element(sigF.begin(), sigF.end());
            if (config.timestepSpacing == TimestepSpacing::Leading)
                d->initNoiseSigma = std::sqrt(maxSigma * maxSigma + 1.0f); // float32, as diffusers
            else
                d->initNoiseSigma = maxSigma;
            break;
        }
        case ScheduleFamily::Lambda: {
            std::vector<int64_t> ts;
            std::vector<float> sigF;
            if (sampler.karras) {
                std::vector<double> sig = karrasSigmas(table.front(), table.back(), steps);
                for (double s : sig) {
                    ts.push_back(static_cast<int64_t>(npRound(sigmaToT(s, logTable))));
                    sigF.push_back(float(s));
                }
                sigF.push_back(sigF.back());
            } else {
                ts = lambdaTimesteps(config, steps);
                for (int64_t t : ts)
                    sigF.push_back(float(npInterp(double(t), table)));
                sigF.push_back(table.front());
            }
            d->t.assign(ts.begin(), ts.end());
            d->timesteps = tensorFromDoubles(d->t, at::kLong);
            d->sigma = sigF;
            d->sigmas = tensorFromFloats(sigF);
            d->initNoiseSigma = 1.0;
            break;
        }
        case ScheduleFamily::Alpha: {
            std::vector<int64_t> ts = sampler.kind == SamplerKind::Pndm ? pndmTimesteps(config, steps)
                                                                        : alphaTimesteps(config, steps);
            for (int64_t t : ts) {
                if (t < 0 || t >= T)
                    return makeError(ErrorCode::InvalidArgument,
                                     "timestep " + std::to_string(t) + " outside the training range");
            }
            d->t.assign(ts.begin(), ts.end());
            d->timesteps = tensorFromDoubles(d->t, at::kLong);
            d->initNoiseSigma = 1.0;
            break;
        }
        }
        for (double t : d->t) {
            if (!(t >= 0 && t <= T - 1))
                return makeError(ErrorCode::InvalidArgument,
                                 "steps/spacing give a timestep outside [0, " + std::to_string(T - 1) + "]");
        }
        return Schedule(std::move(d));
    } catch (const c10::Error &e) {
        return makeError(ErrorCode::Internal, std::string("schedule: ") + e.what_without_backtrace());
    }
}

const SamplerSpec &Schedule::sampler() const { return m_d->sampler; }
const SchedulerConfig &Schedule::config() const { return m_d->config; }
int Schedule::steps() const { return m_d->steps; }
int Schedule::order() const { return m_d->order; }
int Schedule::size() const { return static_cast<int>(m_d->t.size()); }
const at::Tensor &Schedule::timesteps() const { return m_d->timesteps; }
double Schedule::timestep(int index) const { return m_d->t.at(static_cast<size_t>(index)); }
const at::Tensor &Schedule::sigmas() const { return m_d->sigmas; }
bool Schedule::hasSigmas() const { return m_d->sigmas.defined(); }
const at::Tensor &Schedule::betas() const { return m_d->betas; }
const at::Tensor &Schedule::alphasCumprod() const { return m_d->alphasCumprod; }
double Schedule::initNoiseSigma() const { return m_d->initNoiseSigma; }
double Schedule::finalAlphaCumprod() const { return m_d->finalAlphaCumprod; }

int Schedule::startIndexForStrength(double strength) const
{
    strength = std::clamp(strength, 0.0, 1.0);
    const int N = m_d->steps;
    const int init = std::min(static_cast<int>(N * strength), N);
    const int start = std::max(N - init, 0);
    return std::min(start * m_d->order, size());
}

} // namespace stipple::core
