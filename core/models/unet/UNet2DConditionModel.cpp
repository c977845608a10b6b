// UNet2DConditionModel (see UNet2DConditionModel.h).
#include "core/models/common/ModuleLoading.h"
#include "core/models/unet/UNet2DConditionModel.h"

#include "core/models/common/DiffusersFolder.h"
#include "core/models/common/ModuleConversion.h"
#include "core/models/common/ModulesOfType.h"
#include "core/models/common/WeightLoading.h"

#include <ATen/ATen.h>
#include <torch/nn/modules/container/modulelist.h>
#include <torch/utils.h>

#include <cmath>

namespace stipple::core {

namespace nn = torch::nn;

at::Tensor timestepEmbedding(const at::Tensor &timesteps, std::int64_t dim, bool flipSinToCos,
                             double freqShift)
{
    // diffusers embeddings.get_timestep_embedding (max_period 10000, scale 1).
    const std::int64_t half = dim / 2;
    at::Tensor exponent = at::arange(0, half, at::TensorOptions().dtype(at::kFloat)) *
                          (-std::log(10000.0));
    exponent = exponent / (static_cast<double>(half) - freqShift);
    at::Tensor freqs = at::exp(exponent);
    at::Tensor args = timesteps.reshape({-1, 1}).to(at::kFloat) * freqs.unsqueeze(0);
    at::Tensor emb = flipSinToCos ? at::cat({at::cos(args), at::sin(args)}, -1)
                                  : at::cat({at::sin(args), at::cos(args)}, -1);
    if (dim % 2 == 1)
        emb = at::constant_pad_nd(emb, {0, 1}, 0.0);
    return emb;
}

UNet2DConditionModelImpl::UNet2DConditionModelImpl(const UNetConfig &config) : m_config(config)
{
    const auto &ch = config.blockOutChannels;
    const std::int64_t levels = static_cast<std::int64_t>(ch.size());
    const std::int64_t temb = config.timeEmbedDim();

    m_convIn = register_module(
        "conv_in", Conv2d(nn::Conv2dOptions(config.inChannels, ch[0], 3).padding(1)));
    auto timeEmbedding = std::make_shared<nn::Module>();
    m_timeLinear1 = timeEmbedding->register_module("linear_1", Linear(ch[0], temb));
    m_timeLinear2 = timeEmbedding->register_module("linear_2", Linear(temb, temb));
    register_module("time_embedding", timeEmbedding);

    auto base = [&](std::int64_t level) {
        UNetBlockOptions o;
        o.tembChannels = temb;
        o.heads = config.numHeads[level];
        o.contextDim = config.crossAttentionDim;
        o.groups = config.normNumGroups;
        o.eps = config.normEps;
        o.useLinearProjection = config.useLinearProjection;
        o.upcastAttention = config.upcastAttention;
        o.downsamplePadding = config.downsamplePadding;
        return o;
    };

    nn::ModuleList downs;
    std::int64_t outCh = ch[0];
    for (std::int64_t i = 0; i < levels; ++i) {
        UNetBlockOptions o = base(i);
        o.inChannels = outCh;
        outCh = ch[i];
        o.outChannels = outCh;
        o.layers = config.layersPerBlock;
        o.crossAttention = config.downBlockTypes[i] == "CrossAttnDownBlock2D";
        o.resample = i != levels - 1;
        m_down.push_back(UNetDownBlock(o));
        downs->push_back(m_down.back());
    }
    register_module("down_blocks", downs);

    UNetBlockOptions mid = base(levels - 1);
    mid.inChannels = ch.back();
    mid.outChannels = ch.back();
    m_mid = register_module("mid_block", UNetMidBlock(mid));

    nn::ModuleList ups;
    std::int64_t prevOut = ch.back();
    for (std::int64_t i = 0; i < levels; ++i) {
        const std::int64_t rev = levels - 1 - i;
        UNetBlockOptions o = base(rev); // reversed heads per level
        o.prevOutputChannels = (i == 0) ? ch.back() : prevOut;
        o.outChannels = ch[rev];
        o.inChannels = ch[std::max<std::int64_t>(rev - 1, 0)];
        o.layers = config.layersPerBlock + 1;
        o.crossAttention = config.upBlockTypes[i] == "CrossAttnUpBlock2D";
        o.resample = i != levels - 1;
        prevOut = o.outChannels;
        m_up.push_back(UNetUpBlock(o));
        ups->push_back(m_up.back());
    }
    register_module("up_blocks", ups);

    m_normOut = register_module(
        "conv_norm_out",
        nn::GroupNorm(nn::GroupNormOptions(config.normNumGroups, ch[0]).eps(config.normEps)));
    m_convOut = register_module(
        "conv_out", Conv2d(nn::Conv2dOptions(ch[0], config.outChannels, 3).padding(1)));
}

void UNet2DConditionModelImpl::toDtype(at::ScalarType dtype)
{
    TORCH_CHECK(dtype == at::kFloat || dtype == at::kBFloat16 || dtype == at::kHalf,
                "UNet: unsupported dtype");
    this->to(dtype);
    m_dtype = dtype;
    if (m_channelsLast)
        setChannelsLast(true);
}

void UNet2DConditionModelImpl::setChannelsLast(bool enabled)
{
    torch::NoGradGuard noGrad;
    m_channelsLast = enabled;
    const auto format = enabled ? at::MemoryFormat::ChannelsLast : at::MemoryFormat::Contiguous;
    for (auto &p : parameters(true)) {
        if (p.dim() == 4)
            replaceData(p, [&] { return p.contiguous(format); });
    }
}

at::Tensor UNet2DConditionModelImpl::forward(const at::Tensor &sample, const at::Tensor &timestep,
                                             const at::Tensor &context, ActivationMap *debug)
{
    // No NoGradGuard: inference callers run under c10::InferenceMode and
    // stipple-train needs autograd through this module.
    TORCH_CHECK(sample.dim() == 4 && sample.size(1) == m_config.inChannels,
                "UNet: sample must be [B, ", m_config.inChannels, ", h, w]");
    TORCH_CHECK(context.dim() == 3 && context.size(0) == sample.size(0) &&
                    context.size(2) == m_config.crossAttentionDim,
                "UNet: encoder_hidden_states must be [B, L, ", m_config.crossAttentionDim, "]");
    if (m_deferredPacking)
        m_deferredPacking->beginForward();
    const std::int64_t batch = sample.size(0);
    auto record = [&](const char *name, const at::Tensor &t) {
        if (debug)
            (*debug)[name] = t.to(at::kFloat).contiguous();
    };

    at::Tensor t = timestep.reshape({-1});
    TORCH_CHECK(t.numel() == 1 || t.numel() == batch, "UNet: timestep must be 0-dim or [B]");
    t = t.expand({batch});

    const at::Tensor tProj = timestepEmbedding(t, m_config.blockOutChannels.front(),
                                               m_config.flipSinToCos, m_config.freqShift);
    record("time_proj", tProj);
    at::Tensor temb = m_timeLinear2->forward(at::silu(m_timeLinear1->forward(tProj.to(m_dtype))));
    record("time_embedding", temb);

    at::Tensor x = sample.to(m_dtype);
    if (m_channelsLast)
        x = x.contiguous(at::MemoryFormat::ChannelsLast);
    const at::Tensor ctx = context.to(m_dtype);

    at::Tensor h = m_convIn->forward(x);
    record("conv_in", h);
    std::vector<at::Tensor> skips{h};
    for (std::size_t i = 0; i < m_down.size(); ++i) {
        h = m_down[i]->forward(h, temb, ctx, skips);
        if (debug)
            record(("down_blocks." + std::to_string(i)).c_str(), h);
    }
    h = m_mid->forward(h, temb, ctx);
    record("mid_block", h);
    for (std::size_t i = 0; i < m_up.size(); ++i) {
        std::vector<std::int64_t> upSize;
        const std::size_t used = static_cast<std::size_t>(m_up[i]->layers());
        if (i + 1 < m_up.size()) {
            TORCH_CHECK(skips.size() > used, "UNet: skip bookkeeping");
            const at::Tensor &next = skips[skips.size() - used - 1];
            upSize = {next.size(2), next.size(3)};
        }
        h = m_up[i]->forward(h, temb, ctx, skips, upSize);
        if (debug)
            record(("up_blocks." + std::to_string(i)).c_str(), h);
    }
    h = groupNormStable(m_normOut, h);
    record("conv_norm_out", h);
    h = m_convOut->forward(at::silu(h));
    record("conv_out", h);
    if (m_deferredPacking && m_deferredPacking->forwards() >= 2) {
        // Layers that no forward called (none in the configs known) pack now,
        // so the conversion buffers do not stay for them.
        if (m_deferredPacking->pending() > 0) {
            for (Conv2dImpl *conv : modulesOfType<Conv2dImpl>(*this))
                if (conv->deferredPacking())
                    conv->prepareForInference();
            for (LinearImpl *linear : modulesOfType<LinearImpl>(*this))
                if (linear->deferredPacking())
                    linear->prepareForInference();
        }
        m_deferredPacking.reset(); // every layer packed: its conversion buffers go
    }
    return h.to(at::kFloat).contiguous();
}

Result<UNet2DConditionModel> loadUNet(const UNetConfig &config, const StateDict &weights, at::ScalarType dtype)
{
    return buildModule<UNet2DConditionModel>(config, weights, dtype, "unet");
}

Result<UNet2DConditionModel> loadUNetFromDiffusersDir(const std::string &dir, at::ScalarType dtype)
{
    return buildModuleFromDiffusersDir<UNet2DConditionModel, UNetConfig>(dir, dtype, "unet");
}

Result<UNet2DConditionModel> loadUNet(const ComponentWeights &component, at::ScalarType dtype)
{
    return buildModule<UNet2DConditionModel, UNetConfig>(component.config, component.weights, dtype, "unet");
}

Result<UNet2DConditionModel> loadUNetForInference(const ComponentWeights &component, at::ScalarType dtype)
{
    return buildModule<UNet2DConditionModel, UNetConfig>(component.config, component.weights, dtype, "unet",
                                                         ConvPacking::ForInference);
}

Result<UNet2DConditionModel> loadUNetPackingLater(const ComponentWeights &component, at::ScalarType dtype,
                                                  const MappedFiles &files)
{
    auto config = UNetConfig::fromJson(component.config);
    if (!config)
        return config.error();
    auto adopted = adoptModule<UNet2DConditionModel>(*config, component.weights, "unet");
    if (!adopted)
        return adopted.error();
    UNet2DConditionModel model = adopted.value();
    try {
        model->deferPacking(dtype, files);
        model->toDtype(dtype);
        return model;
    } catch (const c10::Error &e) {
        return makeError(ErrorCode::Internal, std::string("building the unet failed: ") + e.what_without_backtrace());
    }
}

int UNet2DConditionModelImpl::deferPacking(at::ScalarType dtype, const MappedFiles &files)
{
    auto packing = std::make_shared<DeferredPacking>(dtype, files);
    const int layers = deferConvolutionPacking(*this, packing) + deferLinearPacking(*this, packing);
    if (layers > 0)
        m_deferredPacking = std::move(packing);
    return layers;
}

OpenOptions openOptionsForInference(at::ScalarType dtype)
{
    OpenOptions open;
    open.dtype = dtype;
    open.vaeDtype = at::kFloat;
    open.deferUnetConvWeights = convolutionPackingEnabled();
    // The linear layers too: loadUNetPackingLater packs or converts them
    // during the first steps; loadUNetForInference packs float32 ones as it
    // loads (without this their float32 copy was written and then packed
    // into new memory again; session 11: fresh memory costs 0.05-2.8
    // ns/byte on this VM, by page size and whether its host still backs it)
    // and converts the others with the module.
    open.deferUnetLinearWeights = true;
    // The text encoder runs once per prompt: its matrices convert at each
    // use (TextConditioner::fromCheckpoint) instead of at every load.
    open.deferTextEncoderMatrices = true;
    // The VAE converts at its first use (loadVaeForInference): a txt2img run
    // needs it only after its last step.
    open.deferVaeWeights = true;
    return open;
}

} // namespace stipple::core
