// Chunked CPU attention (see Attention.h).
#include "core/models/common/Attention.h"

#include "core/models/common/FusedAttention.h"

#include <ATen/core/grad_mode.h>

#include <ATen/ATen.h>
#include <c10/core/InferenceMode.h>
#include <torch/version.h>

#include <algorithm>

namespace stipple::core {

namespace {

struct Scratch {
    at::Tensor scores;      // q·kᵀ in the score dtype
    at::Tensor scoresFloat; // float32 copy when scores are not float32
    at::Tensor probs;       // float32 softmax
    at::Tensor probsCast;   // probabilities in v's dtype
    at::Tensor out;         // one chunk of the output
};

thread_local Scratch t_scratch;

// Resizes `buf` to `sizes` reusing its storage when it is large enough.
// A normal tensor even when made under InferenceMode: an inference tensor
// could not be resized or written in place by a later call outside it (the
// VAE's attention in an InferenceMode decode, then in a training step).
at::Tensor &reuse(at::Tensor &buf, at::IntArrayRef sizes, at::ScalarType dtype)
{
    if (!buf.defined() || buf.scalar_type() != dtype) {
        c10::InferenceMode normalTensor(false);
        buf = at::empty({0}, at::TensorOptions().dtype(dtype));
    }
    buf.resize_(sizes);
    return buf;
}

// Scores are alpha·q·kᵀ through baddbmm with beta = 0 into a buffer (the form
// of diffusers' get_attention_scores). BLAS ignores the buffer at beta = 0;
// libtorch 1.13's own small-matrix kernel (d·rows·M < 400 per matrix) does
// not: it computes beta·C from the old contents, so NaN left there survives
// (measured with torch 1.13 here). Reused scratch and fresh memory can both
// hold NaN. 4096 leaves a margin over 400.
bool smallBaddbmm(std::int64_t d, std::int64_t rows, std::int64_t m) { return d * rows * m < 4096; }

// Zeroes a score buffer that the small-matrix kernel would read (the memset
// is free at that size).
at::Tensor &clearedForBaddbmm(at::Tensor &scores, std::int64_t d)
{
    if (smallBaddbmm(d, scores.size(1), scores.size(2)))
        scores.zero_();
    return scores;
}

// Attention for heads [h0, h0 + hc): query rows `rows` at a time through the
// scratch buffers in `s`, written into out[h0 : h0 + hc].
void attendHeadBlock(Scratch &s, const at::Tensor &qs, const at::Tensor &kt, const at::Tensor &vc, at::Tensor &out,
                     std::int64_t h0, std::int64_t hc, std::int64_t rows, double scale, at::ScalarType scoreType,
                     const AttentionOptions &options)
{
    const std::int64_t n = qs.size(1), m = kt.size(2), dv = vc.size(2);
    const at::ScalarType outType = out.scalar_type();
    const at::Tensor kh = kt.narrow(0, h0, hc);
    const at::Tensor vh = vc.narrow(0, h0, hc);
    at::Tensor outH = out.narrow(0, h0, hc);
    for (std::int64_t start = 0; start < n; start += rows) {
        const std::int64_t c = std::min(rows, n - start);
        const at::Tensor qc = qs.narrow(0, h0, hc).narrow(1, start, c);

        at::Tensor &scores = clearedForBaddbmm(reuse(s.scores, {hc, c, m}, scoreType), qc.size(2));
        at::baddbmm_out(scores, scores, qc, kh, /*beta=*/0.0, /*alpha=*/scale);

        at::Tensor probsV;
        if (options.softmaxInScoreDtype && scoreType != at::kFloat && vc.scalar_type() == scoreType) {
            // Straight into the score dtype (ATen accumulates in float inside).
            probsV = reuse(s.probsCast, {hc, c, m}, scoreType);
            at::_softmax_out(probsV, scores, -1, false);
        } else {
            at::Tensor floatScores = scores;
            if (scoreType != at::kFloat) {
                floatScores = reuse(s.scoresFloat, {hc, c, m}, at::kFloat);
                floatScores.copy_(scores);
            }
            at::Tensor &probs = reuse(s.probs, {hc, c, m}, at::kFloat);
            at::_softmax_out(probs, floatScores, -1, false);
            probsV = probs;
            if (vc.scalar_type() != at::kFloat) {
                probsV = reuse(s.probsCast, {hc, c, m}, vc.scalar_type());
                probsV.copy_(probs);
            }
        }
        if (c == n && vc.scalar_type() == outType) {
            at::bmm_out(outH, probsV, vh);
        } else {
            at::Tensor &chunk = reuse(s.out, {hc, c, dv}, vc.scalar_type());
            at::bmm_out(chunk, probsV, vh);
            outH.narrow(1, start, c).copy_(chunk);
        }
    }
}

// Training (stipple-train) needs autograd, which the *_out kernels on
// reused scratch buffers and the fused kernel do not record.
bool needsAutograd(const at::Tensor &q, const at::Tensor &k, const at::Tensor &v)
{
    return at::GradMode::is_enabled() && (q.requires_grad() || k.requires_grad() || v.requires_grad());
}

#if defined(TORCH_VERSION_MAJOR) && (TORCH_VERSION_MAJOR > 2 || (TORCH_VERSION_MAJOR == 2 && TORCH_VERSION_MINOR >= 1))
#define STIPPLE_TORCH_SDPA 1
bool torchSdpaApplies(const at::Tensor &q, const at::Tensor &v, const AttentionOptions &options)
{
    return options.allowFused && !options.upcastAttention && q.scalar_type() == v.scalar_type();
}
#else
#define STIPPLE_TORCH_SDPA 0
#endif

// The AVX-512 kernel (FusedAttention.h) for products of at least
// options.fusedMinScores scores; q, k, v are [..., rows, dim].
bool takesOwnFusedKernel(const at::Tensor &q, const at::Tensor &k, const at::Tensor &v,
                         const AttentionOptions &options)
{
    return !needsAutograd(q, k, v) && options.fusedMinScores >= 0 &&
           q.size(-2) * k.size(-2) >= options.fusedMinScores && fusedAttentionApplies(q, k, v);
}

} // namespace

void releaseAttentionScratch()
{
    t_scratch = {};
    releaseFusedAttentionScratch();
}

at::Tensor scaledDotProductAttentionPlain(const at::Tensor &q, const at::Tensor &k,
                                          const at::Tensor &v, double scale, bool upcastAttention)
{
    const at::Tensor qs = upcastAttention ? q.to(at::kFloat) : q;
    const at::Tensor ks = upcastAttention ? k.to(at::kFloat) : k;
    // The functional baddbmm makes its own result buffer, which the small-matrix
    // kernel reads as well (see smallBaddbmm); those products go through bmm
    // and a scale instead: alpha·acc rounded once, as that kernel computes it.
    // Not clearedForBaddbmm + baddbmm_out as in the chunked path: this path
    // also trains, and out= forms have no gradient (test_trainer).
    at::Tensor scores = smallBaddbmm(q.size(2), q.size(1), k.size(1))
                            ? at::bmm(qs, ks.transpose(1, 2)).mul_(scale)
                            : at::baddbmm(at::empty({q.size(0), q.size(1), k.size(1)}, qs.options()), qs,
                                          ks.transpose(1, 2), /*beta=*/0.0, /*alpha=*/scale);
    at::Tensor probs = at::softmax(scores.to(at::kFloat), -1).to(v.scalar_type());
    return at::bmm(probs, v).to(q.scalar_type());
}

at::Tensor scaledDotProductAttention(const at::Tensor &q, const at::Tensor &k, const at::Tensor &v,
                                     double scale, const AttentionOptions &options)
{
    TORCH_CHECK(q.dim() == 3 && k.dim() == 3 && v.dim() == 3, "attention expects [BH, N, d] tensors");
    TORCH_CHECK(q.size(0) == k.size(0) && k.size(0) == v.size(0) && k.size(1) == v.size(1) &&
                    q.size(2) == k.size(2),
                "attention shape mismatch");

    if (needsAutograd(q, k, v))
        return scaledDotProductAttentionPlain(q, k, v, scale, options.upcastAttention);

#if STIPPLE_TORCH_SDPA
    // libtorch >= 2.1: fused flash/memory-efficient kernels with an explicit scale.
    if (torchSdpaApplies(q, v, options))
        return at::scaled_dot_product_attention(q.unsqueeze(0), k.unsqueeze(0), v.unsqueeze(0), {},
                                                0.0, false, scale)
            .squeeze(0);
#endif

    if (takesOwnFusedKernel(q, k, v, options))
        return fusedAttention(q, k, v, scale);

    const std::int64_t bh = q.size(0), n = q.size(1), m = k.size(1), dv = v.size(2);
    const at::ScalarType outType = q.scalar_type();
    const at::ScalarType scoreType = options.upcastAttention ? at::kFloat : outType;
    const at::Tensor qs = q.scalar_type() == scoreType ? q : q.to(scoreType);
    const at::Tensor kt = (k.scalar_type() == scoreType ? k : k.to(scoreType)).transpose(1, 2);
    const at::Tensor vc = v.contiguous();

    // float32: blocks of [heads, rows, M] scores of at most ~1 MiB, one head
    // at a time unless a whole head fits, so a block stays in the L2 cache
    // between baddbmm, softmax and bmm. Measured on the 2-core Zen 5 VM with
    // 1 thread (docs/performance.md), SD 1.5 level-1 self-attention, CFG
    // batch 2: 0.068 -> 0.039 s at 256², 0.98 -> 0.77 s at 512².
    // bfloat16 goes through oneDNN matmul, whose per-call cost makes small
    // blocks slower (0.94 -> 2.1 s at 512²): chunks span all heads there.
    const bool perHead = scoreType == at::kFloat && vc.scalar_type() == at::kFloat;
    const std::int64_t blockBytes =
        options.chunkBytes > 0 ? options.chunkBytes : (perHead ? (1ll << 20) : (16ll << 20));
    const std::int64_t headBytes = std::max<std::int64_t>(1, m * 4);
    std::int64_t rows = 0, headsPerBlock = bh;
    if (perHead) {
        rows = std::clamp<std::int64_t>(blockBytes / headBytes, 1, n);
        headsPerBlock = rows < n ? 1 : std::clamp<std::int64_t>(blockBytes / (headBytes * n), 1, bh);
    } else {
        rows = std::clamp<std::int64_t>(blockBytes / (headBytes * bh), 1, n);
    }

    at::Tensor out = at::empty({bh, n, dv}, q.options().dtype(outType));
    Scratch &s = t_scratch;
    for (std::int64_t h0 = 0; h0 < bh; h0 += headsPerBlock)
        attendHeadBlock(s, qs, kt, vc, out, h0, std::min(headsPerBlock, bh - h0), rows, scale, scoreType, options);
    return out;
}

at::Tensor multiHeadAttention(const at::Tensor &q, const at::Tensor &k, const at::Tensor &v,
                              std::int64_t heads, const AttentionOptions &options)
{
    const std::int64_t b = q.size(0), n = q.size(1), c = q.size(2), m = k.size(1);
    const std::int64_t d = c / heads;
    const std::int64_t dv = v.size(2) / heads;
    // [B, len, heads·dim] as [B, heads, len, dim] views.
    auto heads4 = [&](const at::Tensor &t, std::int64_t len, std::int64_t dim) {
        return t.reshape({b, len, heads, dim}).permute({0, 2, 1, 3});
    };
    const double scale = 1.0 / std::sqrt(static_cast<double>(d)); // diffusers' Attention.scale (scale_qk=True)
#if STIPPLE_TORCH_SDPA
    const bool ownKernel = !torchSdpaApplies(q, v, options);
#else
    const bool ownKernel = true;
#endif
    const at::Tensor q4 = heads4(q, n, d), k4 = heads4(k, m, d), v4 = heads4(v, m, dv);
    const bool unitRows = q4.stride(3) == 1 && v4.stride(3) == 1;
    if (ownKernel && unitRows && takesOwnFusedKernel(q4, k4, v4, options)) {
        // Straight from and into the token layout: no per-head copies.
        at::Tensor out = at::empty({b, n, heads * dv}, q.options());
        fusedAttentionInto(q4, k4, v4, heads4(out, n, dv), scale);
        return out;
    }
    auto split = [&](const at::Tensor &t4, std::int64_t len, std::int64_t dim) {
        return t4.reshape({b * heads, len, dim});
    };
    at::Tensor o = scaledDotProductAttention(split(q4, n, d), split(k4, m, d), split(v4, m, dv), scale, options);
    return o.reshape({b, heads, n, dv}).permute({0, 2, 1, 3}).reshape({b, n, heads * dv});
}

} // namespace stipple::core
