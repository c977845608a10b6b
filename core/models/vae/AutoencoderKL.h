// Stable Diffusion's VAE, diffusers 0.25 AutoencoderKL semantics:
// encode: moments = quant_conv(encoder(x)); mean, logvar = chunk(moments, 2);
// logvar clamped to [-30, 20]; std = exp(logvar / 2) (DiagonalGaussianDistribution).
// decode: decoder(post_quant_conv(z)). Images are [-1, 1]; latents are the
// raw ones (the pipeline multiplies by scalingFactor after encode and
// divides before decode). Tiled encode/decode for large images: TiledVae.h.
//
// Precision: float32 (parity reference) or bfloat16 (toDtype); inputs are
// cast to the module dtype and outputs returned as float32.
// Thread-safety: one thread at a time per instance.
#pragma once

#include "core/common/Result.h"
#include "core/io/Checkpoint.h"
#include "core/io/StateDict.h"
#include "core/models/common/ActivationMap.h"
#include "core/models/common/Conv2d.h"
#include "core/models/vae/VaeBlocks.h"
#include "core/models/vae/VaeConfig.h"

#include <ATen/core/Generator.h>
#include <c10/core/ScalarType.h>
#include <torch/nn/module.h>
#include <torch/nn/pimpl.h>

#include <string>

namespace stipple::core {

// The posterior q(z|x) as a diagonal Gaussian (all float32).
struct LatentDistribution {
    at::Tensor moments; // [B, 2·latent, h, w] = cat(mean, raw logvar)
    at::Tensor mean;
    at::Tensor logvar;  // clamped to [-30, 20]
    at::Tensor std;

    static LatentDistribution fromMoments(const at::Tensor &moments);
    // mean + std · noise (noise shaped like mean).
    at::Tensor sample(const at::Tensor &noise) const;
    // Draws the noise with torch.randn(mean.shape, generator) like diffusers.
    at::Tensor sample(at::Generator generator) const;
};

class AutoencoderKLImpl : public torch::nn::Module {
public:
    explicit AutoencoderKLImpl(const VaeConfig &config);
    const VaeConfig &config() const { return m_config; }

    // image [B, 3, H, W] in [-1, 1]; H, W multiples of spatialFactor().
    // `debug` receives "encoder.<module>" and "quant_conv" activations.
    LatentDistribution encode(const at::Tensor &image, ActivationMap *debug = nullptr);
    // z [B, latent, h, w] (already divided by scalingFactor) -> raw image
    // [B, 3, h·f, w·f] (not clamped). `debug`: "post_quant_conv", "decoder.<module>".
    at::Tensor decode(const at::Tensor &z, ActivationMap *debug = nullptr);

    void toDtype(at::ScalarType dtype);
    at::ScalarType dtype() const { return m_dtype; }
    // Runs the encoder and decoder on channels_last activations: oneDNN then
    // reads and writes them in place instead of reordering every 512x512
    // activation to and from its blocked layout. Needs plain (not pre-packed)
    // convolution weights. Results agree with NCHW to float rounding.
    void setChannelsLast(bool on) { m_channelsLast = on; }
    bool channelsLast() const { return m_channelsLast; }
    // For inference in float32 (grad mode off from then on): channels_last,
    // and the 3x3 layers on oneDNN's Winograd kernel (DnnlConvolution), maps
    // in bands of about 4 MiB of blocked copies. The decode is where the bf16
    // mode's memory peaks (3.5 GB target): 16 MiB bands put a 512² run over
    // it, 4 MiB bands add 66 MiB to it and decode as fast (docs/performance.md,
    // session 9). Returns how many layers took the kernel.
    int prepareForInference();
    // prepareForInference() at the first encode or decode instead: a
    // txt2img run needs the VAE only after its last step, so loading a model
    // no longer waits for it (SD 1.5 float32: 0.34-0.44 s off the time from
    // opening a checkpoint to the first step; the first decode takes it on).
    // Skipped while grad mode is on; a failure is logged once and the layers
    // left unprepared run torch's kernel.
    void prepareForInferenceOnFirstUse() { m_prepareOnFirstUse = true; }
    // The weights stay as they are (float16 views of the file, adopted by
    // loadVaeForInference) until the first encode or decode converts them
    // to dtype(): with preparation, each 3x3 weight straight into its packed
    // copy. SD 1.5's VAE is 0.33 GB in float32 that loading no longer writes.
    // A failed conversion is thrown to that encode or decode, and retried.
    void convertWeightsOnFirstUse() { m_convertOnFirstUse = true; }

private:
    void setUpIfDeferred();

    VaeConfig m_config;
    at::ScalarType m_dtype = at::kFloat;
    bool m_channelsLast = false;
    bool m_prepareOnFirstUse = false;
    bool m_convertOnFirstUse = false;
    VaeEncoder m_encoder{nullptr};
    VaeDecoder m_decoder{nullptr};
    Conv2d m_quantConv{nullptr}, m_postQuantConv{nullptr};
};
TORCH_MODULE(AutoencoderKL);

// (decode_out / 2 + 0.5).clamp(0, 1), as the SD pipelines postprocess.
at::Tensor vaeImageToUnit(const at::Tensor &decoded);

Result<AutoencoderKL> loadVae(const VaeConfig &config, const StateDict &weights,
                              at::ScalarType dtype = at::kFloat);
// From an opened checkpoint's component (diffusers folder or single file):
// the config is parsed from component.config, then loaded strictly.
Result<AutoencoderKL> loadVae(const ComponentWeights &component, at::ScalarType dtype = at::kFloat);
// The same for the engine: float32 inference, the weights adopted as they
// are (OpenOptions::deferVaeWeights leaves them float16 views of the file),
// then converted and prepared at the first encode or decode
// (convertWeightsOnFirstUse, prepareForInferenceOnFirstUse).
Result<AutoencoderKL> loadVaeForInference(const ComponentWeights &component);

// <dir>/config.json + diffusion_pytorch_model.safetensors
Result<AutoencoderKL> loadVaeFromDiffusersDir(const std::string &dir,
                                              at::ScalarType dtype = at::kFloat);

} // namespace stipple::core
