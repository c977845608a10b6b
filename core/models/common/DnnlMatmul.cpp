#include "core/models/common/DnnlMatmul.h"

#include "core/common/Runtime.h"

#include <ATen/ATen.h>
#include <ATen/Parallel.h>

#include <algorithm>
#include <cstring>
#include <optional>
#include <unordered_map>
#include <vector>

#if STIPPLE_HAVE_DNNL
#include "core/models/common/DnnlSupport.h"
#endif

namespace stipple::core {

bool DnnlMatmul::enabled()
{
    static const bool allowed = envSwitch("STIPPLE_DNNL_LINEAR") != 0;
    return allowed;
}

#if STIPPLE_HAVE_DNNL

namespace {

using Tag = dnnl::memory::format_tag;
using DType = dnnl::memory::data_type;
constexpr const char *kWhat = "oneDNN matmul";

// The packed layout is asked for at this row count; oneDNN 2.6 chose the same
// weight layout for every M from 2 to 8192 on SD 1.5's shapes (a probe, not
// kept), and each plan checks that its kernel takes it.
constexpr std::int64_t kProbeRows = 1024;

dnnl::matmul::primitive_desc makeDesc(std::int64_t m, std::int64_t k, std::int64_t n,
                                      const dnnl::memory::desc &weights, bool withBias)
{
    const dnnl::memory::desc src({m, k}, DType::f32, Tag::ab), dst({m, n}, DType::f32, Tag::ab);
    auto d = withBias ? dnnl::matmul::desc(src, weights, dnnl::memory::desc({1, n}, DType::f32, Tag::ab), dst)
                      : dnnl::matmul::desc(src, weights, dst);
    return dnnl::matmul::primitive_desc(d, dnnlCpuEngine());
}

// oneDNN falls back to its reference kernel (far slower than OpenBLAS) for
// what its optimised ones refuse; only the brgemm kernel counts as taken.
bool optimised(const dnnl::matmul::primitive_desc &pd)
{
    return std::strncmp(pd.impl_info_str(), "brg", 3) == 0;
}

} // namespace

struct DnnlMatmul::Impl {
    std::int64_t k = 0, n = 0;
    dnnl::memory::desc packedDesc;
    at::Tensor packed;        // the bytes of a packedDesc memory
    dnnl::memory weightMemory; // over them
    at::Tensor bias;          // float32 [n] or undefined
    dnnl::memory biasMemory;

    struct Plan {
        std::int64_t m;
        int threads; // oneDNN splits the work for the thread count at creation
        std::optional<dnnl::matmul> matmul; // empty: oneDNN's kernel refused, use at::linear
    };
    std::vector<Plan> plans; // newest last

    // The sizes, packedDesc, the packed bytes (in `storage` when it is large
    // enough) and the bias; the constructors then pack().
    void setUp(std::int64_t out, std::int64_t in, const at::Tensor &bias, const at::Tensor &storage);
    // Packs `rows` (float32 [count, k], contiguous): output features
    // [n0, n0 + count), the whole weight or a run of whole BA16a64b blocks.
    void pack(const at::Tensor &rows, std::int64_t n0);

    Plan &planFor(std::int64_t m)
    {
        at::internal::lazy_init_num_threads(); // oneDNN reads the calling thread's OpenMP count
        const int threads = at::get_num_threads();
        for (Plan &p : plans)
            if (p.m == m && p.threads == threads)
                return p;
        Plan plan{m, threads, std::nullopt};
        if (m > 0) {
            try {
                auto pd = makeDesc(m, k, n, packedDesc, bias.defined());
                if (optimised(pd))
                    plan.matmul = dnnl::matmul(pd);
            } catch (const dnnl::error &) {
                // Not implemented for this shape: at::linear.
            }
        }
        // Resolutions x CFG batch sizes x the two token counts (image, text).
        constexpr std::size_t kMaxPlans = 8;
        if (plans.size() == kMaxPlans)
            plans.erase(plans.begin());
        plans.push_back(std::move(plan));
        return plans.back();
    }

    // The weight as a new [n, k] tensor. Not kept: only the rare products
    // oneDNN refuses need it, and a copy kept per layer would double its memory.
    at::Tensor unpacked()
    {
        at::Tensor plain = at::empty({n, k}, at::TensorOptions().dtype(at::kFloat));
        auto &engine = dnnlCpuEngine();
        // Element (k, n) of the [k, n] operand is weight[n][k]: strides {1, k}.
        dnnl::memory to(dnnl::memory::desc({k, n}, DType::f32, Tag::ba), engine, plain.data_ptr());
        dnnl::stream stream(engine);
        dnnl::reorder(weightMemory, to).execute(stream, weightMemory, to);
        stream.wait();
        return plain;
    }
};

bool DnnlMatmul::available()
{
    // Probe once: oneDNN decides at run time whether this CPU has the kernel.
    static const bool ok = [] {
        try {
            const dnnl::memory::desc any({320, 320}, DType::f32, Tag::any);
            return optimised(makeDesc(kProbeRows, 320, 320, any, true));
        } catch (const dnnl::error &) {
            return false;
        }
    }();
    return ok;
}

void DnnlMatmul::Impl::setUp(std::int64_t out, std::int64_t in, const at::Tensor &biasIn, const at::Tensor &storage)
{
    n = out;
    k = in;
    at::internal::lazy_init_num_threads();
    const dnnl::memory::desc any({k, n}, DType::f32, Tag::any);
    const auto probe = makeDesc(kProbeRows, k, n, any, biasIn.defined());
    // Packing for a kernel that is not taken would leave the layer on
    // at::linear with an unpacked copy beside the packed one.
    TORCH_CHECK(optimised(probe), "DnnlMatmul: oneDNN offers only ", probe.impl_info_str(), " for ", k, " -> ", n);
    packedDesc = probe.weights_desc();
    const std::size_t packedBytes = packedDesc.get_size();
    packed = storage.defined() && storage.is_contiguous() && storage.nbytes() >= packedBytes ? storage
                                                                                              : dnnlBuffer(packedBytes);
    auto &engine = dnnlCpuEngine();
    weightMemory = dnnl::memory(packedDesc, engine, packed.data_ptr());
    if (biasIn.defined()) {
        TORCH_CHECK(biasIn.numel() == n, "DnnlMatmul: bias size");
        bias = biasIn.to(at::kFloat).contiguous().clone();
        biasMemory = dnnl::memory({{1, n}, DType::f32, Tag::ab}, engine, bias.data_ptr());
    }
}

void DnnlMatmul::Impl::pack(const at::Tensor &rows, std::int64_t n0)
{
    // Element (k, n) of the [k, n] operand is weight[n][k]: strides {1, k}.
    auto &engine = dnnlCpuEngine();
    const std::int64_t count = rows.size(0);
    dnnl::memory from(dnnl::memory::desc({k, count}, DType::f32, Tag::ba), engine, rows.data_ptr());
    dnnl::memory to;
    if (count == n) {
        to = weightMemory;
    } else {
        // Output features [n0, n0 + count) of a BA16a64b weight are the
        // weight of those features alone, placed n0 columns of k in
        // (see the Rows constructor).
        to = dnnl::memory(dnnl::memory::desc({k, count}, DType::f32, Tag::BA16a64b), engine,
                          static_cast<float *>(packed.data_ptr()) + n0 * k);
    }
    dnnl::stream stream(engine);
    dnnl::reorder(from, to).execute(stream, from, to);
    stream.wait();
}

DnnlMatmul::DnnlMatmul(const at::Tensor &weight, const at::Tensor &bias, const at::Tensor &storage) try
    : m_impl(std::make_unique<Impl>())
{
    TORCH_CHECK(weight.scalar_type() == at::kFloat && weight.dim() == 2,
                "DnnlMatmul: needs a float32 [out, in] weight");
    m_impl->setUp(weight.size(0), weight.size(1), bias, storage);
    m_impl->pack(weight.contiguous(), 0);
} catch (const dnnl::error &e) {
    rethrowAsTorchError(e, kWhat);
}

DnnlMatmul::DnnlMatmul(Rows, const RowSource &rows, std::int64_t out, std::int64_t in, const at::Tensor &bias,
                       const at::Tensor &storage) try
    : m_impl(std::make_unique<Impl>())
{
    TORCH_CHECK(rows && out > 0 && in > 0, "DnnlMatmul: needs a row source and the weight's size");
    Impl &d = *m_impl;
    d.setUp(out, in, bias, storage);
    const auto fetch = [&](std::int64_t n0, std::int64_t count) {
        const at::Tensor chunk = rows(n0, count);
        TORCH_CHECK(chunk.scalar_type() == at::kFloat && chunk.dim() == 2 && chunk.size(0) == count &&
                        chunk.size(1) == in && chunk.is_contiguous(),
                    "DnnlMatmul: the row source gave ", chunk.sizes(), " ", chunk.scalar_type(), " for ", count,
                    " rows of ", in);
        return chunk;
    };
    // The layout oneDNN chose for SD's shapes keeps 64 output features of
    // every input feature together, the blocks of 64 outermost (BA16a64b):
    // any run of whole blocks is one contiguous piece, laid out as the weight
    // of those features alone. Chunks of about 2 MiB of rows stay in cache
    // between the source's conversion and the packing.
    constexpr std::int64_t kBlock = 64, kChunkBytes = std::int64_t(2) << 20;
    const std::int64_t chunk =
        std::max(kBlock, kChunkBytes / (in * std::int64_t(sizeof(float))) / kBlock * kBlock);
    // (With `in` a multiple of 16 the blocks hold no padding: a run of 64
    // features starts n0 * in floats in.)
    if (d.packedDesc == dnnl::memory::desc({in, out}, DType::f32, Tag::BA16a64b) && out % kBlock == 0 &&
        in % 16 == 0) {
        for (std::int64_t n0 = 0; n0 < out; n0 += chunk)
            d.pack(fetch(n0, std::min(chunk, out - n0)), n0);
        return;
    }
    // Another layout: the whole weight in memory of its own first.
    const at::Tensor plain = at::empty({out, in}, at::TensorOptions().dtype(at::kFloat));
    for (std::int64_t n0 = 0; n0 < out; n0 += chunk) {
        const std::int64_t count = std::min(chunk, out - n0);
        plain.narrow(0, n0, count).copy_(fetch(n0, count));
    }
    d.pack(plain, 0);
} catch (const dnnl::error &e) {
    rethrowAsTorchError(e, kWhat);
}

DnnlMatmul::~DnnlMatmul() = default;

std::int64_t DnnlMatmul::inFeatures() const { return m_impl->k; }
std::int64_t DnnlMatmul::outFeatures() const { return m_impl->n; }

bool DnnlMatmul::packedFor(std::int64_t rows) const
{
    try {
        return m_impl->planFor(rows).matmul.has_value();
    } catch (const dnnl::error &e) {
        rethrowAsTorchError(e, kWhat);
    }
}

at::Tensor DnnlMatmul::plainWeight() const
{
    try {
        return m_impl->unpacked();
    } catch (const dnnl::error &e) {
        rethrowAsTorchError(e, kWhat);
    }
}

at::Tensor DnnlMatmul::forward(const at::Tensor &x) try {
    Impl &d = *m_impl;
    TORCH_CHECK(x.dim() >= 1 && x.scalar_type() == at::kFloat && x.size(-1) == d.k && x.device().is_cpu() &&
                    x.layout() == at::kStrided,
                "DnnlMatmul: expected float32 [..., ", d.k, "], got ", x.sizes(), " ", x.scalar_type());
    const at::Tensor rows = x.reshape({-1, d.k}).contiguous();
    const std::int64_t m = rows.size(0);
    std::vector<std::int64_t> outSizes(x.sizes().begin(), x.sizes().end());
    outSizes.back() = d.n;
    Impl::Plan &plan = d.planFor(m);
    if (!plan.matmul)
        return at::linear(x, d.unpacked(), d.bias);
    at::Tensor out = at::empty({m, d.n}, rows.options()); // m >= 1 here
    auto &engine = dnnlCpuEngine();
    dnnl::stream stream(engine);
    dnnl::memory src({{m, d.k}, DType::f32, Tag::ab}, engine, rows.data_ptr());
    dnnl::memory dst({{m, d.n}, DType::f32, Tag::ab}, engine, out.data_ptr());
    std::unordered_map<int, dnnl::memory> args{
        {DNNL_ARG_SRC, src}, {DNNL_ARG_WEIGHTS, d.weightMemory}, {DNNL_ARG_DST, dst}};
    if (d.bias.defined())
        args.emplace(DNNL_ARG_BIAS, d.biasMemory);
    plan.matmul->execute(stream, args);
    stream.wait();
    return out.view(outSizes);
} catch (const dnnl::error &e) {
    rethrowAsTorchError(e, kWhat);
}

#else // built without oneDNN's headers: never available, never constructed

struct DnnlMatmul::Impl {};

bool DnnlMatmul::available() { return false; }

DnnlMatmul::DnnlMatmul(const at::Tensor &, const at::Tensor &, const at::Tensor &)
{
    TORCH_CHECK(false, "DnnlMatmul: built without oneDNN");
}

DnnlMatmul::DnnlMatmul(Rows, const RowSource &, std::int64_t, std::int64_t, const at::Tensor &, const at::Tensor &)
{
    TORCH_CHECK(false, "DnnlMatmul: built without oneDNN");
}

DnnlMatmul::~DnnlMatmul() = default;

std::int64_t DnnlMatmul::inFeatures() const { return 0; }
std::int64_t DnnlMatmul::outFeatures() const { return 0; }
bool DnnlMatmul::packedFor(std::int64_t) const { return false; }
at::Tensor DnnlMatmul::plainWeight() const { return {}; }

at::Tensor DnnlMatmul::forward(const at::Tensor &)
{
    TORCH_CHECK(false, "DnnlMatmul: built without oneDNN");
    return {};
}

#endif

} // namespace stipple::core
