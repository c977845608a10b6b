// SamplingPlan: the pipeline's view of a sampler run — the immutable
// Schedule for (sampler name, schedule type, model scheduler config, steps)
// plus the operations the stages need (initial noise level, img2img start,
// add_noise, the loop itself). It hides core/schedulers' types behind a
// pimpl so that pipeline code can include model headers and scheduler
// headers in different translation units.
// Thread-safety: immutable after create(); run() keeps per-run state on its
// stack.
#pragma once

#include "core/common/Result.h"

#include <ATen/core/Generator.h>
#include <ATen/core/Tensor.h>
#include <nlohmann/json_fwd.hpp>

#include <functional>
#include <memory>
#include <string>

namespace stipple::core {

// (scaled input, exact timestep) -> raw model prediction (guidance applied).
using PlanModelFn = std::function<at::Tensor(const at::Tensor &scaledInput, double timestep)>;
// After each step: index into the timesteps, their count, mutable latents, x0
// estimate (may be undefined). Return false to stop.
using PlanStepFn = std::function<bool(int step, int total, at::Tensor &latents, const at::Tensor &denoised)>;

struct PlanRunResult {
    at::Tensor latents;
    bool cancelled = false;
    int modelCalls = 0;
};

class SamplingPlan {
public:
    // `schedulerConfig` is the model's diffusers scheduler_config.json; keys
    // in `overrides` replace its entries (e.g. {"timestep_spacing": "trailing"}).
    static Result<SamplingPlan> create(const std::string &sampler, const std::string &scheduleType,
                                       double eta, const nlohmann::json &schedulerConfig, int steps,
                                       const nlohmann::json *overrides = nullptr);

    std::string samplerName() const;   // canonical (A1111) name
    double initNoiseSigma() const;
    int size() const;                   // model calls of a full run
    int startIndexForStrength(double strength) const;
    double timestep(int index) const;
    bool vPrediction() const;

    // scheduler.add_noise(original, noise, timesteps[stepIndex]).
    at::Tensor addNoise(const at::Tensor &original, const at::Tensor &noise, int stepIndex) const;

    // The denoising loop from `startIndex` (see core/schedulers/Sampler.h).
    Result<PlanRunResult> run(const at::Tensor &latents, const PlanModelFn &model, int startIndex,
                              at::Generator generator, const PlanStepFn &onStep) const;

    struct Impl;

private:
    std::shared_ptr<const Impl> m_impl;
};

} // namespace stipple::core
