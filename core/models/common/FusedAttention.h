// float32 attention through the fused AVX-512 kernel (AttentionKernelAvx512.h)
// on CPUs with AVX-512F: packs kᵀ once per call and spreads (head, 24-row
// block) items over the torch threads with parallelRange.
// scaledDotProductAttention (Attention.h) decides when to call it.
//
// No bfloat16 kernel: AVX512_BF16's vdpbf16ps runs at 77 GFLOP/s per core on
// this VM against 171 for float32 FMAs (micro-benchmark, docs/performance.md),
// and a vdpbf16ps version of this kernel took 0.39 s where the float32 one
// takes 0.23 s (8 heads of 4096² x 40, one thread); bf16 attention keeps
// oneDNN's matmuls.
// Thread-safety: one call at a time per calling thread (per-thread scratch).
#pragma once

#include <ATen/core/Tensor.h>

namespace stipple::core {

// True when q, k, v ([..., rows, dim]) are all float32, none empty, with
// head dims at most kernels::kAttentionMaxHeadDim, and the CPU has AVX-512F.
bool fusedAttentionApplies(const at::Tensor &q, const at::Tensor &k, const at::Tensor &v);

// softmax(scale · q·kᵀ) · v for q [BH, N, d], k [BH, M, d], v [BH, M, dv].
at::Tensor fusedAttention(const at::Tensor &q, const at::Tensor &k, const at::Tensor &v, double scale);

// The same on [B, H, rows, dim] views whose rows are unit-strided, written
// into `out` [B, H, N, dv] (a view too). Why: multiHeadAttention passes views
// of its [B, tokens, H·d] activations, so the per-head copies of q, v and the
// result are not made (k is gathered into its panels anyway).
// Mismatched shapes or strided rows are refused with c10::Error.
void fusedAttentionInto(const at::Tensor &q, const at::Tensor &k, const at::Tensor &v, const at::Tensor &out,
                        double scale);

// Frees the calling thread's score scratch (releaseAttentionScratch calls it).
void releaseFusedAttentionScratch();

} // namespace stipple::core
