// stipple-bench's per-layer stages: SD 1.5's attention (fused kernel and
// the three-op path), float32 3x3 convolutions (DnnlConvolution against
// torch's packed kernels) and float32 linear layers (DnnlMatmul against
// at::linear), each interleaved A/B with the error against float64.
#pragma once

#include "bench/BenchHarness.h"

#include <string>

namespace stipple::bench {

void benchAttention(const Options &o, const std::string &dtypeName);
void benchConvolutions(const Options &o);
void benchLinears(const Options &o, const std::string &dtypeName);

} // namespace stipple::bench
