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
           q.size(1) >= 1 && k.size(1) >= 1 && q.size(2) >= 1 && v.size(2) >= 1 &&
           q.size(2) <= kn::kAttentionMaxHeadDim && v.size(2) <= kn::kAttentionMaxHeadDim && cpuHasKernel;
}

void releaseFusedAttentionScratch() { t_scores = {}; }

at::Tensor fusedAttention(const at::Tensor &q, const at::Tensor &k, const at::Tensor &v, double scale)
{
    // Seen by RecordFunction observers (stipple-bench --profile) like an ATen op.
    RECORD_FUNCTION("stipple::fused_attention", std::vector<c10::IValue>());
    const at::Tensor qc = q.contiguous(), vc = v.contiguous();
    const std::int64_t bh = q.size(0), n = q.size(1), d = q.size(2), m = k.size(1), dv = v.size(2);
    const std::int64_t step = kn::kAttentionKeyStep;
    const std::int64_t keysPadded = (m + step - 1) / step * step;
    // kᵀ in panels of 64 keys, [bh, keysPadded / 64, d, 64], zero past m.
    const at::Tensor kt = at::constant_pad_nd(k, {0, 0, 0, keysPadded - m}, 0.0)
                              .view({bh, keysPadded / step, step, d})
                              .transpose(2, 3)
                              .contiguous();
    at::Tensor out = at::empty({bh, n, dv}, q.options());
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
    const float *qp = qc.data_ptr<float>(), *ktp = kt.data_ptr<float>(), *vp = vc.data_ptr<float>();
    float *op = out.data_ptr<float>();
    // The (head, row block) loop of plain C++: parallelRange, because
    // at::parallel_for would run it all on this thread (see ParallelRange.h).
    parallelRange(
        0, bh * blocks, 1,
        [&](std::int64_t first, std::int64_t end, int part) {
            float *scores = scratch.at(static_cast<std::size_t>(part)).data_ptr<float>();
            for (std::int64_t item = first; item < end; ++item) {
                const std::int64_t h = item / blocks, r0 = item % blocks * kn::kAttentionRowBlock;
                kn::AttentionRowsArgs a;
                a.q = qp + (h * n + r0) * d;
                a.kt = ktp + h * d * keysPadded;
                a.v = vp + h * m * dv;
                a.out = op + (h * n + r0) * dv;
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
    return out;
}

} // namespace stipple::core
