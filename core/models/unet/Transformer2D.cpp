// Transformer2DModel and its parts (see Transformer2D.h).
#include "core/models/unet/Transformer2D.h"

#include "core/models/common/Bf16Elementwise.h"
#include "core/models/common/Normalization.h"
#include "core/models/common/ResnetBlock2D.h"

#include <ATen/ATen.h>

#include <algorithm>
#include <vector>

namespace stipple::core {

namespace nn = torch::nn;

CrossAttentionImpl::CrossAttentionImpl(std::int64_t queryDim, std::int64_t contextDim,
                                       std::int64_t heads, std::int64_t headDim,
                                       bool upcastAttention)
    : m_heads(heads)
{
    const std::int64_t inner = heads * headDim;
    m_q = register_module("to_q", Linear(nn::LinearOptions(queryDim, inner).bias(false)));
    m_k = register_module("to_k", Linear(nn::LinearOptions(contextDim, inner).bias(false)));
    m_v = register_module("to_v", Linear(nn::LinearOptions(contextDim, inner).bias(false)));
    nn::ModuleList toOut;
    m_out = Linear(inner, queryDim);
    toOut->push_back(m_out); // to_out.1 is a parameterless Dropout
    register_module("to_out", toOut);
    m_options.upcastAttention = upcastAttention;
}

at::Tensor CrossAttentionImpl::forward(const at::Tensor &x, const at::Tensor &context)
{
    const at::Tensor &ctx = context.defined() ? context : x;
    at::Tensor q = m_q->forward(x);
    at::Tensor k = m_k->forward(ctx);
    at::Tensor v = m_v->forward(ctx);
    return m_out->forward(multiHeadAttention(q, k, v, m_heads, m_options));
}

FeedForwardImpl::FeedForwardImpl(std::int64_t dim, std::int64_t mult)
{
    const std::int64_t inner = dim * mult;
    nn::ModuleList net;
    auto geglu = std::make_shared<nn::Module>();
    m_proj = geglu->register_module("proj", Linear(dim, inner * 2));
    net->push_back(geglu);
    net->push_back(std::make_shared<nn::Module>()); // net.1: Dropout, no parameters
    m_outProj = Linear(inner, dim);
    net->push_back(m_outProj);
    register_module("net", net);
}

at::Tensor FeedForwardImpl::forward(const at::Tensor &x)
{
    // Rows are independent, so the [tokens, 2·4·dim] GEGLU intermediate is
    // processed in chunks of at most ~16 MiB: large fresh temporaries are
    // slow to fault in on the target VMs and dominate peak memory at 512².
    constexpr std::int64_t kChunkBytes = 16ll << 20;
    const at::Tensor flat = x.reshape({-1, x.size(-1)});
    const std::int64_t rows = flat.size(0);
    const std::int64_t rowBytes = m_proj->options.out_features() * 4;
    const std::int64_t chunk = std::max<std::int64_t>(1, kChunkBytes / rowBytes);
    auto geglu = [&](const at::Tensor &t) {
        auto parts = m_proj->forward(t).chunk(2, -1);
        if (parts[0].scalar_type() != at::kBFloat16)
            return m_outProj->forward(parts[0] * at::gelu(parts[1]));
        // bf16: GELU and the product in float32, rounded once. torch 1.13's
        // bf16 GELU is slower than converting both ways: one row chunk per
        // level 4.3-5.8 -> 2.2-3.0 ms, largest error against float64
        // 0.05 -> 0.031 (bench/bf16_ops.py, 2 threads).
        if (at::Tensor product = gegluBf16(parts[0], parts[1]); product.defined())
            return m_outProj->forward(product); // one pass, same float32 arithmetic (Bf16Elementwise.h)
        const at::Tensor product = parts[0].to(at::kFloat) * at::gelu(parts[1].to(at::kFloat));
        return m_outProj->forward(product.to(parts[0].scalar_type()));
    };
    if (rows <= chunk)
        return geglu(x);
    at::Tensor out = at::empty({rows, m_outProj->options.out_features()}, x.options());
    for (std::int64_t s = 0; s < rows; s += chunk) {
        const std::int64_t n = std::min(chunk, rows - s);
        out.narrow(0, s, n).copy_(geglu(flat.narrow(0, s, n)));
    }
    std::vector<std::int64_t> shape(x.sizes().begin(), x.sizes().end());
    shape.back() = out.size(1);
    return out.reshape(shape);
}

BasicTransformerBlockImpl::BasicTransformerBlockImpl(std::int64_t dim, std::int64_t heads,
                                                     std::int64_t headDim, std::int64_t contextDim,
                                                     bool upcastAttention)
{
    auto ln = [&] { return nn::LayerNorm(nn::LayerNormOptions({dim}).eps(1e-5)); };
    m_norm1 = register_module("norm1", ln());
    m_attn1 = register_module("attn1", CrossAttention(dim, dim, heads, headDim, upcastAttention));
    m_norm2 = register_module("norm2", ln());
    m_attn2 =
        register_module("attn2", CrossAttention(dim, contextDim, heads, headDim, upcastAttention));
    m_norm3 = register_module("norm3", ln());
    m_ff = register_module("ff", FeedForward(dim));
}

at::Tensor BasicTransformerBlockImpl::forward(const at::Tensor &x, const at::Tensor &context)
{
    // LayerNorms with float32 arithmetic (layerNormStable): for bf16, faster
    // than torch 1.13's bf16 kernel and closer to float32; float32 is unchanged.
    at::Tensor h = m_attn1->forward(layerNormStable(m_norm1, x)) + x;
    h = m_attn2->forward(layerNormStable(m_norm2, h), context) + h;
    h = m_ff->forward(layerNormStable(m_norm3, h)) + h;
    return h;
}

Transformer2DModelImpl::Transformer2DModelImpl(const Transformer2DOptions &o)
    : m_linear(o.useLinearProjection)
{
    const std::int64_t c = o.channels;
    const std::int64_t headDim = c / o.heads;
    m_norm = register_module("norm", nn::GroupNorm(nn::GroupNormOptions(o.groups, c).eps(1e-6)));
    if (m_linear)
        m_projInLinear = register_module("proj_in", Linear(c, c));
    else {
        m_projInConv = register_module("proj_in", Conv2d(nn::Conv2dOptions(c, c, 1)));
        m_projInConv->setTokenProjection(true);
    }
    nn::ModuleList blocks;
    m_block = BasicTransformerBlock(c, o.heads, headDim, o.contextDim, o.upcastAttention);
    blocks->push_back(m_block);
    register_module("transformer_blocks", blocks);
    if (m_linear)
        m_projOutLinear = register_module("proj_out", Linear(c, c));
    else {
        m_projOutConv = register_module("proj_out", Conv2d(nn::Conv2dOptions(c, c, 1)));
        m_projOutConv->setTokenProjection(true);
    }
}

at::Tensor Transformer2DModelImpl::forward(const at::Tensor &x, const at::Tensor &context)
{
    const std::int64_t b = x.size(0), hgt = x.size(2), wid = x.size(3);
    at::Tensor h = groupNormStable(m_norm, x);
    auto toTokens = [&](const at::Tensor &t) {
        return t.permute({0, 2, 3, 1}).reshape({b, hgt * wid, t.size(1)});
    };
    auto toImage = [&](const at::Tensor &t) {
        return t.reshape({b, hgt, wid, t.size(2)}).permute({0, 3, 1, 2}).contiguous();
    };
    // 1x1-conv projections prepared as matmuls run on the tokens, like the
    // linear ones (the same products).
    const bool projIn = !m_linear && m_projInConv->runsOnTokens();
    const bool projOut = !m_linear && m_projOutConv->runsOnTokens();
    if (m_linear)
        h = m_projInLinear->forward(toTokens(h));
    else if (projIn)
        h = m_projInConv->forwardTokens(toTokens(h), hgt, wid);
    else {
        h = toTokens(m_projInConv->forward(h));
        // The tokens of an NCHW map are a transposed view, which bf16's
        // one-pass LayerNorm does not take (its float32 path makes 3 passes):
        // one bf16 copy into token order instead.
        if (h.scalar_type() == at::kBFloat16 && bf16ElementwiseAvailable())
            h = h.contiguous();
    }
    h = m_block->forward(h, context);
    if (m_linear || projOut) {
        h = m_linear ? m_projOutLinear->forward(h) : m_projOutConv->forwardTokens(h, hgt, wid);
        return toImage(h) + x;
    }
    return m_projOutConv->forward(toImage(h)) + x;
}

} // namespace stipple::core
