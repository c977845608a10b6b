// The UNet's spatial transformer, diffusers 0.25 Transformer2DModel
// (continuous input, one BasicTransformerBlock, layer_norm, GEGLU):
//   GroupNorm(eps 1e-6) -> proj_in (1x1 conv, or Linear with
//   use_linear_projection) -> [self-attn, cross-attn, GEGLU feed-forward,
//   each pre-LayerNorm with a residual] -> proj_out -> + input.
// Submodule names equal diffusers' keys: norm, proj_in,
// transformer_blocks.0.{norm1,attn1,norm2,attn2,norm3,ff.net.0.proj,ff.net.2}, proj_out;
// attention layers hold to_q, to_k, to_v (no bias) and to_out.0.
// Thread-safety: a module instance is used by one thread at a time.
#pragma once

#include "core/models/common/Attention.h"
#include "core/models/common/Conv2d.h"
#include "core/models/common/Linear.h"

#include <torch/nn/module.h>
#include <torch/nn/modules/container/modulelist.h>
#include <torch/nn/modules/normalization.h>
#include <torch/nn/pimpl.h>

#include <cstdint>

namespace stipple::core {

// diffusers `Attention` with the classic processor (no residual, no norm).
class CrossAttentionImpl : public torch::nn::Module {
public:
    CrossAttentionImpl(std::int64_t queryDim, std::int64_t contextDim, std::int64_t heads,
                       std::int64_t headDim, bool upcastAttention);
    // context undefined = self-attention.
    at::Tensor forward(const at::Tensor &x, const at::Tensor &context = {});

private:
    Linear m_q{nullptr}, m_k{nullptr}, m_v{nullptr}, m_out{nullptr};
    std::int64_t m_heads;
    AttentionOptions m_options;
};
TORCH_MODULE(CrossAttention);

// FeedForward with GEGLU: net.0 = GEGLU (proj: dim -> 2·4·dim), net.2 = Linear.
// GEGLU: a, g = proj(x).chunk(2); a · gelu(g) (Shazeer 2020, eq. 5; erf GELU).
class FeedForwardImpl : public torch::nn::Module {
public:
    explicit FeedForwardImpl(std::int64_t dim, std::int64_t mult = 4);
    at::Tensor forward(const at::Tensor &x);

private:
    Linear m_proj{nullptr}, m_outProj{nullptr};
};
TORCH_MODULE(FeedForward);

class BasicTransformerBlockImpl : public torch::nn::Module {
public:
    BasicTransformerBlockImpl(std::int64_t dim, std::int64_t heads, std::int64_t headDim,
                              std::int64_t contextDim, bool upcastAttention);
    at::Tensor forward(const at::Tensor &x, const at::Tensor &context);

private:
    torch::nn::LayerNorm m_norm1{nullptr}, m_norm2{nullptr}, m_norm3{nullptr};
    CrossAttention m_attn1{nullptr}, m_attn2{nullptr};
    FeedForward m_ff{nullptr};
};
TORCH_MODULE(BasicTransformerBlock);

struct Transformer2DOptions {
    std::int64_t channels = 0;
    std::int64_t heads = 8;
    std::int64_t contextDim = 768;
    std::int64_t groups = 32;
    bool useLinearProjection = false;
    bool upcastAttention = false;
};

class Transformer2DModelImpl : public torch::nn::Module {
public:
    explicit Transformer2DModelImpl(const Transformer2DOptions &options);
    // x [B, C, H, W], context [B, L, D] -> [B, C, H, W]
    at::Tensor forward(const at::Tensor &x, const at::Tensor &context);

private:
    torch::nn::GroupNorm m_norm{nullptr};
    Conv2d m_projInConv{nullptr}, m_projOutConv{nullptr};
    Linear m_projInLinear{nullptr}, m_projOutLinear{nullptr};
    BasicTransformerBlock m_block{nullptr};
    bool m_linear;
};
TORCH_MODULE(Transformer2DModel);

} // namespace stipple::core
