// Internal: the per-run state machines behind sample() (Sampler.cpp), one per
// algorithm. A Stepper is created for one run, owns that run's history (LMS
// derivatives, multistep model outputs, Heun's first-stage sample, PLMS ets)
// and reads the immutable Schedule::Data. Each step() mirrors the arithmetic
// order of the diffusers 0.25 `step()` it follows (float32 scalars, same
// operation sequence) so results agree to float rounding.
// Thread-safety: one Stepper per run, used by one thread.
#pragma once

#include "core/schedulers/ScheduleData.h"

#include <ATen/core/Generator.h>
#include <ATen/core/Tensor.h>

#include <memory>

namespace stipple::core::detail {

struct StepOutput {
    at::Tensor prev;     // latents after the step
    at::Tensor denoised; // x0 estimate (diffusers' pred_original_sample where it has one)
};

// Draws torch::randn(shape) from the run's generator (the default generator
// when it is undefined), in the caller's dtype/device.
at::Tensor drawNoise(const at::Generator &generator, const at::Tensor &like);

class Stepper {
public:
    virtual ~Stepper() = default;
    // diffusers scale_model_input for the model call at `index`.
    virtual at::Tensor scaleInput(const at::Tensor &x, int index) const;
    virtual StepOutput step(const at::Tensor &modelOutput, int index, const at::Tensor &x) = 0;

    Stepper(const Schedule::Data &d, at::Generator g) : m_d(d), m_gen(std::move(g)) {}

protected:
    const Schedule::Data &m_d;
    at::Generator m_gen;
};

std::unique_ptr<Stepper> makeStepper(const Schedule::Data &d, const at::Generator &generator);

// Per-family factories (SigmaSteppers.cpp, MultistepSteppers.cpp, AlphaSteppers.cpp).
std::unique_ptr<Stepper> makeSigmaStepper(const Schedule::Data &d, const at::Generator &generator);
std::unique_ptr<Stepper> makeMultistepStepper(const Schedule::Data &d, const at::Generator &generator);
std::unique_ptr<Stepper> makeAlphaStepper(const Schedule::Data &d, const at::Generator &generator);

// Scalar log / exp / expm1 evaluated like diffusers does, on a float32 0-dim
// tensor: ATen's kernels can differ from libm in the last bit, which would
// show up as 1e-6 differences after 50 steps.
float tensorLog(float v);
float tensorExp(float v);
float tensorExpm1(float v);

// Stateless scalings shared by Sampler.cpp (scaleModelInput / addNoise).
float scaleSigmaAt(const Schedule::Data &d, int index); // sigma whose sqrt(sigma^2+1) divides the input

} // namespace stipple::core::detail
