// The sampling loop, add_noise and scale_model_input (see Sampler.h).
#include "core/schedulers/Sampler.h"

#include "core/schedulers/Steppers.h"

#include <ATen/ATen.h>

#include <cmath>
#include <new>

namespace stipple::core {

namespace detail {

at::Tensor drawNoise(const at::Generator &generator, const at::Tensor &like)
{
    c10::optional<at::Generator> gen;
    if (generator.defined())
        gen = generator;
    return at::randn(like.sizes(), gen, like.options());
}

float tensorLog(float v) { return at::scalar_tensor(v, at::kFloat).log().item<float>(); }
float tensorExp(float v) { return at::scalar_tensor(v, at::kFloat).exp().item<float>(); }
float tensorExpm1(float v) { return at::scalar_tensor(v, at::kFloat).expm1().item<float>(); }

float scaleSigmaAt(const Schedule::Data &d, int i)
{
    if (d.sampler.kind == SamplerKind::DpmppSde && i % 2 == 1) {
        // Second stage of a DPM++ SDE step: the log-midpoint of sigma_{i-1} and sigma_i.
        const float t = -tensorLog(d.sigma[i - 1]);
        const float tNext = -tensorLog(d.sigma[i]);
        return tensorExp(-(t + (tNext - t) * 0.5f));
    }
    return d.sigma[i];
}

at::Tensor Stepper::scaleInput(const at::Tensor &x, int i) const
{
    if (m_d.family == ScheduleFamily::Sigma || m_d.family == ScheduleFamily::Interleaved) {
        const float s = m_d.sigma[i];
        return x / std::sqrt(s * s + 1.0f);
    }
    return x;
}

std::unique_ptr<Stepper> makeStepper(const Schedule::Data &d, const at::Generator &g)
{
    switch (d.family) {
    case ScheduleFamily::Sigma:
    case ScheduleFamily::Interleaved:
        return makeSigmaStepper(d, g);
    case ScheduleFamily::Lambda:
        return makeMultistepStepper(d, g);
    case ScheduleFamily::Alpha:
        return makeAlphaStepper(d, g);
    }
    return nullptr;
}

} // namespace detail

namespace {

Error torchError(const c10::Error &e)
{
    const std::string what = e.what_without_backtrace();
    if (what.find("can't allocate memory") != std::string::npos ||
        what.find("out of memory") != std::string::npos)
        return makeError(ErrorCode::OutOfMemory, "sampling: " + what);
    return makeError(ErrorCode::Internal, "sampling: " + what);
}

} // namespace

Result<SampleResult> sample(const Schedule &schedule, const at::Tensor &latents, const ModelFn &model,
                            const SampleOptions &options)
{
    const Schedule::Data &d = schedule.data();
    const int n = schedule.size();
    const int start = options.startIndex;
    if (start < 0 || start > n)
        return makeError(ErrorCode::InvalidArgument,
                         "start index " + std::to_string(start) + " outside [0, " + std::to_string(n) + "]");
    if (start % d.order != 0 && start != n)
        return makeError(ErrorCode::InvalidArgument, "start index must be a multiple of the sampler order");
    if (!latents.defined() || !latents.is_floating_point())
        return makeError(ErrorCode::InvalidArgument, "latents must be a floating-point tensor");
    if (!model)
        return makeError(ErrorCode::InvalidArgument, "no model callback");

    try {
        at::NoGradGuard noGrad;
        std::unique_ptr<detail::Stepper> stepper = detail::makeStepper(d, options.generator);
        if (!stepper)
            return makeError(ErrorCode::Internal, "no stepper for " + d.sampler.name);
        SampleResult result;
        at::Tensor x = latents;
        for (int i = start; i < n; ++i) {
            const at::Tensor input = stepper->scaleInput(x, i);
            const at::Tensor out = model(input, d.t[i]);
            ++result.modelCalls;
            if (!out.defined() || out.sizes() != x.sizes())
                return makeError(ErrorCode::Internal, "model output shape does not match the latents");
            detail::StepOutput step = stepper->step(out, i, x);
            x = step.prev;
            if (options.onStep && !options.onStep(i, n, x, step.denoised)) {
                result.cancelled = true;
                break;
            }
        }
        result.latents = x;
        return result;
    } catch (const SamplerAbort &abort) {
        return abort.error;
    } catch (const c10::Error &e) {
        return torchError(e);
    } catch (const std::bad_alloc &) {
        return makeError(ErrorCode::OutOfMemory, "sampling: out of memory");
    } catch (const std::exception &e) {
        return makeError(ErrorCode::Internal, std::string("sampling: ") + e.what());
    }
}

at::Tensor addNoise(const Schedule &schedule, const at::Tensor &original, const at::Tensor &noise, int i)
{
    const Schedule::Data &d = schedule.data();
    TORCH_CHECK(i >= 0 && i < schedule.size(), "addNoise: step index ", i, " outside [0, ", schedule.size(), ")");
    switch (d.family) {
    case ScheduleFamily::Sigma:
    case ScheduleFamily::Interleaved:
        return original + noise * d.sigma[i];
    case ScheduleFamily::Lambda: {
        // DPMSolverMultistep/UniPC add_noise: alpha_t x + sigma_t noise from sigmas[i].
        const float s = d.sigma[i];
        const float alpha = 1.0f / std::sqrt(s * s + 1.0f);
        const float sigmaT = s * alpha;
        return original * alpha + noise * sigmaT;
    }
    case ScheduleFamily::Alpha: {
        const float abar = d.abar.at(static_cast<size_t>(d.t[i]));
        return original * std::sqrt(abar) + noise * std::sqrt(1.0f - abar);
    }
    }
    return original;
}

at::Tensor scaleModelInput(const Schedule &schedule, const at::Tensor &latents, int i)
{
    const Schedule::Data &d = schedule.data();
    TORCH_CHECK(i >= 0 && i < schedule.size(), "scaleModelInput: step index ", i, " outside [0, ",
                schedule.size(), ")");
    if (d.family == ScheduleFamily::Sigma || d.family == ScheduleFamily::Interleaved) {
        const float s = detail::scaleSigmaAt(d, i);
        return latents / std::sqrt(s * s + 1.0f);
    }
    return latents;
}

} // namespace stipple::core
