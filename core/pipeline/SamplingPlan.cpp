// NOTE: this file includes core/schedulers headers and must not include
// core/io/ModelInfo.h (both currently declare stipple::core::ModelOutputType).
#include "core/pipeline/SamplingPlan.h"

#include "core/schedulers/Sampler.h"
#include "core/schedulers/SamplerRegistry.h"
#include "core/schedulers/Schedule.h"
#include "core/schedulers/SchedulerConfig.h"

#include <nlohmann/json.hpp>

namespace stipple::core {

struct SamplingPlan::Impl {
    Schedule schedule;
};

Result<SamplingPlan> SamplingPlan::create(const std::string &sampler, const std::string &scheduleType,
                                          double eta, const nlohmann::json &schedulerConfig, int steps,
                                          const nlohmann::json *overrides)
{
    auto spec = samplerFromName(sampler, scheduleType, eta);
    if (!spec)
        return spec.error();
    nlohmann::json cfgJson = schedulerConfig.is_object() ? schedulerConfig : nlohmann::json::object();
    if (overrides && overrides->is_object())
        for (auto it = overrides->begin(); it != overrides->end(); ++it)
            cfgJson[it.key()] = it.value();
    auto config = SchedulerConfig::fromJson(cfgJson);
    if (!config)
        return config.error();
    auto schedule = Schedule::create(*spec, *config, steps);
    if (!schedule)
        return schedule.error();
    SamplingPlan plan;
    plan.m_impl = std::make_shared<const Impl>(Impl{std::move(schedule.value())});
    return plan;
}

std::string SamplingPlan::samplerName() const { return m_impl->schedule.sampler().name; }
double SamplingPlan::initNoiseSigma() const { return m_impl->schedule.initNoiseSigma(); }
int SamplingPlan::size() const { return m_impl->schedule.size(); }
double SamplingPlan::timestep(int index) const { return m_impl->schedule.timestep(index); }

int SamplingPlan::startIndexForStrength(double strength) const
{
    return m_impl->schedule.startIndexForStrength(strength);
}

bool SamplingPlan::vPrediction() const
{
    return m_impl->schedule.config().predictionType == ModelOutputType::VPrediction;
}

at::Tensor SamplingPlan::addNoise(const at::Tensor &original, const at::Tensor &noise, int stepIndex) const
{
    return core::addNoise(m_impl->schedule, original, noise, stepIndex);
}

Result<PlanRunResult> SamplingPlan::run(const at::Tensor &latents, const PlanModelFn &model, int startIndex,
                                        at::Generator generator, const PlanStepFn &onStep) const
{
    SampleOptions options;
    options.startIndex = startIndex;
    options.generator = std::move(generator);
    if (onStep)
        options.onStep = [&](int step, int total, at::Tensor &x, const at::Tensor &denoised) {
            return onStep(step, total, x, denoised);
        };
    auto result = sample(m_impl->schedule, latents, model, options);
    if (!result)
        return result.error();
    return PlanRunResult{result->latents, result->cancelled, result->modelCalls};
}

} // namespace stipple::core
