// Scaled dot-product attention for the CPU, shared by the UNet's self/cross
// attention and the VAE's single-head mid-block attention.
//
// softmax(q kᵀ · scale) v  (Vaswani et al. 2017, eq. 1), computed as
// baddbmm -> softmax -> bmm in chunks of query rows so the full
// [batch·heads, N, M] score matrix is never materialised (SD 1.5 at 512²:
// 16 × 4096 × 4096 fp32 = 1 GiB). Scores and probabilities live in
// per-thread scratch buffers that are reused between calls (fresh memory is
// very slow to touch on the target VMs, see docs/toolchain.md pitfall 4).
// Softmax always runs in float32 (diffusers' upcast_softmax); with
// `upcastAttention` the scores are computed in float32 too (diffusers'
// upcast_attention, SD 2.1). With libtorch >= 2 the fused
// at::scaled_dot_product_attention is used when no upcasting is requested.
//
// Thread-safety: the functions are reentrant; scratch buffers are
// thread_local, so concurrent calls from different threads do not share them.
#pragma once

#include <ATen/core/Tensor.h>

#include <cstdint>

namespace stipple::core {

struct AttentionOptions {
    bool upcastAttention = false; // q·kᵀ in float32 (diffusers upcast_attention)
    // Upper bound for one block's score matrix, in bytes of float32; 0 =
    // automatic (1 MiB for float32, 16 MiB otherwise). float32 blocks are
    // one head's [1, rows, M] (several whole heads when one head fits);
    // other dtypes chunk query rows across all heads, [BH, rows, M]
    // (see Attention.cpp for the measurements).
    std::int64_t chunkBytes = 0;
    bool allowFused = true;       // libtorch >= 2 only
    // bfloat16/half scores: softmax straight into the score dtype (ATen
    // accumulates in float inside the kernel) instead of copying the scores
    // to float32 and the probabilities back. Same bits (max diff 0) and
    // 1.30-1.37x faster on SD 1.5's level-1 self-attention in bf16
    // (stipple-bench --stages attention, interleaved A/B, 256² and 512²).
    bool softmaxInScoreDtype = true;
    // float32 (and, on CPUs with AVX512-BF16, bfloat16) attention whose
    // score matrix has at least this many elements per head (n·m) runs the
    // fused AVX-512 kernel (AttentionKernelAvx512.h) on CPUs that have
    // AVX-512F; smaller ones, float16 and head dims over 160 take the
    // three-op path (so the small fixtures stay bit-exact).
    // The default 2^20 starts at SD's level-1 self-attention at 256². There,
    // 8 heads x 40, CFG batch 2 (session 11): bf16 fused 8.3-9.5 ms against
    // 9.8-10 ms for the three ops; at 512² 0.10 s against 0.19 s.
    // A negative value switches the kernel off.
    std::int64_t fusedMinScores = std::int64_t(1) << 20;
};

// q [BH, N, d], k [BH, M, d], v [BH, M, dv] -> [BH, N, dv] in q's dtype.
// `scale` multiplies q·kᵀ (usually d^-0.5).
at::Tensor scaledDotProductAttention(const at::Tensor &q, const at::Tensor &k, const at::Tensor &v,
                                     double scale, const AttentionOptions &options = {});

// Un-chunked reference (materialises all scores; same numerics). For tests
// and benchmarks.
at::Tensor scaledDotProductAttentionPlain(const at::Tensor &q, const at::Tensor &k,
                                          const at::Tensor &v, double scale,
                                          bool upcastAttention = false);

// Multi-head wrapper: q [B, N, H·d], k/v [B, M, H·d] -> [B, N, H·d]
// (diffusers head_to_batch_dim / batch_to_head_dim around the core).
at::Tensor multiHeadAttention(const at::Tensor &q, const at::Tensor &k, const at::Tensor &v,
                              std::int64_t heads, const AttentionOptions &options = {});

// Releases this thread's scratch buffers.
void releaseAttentionScratch();

} // namespace stipple::core
