// JSON form of core::GenerationRequest (for the job queue file and "last
// parameters"). Images (init, mask, depth) are not embedded: the caller stores
// them as files and passes their paths (keys "initImage", "mask", "depthMap").
// Thread-safety: reentrant.
#pragma once

#include "core/pipeline/Request.h"

#include <QJsonObject>
#include <QString>

namespace stipple::ui {

// Scalar fields only; keys are camelCase field names ("cfgScale", ...),
// enums as strings ("JustResize", "Float32", "A1111").
QJsonObject requestToJson(const core::GenerationRequest &request);
// Fields missing from `json` keep `base`'s values. Images are left untouched.
core::GenerationRequest requestFromJson(const QJsonObject &json,
                                        const core::GenerationRequest &base = {});

} // namespace stipple::ui
