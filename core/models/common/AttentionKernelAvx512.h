// A fused float32 attention kernel (q, k and v may be bfloat16, see below) for one head and a block of query rows,
// written with AVX-512 intrinsics (AttentionKernelAvx512.cpp is compiled with
// -mavx512f, as Bf16KernelsAvx512.cpp is with AVX512-BF16, and neither
// includes a library header with inline functions (their shared helpers in
// Avx512Math.h are static inline), so no function compiled for AVX-512 can
// leak into the rest of the program; call it only on CPUs with AVX-512F, see
// Attention.cpp).
//
// Why: SD 1.5's level-1 self-attention (head dim 40, 4096 keys at 512²) runs
// baddbmm -> softmax -> bmm at 85-107 GFLOP/s per core for the GEMMs (K or N
// = 40) and 1.5 G elements/s for the softmax (torch 1.13, docs/performance.md);
// here q·kᵀ, the exponentials and p·v run on one 24-row block of scores that
// stays in the L2 cache, with register-tiled inner loops.
//
// The arithmetic is softmax(scale · q·kᵀ) · v with the maximum subtracted
// before exp, as ATen computes it; results agree with the three-op path to
// float rounding (not bit for bit: other summation order, own exp).
// Thread-safety: stateless; each caller passes its own scratch.
#pragma once

#include <cstdint>

namespace stipple::core::kernels {

inline constexpr std::int64_t kAttentionRowBlock = 24; // query rows per call (at most)
inline constexpr std::int64_t kAttentionKeyStep = 64;  // keys are padded to a multiple of this
inline constexpr std::int64_t kAttentionMaxHeadDim = 160;
// Scores rows are keysPadded + 16 floats apart: rows a power of two apart
// share L1 sets and evict each other (measured 1.1-1.15x on every phase).
inline constexpr std::int64_t kAttentionScoreRowPad = 16;

// Floats of score scratch one call needs.
inline constexpr std::int64_t attentionScratchFloats(std::int64_t keysPadded)
{
    return kAttentionRowBlock * (keysPadded + kAttentionScoreRowPad);
}

struct AttentionRowsArgs {
    const float *q = nullptr;  // rows x d, row stride qStride
    const float *kt = nullptr; // kᵀ in panels of 64 keys: keysPadded / 64 blocks of d x 64
                               // (zero past `keys`), so a tile's loads are contiguous
    // Or, on CPUs with AVX512-BF16, q, k and v in bfloat16 (raw bits): q rows x
    // d (stride qStride), and kᵀ in panels of 64 keys of ⌈d/2⌉ x 64 x 2, each
    // key's pair of consecutive dimensions side by side (zero past `keys` and
    // past d). q·kᵀ then runs on vdpbf16ps: two products per lane and
    // instruction, each exact in float32 and summed in float32, so the scores
    // equal float32 arithmetic on the bfloat16 values up to summation order.
    // The softmax stays float32.
    const std::uint16_t *qBf16 = nullptr;
    const std::uint16_t *ktBf16 = nullptr;
    // v in pairs of keys, ⌈keys/2⌉ x 16·⌈dv/16⌉ x 2, zero past `keys` and
    // dv (set with ktBf16): p·v runs on vdpbf16ps too, the probabilities
    // rounded to bfloat16 (as torch's bf16 attention rounds them), sums in
    // float32; `v` is not read then. Results go to `out` in float32.
    const std::uint16_t *vBf16 = nullptr;
    const float *v = nullptr;  // keys x dv, row stride vStride
    float *out = nullptr;      // rows x dv, row stride outStride
    // Row strides in floats: a head's rows inside [tokens, heads x d]
    // activations are heads x d apart, so no copy per head is needed.
    std::int64_t qStride = 0, vStride = 0, outStride = 0;
    float *scores = nullptr;   // scratch: attentionScratchFloats(keysPadded) floats
    std::int64_t rows = 0;     // 1 .. kAttentionRowBlock
    std::int64_t d = 0;        // 1 .. kAttentionMaxHeadDim
    std::int64_t dv = 0;       // 1 .. kAttentionMaxHeadDim
    std::int64_t keys = 0;
    std::int64_t keysPadded = 0; // multiple of kAttentionKeyStep, >= keys
    float scale = 1.0f;
};

// out = softmax(scale · q·kᵀ over the first `keys` columns) · v.
// args.ktBf16 set: call only where the CPU has AVX512-BF16.
void attendRowsAvx512(const AttentionRowsArgs &args);

} // namespace stipple::core::kernels
