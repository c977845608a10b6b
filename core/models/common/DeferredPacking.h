// Packing a model's layers during its first forwards instead of at load.
//
// Why: a load that packs SD 1.5's UNet writes 1.7 GB (bf16) or 3.4 GB
// (float32) of fresh memory before the first step can start. On the VMs this
// project is measured on, fresh memory costs 1.7-2.0 ns/byte once it has been
// idle a few seconds (the host takes back free pages), so that alone was
// 3-7 s between opening a checkpoint and its first step
// (docs/performance.md, sessions 12-14).
//
// A deferred layer (Conv2dImpl::deferPacking, LinearImpl::deferPacking)
// keeps its weight as it came from the checkpoint (a view of the mapped
// file). During the model's first forward it builds, at each call, the same
// packed form it would have kept, in memory the layers share (a region this
// class maps once, see beginForward(), or blocks of the allocator's cache),
// runs it and lets it go, so the first step writes little fresh memory. From
// the second forward on, each layer packs for good at its first call, as it
// would have at load. The results are the packed layers' own, bit for bit;
// the fresh-memory cost moves from before the first step to the second.
//
// The model calls beginForward() at the start of each forward.
// Thread-safety: the model's thread only (as the layers).
#pragma once

#include "core/io/SafeTensors.h"
#include "core/models/common/DnnlConvolution.h"

#include <ATen/core/Tensor.h>
#include <c10/core/ScalarType.h>

#include <cstdint>
#include <memory>
#include <utility>

namespace stipple::core {

class DeferredPacking {
public:
    // `dtype`: what the layers compute in; `files`: the mappings their views
    // lie in, read with pread (so the first step's per-call reads leave no
    // pages resident), and whose pages a layer releases once packed for good
    // in case a fallback read them through the mapping.
    DeferredPacking(at::ScalarType dtype, MappedFiles files)
        : m_dtype(dtype), m_files(std::move(files)), m_workspace(std::make_shared<DnnlConvolution::Workspace>())
    {
    }

    at::ScalarType dtype() const { return m_dtype; }

    // Called by the model at the start of each forward. Before the first,
    // it maps (without touching) the room the layers pack in, one region:
    // - its tail holds one layer's weight in dtype() (converted()), or a
    //   streamed convolution's group (streamedConvolution()), until every
    //   layer has packed for good; only what the layers write of it faults
    //   in (the float32 first step streams its large layers, so a few tens
    //   of MiB);
    // - its front, for a float32 model, is the DnnlConvolution workspace's
    //   scratch (Winograd's transformed weights), lent during the first
    //   forward to the DnnlMatmul layers' per-call packed weights
    //   (roomForThisCall()), which run no convolution.
    // Why one region: during the first forward every page the layers write
    // is fresh memory (1.7-2.0 ns/byte on this project's VM), so each
    // buffer they share, rather than keep apart, saves its size in faults.
    // It also puts two untouched blocks the size of the largest weight in
    // the allocator's cache (CpuAllocator): the copies torch's packed
    // convolutions make for one call (AllocatorLooseFit) then come from
    // memory that only the largest layer's pages fault into, not from fresh
    // blocks at each larger size.
    void beginForward();
    // Whether a layer called now packs for good (any forward after the first,
    // or a call outside a model's forward) rather than for this call only.
    bool packsForGood() const { return m_forwards != 1; }
    int forwards() const { return m_forwards; }

    // A layer deferring its packing hands over its parameters: returns the
    // weight as given (a tensor of its own on the same memory) and leaves
    // the `weight` parameter an empty tensor of dtype(), so a dtype
    // conversion of the module skips it; `bias` is converted now. The layer
    // is counted in (removePending() counts it out once packed for good).
    at::Tensor adopt(at::Tensor &weight, at::Tensor &bias);

    // `view`'s values in dtype(), in the conversion buffer the layers share
    // (the region's tail, or a buffer sized once for the largest deferred
    // weight; valid until the next call), read from the file with pread when `view` lies in `files`,
    // copied otherwise: always a normal tensor, which a layer packs in its
    // caller's InferenceMode state (the packed weights then serve calls in
    // and out of InferenceMode). The buffer is a normal tensor even under
    // InferenceMode (later calls rewrite it, which InferenceMode forbids for
    // its own tensors once it is off); nothing is recorded for autograd.
    at::Tensor converted(const at::Tensor &view);
    // For a float32 layer packed for one call that suits DnnlConvolution:
    // one over `view` (an [out, in, 3, 3] weight, channels in blocks of 16)
    // whose weight is blocked while it runs, a group of output channels at
    // a time (DnnlConvolution's Streamed constructor), into the first
    // kGroupBytes of the conversion buffer (valid until the next call, as
    // converted()'s). Each group is read a few output channels at a time
    // (pread when `view` lies in `files`) into a small float32 buffer that
    // stays in cache, and blocked from there (DnnlConvolution::blockRows).
    // Why: blocking the whole weight first wrote up to 118 MB of fresh
    // memory (SD 1.5's 2560 -> 1280 layers) and passed the weight through
    // memory twice; a group's few MiB are reused from layer to layer and
    // read back from the cache. Needs dtype() float32; oneDNN's refusals
    // surface as c10::Error. The layer refers to this object and to the
    // conversion buffer: for one call only.
    std::shared_ptr<DnnlConvolution> streamedConvolution(const at::Tensor &view, const at::Tensor &bias,
                                                         std::int64_t stride);
    // Rows [r0, r0 + count) of `view` (along its first dimension) in
    // float32, read as converted() reads (pread when `view` lies in
    // `files`) into a small buffer the layers share, reused at the next
    // call: for packing a float32 weight a chunk at a time (DnnlMatmul's
    // Rows constructor, streamedConvolution()) from memory that stays in
    // cache. A normal tensor, as converted()'s.
    at::Tensor rowsOf(const at::Tensor &view, std::int64_t r0, std::int64_t count);
    // `view`'s values in dtype() in memory of their own (read as above),
    // made in the current InferenceMode state: for a layer that keeps a
    // converted copy as its weight (call it inside replaceData's make()).
    // `view` itself when it is in dtype() already.
    at::Tensor ownCopy(const at::Tensor &view);
    // During the first forward of a float32 model: memory for one layer's
    // packed weight for this call, not used by the layer's run (the
    // region's front, see beginForward; valid until the next call).
    // Undefined otherwise: the layer packs into memory of its own.
    at::Tensor roomForThisCall() const;
    // The DnnlConvolution buffers, shared by the layers one after another.
    const std::shared_ptr<DnnlConvolution::Workspace> &workspace() const { return m_workspace; }

    // The layers still deferred. When none is left, the region's pages go
    // back to the OS, but for its front while that is the workspace's
    // scratch (which keeps using it).
    void removePending();
    // Returns the region's tail pages to the OS, between generations (a
    // one-step generation leaves the layers deferred until the next); they
    // fault in again when the next forward packs. Not during a forward.
    void releaseIdlePages();
    int pending() const { return m_pending; }

    // Drops the resident pages of a file view the layer has read.
    void releaseFilePagesOf(const at::Tensor &view) const { m_files.releasePagesOf(view); }

private:
    // Fills `dst` (contiguous, dtype()) with `view`'s values read from the
    // file in chunks through m_staging; false when `view` is not a view of
    // `files` or a read fails (`dst` is then partly written).
    bool fillFromFile(const at::Tensor &dst, const at::Tensor &view);
    // `bytes` of the conversion buffer: the region's tail while there is
    // one, m_scratch otherwise (sized once for the largest weight).
    at::Tensor conversionBuffer(std::int64_t bytes);
    // streamedConvolution's filler: rows [o0, o0 + k) of `source` blocked
    // into `dst`, through rowsOf() a chunk at a time.
    void blockRowsOf(const at::Tensor &source, std::int64_t o0, std::int64_t k, void *dst);
    // Rows of `rowElements` per m_rows chunk (about 2 MiB, whole blocks of 16).
    static std::int64_t rowsPerChunk(std::int64_t rowElements);
    // The most a streamed group's weight takes (see streamedConvolution).
    // 8, 16 and 32 MiB measured alike within this VM's drift (first fp32
    // 256² step, three alternating cold runs each: medians 2.51, 2.43,
    // 2.56 s); fewer groups repeat Winograd's input transform less, more
    // memory faults in more pages.
    static constexpr std::int64_t kGroupBytes = std::int64_t(16) << 20;

    at::ScalarType m_dtype;
    MappedFiles m_files;
    at::Tensor m_region;      // see beginForward (bytes); undefined once no layer is deferred
    std::int64_t m_front = 0; // bytes of it before the tail
    at::Tensor m_scratch;     // the conversion buffer without a region
    at::Tensor m_rows;        // rowsOf's few rows at a time, in float32
    at::Tensor m_staging;     // file bytes on their way to a conversion
    std::shared_ptr<DnnlConvolution::Workspace> m_workspace;
    int m_forwards = 0;
    int m_pending = 0;
    std::int64_t m_largest = 0; // elements of the largest deferred weight
};

} // namespace stipple::core
