// A float32 fully connected layer (y = x·Wᵀ + b) run through oneDNN's own
// matmul, with its weight packed once into the layout oneDNN's AVX-512 GEMM
// kernel (brgemm) reads.
//
// Why: at::linear hands float32 products to OpenBLAS, which packs both
// operands on every call; after the 3x3 convolutions moved to Winograd
// (DnnlConvolution), the linear layers were the largest part of the float32
// UNet step. The numbers that decided it are in docs/performance.md
// (session 10) and `stipple-bench --stages linear`.
//
// Every row count runs oneDNN's kernel (the time embedding's 2 rows x 1280
// -> 1280: 0.07 ms against 0.35 ms in at::linear, a oneDNN-only probe); a
// product it refuses (and an empty input) goes to at::linear on a temporary
// unpacked copy.
//
// STIPPLE_DNNL_LINEAR=0 leaves every linear layer to at::linear (A/B runs).
// Errors from oneDNN surface as c10::Error.
// Thread-safety: one thread at a time per instance (per-shape plans are
// cached per instance).
#pragma once

#include <ATen/core/Tensor.h>

#include <cstdint>
#include <functional>
#include <memory>

namespace stipple::core {

class DnnlMatmul {
public:
    // Built with oneDNN's headers and the CPU runs its AVX-512 matmul kernel.
    static bool available();
    // Whether STIPPLE_DNNL_LINEAR allows this class at all (it is not 0).
    static bool enabled();

    // `weight`: float32 [out, in] (any strides); `bias`: float32 [out] or
    // undefined. Both are copied. `storage`: memory to pack the weight into,
    // kept referenced (DeferredPacking lends some for a layer packed for one
    // call); undefined, or smaller than the packed weight: memory of its own.
    DnnlMatmul(const at::Tensor &weight, const at::Tensor &bias, const at::Tensor &storage = {});
    // The same layer from a weight given a few output features at a time:
    // rows(n0, count) returns float32 [count, in] (contiguous, read before
    // the next call) for output features [n0, n0 + count). Packed from
    // there chunk by chunk (about 2 MiB each) without a whole float32 copy:
    // DeferredPacking converts the file's float16 into a small buffer that
    // stays in cache, where a whole copy was up to 52 MB of fresh memory
    // during the first step (SD 1.5's 1280 -> 10240). A layout oneDNN
    // chooses that does not keep runs of output features together, or an
    // input size that is not a multiple of 16 (padded blocks), gets the
    // whole copy all the same. The packed weight is the same bytes.
    using RowSource = std::function<at::Tensor(std::int64_t n0, std::int64_t count)>;
    struct Rows {};
    DnnlMatmul(Rows, const RowSource &rows, std::int64_t out, std::int64_t in, const at::Tensor &bias,
               const at::Tensor &storage = {});
    ~DnnlMatmul();
    DnnlMatmul(const DnnlMatmul &) = delete;
    DnnlMatmul &operator=(const DnnlMatmul &) = delete;

    std::int64_t inFeatures() const;
    std::int64_t outFeatures() const;

    // x: float32 [..., in]; returns float32 [..., out], contiguous.
    at::Tensor forward(const at::Tensor &x);

    // Whether forward() runs oneDNN's kernel for `rows` rows (x's elements
    // over `in`), rather than at::linear on an unpacked copy.
    bool packedFor(std::int64_t rows) const;

    // The weight as float32 [out, in], unpacked (for tests and fallbacks).
    at::Tensor plainWeight() const;

private:
    struct Impl;
    std::unique_ptr<Impl> m_impl;
};

} // namespace stipple::core
