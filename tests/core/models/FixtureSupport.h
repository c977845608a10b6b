// Shared helpers for the model tests: fixture tensors, manifest lookups,
// max-abs-diff reporting.
#pragma once

#include "core/io/SafeTensors.h"
#include "support/Fixtures.h"

#include <ATen/ATen.h>
#include <nlohmann/json.hpp>

#include <QTest>

#include <fstream>
#include <string>

namespace stipple::test {

inline nlohmann::json manifest()
{
    std::ifstream in(fixturePath(QStringLiteral("manifest.json")));
    return nlohmann::json::parse(in);
}

inline nlohmann::json manifestCase(const std::string &id)
{
    const nlohmann::json all = manifest(); // keep alive while iterating
    for (const auto &c : all.at("cases"))
        if (c.at("id") == id)
            return c;
    return {};
}

// Diffusers folder of a fixture model ("tiny-sd1" -> .../models/tiny-sd1).
inline std::string modelDir(const std::string &model)
{
    return fixturePath(QString::fromStdString(
        manifest().at("models").at(model).at("diffusers_dir").get<std::string>()));
}

inline std::string singleFile(const std::string &model)
{
    return fixturePath(QString::fromStdString(
        manifest().at("models").at(model).at("single_file").get<std::string>()));
}

inline double maxAbsDiff(const at::Tensor &a, const at::Tensor &b)
{
    if (a.sizes() != b.sizes())
        return std::numeric_limits<double>::infinity();
    return (a.to(at::kDouble) - b.to(at::kDouble)).abs().max().item<double>();
}

} // namespace stipple::test
