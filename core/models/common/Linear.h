// A fully connected module with torch::nn::Linear's parameters ("weight",
// "bias"), options and forward, whose random initialisation can be skipped
// (ParameterInit.h); with init enabled it draws what torch::nn::Linear draws.
// Thread-safety: a module instance is used by one thread at a time.
#pragma once

#include <torch/nn/cloneable.h>
#include <torch/nn/options/linear.h>
#include <torch/nn/pimpl.h>

#include <cstdint>

namespace stipple::core {

class LinearImpl : public torch::nn::Cloneable<LinearImpl> {
public:
    LinearImpl(std::int64_t in, std::int64_t out) : LinearImpl(torch::nn::LinearOptions(in, out)) {}
    explicit LinearImpl(torch::nn::LinearOptions options);
    void reset() override;
    at::Tensor forward(const at::Tensor &x);

    torch::nn::LinearOptions options;
    at::Tensor weight;
    at::Tensor bias;
};
TORCH_MODULE(Linear);

// A lookup table with Embedding's parameter ("weight") and
// forward (no padding index, no max norm), skippable initialisation as above.
class EmbeddingImpl : public torch::nn::Cloneable<EmbeddingImpl> {
public:
    EmbeddingImpl(std::int64_t count, std::int64_t dim);
    void reset() override;
    at::Tensor forward(const at::Tensor &ids);

    std::int64_t count;
    std::int64_t dim;
    at::Tensor weight;
};
TORCH_MODULE(Embedding);

} // namespace stipple::core
