// Schedule: the immutable plan of one sampling run, built from (sampler,
// model scheduler config, number of steps): the model timesteps in call
// order, the noise levels, the training tables and init_noise_sigma, exactly
// as diffusers 0.25's scheduler `set_timesteps` computes them. A Schedule
// holds no per-run state (step counters, solver history and the random
// generator live in sample(), see Sampler.h), so one Schedule can serve many
// runs, batches and threads.
// Thread-safety: immutable after create(); copies share the data; all const
// methods may be called concurrently. Never write into the returned tensors.
#pragma once

#include "core/common/Result.h"
#include "core/schedulers/SamplerRegistry.h"
#include "core/schedulers/SchedulerConfig.h"

#include <ATen/core/Tensor.h>

#include <memory>

namespace stipple::core {

class Schedule {
public:
    // Builds the schedule for `steps` inference steps (1..numTrainTimesteps).
    // The sampler's spacing override, if any, replaces config.timestepSpacing.
    // Errors (InvalidArgument): steps out of range, timesteps that would fall
    // outside the training range (e.g. a large steps_offset), Karras with an
    // alpha sampler. rescale_betas_zero_snr is honoured where diffusers 0.25
    // honours it (DDIM, DDPM, Euler, Euler a) and ignored with a warning
    // elsewhere.
    static Result<Schedule> create(const SamplerSpec &sampler, const SchedulerConfig &config, int steps);

    const SamplerSpec &sampler() const;
    const SchedulerConfig &config() const;  // with the spacing override applied
    int steps() const;                      // N, as requested

    // diffusers' `scheduler.order`: 2 for Heun and DPM++ SDE (two model calls
    // per step, timesteps interleaved), 1 otherwise (multistep solvers keep
    // their history in the run, not in the schedule).
    int order() const;

    // Number of model calls of a full run = timesteps().size(0):
    // N for most, N + 1 for PLMS (its 2nd timestep repeats), 2N - 1 for
    // Heun / DPM++ SDE.
    int size() const;

    // The model timesteps in call order, dtype as diffusers: int64 for
    // DDIM/PNDM/DDPM/DPM++ 2M/UniPC (Karras: rounded sigma->t inversion),
    // float32 for Euler/Euler a/LMS/Heun, float64 for DPM++ SDE and for
    // LMS/Heun with Karras sigmas (fractional for Karras sigmas, linspace
    // spacing and the SDE midpoints).
    const at::Tensor &timesteps() const;
    double timestep(int index) const;       // timesteps()[index] as a double (exact)

    // Noise levels sigma = sqrt((1 - abar) / abar) at each timestep, float32,
    // for the sigma-parameterised samplers (Euler, Euler a, LMS, Heun,
    // DPM++ 2M, DPM++ SDE, UniPC), with the final level appended (0; for
    // DPM++ 2M / UniPC sigma(t=0), or the last Karras sigma repeated):
    // size() + 1 entries
    // (Heun/SDE: interleaved as diffusers). Undefined tensor for DDIM/PNDM/DDPM.
    const at::Tensor &sigmas() const;
    bool hasSigmas() const;

    // Training tables (float32, numTrainTimesteps entries).
    const at::Tensor &betas() const;
    const at::Tensor &alphasCumprod() const;

    // Standard deviation of the initial noise: txt2img latents are
    // randn(shape) * initNoiseSigma(). 1 for DDIM/PNDM/DDPM/DPM++ 2M/UniPC;
    // for Euler/Euler a/LMS/Heun/DPM++ SDE sigma_max with linspace/trailing
    // spacing and sqrt(sigma_max^2 + 1) with leading spacing (diffusers 0.25
    // quirk kept).
    double initNoiseSigma() const;

    // DDIM/PNDM: the alpha_cumprod used before t = 0 (1 or alphas_cumprod[0]).
    double finalAlphaCumprod() const;

    // img2img (diffusers `get_timesteps`): init = min(int(N * strength), N),
    // start = N - init; returns start * order(), the index into timesteps()
    // where sampling begins (== size() when strength is 0: nothing to do).
    // strength is clamped to [0, 1].
    int startIndexForStrength(double strength) const;

    struct Data; // implementation detail (Schedule.cpp)
    const Data &data() const { return *m_d; }

private:
    explicit Schedule(std::shared_ptr<const Data> d) : m_d(std::move(d)) {}
    std::shared_ptr<const Data> m_d;
};

} // namespace stipple::core
