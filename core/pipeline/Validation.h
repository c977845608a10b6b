// Request validation: every mistake a user (or a front end) can make in a
// GenerationRequest becomes one clear ErrorCode::InvalidArgument before any
// tensor is allocated. Limits follow the VAE (sizes in multiples of 8) and
// sane upper bounds so that absurd requests fail fast instead of exhausting
// memory. Thread-safety: pure functions.
#pragma once

#include "core/common/Result.h"
#include "core/io/ModelInfo.h"
#include "core/pipeline/Request.h"

namespace stipple::core {

constexpr int kMaxGenerationSide = 8192;       // pixels per side
constexpr std::int64_t kMaxGenerationPixels = 32LL * 1024 * 1024; // per image (8192 x 4096)
constexpr int kMaxSteps = 1000;
constexpr int kMaxBatchSize = 64;
constexpr int kMaxBatchCount = 10000;

// Checks the request on its own and against the loaded model's variant
// (a depth model needs a depth map; a depth map needs a depth model).
Status validateRequest(const GenerationRequest &request, ModelVariant variant);

} // namespace stipple::core
