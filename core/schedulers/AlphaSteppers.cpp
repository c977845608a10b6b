// Steppers of the samplers indexed by integer timestep into alphas_cumprod
// (x_t = sqrt(abar_t) x0 + sqrt(1 - abar_t) eps), following diffusers 0.25.0:
//  - DDIMScheduler (Song et al. 2021, eq. 12; eta scales sigma_t of eq. 16);
//  - PNDMScheduler with skip_prk_steps = PLMS (Liu et al. 2022, eq. 12-13
//    for the transfer, Adams-Bashforth combinations of past eps);
//  - DDPMScheduler, variance "fixed_small" (Ho et al. 2020, eq. 6-7).
// The previous timestep is t - T // N for every spacing (a diffusers 0.25
// behaviour kept for parity). Scalar arithmetic is float32 as in diffusers.
#include "core/schedulers/Steppers.h"

#include <ATen/ATen.h>

#include <cmath>
#include <vector>

namespace stipple::core::detail {

namespace {

float abarAt(const Schedule::Data &d, int64_t t) { return d.abar.at(static_cast<size_t>(t)); }

// x0 and eps from the raw model output (DDIM/DDPM `pred_original_sample`).
struct X0Eps {
    at::Tensor x0;
    at::Tensor eps;
};

X0Eps alphaX0Eps(ModelOutputType p, const at::Tensor &out, const at::Tensor &x, float abar)
{
    const float beta = 1.0f - abar;
    const float sa = std::sqrt(abar), sb = std::sqrt(beta);
    switch (p) {
    case ModelOutputType::Epsilon:
        return {(x - out * sb) / sa, out};
    case ModelOutputType::Sample:
        return {out, (x - out * sa) / sb};
    case ModelOutputType::VPrediction:
        return {x * sa - out * sb, out * sa + x * sb};
    }
    return {out, out};
}

at::Tensor clipX0(const Schedule::Data &d, at::Tensor x0)
{
    if (d.config.clipSample)
        return x0.clamp(-d.config.clipSampleRange, d.config.clipSampleRange);
    return x0;
}

class DdimStepper final : public Stepper {
public:
    using Stepper::Stepper;
    StepOutput step(const at::Tensor &out, int i, const at::Tensor &x) override
    {
        const int64_t t = static_cast<int64_t>(m_d.t[i]);
        const int64_t prevT = t - m_d.stepRatio;
        const float abarT = abarAt(m_d, t);
        const float abarPrev = prevT >= 0 ? abarAt(m_d, prevT) : m_d.finalAlphaCumprod;
        const float betaT = 1.0f - abarT;
        X0Eps pe = alphaX0Eps(m_d.config.predictionType, out, x, abarT);
        pe.x0 = clipX0(m_d, pe.x0);
        const float betaPrev = 1.0f - abarPrev;
        const float variance = betaPrev / betaT * (1.0f - abarT / abarPrev);
        const float eta = static_cast<float>(m_d.sampler.eta);
        const float stdDev = eta * std::sqrt(variance);
        const at::Tensor direction = pe.eps * std::sqrt(1.0f - abarPrev - stdDev * stdDev);
        at::Tensor prev = pe.x0 * std::sqrt(abarPrev) + direction;
        if (m_d.sampler.eta > 0) {
            at::Tensor noise = drawNoise(m_gen, out);
            prev = prev + noise * stdDev;
        }
        return {prev, pe.x0};
    }
};

class DdpmStepper final : public Stepper {
public:
    using Stepper::Stepper;
    StepOutput step(const at::Tensor &out, int i, const at::Tensor &x) override
    {
        const int64_t t = static_cast<int64_t>(m_d.t[i]);
        const int64_t prevT = t - m_d.stepRatio;
        const float abarT = abarAt(m_d, t);
        const float abarPrev = prevT >= 0 ? abarAt(m_d, prevT) : 1.0f;
        const float betaT = 1.0f - abarT;
        const float betaPrev = 1.0f - abarPrev;
        const float curAlpha = abarT / abarPrev;
        const float curBeta = 1.0f - curAlpha;
        X0Eps pe = alphaX0Eps(m_d.config.predictionType, out, x, abarT);
        pe.x0 = clipX0(m_d, pe.x0);
        const float cx0 = std::sqrt(abarPrev) * curBeta / betaT;
        const float cx = std::sqrt(curAlpha) * betaPrev / betaT;
        at::Tensor prev = pe.x0 * cx0 + x * cx;
        if (t > 0) {
            at::Tensor noise = drawNoise(m_gen, out);
            // fixed_small: posterior variance (1 - abar_prev) / (1 - abar_t) * beta_t, clamped.
            const float beta = 1.0f - abarT / abarPrev;
            float variance = (1.0f - abarPrev) / (1.0f - abarT) * beta;
            variance = std::max(variance, 1e-20f);
            prev = prev + noise * std::sqrt(variance);
        }
        return {prev, pe.x0};
    }
};

class PlmsStepper final : public Stepper {
public:
    using Stepper::Stepper;
    StepOutput step(const at::Tensor &out, int i, const at::Tensor &xIn) override
    {
        int64_t t = static_cast<int64_t>(m_d.t[i]);
        int64_t prevT = t - m_d.stepRatio;
        // Preview: x0 of this model call at its own timestep.
        at::Tensor x0 = alphaX0Eps(m_d.config.predictionType, out, xIn, abarAt(m_d, t)).x0;

        if (m_counter != 1) {
            if (m_ets.size() > 3)
                m_ets.erase(m_ets.begin(), m_ets.end() - 3);
            m_ets.push_back(out);
        } else {
            // The repeated timestep: redo the first step with the averaged eps.
            prevT = t;
            t = t + m_d.stepRatio;
        }
        at::Tensor x = xIn;
        at::Tensor eps;
        const size_t n = m_ets.size();
        if (n == 1 && m_counter == 0) {
            eps = out;
            m_curSample = xIn;
        } else if (n == 1 && m_counter == 1) {
            eps = (out + m_ets.back()) / 2;
            x = m_curSample;
            m_curSample = at::Tensor();
        } else if (n == 2) {
            eps = (m_ets[n - 1] * 3 - m_ets[n - 2]) / 2;
        } else if (n == 3) {
            eps = (m_ets[n - 1] * 23 - m_ets[n - 2] * 16 + m_ets[n - 3] * 5) / 12;
        } else {
            eps = (m_ets[n - 1] * 55 - m_ets[n - 2] * 59 + m_ets[n - 3] * 37 - m_ets[n - 4] * 9) * (1.0 / 24);
        }
        at::Tensor prev = prevSample(x, t, prevT, eps);
        ++m_counter;
        return {prev, x0};
    }

private:
    // PNDM `_get_prev_sample` (Liu et al. 2022, eq. 11).
    at::Tensor prevSample(const at::Tensor &x, int64_t t, int64_t prevT, at::Tensor out) const
    {
        const float abarT = abarAt(m_d, t);
        const float abarPrev = prevT >= 0 ? abarAt(m_d, prevT) : m_d.finalAlphaCumprod;
        const float betaT = 1.0f - abarT;
        const float betaPrev = 1.0f - abarPrev;
        if (m_d.config.predictionType == ModelOutputType::VPrediction)
            out = out * std::sqrt(abarT) + x * std::sqrt(betaT);
        else if (m_d.config.predictionType == ModelOutputType::Sample)
            out = (x - out * std::sqrt(abarT)) / std::sqrt(betaT);
        const float sampleCoeff = std::sqrt(abarPrev / abarT);
        const float denom = abarT * std::sqrt(betaPrev) + std::sqrt(abarT * betaT * abarPrev);
        return x * sampleCoeff - out * (abarPrev - abarT) / denom;
    }

    std::vector<at::Tensor> m_ets;
    at::Tensor m_curSample;
    int m_counter = 0;
};

} // namespace

std::unique_ptr<Stepper> makeAlphaStepper(const Schedule::Data &d, const at::Generator &g)
{
    switch (d.sampler.kind) {
    case SamplerKind::Ddim: return std::make_unique<DdimStepper>(d, g);
    case SamplerKind::Ddpm: return std::make_unique<DdpmStepper>(d, g);
    case SamplerKind::Pndm: return std::make_unique<PlmsStepper>(d, g);
    default: return nullptr;
    }
}

} // namespace stipple::core::detail
