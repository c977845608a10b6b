// Steppers of the sigma-parameterised samplers, x = x0 + sigma * eps
// (Karras et al. 2022 "Elucidating the Design Space", k-diffusion), following
// diffusers 0.25.0: EulerDiscreteScheduler, EulerAncestralDiscreteScheduler,
// LMSDiscreteScheduler, HeunDiscreteScheduler, DPMSolverSDEScheduler.
#include "core/schedulers/Steppers.h"

#include "core/schedulers/BrownianTree.h"

#include <ATen/ATen.h>

#include <cmath>
#include <deque>
#include <limits>
#include <memory>

namespace stipple::core::detail {

namespace {

// The denoiser D(x, sigma): x0 from the raw model output in sigma space
// (diffusers `pred_original_sample`; v: Salimans & Ho 2022 with the input
// scaled by 1/sqrt(sigma^2+1)).
at::Tensor sigmaX0(ModelOutputType p, const at::Tensor &out, const at::Tensor &x, float sigma)
{
    switch (p) {
    case ModelOutputType::Epsilon:
        return x - out * sigma;
    case ModelOutputType::VPrediction: {
        const float c = sigma * sigma + 1.0f;
        const float a = -sigma / std::sqrt(c);
        return out * a + x / c;
    }
    case ModelOutputType::Sample:
        return out;
    }
    return out;
}

// Euler (Karras et al. 2022, algorithm 2 with s_churn = 0): x += (x - x0)/sigma * dt.
// diffusers 0.25 also draws (and discards) one noise tensor per step for its
// unused churn; we do not (nothing after the loop draws, outputs are equal).
class EulerStepper final : public Stepper {
public:
    using Stepper::Stepper;
    StepOutput step(const at::Tensor &out, int i, const at::Tensor &x) override
    {
        const float sigma = m_d.sigma[i];
        const float sigmaHat = sigma * (0.0f + 1.0f); // gamma = 0: sigma_hat == sigma
        at::Tensor x0 = sigmaX0(m_d.config.predictionType, out, x, sigmaHat);
        at::Tensor derivative = (x - x0) / sigmaHat;
        const float dt = m_d.sigma[i + 1] - sigmaHat;
        return {x + derivative * dt, x0};
    }
};

// Euler ancestral (k-diffusion sample_euler_ancestral, eta = 1): step to
// sigma_down, then add sigma_up * noise; one randn per step, also the last.
class EulerAncestralStepper final : public Stepper {
public:
    using Stepper::Stepper;
    StepOutput step(const at::Tensor &out, int i, const at::Tensor &x) override
    {
        const float sigma = m_d.sigma[i];
        at::Tensor x0 = sigmaX0(m_d.config.predictionType, out, x, sigma);
        const float from = m_d.sigma[i], to = m_d.sigma[i + 1];
        const float up = std::sqrt(to * to * (from * from - to * to) / (from * from));
        const float down = std::sqrt(to * to - up * up);
        at::Tensor derivative = (x - x0) / sigma;
        const float dt = down - sigma;
        at::Tensor prev = x + derivative * dt;
        at::Tensor noise = drawNoise(m_gen, out);
        return {prev + noise * up, x0};
    }
};

// Linear multistep (Karras et al. 2022 / k-diffusion sample_lms, order 4):
// x += sum_j c_j d_{i-j}, c_j = integral over [sigma_i, sigma_{i+1}] of the
// Lagrange basis polynomial through sigma_i..sigma_{i-order+1}. diffusers
// integrates with scipy's quad (QUADPACK dqags, whose first 21-point
// Gauss-Kronrod rule already meets epsrel 1e-4 for these cubics) over an
// integrand it evaluates in float32; we apply the same rule to the same
// float32 integrand, so the coefficients agree to the last bit.
class LmsStepper final : public Stepper {
public:
    using Stepper::Stepper;
    StepOutput step(const at::Tensor &out, int i, const at::Tensor &x) override
    {
        const float sigma = m_d.sigma[i];
        at::Tensor x0 = sigmaX0(m_d.config.predictionType, out, x, sigma);
        m_derivatives.push_back((x - x0) / sigma);
        if (m_derivatives.size() > kOrder)
            m_derivatives.pop_front();
        const int order = std::min(i + 1, kOrder);
        at::Tensor acc;
        // zip(coeffs, reversed(derivatives)): the shorter list decides.
        const int terms = std::min<int>(order, static_cast<int>(m_derivatives.size()));
        for (int j = 0; j < terms; ++j) {
            const double c = coefficient(order, i, j);
            const at::Tensor &d = m_derivatives[m_derivatives.size() - 1 - j];
            acc = acc.defined() ? acc + d * c : d * c;
        }
        return {x + acc, x0};
    }

private:
    static constexpr int kOrder = 4;

    // prod_{k != current} (tau - s_{t-k}) / (s_{t-current} - s_{t-k}), in float32.
    double basis(double tau, int order, int t, int current) const
    {
        const float tauF = static_cast<float>(tau);
        float prod = 1.0f;
        for (int k = 0; k < order; ++k) {
            if (k == current)
                continue;
            const float sk = m_d.sigma[t - k];
            const float term = (tauF - sk) / (m_d.sigma[t - current] - sk);
            prod = prod * term;
        }
        return prod;
    }

    // QUADPACK dqk21 (Piessens et al. 1983): 21-point Kronrod rule.
    double coefficient(int order, int t, int current) const
    {
        static const double xgk[11] = {
            0.995657163025808080735527280689003, 0.973906528517171720077964012084452,
            0.930157491355708226001207180059508, 0.865063366688984510732096688423493,
            0.780817726586416897063717578345042, 0.679409568299024406234327365114874,
            0.562757134668604683339000099272694, 0.433395394129247190799265943165784,
            0.294392862701460198131126603103866, 0.148874338981631210884826001129720, 0.0};
        static const double wgk[11] = {
            0.011694638867371874278064396062192, 0.032558162307964727478818972459390,
            0.054755896574351996031381300244580, 0.075039674810919952767043140916190,
            0.093125454583697605535065465083366, 0.109387158802297641899210590325805,
            0.123491976262065851077600525278844, 0.134709217311473325928054001771707,
            0.142775938577060080797094273138717, 0.147739104901338491374841515972068,
            0.149445554002916905664936468389821};
        const double a = m_d.sigma[t], b = m_d.sigma[t + 1];
        const double centr = 0.5 * (a + b);
        const double hlgth = 0.5 * (b - a);
        double resk = wgk[10] * basis(centr, order, t, current);
        for (int j = 1; j <= 5; ++j) { // Gauss nodes (Fortran indices 2, 4, ..., 10)
            const double absc = hlgth * xgk[2 * j - 1];
            const double fsum = basis(centr - absc, order, t, current) + basis(centr + absc, order, t, current);
            resk += wgk[2 * j - 1] * fsum;
        }
        for (int j = 1; j <= 5; ++j) { // Kronrod nodes (1, 3, ..., 9)
            const double absc = hlgth * xgk[2 * j - 2];
            const double fsum = basis(centr - absc, order, t, current) + basis(centr + absc, order, t, current);
            resk += wgk[2 * j - 2] * fsum;
        }
        return resk * hlgth;
    }

    std::deque<at::Tensor> m_derivatives;
};

// Heun (Karras et al. 2022, algorithm 1 with s_churn = 0): two model calls per
// step; the timesteps/sigmas are interleaved so even indices are the Euler
// predictor and odd ones the trapezoidal corrector. The last step (to sigma
// 0) is a plain Euler step.
class HeunStepper final : public Stepper {
public:
    using Stepper::Stepper;
    StepOutput step(const at::Tensor &out, int i, const at::Tensor &x) override
    {
        const bool first = !m_sample.defined();
        const float sigma = first ? m_d.sigma[i] : m_d.sigma[i - 1];
        const float sigmaNext = first ? m_d.sigma[i + 1] : m_d.sigma[i];
        const float sigmaHat = sigma * (0.0f + 1.0f);
        const float sigmaInput = first ? sigmaHat : sigmaNext;
        at::Tensor x0 = sigmaX0(m_d.config.predictionType, out, x, sigmaInput);
        if (m_d.config.clipSample)
            x0 = x0.clamp(-m_d.config.clipSampleRange, m_d.config.clipSampleRange);
        if (first) {
            at::Tensor derivative = (x - x0) / sigmaHat;
            const float dt = sigmaNext - sigmaHat;
            m_prevDerivative = derivative;
            m_dt = dt;
            m_sample = x;
            return {x + derivative * dt, x0};
        }
        at::Tensor derivative = (x - x0) / sigmaNext;
        derivative = (m_prevDerivative + derivative) / 2;
        at::Tensor sample = m_sample;
        const float dt = m_dt;
        m_prevDerivative = at::Tensor();
        m_sample = at::Tensor();
        return {sample + derivative * dt, x0};
    }

private:
    at::Tensor m_prevDerivative;
    at::Tensor m_sample; // defined while between the two stages of a step
    float m_dt = 0.0f;
};

// DPM-Solver++(2S) SDE with midpoint r = 1/2 (k-diffusion sample_dpmpp_sde,
// diffusers DPMSolverSDEScheduler): stage 1 goes from sigma to the
// log-midpoint sigma_mid with an ancestral step, stage 2 restarts from the
// stage-1 input with the midpoint's x0 to sigma_next, again ancestral.
//
// Noise: diffusers' BrownianTreeNoiseSampler. At the first step a torchsde
// Brownian tree (BrownianTree.h) is built over [min sigma > 0, max sigma] of
// the whole schedule, with the latents' shape and dtype, seeded with
// torch.randint(0, 2^63 - 1, []) drawn from the run's generator (diffusers
// draws it from torch's global generator when noise_sampler_seed is unset,
// which is the pipeline's generator when that is torch.manual_seed(seed)).
// Each ancestral step from sigma_a to sigma_b adds
// sigma_up * (W(sigma_b) - W(sigma_a)) / sqrt|sigma_b - sigma_a|, with
// sigma_a/b = exp(-t) recomputed in float32 as diffusers does.
class DpmppSdeStepper final : public Stepper {
public:
    using Stepper::Stepper;

    at::Tensor scaleInput(const at::Tensor &x, int i) const override
    {
        const float s = m_sample.defined() ? m_midSigma : m_d.sigma[i];
        return x / std::sqrt(s * s + 1.0f);
    }

    StepOutput step(const at::Tensor &out, int i, const at::Tensor &xIn) override
    {
        if (!m_tree) // diffusers creates it (and draws its seed) first thing, also before a final step
            createTree(xIn);
        const bool first = !m_sample.defined();
        const float sigma = first ? m_d.sigma[i] : m_d.sigma[i - 1];
        const float sigmaNext = first ? m_d.sigma[i + 1] : m_d.sigma[i];
        auto sigmaFn = [](float t) { return tensorExp(-t); };
        auto tFn = [](float s) { return -tensorLog(s); };
        const float t = tFn(sigma);
        float tNext = tFn(sigmaNext);
        const float delta = tNext - t;
        const float tProposed = t + delta * 0.5f;
        const float sigmaInput = first ? sigma : sigmaFn(tProposed);
        at::Tensor x0 = sigmaX0(m_d.config.predictionType, out, xIn, sigmaInput);

        if (sigmaNext == 0.0f) {
            at::Tensor derivative = (xIn - x0) / sigma;
            const float dt = sigmaNext - sigma;
            return {xIn + derivative * dt, x0};
        }
        at::Tensor sample = xIn;
        if (first)
            tNext = tProposed;
        else
            sample = m_sample;
        const float from = sigmaFn(t), to = sigmaFn(tNext);
        const float up = std::min(to, std::sqrt(to * to * (from * from - to * to) / (from * from)));
        const float down = std::sqrt(to * to - up * up);
        const float ancestralT = tFn(down);
        const float ratio = sigmaFn(ancestralT) / sigmaFn(t);
        const float expm1 = tensorExpm1(t - ancestralT);
        at::Tensor prev = sample * ratio - x0 * expm1;
        prev = prev + treeNoise(sigmaFn(t), sigmaFn(tNext)) * up;
        if (first) {
            m_sample = sample;
            m_midSigma = sigmaFn(tNext);
        } else {
            m_sample = at::Tensor();
        }
        return {prev, x0};
    }

private:
    // diffusers step(): BrownianTreeNoiseSampler(sample, sigmas[sigmas > 0].min(),
    // sigmas.max(), noise_sampler_seed = None) on the first call.
    void createTree(const at::Tensor &like)
    {
        float lo = std::numeric_limits<float>::infinity();
        float hi = -std::numeric_limits<float>::infinity();
        for (float s : m_d.sigma) {
            if (s > 0.0f)
                lo = std::min(lo, s);
            hi = std::max(hi, s);
        }
        c10::optional<at::Generator> gen;
        if (m_gen.defined())
            gen = m_gen;
        // torch.randint(0, 2**63 - 1, []).item()
        const int64_t entropy = at::randint(0, std::numeric_limits<int64_t>::max(), {}, gen, at::kLong).item<int64_t>();
        m_tree = std::make_unique<BrownianTree>(lo, hi, static_cast<uint64_t>(entropy), like.sizes(),
                                                like.scalar_type());
        m_device = like.device(); // the tree lives on the CPU
    }

    // BrownianTreeNoiseSampler(a, b) = BatchedBrownianTree(a, b) / |b - a|.sqrt():
    // the tree is queried on the sorted pair and the result negated when the
    // order was reversed (sigmas decrease, so always here); the divisor is a
    // float32 0-dim tensor like diffusers'.
    at::Tensor treeNoise(float a, float b)
    {
        const bool reversed = !(a < b);
        at::Tensor w = m_tree->increment(reversed ? b : a, reversed ? a : b);
        w = w.to(m_device) * (reversed ? -1 : 1);
        const at::Tensor span = (at::scalar_tensor(b, at::kFloat) - at::scalar_tensor(a, at::kFloat)).abs().sqrt();
        return w / span;
    }

    at::Tensor m_sample; // defined between the two stages
    float m_midSigma = 0.0f;
    std::unique_ptr<BrownianTree> m_tree; // created at the first step
    at::Device m_device = at::kCPU;
};

} // namespace

std::unique_ptr<Stepper> makeSigmaStepper(const Schedule::Data &d, const at::Generator &g)
{
    switch (d.sampler.kind) {
    case SamplerKind::Euler: return std::make_unique<EulerStepper>(d, g);
    case SamplerKind::EulerAncestral: return std::make_unique<EulerAncestralStepper>(d, g);
    case SamplerKind::Lms: return std::make_unique<LmsStepper>(d, g);
    case SamplerKind::Heun: return std::make_unique<HeunStepper>(d, g);
    case SamplerKind::DpmppSde: return std::make_unique<DpmppSdeStepper>(d, g);
    default: return nullptr;
    }
}

} // namespace stipple::core::detail
