// Parsing of diffusers scheduler_config.json (see SchedulerConfig.h).
#include "core/schedulers/SchedulerConfig.h"

#include <nlohmann/json.hpp>

#include <cmath>
#include <limits>

namespace stipple::core {

namespace {

Error badValue(const std::string &key, const std::string &detail)
{
    return makeError(ErrorCode::InvalidArgument,
                     "scheduler config: unsupported value for \"" + key + "\": " + detail);
}

// A float that may be stored as a string ("-inf", "inf", "nan": non-finite
// values written by our fixture generator and by some exporters).
bool readFloat(const nlohmann::json &v, double &out)
{
    if (v.is_number()) {
        out = v.get<double>();
        return true;
    }
    if (v.is_string()) {
        const std::string s = v.get<std::string>();
        if (s == "inf" || s == "Infinity" || s == "+inf") {
            out = std::numeric_limits<double>::infinity();
            return true;
        }
        if (s == "-inf" || s == "-Infinity") {
            out = -std::numeric_limits<double>::infinity();
            return true;
        }
        if (s == "nan" || s == "NaN") {
            out = std::numeric_limits<double>::quiet_NaN();
            return true;
        }
    }
    return false;
}

} // namespace

SchedulerConfig SchedulerConfig::stableDiffusion() { return SchedulerConfig{}; }

Result<SchedulerConfig> SchedulerConfig::fromJson(const nlohmann::json &json)
{
    if (!json.is_object())
        return makeError(ErrorCode::InvalidArgument, "scheduler config: not a JSON object");
    SchedulerConfig c;
    auto has = [&](const char *key) { return json.contains(key) && !json.at(key).is_null(); };

    auto intKey = [&](const char *key, int &out) -> Status {
        if (!has(key))
            return {};
        const auto &v = json.at(key);
        if (!v.is_number_integer() && !(v.is_number() && std::floor(v.get<double>()) == v.get<double>()))
            return badValue(key, v.dump());
        out = static_cast<int>(v.get<double>());
        return {};
    };
    auto floatKey = [&](const char *key, double &out) -> Status {
        if (!has(key))
            return {};
        if (!readFloat(json.at(key), out))
            return badValue(key, json.at(key).dump());
        return {};
    };
    auto boolKey = [&](const char *key, bool &out) -> Status {
        if (!has(key))
            return {};
        const auto &v = json.at(key);
        if (v.is_boolean())
            out = v.get<bool>();
        else if (v.is_number_integer())
            out = v.get<int>() != 0;
        else
            return badValue(key, v.dump());
        return {};
    };
    auto stringKey = [&](const char *key, std::string &out) -> Status {
        if (!has(key))
            return {};
        if (!json.at(key).is_string())
            return badValue(key, json.at(key).dump());
        out = json.at(key).get<std::string>();
        return {};
    };

    for (Status s : {intKey("num_train_timesteps", c.numTrainTimesteps),
                     floatKey("beta_start", c.betaStart), floatKey("beta_end", c.betaEnd),
                     intKey("steps_offset", c.stepsOffset),
                     boolKey("set_alpha_to_one", c.setAlphaToOne),
                     boolKey("clip_sample", c.clipSample),
                     floatKey("clip_sample_range", c.clipSampleRange),
                     boolKey("rescale_betas_zero_snr", c.rescaleBetasZeroSnr)}) {
        if (!s)
            return s.error();
    }
    if (c.numTrainTimesteps < 2 || c.numTrainTimesteps > 100000)
        return badValue("num_train_timesteps", std::to_string(c.numTrainTimesteps));
    if (c.stepsOffset < 0 || c.stepsOffset >= c.numTrainTimesteps)
        return badValue("steps_offset", std::to_string(c.stepsOffset));

    std::string schedule = "scaled_linear";
    if (Status s = stringKey("beta_schedule", schedule); !s)
        return s.error();
    if (schedule == "linear")
        c.betaSchedule = BetaSchedule::Linear;
    else if (schedule == "scaled_linear")
        c.betaSchedule = BetaSchedule::ScaledLinear;
    else if (schedule == "squaredcos_cap_v2")
        c.betaSchedule = BetaSchedule::SquaredCosCapV2;
    else
        return badValue("beta_schedule", schedule + " (expected linear, scaled_linear or squaredcos_cap_v2)");

    if (has("trained_betas")) {
        const auto &tb = json.at("trained_betas");
        if (!tb.is_array() || tb.size() != static_cast<size_t>(c.numTrainTimesteps))
            return badValue("trained_betas", "expected an array of num_train_timesteps numbers");
        for (const auto &b : tb) {
            double v = 0;
            if (!readFloat(b, v) || !(v > 0 && v < 1))
                return badValue("trained_betas", b.dump());
            c.trainedBetas.push_back(v);
        }
    }

    std::string prediction = "epsilon";
    if (Status s = stringKey("prediction_type", prediction); !s)
        return s.error();
    if (prediction == "epsilon")
        c.predictionType = ModelOutputType::Epsilon;
    else if (prediction == "v_prediction")
        c.predictionType = ModelOutputType::VPrediction;
    else if (prediction == "sample")
        c.predictionType = ModelOutputType::Sample;
    else
        return badValue("prediction_type", prediction + " (expected epsilon, v_prediction or sample)");

    std::string spacing = "leading";
    if (Status s = stringKey("timestep_spacing", spacing); !s)
        return s.error();
    if (spacing == "leading")
        c.timestepSpacing = TimestepSpacing::Leading;
    else if (spacing == "linspace")
        c.timestepSpacing = TimestepSpacing::Linspace;
    else if (spacing == "trailing")
        c.timestepSpacing = TimestepSpacing::Trailing;
    else
        return badValue("timestep_spacing", spacing + " (expected leading, linspace or trailing)");

    if (c.trainedBetas.empty() && c.betaSchedule != BetaSchedule::SquaredCosCapV2) {
        if (!(c.betaStart > 0 && c.betaEnd > 0 && c.betaStart < 1 && c.betaEnd < 1))
            return badValue("beta_start/beta_end", std::to_string(c.betaStart) + ".." + std::to_string(c.betaEnd));
    }
    return c;
}

Result<SchedulerConfig> SchedulerConfig::fromJsonText(const std::string &text)
{
    nlohmann::json j = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
    if (j.is_discarded())
        return makeError(ErrorCode::CorruptFile, "scheduler config: invalid JSON");
    return fromJson(j);
}

const char *schedulerPredictionName(ModelOutputType type)
{
    switch (type) {
    case ModelOutputType::Epsilon: return "epsilon";
    case ModelOutputType::VPrediction: return "v_prediction";
    case ModelOutputType::Sample: return "sample";
    }
    return "epsilon";
}

const char *timestepSpacingName(TimestepSpacing spacing)
{
    switch (spacing) {
    case TimestepSpacing::Leading: return "leading";
    case TimestepSpacing::Linspace: return "linspace";
    case TimestepSpacing::Trailing: return "trailing";
    }
    return "leading";
}

} // namespace stipple::core
