#include "core/models/common/DnnlConvolution.h"

#include "core/common/MemoryPages.h"
#include "core/common/Runtime.h"

#include <ATen/ATen.h>
#include <ATen/Parallel.h>

#include <algorithm>
#include <cstdlib>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#if STIPPLE_HAVE_DNNL
#include "core/models/common/DnnlSupport.h"
#endif

namespace stipple::core {
namespace {

constexpr std::int64_t kBlock = 16; // oneDNN's channel block for AVX-512 float32
// Winograd's weight transform lives in the scratchpad (6x6 floats per 3x3
// kernel plus tile buffers): 254 MB for a 1280->1280 layer at 16x16, 496 MB
// for 2560->1280. Layers split their output channels into groups to stay
// within Workspace::groupScratchBytes; one that still needs more than this
// runs the direct kernel (whose scratch is small), so a workspace's scratch
// stays within this.
constexpr std::size_t kMaxScratchBytes = 300u << 20;

} // namespace

bool DnnlConvolution::enabled()
{
    static const bool allowed = envSwitch("STIPPLE_DNNL_CONV") != 0;
    return allowed;
}

bool DnnlConvolution::suits(at::IntArrayRef weightSizes, at::IntArrayRef stride, at::IntArrayRef padding,
                            at::IntArrayRef dilation, std::int64_t groups)
{
    auto all = [](at::IntArrayRef v, std::int64_t x) {
        for (auto e : v)
            if (e != x)
                return false;
        return true;
    };
    return weightSizes.size() == 4 && weightSizes[2] == 3 && weightSizes[3] == 3 && weightSizes[0] % kBlock == 0 &&
           weightSizes[1] % kBlock == 0 && stride.size() == 2 && (all(stride, 1) || all(stride, 2)) &&
           all(padding, 1) && all(dilation, 1) && groups == 1;
}

std::size_t DnnlConvolution::Workspace::scratchCeiling() { return kMaxScratchBytes; }

void DnnlConvolution::Workspace::release()
{
    for (at::Tensor *buffer : {&source, &destination, &scratch}) {
        if (buffer->defined())
            releaseWholePages(buffer->data_ptr(), buffer->nbytes());
        *buffer = at::Tensor();
    }
}

#if STIPPLE_HAVE_DNNL

namespace {

using Tag = dnnl::memory::format_tag;
using DType = dnnl::memory::data_type;
constexpr const char *kWhat = "oneDNN convolution";


// Winograd loses on small maps (its tile transforms dominate): measured in a
// oneDNN driver, 1280 channels at 8x8 15 -> 34 ms, 64 channels at 16x16
// 0.16 -> 0.17 ms; it won at every measured shape from 16x16 with 320
// channels and from 32x32 with 64 (docs/performance.md, session 9).
bool winogradPays(std::int64_t ic, std::int64_t oc, std::int64_t h, std::int64_t w)
{
    const std::int64_t pixels = h * w;
    return pixels >= 256 && pixels * std::min(ic, oc) >= 65536;
}

dnnl::memory::desc weightDesc(std::int64_t oc, std::int64_t ic)
{
    return dnnl::memory::desc({oc, ic, 3, 3}, DType::f32, Tag::OIhw16i16o);
}

// One band of output rows [row0, row0 + rows) reads input rows
// [stride * row0 - 1, stride * (row0 + rows - 1) + 2) clipped to the map;
// the clipped side gets the layer's zero padding instead (Impl::makePlan).
// So a map in bands gives the same sums as the whole map in one call.
struct BandShape {
    std::int64_t inRows, outRows, padTop, padBottom;
    bool operator==(const BandShape &o) const
    {
        return inRows == o.inRows && outRows == o.outRows && padTop == o.padTop && padBottom == o.padBottom;
    }
};

// The output size of a 3x3 convolution with padding 1 along an axis of `in`.
std::int64_t outSize(std::int64_t in, std::int64_t stride) { return (in - 1) / stride + 1; }

dnnl::convolution_forward::primitive_desc makeDesc(dnnl::algorithm algorithm, std::int64_t n, std::int64_t ic,
                                                   std::int64_t oc, const BandShape &band, std::int64_t w,
                                                   bool withBias, std::int64_t stride = 1)
{
    const dnnl::memory::desc src({n, ic, band.inRows, w}, DType::f32, Tag::nChw16c);
    const dnnl::memory::desc dst({n, oc, band.outRows, outSize(w, stride)}, DType::f32, Tag::nChw16c);
    const dnnl::memory::desc bias({oc}, DType::f32, Tag::x);
    // Winograd in inference mode wants the weight pre-transformed (4x the
    // memory); training mode transforms it per call from the blocked layout.
    const auto kind = algorithm == dnnl::algorithm::convolution_winograd ? dnnl::prop_kind::forward_training
                                                                          : dnnl::prop_kind::forward_inference;
    const dnnl::memory::dims strides{stride, stride}, padL{band.padTop, 1}, padR{band.padBottom, 1};
    auto d = withBias ? dnnl::convolution_forward::desc(kind, algorithm, src, weightDesc(oc, ic), bias, dst, strides,
                                                        padL, padR)
                      : dnnl::convolution_forward::desc(kind, algorithm, src, weightDesc(oc, ic), dst, strides, padL,
                                                        padR);
    dnnl::primitive_attr attr;
    attr.set_scratchpad_mode(dnnl::scratchpad_mode::user); // the shared workspace's
    return dnnl::convolution_forward::primitive_desc(d, attr, dnnlCpuEngine());
}

// `rows` rows of `c` channels of an [N, all, H, W] tensor in either layout,
// as a strided view of the whole tensor (the band starts at rowOffset()
// elements, the channels at channelOffset()).
dnnl::memory::desc rowsDesc(std::int64_t n, std::int64_t c, std::int64_t h, std::int64_t w, std::int64_t rows,
                            bool channelsLast, std::int64_t all)
{
    const dnnl::memory::dims strides = channelsLast ? dnnl::memory::dims{h * w * all, 1, w * all, all}
                                                    : dnnl::memory::dims{all * h * w, h * w, w, 1};
    return dnnl::memory::desc({n, c, rows, w}, DType::f32, strides);
}

dnnl::memory::desc rowsDesc(std::int64_t n, std::int64_t c, std::int64_t h, std::int64_t w, std::int64_t rows,
                            bool channelsLast)
{
    return rowsDesc(n, c, h, w, rows, channelsLast, c);
}

std::int64_t channelOffset(std::int64_t channel, std::int64_t h, std::int64_t w, bool channelsLast)
{
    return channelsLast ? channel : channel * h * w;
}

std::int64_t rowOffset(std::int64_t c, std::int64_t w, std::int64_t row, bool channelsLast)
{
    return row * w * (channelsLast ? c : 1);
}

// `buffer`, grown to hold `bytes` (and shrunk when `shrink` and it holds
// more than twice that); returns its address. Without `shrink`, a buffer
// grows straight to `ceiling` (at least): a new block is mapped, not
// touched, so only the bytes layers write fault in, once. Growing to each
// larger need instead wrote every size in turn: the float32 scratchpad went
// 32 -> 40 -> 72 -> 256 MiB over the first 256² step, each a new block of
// fresh pages (1.7-2.0 ns/byte cold on this project's VM).
void *reserve(at::Tensor &buffer, std::size_t bytes, bool shrink, std::size_t ceiling)
{
    const bool tooSmall = !buffer.defined() || buffer.nbytes() < bytes;
    const bool tooLarge = shrink && buffer.defined() && buffer.nbytes() > 2 * bytes;
    if (tooSmall || tooLarge) {
        // The old block goes back to the allocator's cache, which would
        // keep its pages (the scratchpad grows 68 -> 107 -> 254 -> 290 MB
        // over a 512² step): hand them to the OS first.
        if (buffer.defined())
            releaseWholePages(buffer.data_ptr(), buffer.nbytes());
        buffer = at::Tensor();
        buffer = dnnlBuffer(shrink ? bytes : std::max(bytes, ceiling));
    }
    return buffer.data_ptr();
}

} // namespace

struct DnnlConvolution::Impl {
    std::int64_t oc = 0, ic = 0;
    std::int64_t stride = 1; // 1 or 2, along both axes
    at::Tensor weight; // the bytes of a weightDesc(oc, ic) memory; undefined when streamed
    // Streamed: the filler and the buffer one group's weight goes into, and
    // the most output channels that buffer holds (oc otherwise).
    RowFiller fill;
    at::Tensor groupBuffer;
    std::int64_t groupLimit = 0;

    // The largest group of whole 16-channel blocks, at most `limit`
    // channels (one block at least), that divides oc evenly: every group
    // then runs the same primitive.
    std::int64_t largestGroupWithin(std::int64_t limit) const
    {
        const std::int64_t blocks = oc / kBlock;
        std::int64_t perGroup = std::clamp<std::int64_t>(limit / kBlock, 1, blocks);
        while (blocks % perGroup != 0)
            --perGroup;
        return perGroup * kBlock;
    }
    at::Tensor bias;   // float32 [oc] or undefined
    std::shared_ptr<Workspace> workspace;

    // The primitives for one band shape (a map has at most three: first,
    // middle, last; one when it is not split).
    struct Piece {
        BandShape shape;
        dnnl::convolution_forward::primitive_desc desc;
        dnnl::convolution_forward conv;
        dnnl::reorder toBlocked, fromBlocked;
    };
    struct Band {
        std::int64_t outRow0, inRow0;
        std::size_t piece;
    };
    struct Plan {
        std::int64_t n, h, w;
        bool channelsLast;
        // oneDNN splits the work and sizes per-thread scratch for the thread
        // count at creation; the band bound is the workspace's at the time.
        int threads;
        std::int64_t maxBandBytes, groupScratchBytes;
        Algorithm algorithm;
        std::int64_t groupOc; // output channels per group (oc: not split)
        std::vector<Piece> pieces;
        std::vector<Band> bands;
        std::size_t srcBytes = 0, dstBytes = 0, scratchBytes = 0; // the largest piece's
    };
    std::vector<Plan> plans; // newest last; a handful of shapes at most

    // Output rows per band: blocked input (`stride` rows per output row,
    // with two halo rows) and output of a band within maxBandBytes, a
    // multiple of Winograd's 4-row tile; at least 4 rows even if those
    // exceed the bound.
    std::int64_t bandRows(std::int64_t n, std::int64_t h, std::int64_t w) const
    {
        const std::int64_t item = std::int64_t(sizeof(float)), ow = outSize(w, stride);
        const std::int64_t perRow = n * (stride * w * ic + ow * oc) * item, halo = 2 * n * w * ic * item;
        const std::int64_t rows = (std::max<std::int64_t>(workspace->maxBandBytes - halo, 0) / perRow) / 4 * 4;
        return std::min(outSize(h, stride), std::max<std::int64_t>(rows, 4));
    }

    Piece makePiece(Algorithm algorithm, std::int64_t n, std::int64_t h, std::int64_t w, bool channelsLast,
                    const BandShape &shape, std::int64_t groupOc) const
    {
        const auto alg = algorithm == Algorithm::Winograd ? dnnl::algorithm::convolution_winograd
                                                          : dnnl::algorithm::convolution_direct;
        Piece p{shape, makeDesc(alg, n, ic, groupOc, shape, w, bias.defined(), stride), {}, {}, {}};
        p.conv = dnnl::convolution_forward(p.desc);
        auto &engine = dnnlCpuEngine();
        p.toBlocked = dnnl::reorder(dnnl::reorder::primitive_desc(
            engine, rowsDesc(n, ic, h, w, shape.inRows, channelsLast), engine, p.desc.src_desc()));
        p.fromBlocked = dnnl::reorder(dnnl::reorder::primitive_desc(
            engine, p.desc.dst_desc(), engine,
            rowsDesc(n, groupOc, outSize(h, stride), outSize(w, stride), shape.outRows, channelsLast, oc)));
        return p;
    }

    Plan makePlan(Algorithm algorithm, std::int64_t n, std::int64_t h, std::int64_t w, bool channelsLast,
                  std::int64_t groupOc) const
    {
        Plan plan{n,
                  h,
                  w,
                  channelsLast,
                  at::get_num_threads(),
                  workspace->maxBandBytes,
                  workspace->groupScratchBytes,
                  algorithm,
                  groupOc};
        // Output rows [row0, row1) read input rows [stride * row0 - 1,
        // stride * (row1 - 1) + 2), clipped to the map. The last band keeps
        // the bottom padding of 1 the whole map has (with stride 2 and an
        // even height no output reads it; oneDNN's size rule needs it all
        // the same).
        const std::int64_t step = bandRows(n, h, w), oh = outSize(h, stride);
        for (std::int64_t row0 = 0; row0 < oh; row0 += step) {
            const std::int64_t row1 = std::min(oh, row0 + step);
            const std::int64_t in0 = std::max<std::int64_t>(0, stride * row0 - 1);
            const std::int64_t in1 = std::min(h, stride * (row1 - 1) + 2);
            const BandShape shape{in1 - in0, row1 - row0, row0 == 0 ? 1 : 0, row1 == oh ? 1 : 0};
            std::size_t piece = 0;
            while (piece < plan.pieces.size() && !(plan.pieces[piece].shape == shape))
                ++piece;
            if (piece == plan.pieces.size())
                plan.pieces.push_back(makePiece(algorithm, n, h, w, channelsLast, shape, groupOc));
            plan.bands.push_back({row0, in0, piece});
        }
        for (const Piece &p : plan.pieces) {
            plan.srcBytes = std::max(plan.srcBytes, p.desc.src_desc().get_size());
            plan.dstBytes = std::max(plan.dstBytes, p.desc.dst_desc().get_size());
            plan.scratchBytes = std::max(plan.scratchBytes, p.desc.scratchpad_desc().get_size());
        }
        return plan;
    }

    Plan &planFor(std::int64_t n, std::int64_t h, std::int64_t w, bool channelsLast)
    {
        at::internal::lazy_init_num_threads(); // oneDNN reads the calling thread's OpenMP count
        const int threads = at::get_num_threads();
        for (Plan &p : plans)
            if (p.n == n && p.h == h && p.w == w && p.channelsLast == channelsLast && p.threads == threads &&
                p.maxBandBytes == workspace->maxBandBytes && p.groupScratchBytes == workspace->groupScratchBytes)
                return p;
        std::optional<Plan> plan;
        if (enabled() && stride == 1 && winogradPays(ic, oc, h, w)) {
            try {
                plan = makePlan(Algorithm::Winograd, n, h, w, channelsLast, oc);
            } catch (const dnnl::error &) {
                // Not implemented for this shape or CPU: direct.
            }
            // The fewest groups whose scratch stays within the workspace's
            // bound, as far as whole blocks of 16 allow. A halving that
            // saves under a quarter stops there: the input's tile buffers,
            // which grouping does not shrink, dominate.
            const auto bound = static_cast<std::size_t>(workspace->groupScratchBytes);
            for (std::int64_t groups = 2; plan && plan->scratchBytes > bound && oc % (groups * kBlock) == 0;
                 groups *= 2) {
                try {
                    Plan smaller = makePlan(Algorithm::Winograd, n, h, w, channelsLast, oc / groups);
                    if (smaller.scratchBytes * 4 > plan->scratchBytes * 3)
                        break;
                    plan = std::move(smaller);
                } catch (const dnnl::error &) {
                    break; // keep the plan that worked
                }
            }
            if (plan && plan->scratchBytes > kMaxScratchBytes)
                plan.reset(); // too much scratch even so: direct
        }
        // A streamed weight's groups must also fit its buffer. The algorithm
        // is chosen above exactly as for the whole weight, and splitting the
        // output channels further leaves each output's sums as they were, so
        // a layer streamed for one call computes what it will once packed.
        const Algorithm algorithm = plan ? Algorithm::Winograd : Algorithm::Direct;
        const std::int64_t groupOc = largestGroupWithin(std::min(plan ? plan->groupOc : oc, groupLimit));
        if (!plan || plan->groupOc != groupOc)
            plan = makePlan(algorithm, n, h, w, channelsLast, groupOc);
        constexpr std::size_t kMaxPlans = 6; // resolutions x CFG batch sizes in one session
        if (plans.size() == kMaxPlans)
            plans.erase(plans.begin());
        plans.push_back(std::move(*plan));
        return plans.back();
    }
};

bool DnnlConvolution::available()
{
    // Probe once: oneDNN decides at run time whether this CPU has the kernel.
    static const bool ok = [] {
        try {
            makeDesc(dnnl::algorithm::convolution_winograd, 1, 64, 64, BandShape{32, 32, 1, 1}, 32, true);
            return true;
        } catch (const dnnl::error &) {
            return false;
        }
    }();
    return ok;
}

void DnnlConvolution::init(std::int64_t out, std::int64_t in, const at::Tensor &bias,
                           std::shared_ptr<Workspace> workspace, std::int64_t stride)
{
    m_impl->workspace = workspace ? std::move(workspace) : std::make_shared<Workspace>();
    TORCH_CHECK(out % kBlock == 0 && in % kBlock == 0, "DnnlConvolution: channel counts must be multiples of 16");
    TORCH_CHECK(stride == 1 || stride == 2, "DnnlConvolution: stride must be 1 or 2");
    m_impl->oc = out;
    m_impl->ic = in;
    m_impl->stride = stride;
    m_impl->groupLimit = out;
    at::internal::lazy_init_num_threads();
    if (bias.defined()) {
        TORCH_CHECK(bias.numel() == out, "DnnlConvolution: bias size");
        m_impl->bias = bias.to(at::kFloat).contiguous().clone();
    }
}

DnnlConvolution::DnnlConvolution(const at::Tensor &weight, const at::Tensor &bias,
                                 std::shared_ptr<Workspace> workspace, std::int64_t stride) try
    : m_impl(std::make_unique<Impl>())
{
    TORCH_CHECK(weight.scalar_type() == at::kFloat && weight.dim() == 4 && weight.size(2) == 3 && weight.size(3) == 3,
                "DnnlConvolution: needs a float32 [out, in, 3, 3] weight");
    init(weight.size(0), weight.size(1), bias, std::move(workspace), stride);
    const at::Tensor plain = weight.contiguous();
    const auto blocked = weightDesc(m_impl->oc, m_impl->ic);
    m_impl->weight = dnnlBuffer(blocked.get_size());
    auto &engine = dnnlCpuEngine();
    dnnl::memory from(dnnl::memory::desc({m_impl->oc, m_impl->ic, 3, 3}, DType::f32, Tag::oihw), engine,
                      plain.data_ptr());
    dnnl::memory to(blocked, engine, m_impl->weight.data_ptr());
    dnnl::stream stream(engine);
    dnnl::reorder(from, to).execute(stream, from, to);
    stream.wait();
} catch (const dnnl::error &e) {
    rethrowAsTorchError(e, kWhat);
}

std::size_t DnnlConvolution::blockedWeightBytes(std::int64_t out, std::int64_t in)
{
    return weightDesc(out, in).get_size();
}

void DnnlConvolution::blockRows(const at::Tensor &rows, std::int64_t o0, void *blocked) try {
    TORCH_CHECK(rows.scalar_type() == at::kFloat && rows.dim() == 4 && rows.size(2) == 3 && rows.size(3) == 3 &&
                    rows.is_contiguous(),
                "DnnlConvolution::blockRows: needs contiguous float32 [k, in, 3, 3] rows");
    const std::int64_t k = rows.size(0), in = rows.size(1);
    TORCH_CHECK(k % kBlock == 0 && o0 % kBlock == 0 && in % kBlock == 0,
                "DnnlConvolution::blockRows: rows and channels must come in blocks of 16");
    auto &engine = dnnlCpuEngine();
    // Rows [o0, o0 + k) of the whole weight's blocked layout are the k-row
    // weight's blocked layout, placed o0 rows in (see the header).
    dnnl::memory from(dnnl::memory::desc({k, in, 3, 3}, DType::f32, Tag::oihw), engine, rows.data_ptr());
    dnnl::memory to(weightDesc(k, in), engine, static_cast<float *>(blocked) + o0 * in * 9);
    dnnl::stream stream(engine);
    dnnl::reorder(from, to).execute(stream, from, to);
    stream.wait();
} catch (const dnnl::error &e) {
    rethrowAsTorchError(e, kWhat);
}

DnnlConvolution::DnnlConvolution(Streamed, RowFiller fill, const at::Tensor &buffer, std::int64_t out,
                                 std::int64_t in, const at::Tensor &bias, std::shared_ptr<Workspace> workspace,
                                 std::int64_t stride) try
    : m_impl(std::make_unique<Impl>())
{
    init(out, in, bias, std::move(workspace), stride);
    TORCH_CHECK(fill, "DnnlConvolution: a streamed weight needs a filler");
    const auto blockBytes = static_cast<std::int64_t>(weightDesc(kBlock, in).get_size());
    const std::int64_t fits = buffer.is_contiguous() ? buffer.nbytes() / blockBytes : 0;
    TORCH_CHECK(fits >= 1, "DnnlConvolution: a streamed weight's buffer needs ", blockBytes,
                " bytes at least (16 output channels)");
    m_impl->groupLimit = fits * kBlock;
    m_impl->fill = std::move(fill);
    m_impl->groupBuffer = buffer;
} catch (const dnnl::error &e) {
    rethrowAsTorchError(e, kWhat);
}

DnnlConvolution::~DnnlConvolution() = default;

void DnnlConvolution::setMaxBandBytes(std::int64_t bytes)
{
    m_impl->workspace->maxBandBytes = bytes; // every sharing layer's plans are keyed on it
}

void DnnlConvolution::releaseWorkspace() { m_impl->workspace->release(); }

DnnlConvolution::Algorithm DnnlConvolution::algorithmFor(std::int64_t n, std::int64_t h, std::int64_t w,
                                                          bool channelsLast)
{
    try {
        return m_impl->planFor(n, h, w, channelsLast).algorithm;
    } catch (const dnnl::error &e) {
        rethrowAsTorchError(e, kWhat);
    }
}

int DnnlConvolution::groupsFor(std::int64_t n, std::int64_t h, std::int64_t w, bool channelsLast)
{
    try {
        const Impl::Plan &plan = m_impl->planFor(n, h, w, channelsLast);
        return static_cast<int>(m_impl->oc / plan.groupOc);
    } catch (const dnnl::error &e) {
        rethrowAsTorchError(e, kWhat);
    }
}

int DnnlConvolution::bandsFor(std::int64_t n, std::int64_t h, std::int64_t w, bool channelsLast)
{
    try {
        return static_cast<int>(m_impl->planFor(n, h, w, channelsLast).bands.size());
    } catch (const dnnl::error &e) {
        rethrowAsTorchError(e, kWhat);
    }
}

at::Tensor DnnlConvolution::forward(const at::Tensor &x) try {
    TORCH_CHECK(x.dim() == 4 && x.scalar_type() == at::kFloat && x.size(1) == m_impl->ic && x.device().is_cpu() &&
                    x.layout() == at::kStrided,
                "DnnlConvolution: expected float32 [N, ", m_impl->ic, ", H, W], got ", x.sizes(), " ",
                x.scalar_type());
    const bool channelsLast = !x.is_contiguous() && x.is_contiguous(at::MemoryFormat::ChannelsLast);
    const at::Tensor in = channelsLast ? x : x.contiguous();
    const std::int64_t n = in.size(0), h = in.size(2), w = in.size(3), ic = m_impl->ic, oc = m_impl->oc;
    const std::int64_t oh = outSize(h, m_impl->stride), ow = outSize(w, m_impl->stride);
    Impl::Plan &plan = m_impl->planFor(n, h, w, channelsLast);
    at::Tensor out = at::empty({n, oc, oh, ow}, in.options().memory_format(channelsLast ? at::MemoryFormat::ChannelsLast
                                                                                      : at::MemoryFormat::Contiguous));
    Workspace &space = *m_impl->workspace;
    // Ceilings: what banding and the Winograd cap allow (a band's copies
    // stay near maxBandBytes; a larger need still grows the buffer).
    const auto band = static_cast<std::size_t>(space.maxBandBytes);
    void *srcBuffer = reserve(space.source, plan.srcBytes, space.shrinkToFit, band);
    void *dstBuffer = reserve(space.destination, plan.dstBytes, space.shrinkToFit, band);
    void *scratchBuffer =
        plan.scratchBytes ? reserve(space.scratch, plan.scratchBytes, space.shrinkToFit, kMaxScratchBytes) : nullptr;

    auto &engine = dnnlCpuEngine();
    dnnl::stream stream(engine);
    float *const inData = in.data_ptr<float>();
    float *const outData = out.data_ptr<float>();
    bool wholeWeightFilled = false; // a streamed weight in one group: filled once for all bands
    for (const Impl::Band &band : plan.bands) {
        const Impl::Piece &p = plan.pieces[band.piece];
        dnnl::memory user(rowsDesc(n, ic, h, w, p.shape.inRows, channelsLast), engine,
                          inData + rowOffset(ic, w, band.inRow0, channelsLast));
        dnnl::memory src(p.desc.src_desc(), engine, srcBuffer);
        p.toBlocked.execute(stream, user, src);
        dnnl::memory dst(p.desc.dst_desc(), engine, dstBuffer);
        for (std::int64_t o0 = 0; o0 < oc; o0 += plan.groupOc) {
            // A group's output channels are whole 16-channel blocks of the
            // weight's layout, one contiguous run laid out as their own
            // weight (blockRows says why); a streamed one is written now.
            void *weights = nullptr;
            if (m_impl->fill) {
                weights = m_impl->groupBuffer.data_ptr();
                if (!wholeWeightFilled) {
                    stream.wait(); // the previous group's products are done with the buffer
                    m_impl->fill(o0, plan.groupOc, weights);
                    wholeWeightFilled = plan.groupOc == oc;
                }
            } else {
                weights = static_cast<float *>(m_impl->weight.data_ptr()) + o0 * ic * 9;
            }
            std::unordered_map<int, dnnl::memory> args{
                {DNNL_ARG_SRC, src},
                {DNNL_ARG_DST, dst},
                {DNNL_ARG_WEIGHTS, dnnl::memory(p.desc.weights_desc(), engine, weights)}};
            if (m_impl->bias.defined())
                args.emplace(DNNL_ARG_BIAS,
                             dnnl::memory(p.desc.bias_desc(), engine, m_impl->bias.data_ptr<float>() + o0));
            if (scratchBuffer)
                args.emplace(DNNL_ARG_SCRATCHPAD, dnnl::memory(p.desc.scratchpad_desc(), engine, scratchBuffer));
            p.conv.execute(stream, args);
            dnnl::memory result(rowsDesc(n, plan.groupOc, oh, ow, p.shape.outRows, channelsLast, oc), engine,
                                outData + rowOffset(oc, ow, band.outRow0, channelsLast) +
                                    channelOffset(o0, oh, ow, channelsLast));
            p.fromBlocked.execute(stream, dst, result);
        }
    }
    stream.wait();
    return out;
} catch (const dnnl::error &e) {
    rethrowAsTorchError(e, kWhat);
}

#else // built without oneDNN's headers: never available, never constructed

struct DnnlConvolution::Impl {};

bool DnnlConvolution::available() { return false; }

DnnlConvolution::DnnlConvolution(const at::Tensor &, const at::Tensor &, std::shared_ptr<Workspace>, std::int64_t)
{
    TORCH_CHECK(false, "DnnlConvolution: built without oneDNN");
}

DnnlConvolution::DnnlConvolution(Streamed, RowFiller, const at::Tensor &, std::int64_t, std::int64_t,
                                 const at::Tensor &, std::shared_ptr<Workspace>, std::int64_t)
{
    TORCH_CHECK(false, "DnnlConvolution: built without oneDNN");
}

std::size_t DnnlConvolution::blockedWeightBytes(std::int64_t out, std::int64_t in)
{
    return static_cast<std::size_t>(out * in * 9) * sizeof(float);
}

void DnnlConvolution::blockRows(const at::Tensor &, std::int64_t, void *)
{
    TORCH_CHECK(false, "DnnlConvolution: built without oneDNN");
}

void DnnlConvolution::init(std::int64_t, std::int64_t, const at::Tensor &, std::shared_ptr<Workspace>, std::int64_t)
{
}

DnnlConvolution::~DnnlConvolution() = default;

void DnnlConvolution::setMaxBandBytes(std::int64_t) {}

DnnlConvolution::Algorithm DnnlConvolution::algorithmFor(std::int64_t, std::int64_t, std::int64_t, bool)
{
    return Algorithm::Direct;
}

int DnnlConvolution::bandsFor(std::int64_t, std::int64_t, std::int64_t, bool) { return 1; }

int DnnlConvolution::groupsFor(std::int64_t, std::int64_t, std::int64_t, bool) { return 1; }

at::Tensor DnnlConvolution::forward(const at::Tensor &)
{
    TORCH_CHECK(false, "DnnlConvolution: built without oneDNN");
    return {};
}

void DnnlConvolution::releaseWorkspace() {}

#endif

} // namespace stipple::core
