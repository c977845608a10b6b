// Fused attention dispatch (see FusedAttention.h).
#include "core/models/common/FusedAttention.h"

#include "core/common/ParallelRange.h"
#include "core/common/Runtime.h"
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

bool cpuHasBf16Kernel()
{
    static const bool has = cpuRunsBf16Kernels() && envSwitch("STIPPLE_FUSED_BF16") != 0;
    return has;
}

} // namespace

bool fusedAttentionApplies(const at::Tensor &q, const at::Tensor &k, const at::Tensor &v)
{
    static const bool cpuHasKernel = __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("fma");
    const at::ScalarType t = q.scalar_type();
    const bool dtypeOk = (t == at::kFloat || (t == at::kBFloat16 && cpuHasBf16Kernel())) && k.scalar_type() == t &&
                         v.scalar_type() == t;
    return dtypeOk && q.size(-2) >= 1 && k.size(-2) >= 1 && q.size(-1) >= 1 && v.size(-1) >= 1 &&
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
                    out.scalar_type() == q.scalar_type(),
                "fusedAttentionInto: expects [B, H, rows, dim] float32 (or bfloat16) views with unit-strided rows");
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
    const bool bf16 = q.scalar_type() == at::kBFloat16;
    // kᵀ in panels of 64 keys, [B·H, keysPadded / 64, d, 64], zero past m
    // (this copy also gathers each head's keys from k's layout). bfloat16:
    // [B·H, keysPadded / 64, ⌈d/2⌉, 64, 2], pairs of dimensions per key.
    const std::int64_t pairs = (d + 1) / 2;
    const at::Tensor kt =
        bf16 ? at::constant_pad_nd(k, {0, 2 * pairs - d, 0, keysPadded - m}, 0.0)
                   .reshape({batch * heads, keysPadded / step, step, pairs, 2})
                   .permute({0, 1, 3, 2, 4})
                   .contiguous()
             : at::constant_pad_nd(k, {0, 0, 0, keysPadded - m}, 0.0)
                   .reshape({batch * heads, keysPadded / step, step, d})
                   .transpose(2, 3)
                   .contiguous();
    // bfloat16: v in pairs of keys, [B·H, keysPadded / 2, 16·⌈dv/16⌉, 2],
    // and a float32 result converted at the end (both small next to the
    // scores).
    const std::int64_t dvPadded = (dv + 15) / 16 * 16;
    const at::Tensor vPairs = bf16 ? at::constant_pad_nd(v, {0, dvPadded - dv, 0, keysPadded - m}, 0.0)
                                         .reshape({batch * heads, keysPadded / 2, 2, dvPadded})
                                         .transpose(2, 3)
                                         .contiguous()
                                   : at::Tensor();
    const at::Tensor outf = bf16 ? at::empty(out.sizes(), out.options().dtype(at::kFloat)) : out;
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
    const HeadLayout ql(q), vl(v), ol(outf);
    const float *qp = bf16 ? nullptr : q.data_ptr<float>(), *ktp = bf16 ? nullptr : kt.data_ptr<float>();
    const auto *qb = bf16 ? reinterpret_cast<const std::uint16_t *>(q.data_ptr<at::BFloat16>()) : nullptr;
    const auto *ktb = bf16 ? reinterpret_cast<const std::uint16_t *>(kt.data_ptr<at::BFloat16>()) : nullptr;
    const float *vp = bf16 ? nullptr : v.data_ptr<float>();
    const auto *vb = bf16 ? reinterpret_cast<const std::uint16_t *>(vPairs.data_ptr<at::BFloat16>()) : nullptr;
    float *op = outf.data_ptr<float>();
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
                if (bf16) {
                    a.qBf16 = qb + ql.offset(b, h) + r0 * ql.rowStride;
                    a.ktBf16 = ktb + bh * 2 * pairs * keysPadded;
                } else {
                    a.q = qp + ql.offset(b, h) + r0 * ql.rowStride;
                    a.kt = ktp + bh * d * keysPadded;
                }
                if (vb)
                    a.vBf16 = vb + bh * keysPadded * dvPadded;
                else
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
    if (bf16)
        out.copy_(outf);
}

at::Tensor fusedAttention(const at::Tensor &q, const at::Tensor &k, const at::Tensor &v, double scale)
{
    at::Tensor out = at::empty({q.size(0), q.size(1), v.size(2)}, q.options());
    fusedAttentionInto(q.contiguous().unsqueeze(0), k.unsqueeze(0), v.contiguous().unsqueeze(0), out.unsqueeze(0),
                       scale);
    return out;
}

} // namespace stipple::core
