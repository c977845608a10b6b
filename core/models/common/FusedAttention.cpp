// Fused attention dispatch (see FusedAttention.h).
#include "core/models/common/FusedAttention.h"

#include "core/common/ParallelRange.h"
#include "core/models/common/AttentionKernelAvx512.h"

#include <ATen/ATen.h>
#include <ATen/Parallel.h>
#include <ATen/record_function.h>

#include <algorithm>
#include <vector>

namespace stipple::core {

namespace kn = kernels;

namespace {

// One score scratch per parallelRange part (part 0 is the calling thread),
// owned by the calling (inference) thread and sized there, so tasks allocate nothing.
thread_local std::vector<at::Tensor> t_scores;

} // namespace

bool fusedAttentionApplies(const at::Tensor &q, const at::Tensor &k, const at::Tensor &v)
{
    static const bool cpuHasKernel = __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("fma");
    return q.scalar_type() == at::kFloat && k.scalar_type() == at::kFloat && v.scalar_type() == at::kFloat &&
           q.size(-2) >= 1 && k.size(-2) >= 1 && q.size(-1) >= 1 && v.size(-1) >= 1 &&
           q.size(-1) <= kn::kAttentionMaxHeadDim && v.size(-1) <= kn::kAttentionMaxHeadDim && cpuHasKernel;
}

void releaseFusedAttentionScratch() { t_scores = {}; }

namespace {

// A [B, H, rows, dim] view's element offset of (b, h, row 0) and its row
// stride, for tensors whose last dimension is unit-strided.
struct HeadLayout {
    std::int64_t batchStride, headStride, rowStride;
    explicit HeadLayout(const at::Tensor &t) : batchStride(t.stride(0)), headStride(t.stride(1)), rowStride(t.stride(2))
    {
    }
    std::int64_t offset(std::int64_t b, std::int64_t h) const { return b * batchStride + h * headStride; }
};

bool unitLastStride(const at::Tensor &t) { return t.size(-1) == 1 || t.stride(-1) == 1; }

} // namespace

void fusedAttentionInto(const at::Tensor &q, const at::Tensor &k, const at::Tensor &v, const at::Tensor &out,
                        double scale)
{
    // Seen by RecordFunction observers (stipple-bench --profile) like an ATen op.
    RECORD_FUNCTION("stipple::fused_attention", std::vector<c10::IValue>());
    TORCH_CHECK(q.dim() == 4 && k.dim() == 4 && v.dim() == 4 && out.dim() == 4 && fusedAttentionApplies(q, k, v) &&
                    out.scalar_type() == at::kFloat,
                "fusedAttentionInto: expects [B, H, rows, dim] float32 views with unit-strided rows");
    const std::int64_t batch = q.size(0), heads = q.size(1), n = q.size(2), d = q.size(3), m = k.size(2),
                       dv = v.size(3);
    // The kernel reads and writes through raw pointers: every extent must agree.
    TORCH_CHECK(k.size(0) == batch && v.size(0) == batch && out.size(0) == batch && k.size(1) == heads &&
                    v.size(1) == heads && out.size(1) == heads && k.size(3) == d && v.size(2) == m &&
                    out.size(2) == n && out.size(3) == dv && unitLastStride(q) && unitLastStride(v) &&
                    unitLastStride(out),
                "fusedAttentionInto: shapes q ", q.sizes(), ", k ", k.sizes(), ", v ", v.sizes(), ", out ",
                out.sizes(), " do not match");
    const std::int64_t step = kn::kAttentionKeyStep;
    const std::int64_t keysPadded = (m + step - 1) / step * step;
    // kᵀ in panels of 64 keys, [B·H, keysPadded / 64, d, 64], zero past m
    // (this copy also gathers each head's keys from k's layout).
    const at::Tensor kt = at::constant_pad_nd(k, {0, 0, 0, keysPadded - m}, 0.0)
                              .reshape({batch * heads, keysPadded / step, step, d})
                              .transpose(2, 3)
                              .contiguous();
    const std::int64_t blocks = (n + kn::kAttentionRowBlock - 1) / kn::kAttentionRowBlock;
    const int workers = std::max(1, at::get_num_threads());
    // The calling thread's vector, named here: inside the tasks `t_scores`
    // would be the pool thread's own (empty) one.
    std::vector<at::Tensor> &scratch = t_scores;
    if (scratch.size() < static_cast<std::size_t>(workers))
        scratch.resize(static_cast<std::size_t>(workers));
    const std::int64_t scratchCount = kn::attentionScratchFloats(keysPadded);
    // Zeroed when allocated: rows below a short block's last tile are read
    // (and their results dropped) by the p·v tiles, and must hold numbers.
    for (at::Tensor &buf : scratch)
        if (!buf.defined() || buf.numel() < scratchCount)
            buf = at::zeros({scratchCount}, at::TensorOptions().dtype(at::kFloat));
    const HeadLayout ql(q), vl(v), ol(out);
    const float *qp = q.data_ptr<float>(), *ktp = kt.data_ptr<float>(), *vp = v.data_ptr<float>();
    float *op = out.data_ptr<float>();
    // The (head, row block) loop of plain C++: parallelRange, because
    // at::parallel_for would run it all on this thread (see ParallelRange.h).
    parallelRange(
        0, batch * heads * blocks, 1,
        [&](std::int64_t first, std::int64_t end, int part) {
            float *scores = scratch.at(static_cast<std::size_t>(part)).data_ptr<float>();
            for (std::int64_t item = first; item < end; ++item) {
                const std::int64_t bh = item / blocks, r0 = item % blocks * kn::kAttentionRowBlock;
                const std::int64_t b = bh / heads, h = bh % heads;
                kn::AttentionRowsArgs a;
                a.q = qp + ql.offset(b, h) + r0 * ql.rowStride;
                a.kt = ktp + bh * d * keysPadded;
                a.v = vp + vl.offset(b, h);
                a.out = op + ol.offset(b, h) + r0 * ol.rowStride;
                a.qStride = ql.rowStride;
                a.vStride = vl.rowStride;
                a.outStride = ol.rowStride;
                a.scores = scores;
                a.rows = std::min(kn::kAttentionRowBlock, n - r0);
                a.d = d;
                a.dv = dv;
                a.keys = m;
                a.keysPadded = keysPadded;
                a.scale = static_cast<float>(scale);
                kn::attendRowsAvx512(a);
            }
        },
        workers);
}

at::Tensor fusedAttention(const at::Tensor &q, const at::Tensor &k, const at::Tensor &v, double scale)
{
    at::Tensor out = at::empty({q.size(0), q.size(1), v.size(2)}, q.options());
    fusedAttentionInto(q.contiguous().unsqueeze(0), k.unsqueeze(0), v.contiguous().unsqueeze(0), out.unsqueeze(0),
                       scale);
    return out;
}

} // namespace stipple::core
