// Sampler: runs the denoising loop of one Schedule. The model is a callback,
// so this layer knows nothing about UNets, conditioning or guidance.
//
//   auto spec = samplerFromName(request.sampler, request.scheduleType, request.eta);
//   auto schedule = Schedule::create(*spec, SchedulerConfig::fromJson(cfg).value(), steps);
//   at::Tensor x = torch::randn(shape, gen) * schedule->initNoiseSigma();       // txt2img
//   // img2img: start = schedule->startIndexForStrength(s);
//   //          x = addNoise(*schedule, 0.18215 * vaeSample, torch::randn(shape, gen), start);
//   SampleOptions opt{start, gen, onStep};
//   auto out = sample(*schedule, x, [&](const at::Tensor &xin, double t) { return cfgUnet(xin, t); }, opt);
//
// Parameterisation (eps / v / x0) comes from the schedule's config; the
// sampler converts the raw model output itself (k-diffusion style).
// Random numbers: stochastic samplers draw torch::randn(latents.sizes(),
// generator) (in the model output's dtype, as diffusers) in exactly diffusers' order: Euler a one draw
// per step (also the last); DDPM one per step with t > 0; DDIM with eta > 0
// one per step; DPM++ SDE one torch::randint(0, 2^63 - 1, {}) at its first
// model call, the entropy of a torchsde Brownian tree (BrownianTree.h) from
// which all its noise comes (diffusers DPMSolverSDEScheduler with
// noise_sampler_seed unset draws the same from torch's global generator, see
// SigmaSteppers.cpp). Plain Euler draws nothing (diffusers 0.25 draws and
// discards one tensor per step when given a generator; no output depends on it).
// Thread-safety: sample() keeps all per-run state on its stack; concurrent
// runs are fine if their callbacks and generators are not shared.
#pragma once

#include "core/common/Result.h"
#include "core/schedulers/Schedule.h"

#include <ATen/core/Generator.h>
#include <ATen/core/Tensor.h>

#include <functional>

namespace stipple::core {

// The model: returns its raw prediction (eps, v or x0, as the schedule's
// config says) for the scaled input at `timestep` (exact value of
// Schedule::timestep(i); may be fractional). Classifier-free guidance is
// applied by the caller inside. Called once per entry of timesteps() from the
// start index on.
using ModelFn = std::function<at::Tensor(const at::Tensor &scaledInput, double timestep)>;

// Called after every scheduler step (= after every model call).
//   step     index into Schedule::timesteps() of the step just taken, so
//            addNoise(schedule, init, noise, step) noises to the timestep just
//            used (what diffusers' legacy inpaint blends with).
//   total    Schedule::size().
//   latents  the new latents; the callback MAY modify them in place or assign
//            a new tensor of the same shape (legacy inpaint blending).
//   denoised the current x0 estimate (diffusers' pred_original_sample where it
//            has one), for previews.
// Return false to cancel: no further model call is made and the result is
// marked cancelled.
using StepCallback = std::function<bool(int step, int total, at::Tensor &latents, const at::Tensor &denoised)>;

struct SampleOptions {
    int startIndex = 0;        // into timesteps(); img2img: Schedule::startIndexForStrength()
    at::Generator generator;   // CPU generator for stochastic samplers (undefined: torch's default one)
    StepCallback onStep;       // optional
};

struct SampleResult {
    at::Tensor latents;        // final latents (the last ones when cancelled)
    bool cancelled = false;    // the callback returned false
    int modelCalls = 0;
};

// Thrown by a ModelFn / StepCallback to abort the run with its own error:
// sample() returns `error` unchanged (e.g. the UNet's OutOfMemory).
struct SamplerAbort {
    Error error;
};

// Runs the loop from options.startIndex to the end. `latents` must already
// carry the initial noise level (txt2img: randn * initNoiseSigma(); img2img:
// addNoise at the start index). Never throws: a SamplerAbort from a callback
// returns its error; c10::Error and other std::exception from the model or
// the step become ErrorCode::Internal ("can't allocate memory" and
// std::bad_alloc: ErrorCode::OutOfMemory).
// InvalidArgument: startIndex outside [0, size()] or not a multiple of
// order() (startIndex == size() returns the latents unchanged with zero model
// calls), undefined latents or model.
// The ModelFn must not modify its input tensor in place (for DDIM/PNDM/DDPM/
// DPM++ 2M/UniPC it is the latents themselves); the StepCallback may modify
// only the `latents` it is handed in that call.
Result<SampleResult> sample(const Schedule &schedule, const at::Tensor &latents,
                            const ModelFn &model, const SampleOptions &options = {});

// diffusers `add_noise` at timesteps()[stepIndex]:
//   sigma samplers (Euler, Euler a, LMS, Heun, DPM++ SDE): original + sigma * noise
//   alpha samplers (DDIM, PNDM, DDPM):
//                  sqrt(abar_t) * original + sqrt(1 - abar_t) * noise
//   DPM++ 2M, UniPC: alpha * original + sigma * alpha * noise with
//                  alpha = 1 / sqrt(sigma^2 + 1), sigma = sigmas()[stepIndex]
//                  (the same as above for non-Karras schedules)
// The result is in the sampler's own latent scale (sigma samplers: not divided
// by sqrt(sigma^2 + 1)). Throws c10::Error if stepIndex is outside [0, size()).
at::Tensor addNoise(const Schedule &schedule, const at::Tensor &original, const at::Tensor &noise, int stepIndex);

// The scaling applied to the latents before the model call at `stepIndex`
// (diffusers `scale_model_input`): x / sqrt(sigma^2 + 1) for the sigma
// samplers, x otherwise. sample() applies it; exposed for tests and tools.
at::Tensor scaleModelInput(const Schedule &schedule, const at::Tensor &latents, int stepIndex);

} // namespace stipple::core
