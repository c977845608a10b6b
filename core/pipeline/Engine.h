// Engine: owns a loaded model and runs generation requests.
// Thread-safety: NOT thread-safe. One inference thread owns an Engine and
// calls every method; other threads only touch the CancelToken they passed in
// the Observer. Callbacks are invoked on the calling (inference) thread.
#pragma once

#include "core/common/Result.h"
#include "core/io/ModelInfo.h"
#include "core/pipeline/Request.h"

#include <functional>
#include <memory>
#include <string>

namespace at {
class Tensor;
}

namespace stipple::core {

struct LoadOptions {
    std::string modelPath;      // diffusers folder or single .safetensors file
    std::string vaePath;        // optional standalone VAE overriding the model's
    std::string vocabPath;      // CLIP vocab for single files (bpe_simple_vocab_16e6.txt.gz or a tokenizer/ folder)
    ComputeDType dtype = ComputeDType::Float32;
};

// Parity/debugging hook: named intermediate tensors of a generation, on the
// inference thread: "prompt_embeds" (the UNet context), "unet_out" (raw UNet
// output of every call, before guidance), "latents_per_step" (after every
// scheduler step and mask blend), "vae_decode_in" (latents / scaling factor).
// Unset (the default) it costs nothing.
using TensorTrace = std::function<void(const std::string &name, const at::Tensor &value)>;

class Engine {
public:
    Engine();
    ~Engine();
    Engine(const Engine &) = delete;
    Engine &operator=(const Engine &) = delete;

    // Loads (replacing any loaded model). Reports Stage::Load progress.
    Result<ModelInfo> load(const LoadOptions &options, const Observer &observer = {});
    bool isLoaded() const;
    const ModelInfo *modelInfo() const;
    void unload();

    // Validates the request and generates. Never throws; torch errors and
    // out-of-memory come back as Error values.
    Result<GenerationOutput> generate(const GenerationRequest &request, const Observer &observer = {});

    // Installs (or, with nullptr, removes) the tensor trace for later generate() calls.
    void setTensorTrace(TensorTrace trace);

private:
    struct Impl;
    std::unique_ptr<Impl> m_impl;
};

} // namespace stipple::core
