// Steppers of the multistep exponential-integrator samplers in the
// (alpha_t, sigma_t) = (1, sigma) / sqrt(sigma^2 + 1) parameterisation,
// following diffusers 0.25.0:
//  - DPMSolverMultistepScheduler, algorithm dpmsolver++, order 2, midpoint,
//    lower_order_final (Lu et al. 2022, "DPM-Solver++", algorithm 2);
//  - UniPCMultistepScheduler, bh2, order 2, predict_x0, corrector on every
//    step but the first (Zhao et al. 2023, "UniPC", algorithms 1-2).
// All scalar arithmetic is float32, as diffusers does it on 0-dim tensors.
#include "core/schedulers/Steppers.h"

#include <ATen/ATen.h>

#include <array>
#include <cmath>

namespace stipple::core::detail {

namespace {

struct AlphaSigma {
    float alpha;
    float sigma;
    float lambda; // log(alpha) - log(sigma)
};

// diffusers `_sigma_to_alpha_sigma_t` + lambda.
AlphaSigma alphaSigma(float sigma)
{
    AlphaSigma r;
    r.alpha = 1.0f / std::sqrt(sigma * sigma + 1.0f);
    r.sigma = sigma * r.alpha;
    r.lambda = tensorLog(r.alpha) - tensorLog(r.sigma);
    return r;
}

// diffusers `convert_model_output` (data prediction, x0).
at::Tensor lambdaX0(ModelOutputType p, const at::Tensor &out, const at::Tensor &x, float sigma)
{
    const AlphaSigma s = alphaSigma(sigma);
    switch (p) {
    case ModelOutputType::Epsilon:
        return (x - out * s.sigma) / s.alpha;
    case ModelOutputType::VPrediction:
        return x * s.alpha - out * s.sigma;
    case ModelOutputType::Sample:
        return out;
    }
    return out;
}

class DpmppTwoMStepper final : public Stepper {
public:
    using Stepper::Stepper;

    StepOutput step(const at::Tensor &out, int i, const at::Tensor &x) override
    {
        const int n = static_cast<int>(m_d.t.size());
        // lower_order_final: the last step is first order when there are < 15 steps.
        const bool lowerOrderFinal = i == n - 1 && n < 15;
        at::Tensor x0 = lambdaX0(m_d.config.predictionType, out, x, m_d.sigma[i]);
        m_outputs[0] = m_outputs[1];
        m_outputs[1] = x0;

        at::Tensor prev;
        if (m_lowerOrderNums < 1 || lowerOrderFinal) {
            // DPM-Solver++ first order (= DDIM in x0 form).
            const AlphaSigma t = alphaSigma(m_d.sigma[i + 1]);
            const AlphaSigma s = alphaSigma(m_d.sigma[i]);
            const float h = t.lambda - s.lambda;
            prev = x * (t.sigma / s.sigma) - x0 * (t.alpha * (tensorExp(-h) - 1.0f));
        } else {
            // Multistep second order, midpoint variant.
            const AlphaSigma t = alphaSigma(m_d.sigma[i + 1]);
            const AlphaSigma s0 = alphaSigma(m_d.sigma[i]);
            const AlphaSigma s1 = alphaSigma(m_d.sigma[i - 1]);
            const at::Tensor &m0 = m_outputs[1];
            const at::Tensor &m1 = m_outputs[0];
            const float h = t.lambda - s0.lambda;
            const float h0 = s0.lambda - s1.lambda;
            const float r0 = h0 / h;
            const at::Tensor d1 = (m0 - m1) * (1.0f / r0);
            const float phi = t.alpha * (tensorExp(-h) - 1.0f);
            prev = x * (t.sigma / s0.sigma) - m0 * phi - d1 * (0.5f * phi);
        }
        if (m_lowerOrderNums < 2)
            ++m_lowerOrderNums;
        return {prev, x0};
    }

private:
    std::array<at::Tensor, 2> m_outputs; // [older, newer] converted outputs
    int m_lowerOrderNums = 0;
};

class UniPcStepper final : public Stepper {
public:
    using Stepper::Stepper;

    StepOutput step(const at::Tensor &out, int i, const at::Tensor &xIn) override
    {
        const int n = static_cast<int>(m_d.t.size());
        const bool useCorrector = i > 0 && m_lastSample.defined();
        at::Tensor x0 = lambdaX0(m_d.config.predictionType, out, xIn, m_d.sigma[i]);
        at::Tensor x = xIn;
        if (useCorrector)
            x = corrector(x0, m_lastSample, xIn, m_thisOrder, i);
        m_outputs[0] = m_outputs[1];
        m_outputs[1] = x0;
        const int thisOrder = std::min(kSolverOrder, n - i); // lower_order_final
        m_thisOrder = std::min(thisOrder, m_lowerOrderNums + 1);
        m_lastSample = x;
        at::Tensor prev = predictor(x, m_thisOrder, i);
        if (m_lowerOrderNums < kSolverOrder)
            ++m_lowerOrderNums;
        return {prev, x0};
    }

private:
    static constexpr int kSolverOrder = 2;

    // B(h) = expm1(-h) (bh2) and the b vector of UniPC's linear system:
    // b_k = k! * phi_k(hh) / B(h) with phi_1 = expm1(hh)/hh - 1, phi_{k+1} = phi_k/hh - 1/(k+1)!.
    struct Coefficients {
        float hPhi1;
        float bh;
        std::array<float, 2> b;
    };
    static Coefficients coefficients(float h, int order)
    {
        Coefficients c{};
        const float hh = -h;
        c.hPhi1 = tensorExpm1(hh);
        float hPhiK = c.hPhi1 / hh - 1.0f;
        double factorial = 1;
        c.bh = tensorExpm1(hh);
        for (int k = 1; k <= order && k <= 2; ++k) {
            c.b[k - 1] = hPhiK * float(factorial) / c.bh;
            factorial *= k + 1;
            hPhiK = hPhiK / hh - float(1.0 / factorial);
        }
        return c;
    }

    // UniP-2 (multistep_uni_p_bh_update), order 1 or 2.
    at::Tensor predictor(const at::Tensor &x, int order, int i) const
    {
        const at::Tensor &m0 = m_outputs[1];
        const AlphaSigma t = alphaSigma(m_d.sigma[i + 1]);
        const AlphaSigma s0 = alphaSigma(m_d.sigma[i]);
        const float h = t.lambda - s0.lambda;
        const Coefficients c = coefficients(h, order);
        at::Tensor xt = x * (t.sigma / s0.sigma) - m0 * (t.alpha * c.hPhi1);
        if (order >= 2) {
            const AlphaSigma si = alphaSigma(m_d.sigma[i - 1]);
            const float rk = (si.lambda - s0.lambda) / h;
            const at::Tensor d1 = (m_outputs[0] - m0) / rk;
            const at::Tensor predRes = d1 * 0.5f; // rhos_p = [0.5] for order 2
            xt = xt - predRes * (t.alpha * c.bh);
        }
        return xt;
    }

    // UniC (multistep_uni_c_bh_update) with the model output at the new point.
    at::Tensor corrector(const at::Tensor &modelT, const at::Tensor &last, const at::Tensor &thisSample,
                         int order, int i) const
    {
        (void)thisSample;
        const at::Tensor &m0 = m_outputs[1];
        const AlphaSigma t = alphaSigma(m_d.sigma[i]);
        const AlphaSigma s0 = alphaSigma(m_d.sigma[i - 1]);
        const float h = t.lambda - s0.lambda;
        const Coefficients c = coefficients(h, order);
        at::Tensor xt = last * (t.sigma / s0.sigma) - m0 * (t.alpha * c.hPhi1);
        const at::Tensor d1t = modelT - m0;
        if (order == 1) {
            const float rhoC = 0.5f;
            return xt - (d1t * rhoC) * (t.alpha * c.bh);
        }
        // order 2: solve [[1, 1], [rk, 1]] rho = b.
        const AlphaSigma si = alphaSigma(m_d.sigma[i - 2]);
        const float rk = (si.lambda - s0.lambda) / h;
        const at::Tensor d1 = (m_outputs[0] - m0) / rk;
        // float32 LU solve, as torch.linalg.solve in diffusers.
        const at::Tensor r = at::tensor({1.0f, 1.0f, rk, 1.0f}, at::kFloat).view({2, 2});
        const at::Tensor b = at::tensor({c.b[0], c.b[1]}, at::kFloat);
        const at::Tensor rho = at::linalg_solve(r, b);
        const float rho0 = rho[0].item<float>(), rho1 = rho[1].item<float>();
        const at::Tensor corrRes = d1 * rho0;
        return xt - (corrRes + d1t * rho1) * (t.alpha * c.bh);
    }

    std::array<at::Tensor, 2> m_outputs; // [older, newer] converted outputs
    at::Tensor m_lastSample;
    int m_thisOrder = 1;
    int m_lowerOrderNums = 0;
};

} // namespace

std::unique_ptr<Stepper> makeMultistepStepper(const Schedule::Data &d, const at::Generator &g)
{
    switch (d.sampler.kind) {
    case SamplerKind::DpmppTwoM: return std::make_unique<DpmppTwoMStepper>(d, g);
    case SamplerKind::UniPc: return std::make_unique<UniPcStepper>(d, g);
    default: return nullptr;
    }
}

} // namespace stipple::core::detail
