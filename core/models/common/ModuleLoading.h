// Building a model module from its config and loading its weights, shared by
// the UNet and the VAE (and any module with a Config::fromJson, a
// toDtype(dtype) method and strict diffusers names).
// Thread-safety: call from the thread that will own the module.
#pragma once

#include "core/common/Result.h"
#include "core/io/StateDict.h"
#include "core/models/common/Conv2d.h"
#include "core/models/common/DiffusersFolder.h"
#include "core/models/common/Linear.h"
#include "core/models/common/ParameterInit.h"
#include "core/models/common/WeightLoading.h"

#include <c10/util/Exception.h>
#include <nlohmann/json.hpp>

#include <string>

namespace stipple::core {

enum class ConvPacking {
    None,
    // prepareConvolutionsForInference(dtype) and prepareLinearsForInference(dtype)
    // before the dtype conversion
    ForInference,
};

// Builds Holder(config) without random initialisation, adopts `weights`
// strictly (WeightTransfer::Adopt: they must be made for this build, as
// openCheckpoint's are) as they are, and switches to eval mode. torch
// failures become ErrorCode::Internal.
template <typename Holder, typename Config>
Result<Holder> adoptModule(const Config &config, const StateDict &weights, const std::string &component)
{
    try {
        Holder model = buildWithoutInit<Holder>(config); // every value comes from `weights`
        if (auto st = loadWeightsStrict(*model, weights, component, nullptr, WeightTransfer::Adopt); !st)
            return st.error();
        model->eval();
        return model;
    } catch (const c10::Error &e) {
        return makeError(ErrorCode::Internal,
                         "building the " + component + " failed: " + e.what_without_backtrace());
    }
}

// The same (adoptModule), then converted to `dtype`.
// ConvPacking::ForInference packs the convolutions (and, in float32, the
// linear layers still in another dtype) first, each converted on its way into the packed layout, so
// a weight the dict holds in another dtype never gets a plain copy in `dtype`
// (OpenOptions::deferUnetConvWeights, deferUnetLinearWeights).
// torch failures become ErrorCode::Internal.
template <typename Holder, typename Config>
Result<Holder> buildModule(const Config &config, const StateDict &weights, at::ScalarType dtype,
                           const std::string &component, ConvPacking packing = ConvPacking::None)
{
    auto adopted = adoptModule<Holder>(config, weights, component);
    if (!adopted)
        return adopted.error();
    Holder model = adopted.value();
    try {
        if (packing == ConvPacking::ForInference) {
            at::Tensor scratch; // one conversion buffer for both kinds of layer
            prepareConvolutionsForInference(*model, dtype, &scratch);
            // Only the deferred views: a weight already converted is left to
            // the caller (prepareLinearsForInference once `weights` is gone,
            // so its pages can go too).
            prepareLinearsForInference(*model, dtype, /*onlyToConvert=*/true, &scratch);
        }
        model->toDtype(dtype);
        return model;
    } catch (const c10::Error &e) {
        return makeError(ErrorCode::Internal,
                         "building the " + component + " failed: " + e.what_without_backtrace());
    }
}

// Same, from a config document (diffusers config.json content).
template <typename Holder, typename Config>
Result<Holder> buildModule(const nlohmann::json &configJson, const StateDict &weights, at::ScalarType dtype,
                           const std::string &component, ConvPacking packing = ConvPacking::None)
{
    auto config = Config::fromJson(configJson);
    if (!config)
        return config.error();
    return buildModule<Holder, Config>(*config, weights, dtype, component, packing);
}

// Same, from a diffusers component folder: config.json + *.safetensors.
template <typename Holder, typename Config>
Result<Holder> buildModuleFromDiffusersDir(const std::string &dir, at::ScalarType dtype,
                                           const std::string &component)
{
    auto json = readJsonFile(dir + "/config.json");
    if (!json)
        return json.error();
    auto path = findDiffusersWeights(dir);
    if (!path)
        return path.error();
    auto weights = readSafeTensorsFloat(*path);
    if (!weights)
        return weights.error();
    return buildModule<Holder, Config>(*json, *weights, dtype, component);
}

} // namespace stipple::core
