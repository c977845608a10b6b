// A fully connected module with torch::nn::Linear's parameters ("weight",
// "bias"), options and forward, whose random initialisation can be skipped
// (ParameterInit.h); with init enabled it draws what torch::nn::Linear draws.
//
// prepareForInference() hands a float32 weight to a DnnlMatmul, which packs
// it once for oneDNN's GEMM kernel, and frees the plain copy (see
// DnnlMatmul.h for why). A prepared module is for float32 inference only
// (grad mode off). convertWeightPerCall() instead keeps the weight as given
// (a float16 file view) and converts it at each forward into a buffer that
// lives as long as the calling thread (the largest weight converted so far).
// Thread-safety: a module instance is used by one thread at a time.
#pragma once

#include "core/models/common/DeferredPacking.h"
#include "core/models/common/DnnlMatmul.h"

#include <torch/nn/cloneable.h>
#include <torch/nn/options/linear.h>
#include <torch/nn/pimpl.h>

#include <cstdint>
#include <memory>
#include <optional>

namespace stipple::core {

class LinearImpl : public torch::nn::Cloneable<LinearImpl> {
public:
    LinearImpl(std::int64_t in, std::int64_t out) : LinearImpl(torch::nn::LinearOptions(in, out)) {}
    explicit LinearImpl(torch::nn::LinearOptions options);
    void reset() override;
    at::Tensor forward(const at::Tensor &x);

    // For float32 inference (`dtype`, default: the weight's own) with
    // DnnlMatmul available and enabled: packs the weight, and `weight`
    // becomes an empty tensor (a mapped file view's pages are released too,
    // under a MappedFilesScope). A weight in another dtype (a float16 view of
    // the file, OpenOptions::deferUnetLinearWeights) is converted on its way
    // through `scratch` (see Conv2dImpl::prepareForInference). Returns whether
    // the layer runs through DnnlMatmul.
    bool prepareForInference(std::optional<at::ScalarType> dtype = std::nullopt, at::Tensor *scratch = nullptr);
    DnnlMatmul *dnnlMatmul() const { return m_dnnl.get(); }

    // Computes in `dtype` while `weight` stays as it is (a float16 view of
    // the file): each forward converts it into a buffer the thread reuses.
    // For layers run once per prompt (the text encoder): their converted
    // copy would be fresh memory written at every load (SD 1.5's text
    // encoder: 0.49 GB in float32, about 0.9 s on this VM's cold memory),
    // for a conversion that costs less than a millisecond per layer. The
    // values are those of a copy converted at load, so are the results.
    // `bias` is converted now (a vector).
    void convertWeightPerCall(at::ScalarType dtype);

    // For inference in `packing->dtype()`: keeps the weight as given (a view
    // of the checkpoint file) until the model's first forwards pack it
    // (DeferredPacking.h): float32 on DnnlMatmul as prepareForInference(),
    // other dtypes as a converted copy (or the view itself when already in
    // that dtype). `weight` becomes an empty tensor meanwhile; the bias is
    // converted now. Returns whether it deferred.
    bool deferPacking(const std::shared_ptr<DeferredPacking> &packing);
    DeferredPacking *deferredPacking() const { return m_deferred.get(); }

    torch::nn::LinearOptions options;
    at::Tensor weight;
    at::Tensor bias;

private:
    // A deferred layer: for this call only, or for good.
    at::Tensor forwardPackedForThisCall(const at::Tensor &x);
    void packDeferred();

    std::shared_ptr<DnnlMatmul> m_dnnl;
    std::optional<at::ScalarType> m_computeDtype; // convertWeightPerCall
    std::shared_ptr<DeferredPacking> m_deferred;  // deferPacking, until packed for good
    at::Tensor m_deferredWeight;                  // the weight as given, meanwhile
};
TORCH_MODULE(Linear);

// prepareForInference() on every Linear inside `module`; returns how many
// run through DnnlMatmul.
// `dtype` as for one layer; one conversion scratch serves them all (the
// caller's `scratch` when given, e.g. the convolutions' one).
// `onlyToConvert`: just the layers whose weight is not in `dtype` yet (the
// deferred file views, while the state dict still holds the converted
// weights, whose memory could not be released yet).
int prepareLinearsForInference(torch::nn::Module &module, std::optional<at::ScalarType> dtype = std::nullopt,
                               bool onlyToConvert = false, at::Tensor *scratch = nullptr);

// deferPacking(packing) on every Linear inside `module`; returns how many.
int deferLinearPacking(torch::nn::Module &module, const std::shared_ptr<DeferredPacking> &packing);

// Whether prepareForInference packs linear layers for inference in `dtype`
// (float32, with DnnlMatmul available and enabled): what the loaders ask
// before leaving the weights unconverted (OpenOptions::deferUnetLinearWeights).
bool linearPackingApplies(at::ScalarType dtype);

// A lookup table with Embedding's parameter ("weight") and
// forward (no padding index, no max norm), skippable initialisation as above.
class EmbeddingImpl : public torch::nn::Cloneable<EmbeddingImpl> {
public:
    EmbeddingImpl(std::int64_t count, std::int64_t dim);
    void reset() override;
    at::Tensor forward(const at::Tensor &ids);
    // Looks up rows of `weight` as it is (a file view) and converts only
    // those to `dtype` (see LinearImpl::convertWeightPerCall): the same
    // values as a table converted at load.
    void convertRowsPerCall(at::ScalarType dtype) { m_computeDtype = dtype; }

    std::int64_t count;
    std::int64_t dim;
    at::Tensor weight;

private:
    std::optional<at::ScalarType> m_computeDtype;
};
TORCH_MODULE(Embedding);

} // namespace stipple::core
