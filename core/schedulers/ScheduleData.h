// Internal: the contents of an immutable Schedule, shared by Schedule.cpp
// (which builds it) and the sampler implementations (which read it). Not part
// of the public interface; include Schedule.h / Sampler.h instead.
// Thread-safety: immutable after construction.
#pragma once

#include "core/schedulers/Schedule.h"

#include <ATen/core/Tensor.h>

#include <cstdint>
#include <vector>

namespace stipple::core {

// How a sampler parameterises noise levels.
enum class ScheduleFamily {
    Sigma,       // Euler, Euler a, LMS: x = x0 + sigma * eps, one model call per step
    Interleaved, // Heun, DPM++ SDE: like Sigma, two model calls per step
    Lambda,      // DPM++ 2M, UniPC: x = alpha * x0 + sigma_t * eps, alpha = 1/sqrt(sigma^2+1)
    Alpha,       // DDIM, PNDM, DDPM: indexed by integer timestep into alphas_cumprod
};

struct Schedule::Data {
    SamplerSpec sampler;
    SchedulerConfig config;       // spacing override applied
    ScheduleFamily family = ScheduleFamily::Sigma;
    int steps = 0;                // N
    int order = 1;
    int stepRatio = 1;            // T // N (diffusers' prev_timestep offset for DDIM/PNDM/DDPM)

    at::Tensor timesteps;         // diffusers dtype
    at::Tensor sigmas;            // float32 or undefined
    at::Tensor betas;             // float32 [T]
    at::Tensor alphasCumprod;     // float32 [T]

    std::vector<double> t;        // timesteps as doubles
    std::vector<float> sigma;     // sigmas as floats (empty for Alpha)
    std::vector<float> abar;      // alphas_cumprod as floats
    float finalAlphaCumprod = 1.0f;
    double initNoiseSigma = 1.0;
};

} // namespace stipple::core
