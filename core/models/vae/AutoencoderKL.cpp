// AutoencoderKL (see AutoencoderKL.h).
#include "core/models/common/ModuleLoading.h"
#include "core/models/vae/AutoencoderKL.h"

#include "core/common/Log.h"
#include "core/models/common/DiffusersFolder.h"
#include "core/models/common/ModuleConversion.h"
#include "core/models/common/WeightLoading.h"

#include <ATen/ATen.h>
#include <c10/core/GradMode.h>
#include <c10/core/InferenceMode.h>
#include <torch/utils.h>

namespace stipple::core {

namespace nn = torch::nn;

LatentDistribution LatentDistribution::fromMoments(const at::Tensor &moments)
{
    LatentDistribution d;
    d.moments = moments.to(at::kFloat);
    auto parts = d.moments.chunk(2, 1);
    d.mean = parts[0];
    d.logvar = at::clamp(parts[1], -30.0, 20.0);
    d.std = at::exp(0.5 * d.logvar);
    return d;
}

at::Tensor LatentDistribution::sample(const at::Tensor &noise) const
{
    TORCH_CHECK(noise.sizes() == mean.sizes(), "latent sample: noise shape mismatch");
    return mean + std * noise.to(at::kFloat);
}

at::Tensor LatentDistribution::sample(at::Generator generator) const
{
    return sample(at::randn(mean.sizes(), generator, at::TensorOptions().dtype(at::kFloat)));
}

AutoencoderKLImpl::AutoencoderKLImpl(const VaeConfig &config) : m_config(config)
{
    m_encoder = register_module("encoder", VaeEncoder(config));
    m_decoder = register_module("decoder", VaeDecoder(config));
    const std::int64_t l = config.latentChannels;
    m_quantConv = register_module("quant_conv", Conv2d(nn::Conv2dOptions(2 * l, 2 * l, 1)));
    m_postQuantConv = register_module("post_quant_conv", Conv2d(nn::Conv2dOptions(l, l, 1)));
}

void AutoencoderKLImpl::toDtype(at::ScalarType dtype)
{
    TORCH_CHECK(dtype == at::kFloat || dtype == at::kBFloat16, "VAE: unsupported dtype");
    this->to(dtype);
    m_dtype = dtype;
    m_convertOnFirstUse = false;
}

LatentDistribution AutoencoderKLImpl::encode(const at::Tensor &image, ActivationMap *debug)
{
    // No NoGradGuard: inference callers run under c10::InferenceMode and
    // stipple-train needs autograd through this module.
    TORCH_CHECK(image.dim() == 4 && image.size(1) == m_config.inChannels,
                "VAE encode: image must be [B, ", m_config.inChannels, ", H, W]");
    setUpIfDeferred();
    VaeActivationHook hook;
    if (debug)
        hook = [&](const std::string &n, const at::Tensor &t) {
            (*debug)["encoder." + n] = t.to(at::kFloat);
        };
    at::Tensor x = image.to(m_dtype);
    if (m_channelsLast)
        x = x.contiguous(at::MemoryFormat::ChannelsLast);
    at::Tensor h = m_encoder->forward(x, hook).contiguous();
    at::Tensor moments = m_quantConv->forward(h);
    if (debug)
        (*debug)["quant_conv"] = moments.to(at::kFloat);
    return LatentDistribution::fromMoments(moments);
}

at::Tensor AutoencoderKLImpl::decode(const at::Tensor &z, ActivationMap *debug)
{
    // No NoGradGuard: inference callers run under c10::InferenceMode and
    // stipple-train needs autograd through this module.
    TORCH_CHECK(z.dim() == 4 && z.size(1) == m_config.latentChannels,
                "VAE decode: latents must be [B, ", m_config.latentChannels, ", h, w]");
    setUpIfDeferred();
    VaeActivationHook hook;
    if (debug)
        hook = [&](const std::string &n, const at::Tensor &t) {
            (*debug)["decoder." + n] = t.to(at::kFloat);
        };
    at::Tensor h = m_postQuantConv->forward(z.to(m_dtype));
    if (debug)
        (*debug)["post_quant_conv"] = h.to(at::kFloat);
    if (m_channelsLast)
        h = h.contiguous(at::MemoryFormat::ChannelsLast);
    return m_decoder->forward(h, hook).to(at::kFloat).contiguous();
}

at::Tensor vaeImageToUnit(const at::Tensor &decoded)
{
    return (decoded / 2 + 0.5).clamp(0.0, 1.0);
}

int AutoencoderKLImpl::prepareForInference()
{
    setChannelsLast(true);
    auto workspace = std::make_shared<DnnlConvolution::Workspace>();
    workspace->maxBandBytes = std::int64_t(4) << 20;
    workspace->shrinkToFit = true;
    // Weights still waiting for their conversion (convertWeightsOnFirstUse)
    // are converted on their way into the packed layout.
    return prepareDnnlConvolutions(*this, workspace, /*convertToFloat=*/m_dtype == at::kFloat);
}

void AutoencoderKLImpl::setUpIfDeferred()
{
    // No preparation while autograd is recording (stipple-train): prepared
    // layers have no gradients. The conversion is needed either way.
    const bool prepare = m_prepareOnFirstUse && !at::GradMode::is_enabled();
    if (!prepare && !m_convertOnFirstUse)
        return;
    // Outside the caller's InferenceMode, so the converted and packed weights
    // are ordinary tensors, as when the engine prepared them while loading.
    c10::InferenceMode normalTensors(false);
    torch::NoGradGuard noGrad;
    if (prepare) {
        m_prepareOnFirstUse = false; // once: a failure is not retried after every denoising loop
        try {
            const int layers = prepareForInference();
            logInfo("VAE prepared at its first use: " + std::to_string(layers) +
                    " 3x3 layers on oneDNN's Winograd/direct kernel");
        } catch (const std::exception &e) {
            // Layers not prepared keep torch's kernel on channels_last input: slower, same result.
            logWarning(std::string("VAE preparation stopped part-way, the rest runs unprepared: ") + e.what());
        }
    }
    if (m_convertOnFirstUse) {
        convertFloatTensors(*this, m_dtype); // what preparation did not take
        m_convertOnFirstUse = false;
    }
}

Result<AutoencoderKL> loadVae(const VaeConfig &config, const StateDict &weights, at::ScalarType dtype)
{
    return buildModule<AutoencoderKL>(config, weights, dtype, "vae");
}

Result<AutoencoderKL> loadVaeFromDiffusersDir(const std::string &dir, at::ScalarType dtype)
{
    return buildModuleFromDiffusersDir<AutoencoderKL, VaeConfig>(dir, dtype, "vae");
}

Result<AutoencoderKL> loadVae(const ComponentWeights &component, at::ScalarType dtype)
{
    return buildModule<AutoencoderKL, VaeConfig>(component.config, component.weights, dtype, "vae");
}

Result<AutoencoderKL> loadVaeForInference(const ComponentWeights &component)
{
    auto config = VaeConfig::fromJson(component.config);
    if (!config)
        return config.error();
    auto vae = adoptModule<AutoencoderKL>(*config, component.weights, "vae");
    if (vae) {
        vae.value()->convertWeightsOnFirstUse();
        vae.value()->prepareForInferenceOnFirstUse();
    }
    return vae;
}

} // namespace stipple::core
