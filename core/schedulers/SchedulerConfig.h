// SchedulerConfig: the noise-schedule half of a diffusers scheduler_config.json
// (the training-time beta schedule, the model's parameterisation and how
// inference timesteps are spaced). It is independent of the sampler: any
// sampler may run with any model's config (as AUTOMATIC1111 does), and the
// sampler-specific keys of the JSON (solver_order, use_karras_sigmas, ...) are
// ignored here; a sampler is chosen with SamplerSpec (SamplerRegistry.h).
// Thread-safety: plain value.
#pragma once

#include "core/common/Result.h"

#include <nlohmann/json_fwd.hpp>

#include <string>
#include <vector>

namespace stipple::core {

enum class BetaSchedule {
    Linear,          // linspace(beta_start, beta_end, T)
    ScaledLinear,    // linspace(sqrt(beta_start), sqrt(beta_end), T)^2 (Stable Diffusion)
    SquaredCosCapV2, // Glide cosine schedule, betas capped at 0.999
};

// What the model predicts (diffusers `prediction_type`).
enum class ModelOutputType {
    Epsilon,     // the noise
    VPrediction, // v = sqrt(a) * eps - sqrt(1 - a) * x0 (Salimans & Ho 2022, sec. 2.4)
    Sample,      // x0 directly
};

// How the N inference timesteps are chosen among the T training timesteps
// (Lin et al. 2023, "Common Diffusion Noise Schedules and Sample Steps are
// Flawed", table 2; diffusers `timestep_spacing`).
enum class TimestepSpacing { Leading, Linspace, Trailing };

struct SchedulerConfig {
    int numTrainTimesteps = 1000;
    double betaStart = 0.00085;
    double betaEnd = 0.012;
    BetaSchedule betaSchedule = BetaSchedule::ScaledLinear;
    std::vector<double> trainedBetas;   // non-empty: used instead of the schedule
    ModelOutputType predictionType = ModelOutputType::Epsilon;
    TimestepSpacing timestepSpacing = TimestepSpacing::Leading;
    int stepsOffset = 1;
    bool setAlphaToOne = false;         // DDIM/PNDM: alpha before t=0 is 1 (else alphas_cumprod[0])
    bool clipSample = false;            // DDIM/DDPM: clamp x0 to +-clipSampleRange
    double clipSampleRange = 1.0;
    bool rescaleBetasZeroSnr = false;   // Lin et al. 2023, algorithm 1

    // Stable Diffusion 1.x/2.x defaults (the PNDM scheduler_config.json of
    // runwayml/stable-diffusion-v1-5): scaled_linear 0.00085..0.012, leading,
    // steps_offset 1, set_alpha_to_one false, epsilon.
    static SchedulerConfig stableDiffusion();

    // Parses a diffusers scheduler_config.json object. Missing keys keep the
    // diffusers defaults of the base classes as used by SD checkpoints (the
    // values above); unknown keys are ignored; keys with unsupported values
    // (beta_schedule "sigmoid", prediction_type "flow", ...) are an
    // InvalidArgument error naming the key. Non-finite floats stored as the
    // strings "inf"/"-inf"/"nan" are accepted where a float is expected.
    static Result<SchedulerConfig> fromJson(const nlohmann::json &json);

    // The same, from the file contents of scheduler_config.json.
    static Result<SchedulerConfig> fromJsonText(const std::string &text);
};

const char *schedulerPredictionName(ModelOutputType type); // "epsilon", "v_prediction", "sample"
const char *timestepSpacingName(TimestepSpacing spacing); // "leading", "linspace", "trailing"

} // namespace stipple::core
