// Progress reporting, passed per request (never global).
// Callbacks are invoked on the inference thread; receivers that live on
// another thread must marshal (the Qt bridge turns them into queued signals).
#pragma once

#include <functional>

namespace stipple::core {

enum class Stage { Load, Encode, Denoise, Decode };

const char *stageName(Stage stage);

struct ProgressEvent {
    Stage stage = Stage::Load;
    int step = 0;          // 0..total
    int total = 0;
    double elapsedSec = 0; // since the stage began
};

using ProgressCallback = std::function<void(const ProgressEvent &)>;

} // namespace stipple::core
