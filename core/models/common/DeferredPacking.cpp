#include "core/models/common/DeferredPacking.h"

#include "core/common/FloatConversion.h"
#include "core/common/MemoryPages.h"
#include "core/common/ParallelRange.h"
#include "core/models/common/ModuleConversion.h"

#include <ATen/ATen.h>
#include <c10/core/InferenceMode.h>
#include <torch/utils.h>

#include <algorithm>
#include <atomic>
#include <cstdint>

namespace stipple::core {
namespace {

constexpr std::int64_t kBlock = 16; // DnnlConvolution's block of output channels

} // namespace

at::Tensor DeferredPacking::adopt(at::Tensor &weight, at::Tensor &bias)
{
    torch::NoGradGuard noGrad;
    convertTensor(bias, m_dtype); // first: if it throws, the layer is as it was
    at::Tensor view;
    {
        // A tensor of its own on the same memory (replaceData below changes
        // the parameter's), made in the parameter's mode, as replaceData's.
        c10::InferenceMode sameMode(weight.is_inference());
        view = weight.detach();
    }
    replaceData(weight, [&] { return at::empty({0}, weight.options().dtype(m_dtype)); });
    ++m_pending;
    m_largest = std::max(m_largest, view.numel());
    return view;
}

void DeferredPacking::beginForward()
{
    if (++m_forwards != 1 || m_largest == 0)
        return;
    // at::empty maps without touching: only what the layers write faults in.
    constexpr std::int64_t kAlign = std::int64_t(2) << 20; // a huge page
    const std::int64_t weightBytes = m_largest * static_cast<std::int64_t>(c10::elementSize(m_dtype));
    const std::int64_t tail = (weightBytes + kAlign - 1) / kAlign * kAlign;
    const bool convolutionScratch =
        m_dtype == at::kFloat && DnnlConvolution::available() && DnnlConvolution::enabled();
    m_front = convolutionScratch ? static_cast<std::int64_t>(DnnlConvolution::Workspace::scratchCeiling()) : 0;
    {
        c10::InferenceMode normalTensors(false); // see converted()
        m_region = at::empty({m_front + tail}, at::TensorOptions().dtype(at::kByte));
    }
    if (m_front > 0 && !m_workspace->scratch.defined())
        m_workspace->scratch = m_region.narrow(0, 0, m_front);
    const auto block = [&] { return at::empty({weightBytes + kAlign}, at::TensorOptions().dtype(at::kByte)); };
    const at::Tensor first = block(), second = block(); // both alive at once: two blocks
}

void DeferredPacking::removePending()
{
    if (--m_pending > 0 || !m_region.defined())
        return;
    // The workspace's scratch, a view of the front, keeps the storage alive
    // and goes on using its pages; all else goes.
    const bool frontIsScratch =
        m_front > 0 && m_workspace->scratch.defined() && m_workspace->scratch.data_ptr() == m_region.data_ptr();
    const std::int64_t from = frontIsScratch ? m_front : 0;
    releaseWholePages(static_cast<const char *>(m_region.data_ptr()) + from,
                      static_cast<std::size_t>(m_region.numel() - from));
    m_region = at::Tensor();
}

void DeferredPacking::releaseIdlePages()
{
    if (m_region.defined())
        releaseWholePages(static_cast<const char *>(m_region.data_ptr()) + m_front,
                          static_cast<std::size_t>(m_region.numel() - m_front));
}

at::Tensor DeferredPacking::roomForThisCall() const
{
    if (m_forwards != 1 || m_front == 0 || !m_region.defined())
        return {};
    return m_region.narrow(0, 0, m_front);
}

at::Tensor DeferredPacking::conversionBuffer(std::int64_t bytes)
{
    if (m_region.defined() && m_region.numel() - m_front >= bytes)
        return m_region.narrow(0, m_front, bytes);
    // Sized once for the largest weight: a buffer that grew layer by layer
    // would fault in fresh pages at each larger size.
    const std::int64_t largest = m_largest * static_cast<std::int64_t>(c10::elementSize(m_dtype));
    if (!m_scratch.defined() || m_scratch.numel() < bytes) {
        c10::InferenceMode normalTensors(false); // see converted()
        m_scratch = at::empty({std::max(bytes, largest)}, at::TensorOptions().dtype(at::kByte));
    }
    return m_scratch.narrow(0, 0, bytes);
}

bool DeferredPacking::fillFromFile(const at::Tensor &dst, const at::Tensor &view)
{
    if (!view.is_contiguous() || !dst.is_contiguous() || dst.numel() != view.numel())
        return false;
    if (view.scalar_type() == dst.scalar_type())
        return m_files.readBytesOf(view, 0, view.nbytes(), dst.data_ptr());
    // In another dtype: through a small buffer, chunk by chunk, so the
    // conversion reads what the read just left in the cache.
    constexpr std::int64_t kChunk = std::int64_t(2) << 20, kGrain = std::int64_t(64) << 10; // elements
    if (!m_staging.defined() || m_staging.scalar_type() != view.scalar_type()) {
        c10::InferenceMode normalTensors(false); // see converted()
        m_staging = at::empty({kChunk}, at::TensorOptions().dtype(view.scalar_type()));
    }
    const at::Tensor flat = dst.view(-1);
    const std::int64_t n = view.numel();
    const std::size_t item = view.element_size();
    // Into float32 (the float32 model), each torch thread reads and converts
    // its share of a chunk, on raw memory (no ATen calls in the parts, see
    // ParallelRange.h): one pread copies the page cache at 4-5 GB/s here,
    // the larger part of the first fp32 step's 0.55 s of file work, which
    // this took to 0.49 s. Other conversions (copy_, itself parallel) go a
    // chunk at a time on this thread.
    const bool split = convertsVectorised(dst.scalar_type(), view.scalar_type());
    auto *staging = static_cast<char *>(m_staging.data_ptr());
    auto *out = static_cast<char *>(dst.data_ptr());
    const std::size_t outItem = dst.element_size();
    for (std::int64_t i = 0; i < n; i += kChunk) {
        const std::int64_t len = std::min(kChunk, n - i);
        if (!split) {
            if (!m_files.readBytesOf(view, i * item, len * item, staging))
                return false;
            convertInto(flat.narrow(0, i, len), m_staging.narrow(0, 0, len));
            continue;
        }
        std::atomic<bool> read{true};
        parallelRange(0, len, kGrain, [&](std::int64_t b, std::int64_t e, int) {
            if (m_files.readBytesOf(view, (i + b) * item, (e - b) * item, staging + b * item))
                convertToFloat(staging + b * item, view.scalar_type(),
                               reinterpret_cast<float *>(out + (i + b) * outItem), e - b);
            else
                read = false;
        });
        if (!read)
            return false;
    }
    return true;
}

at::Tensor DeferredPacking::converted(const at::Tensor &view)
{
    c10::InferenceMode normalTensors(false);
    torch::NoGradGuard noGrad; // InferenceMode(false) turned grad mode back on
    const std::int64_t n = view.numel();
    const at::Tensor out = conversionBuffer(n * static_cast<std::int64_t>(c10::elementSize(m_dtype)))
                               .view(m_dtype)
                               .view(view.sizes());
    // The file's bytes come in with pread rather than through the mapping
    // (MappedFiles::readBytesOf says why); anything else is copied in all
    // the same, so what a layer packs is always this normal tensor.
    if (!fillFromFile(out, view))
        convertInto(out, view);
    return out;
}

std::shared_ptr<DnnlConvolution> DeferredPacking::streamedConvolution(const at::Tensor &view, const at::Tensor &bias,
                                                                      std::int64_t stride)
{
    TORCH_CHECK(m_dtype == at::kFloat && view.dim() == 4 && view.size(2) == 3 && view.size(3) == 3,
                "DeferredPacking: streams float32 [out, in, 3, 3] weights only");
    c10::InferenceMode normalTensors(false); // see converted()
    torch::NoGradGuard noGrad;
    const std::int64_t out = view.size(0), in = view.size(1);
    // A group's weight stays within kGroupBytes (or one block of 16 output
    // channels, if that is more); a small layer takes only its own size.
    const auto whole = static_cast<std::int64_t>(DnnlConvolution::blockedWeightBytes(out, in));
    const auto block = static_cast<std::int64_t>(DnnlConvolution::blockedWeightBytes(kBlock, in));
    const at::Tensor buffer = conversionBuffer(std::min(whole, std::max(kGroupBytes, block)));
    const at::Tensor source = view.contiguous();
    return std::make_shared<DnnlConvolution>(
        DnnlConvolution::Streamed{},
        [this, source](std::int64_t o0, std::int64_t k, void *dst) { blockRowsOf(source, o0, k, dst); }, buffer, out,
        in, bias, m_workspace, stride);
}

std::int64_t DeferredPacking::rowsPerChunk(std::int64_t rowElements)
{
    // About 2 MiB of float32 rows, in whole blocks of 16 output channels
    // (DnnlConvolution::blockRows), so the rows stay in cache between their
    // conversion and their blocking.
    constexpr std::int64_t kChunkBytes = std::int64_t(2) << 20;
    return std::max(kBlock, kChunkBytes / (rowElements * std::int64_t(sizeof(float))) / kBlock * kBlock);
}

void DeferredPacking::blockRowsOf(const at::Tensor &source, std::int64_t o0, std::int64_t k, void *dst)
{
    const std::int64_t rows = rowsPerChunk(source.size(1) * 9);
    for (std::int64_t c = 0; c < k; c += rows)
        DnnlConvolution::blockRows(rowsOf(source, o0 + c, std::min(rows, k - c)), c, dst);
}

at::Tensor DeferredPacking::rowsOf(const at::Tensor &view, std::int64_t r0, std::int64_t count)
{
    TORCH_CHECK(view.dim() >= 1 && r0 >= 0 && count >= 0 && r0 + count <= view.size(0),
                "DeferredPacking: rows ", r0, " + ", count, " of ", view.sizes());
    c10::InferenceMode normalTensors(false); // see converted()
    torch::NoGradGuard noGrad;
    const at::Tensor part = view.narrow(0, r0, count).contiguous();
    const std::int64_t n = part.numel();
    if (!m_rows.defined() || m_rows.numel() < n)
        m_rows = at::empty({n}, at::TensorOptions().dtype(at::kFloat));
    const at::Tensor rows = m_rows.narrow(0, 0, n).view(part.sizes());
    if (!fillFromFile(rows, part))
        convertInto(rows, part);
    return rows;
}

at::Tensor DeferredPacking::ownCopy(const at::Tensor &view)
{
    if (view.scalar_type() == m_dtype)
        return view;
    torch::NoGradGuard noGrad;
    at::Tensor copy = at::empty(view.sizes(), view.options().dtype(m_dtype));
    if (!fillFromFile(copy, view))
        convertInto(copy, view);
    return copy;
}

} // namespace stipple::core
