// float32 attention through the fused AVX-512 kernel (AttentionKernelAvx512.h)
// on CPUs with AVX-512F: packs kᵀ once per call and spreads (head, 24-row
// block) items over the torch threads with parallelRange.
// scaledDotProductAttention (Attention.h) decides when to call it.
//
// bfloat16 q, k, v (CPUs with AVX512-BF16): q·kᵀ and p·v on vdpbf16ps, the
// softmax in float32, the result converted back. On session 11's Zen 5 VM
// SD 1.5's level-1 self-attention at 512² took 0.10 s against 0.19 s for
// oneDNN's bf16 matmuls and softmax (0.125 s with p·v in float32). (An earlier session measured a
// variant with p·v in bfloat16 too slower, and vdpbf16ps at 77 GFLOP/s per
// core, docs/performance.md; STIPPLE_FUSED_BF16=0 keeps bf16 off the kernel.)
// Thread-safety: one call at a time per calling thread (per-thread scratch).
#pragma once

#include <ATen/core/Tensor.h>

namespace stipple::core {

// True when q, k, v ([..., rows, dim]) are all float32 (or all bfloat16 and
// the CPU has AVX512-BF16), none empty, with head dims at most
// kernels::kAttentionMaxHeadDim, and the CPU has AVX-512F.
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
