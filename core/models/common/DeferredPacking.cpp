#include "core/models/common/DeferredPacking.h"

#include "core/common/FloatConversion.h"
#include "core/models/common/ModuleConversion.h"

#include <ATen/ATen.h>
#include <c10/core/InferenceMode.h>
#include <torch/utils.h>

#include <algorithm>
#include <cstdint>

namespace stipple::core {

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
    // at::empty maps without touching: only what later copies write faults in.
    const std::int64_t bytes = m_largest * static_cast<std::int64_t>(c10::elementSize(m_dtype));
    const auto block = [&] {
        return at::empty({bytes + (std::int64_t(2) << 20)}, at::TensorOptions().dtype(at::kByte));
    };
    const at::Tensor first = block(), second = block(); // both alive at once: two blocks
}

bool DeferredPacking::fillFromFile(const at::Tensor &dst, const at::Tensor &view)
{
    if (!view.is_contiguous() || !dst.is_contiguous() || dst.numel() != view.numel())
        return false;
    if (view.scalar_type() == dst.scalar_type())
        return m_files.readBytesOf(view, 0, view.nbytes(), dst.data_ptr());
    // In another dtype: through a small buffer, chunk by chunk, so the
    // conversion reads what the read just left in the cache.
    constexpr std::int64_t kChunk = std::int64_t(2) << 20; // elements
    if (!m_staging.defined() || m_staging.scalar_type() != view.scalar_type()) {
        c10::InferenceMode normalTensors(false); // see converted()
        m_staging = at::empty({kChunk}, at::TensorOptions().dtype(view.scalar_type()));
    }
    const at::Tensor flat = dst.view(-1);
    const std::int64_t n = view.numel();
    const std::size_t item = view.element_size();
    for (std::int64_t i = 0; i < n; i += kChunk) {
        const std::int64_t len = std::min(kChunk, n - i);
        const at::Tensor chunk = m_staging.narrow(0, 0, len);
        if (!m_files.readBytesOf(view, i * item, len * item, chunk.data_ptr()))
            return false;
        convertInto(flat.narrow(0, i, len), chunk);
    }
    return true;
}

at::Tensor DeferredPacking::converted(const at::Tensor &view)
{
    c10::InferenceMode normalTensors(false);
    torch::NoGradGuard noGrad; // InferenceMode(false) turned grad mode back on
    // Sized once for the largest weight: a buffer that grew layer by layer
    // would fault in fresh pages at each larger size.
    const std::int64_t n = view.numel();
    if (!m_scratch.defined() || m_scratch.numel() < n)
        m_scratch = at::empty({std::max(n, m_largest)}, at::TensorOptions().dtype(m_dtype));
    // The file's bytes come in with pread rather than through the mapping
    // (MappedFiles::readBytesOf says why); anything else is copied in all
    // the same, so what a layer packs is always this normal tensor.
    const at::Tensor out = m_scratch.narrow(0, 0, n).view(view.sizes());
    if (!fillFromFile(out, view))
        convertInto(out, view);
    return out;
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
