// Sampler names: which sampling algorithm a request asks for. Accepts the
// AUTOMATIC1111 names ("Euler a", "DPM++ 2M Karras", ...), the diffusers
// scheduler class names ("EulerAncestralDiscreteScheduler", ...) and the
// stable-diffusion.cpp CLI names ("euler_a", "dpm++2m", ...) that map onto an
// implemented algorithm. Names are matched case-insensitively.
// Thread-safety: pure functions over constant tables.
#pragma once

#include "core/common/Result.h"
#include "core/schedulers/SchedulerConfig.h"

#include <optional>
#include <string>
#include <vector>

namespace stipple::core {

// The algorithms, each following one diffusers 0.25 scheduler class.
enum class SamplerKind {
    Euler,          // EulerDiscreteScheduler
    EulerAncestral, // EulerAncestralDiscreteScheduler (stochastic)
    Lms,            // LMSDiscreteScheduler (order 4)
    Heun,           // HeunDiscreteScheduler (2 model calls per step)
    DpmppTwoM,      // DPMSolverMultistepScheduler, dpmsolver++, order 2, midpoint
    DpmppSde,       // DPMSolverSDEScheduler (stochastic, 2 model calls per step)
    Ddim,           // DDIMScheduler (stochastic when eta > 0)
    Pndm,           // PNDMScheduler with skip_prk_steps (PLMS)
    Ddpm,           // DDPMScheduler, fixed_small variance (stochastic)
    UniPc,          // UniPCMultistepScheduler, bh2, order 2
};

struct SamplerSpec {
    SamplerKind kind = SamplerKind::EulerAncestral;
    bool karras = false;  // Karras et al. 2022 sigmas (rho 7); Lms, DpmppTwoM, DpmppSde, Heun, Euler
    double eta = 0.0;     // Ddim only: 0 = deterministic DDIM, 1 = DDPM-like
    // Overrides the model config's timestep spacing (sd.cpp "ddim_trailing").
    std::optional<TimestepSpacing> spacing;
    std::string name;     // canonical display name (A1111 style), e.g. "DPM++ 2M Karras"
};

// Resolves `name` (any accepted spelling) plus an optional A1111 "schedule
// type" ("", "Automatic", "Karras"; case-insensitive) into a spec.
// "DPM++ 2M" + "Karras" equals "DPM++ 2M Karras". `eta` is stored for DDIM.
// Unknown names / schedule types / combinations that do not exist (e.g.
// "DDIM" + "Karras") give ErrorCode::InvalidArgument whose message lists the
// valid names.
Result<SamplerSpec> samplerFromName(const std::string &name,
                                    const std::string &scheduleType = {},
                                    double eta = 0.0);

// The canonical names a UI offers, in display order (A1111 spelling):
// Euler a, Euler, LMS, LMS Karras, Heun, DPM++ 2M, DPM++ 2M Karras,
// DPM++ SDE, DPM++ SDE Karras, DDIM, PLMS, DDPM, UniPC.
std::vector<std::string> samplerNames();

// Every accepted spelling (for --help texts and error messages).
std::vector<std::string> acceptedSamplerNames();

// True for samplers that draw random numbers while sampling (they need the
// request's generator): Euler a, DPM++ SDE, DDPM, DDIM with eta > 0.
bool isStochastic(const SamplerSpec &spec);

} // namespace stipple::core
