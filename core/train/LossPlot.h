// Loss curves as a PNG (OpenCV drawing; log-scale y, smoothed).
// Thread-safety: pure function.
#pragma once

#include "core/common/Result.h"

#include <string>
#include <vector>

namespace stipple::core {

struct LossSeries {
    std::string name;
    std::vector<float> values; // one per step
};

Status writeLossPlot(const std::string &path, const std::vector<LossSeries> &series, int width = 800, int height = 400);

} // namespace stipple::core
