// Engine: load a checkpoint into modules, run requests through the stages
// (Stages.h), turn every failure into an Error value.
#include "core/pipeline/Engine.h"

#include "core/common/CpuAllocator.h"
#include "core/image/ImageTensor.h"
#include "core/io/Checkpoint.h"
#include "core/io/SafeTensors.h"
#include "core/models/common/Conv2d.h"
#include "core/models/common/Linear.h"
#include "core/models/unet/UNet2DConditionModel.h"
#include "core/models/vae/AutoencoderKL.h"
#include "core/pipeline/ErrorBoundary.h"
#include "core/pipeline/ImagePreparation.h"
#include "core/pipeline/Infotext.h"
#include "core/pipeline/ModelHashJob.h"
#include "core/pipeline/Stages.h"
#include "core/pipeline/Validation.h"
#include "core/text/TextConditioner.h"
#include "core/text/VocabularyLocator.h"
#include "core/common/Log.h"

#include <ATen/ATen.h>
#include <ATen/CPUGeneratorImpl.h>
#include <c10/core/InferenceMode.h>

#include <chrono>
#include <filesystem>
#include <random>

namespace stipple::core {

namespace {

double secondsSince(std::chrono::steady_clock::time_point t0)
{
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

at::ScalarType scalarType(ComputeDType d)
{
    return d == ComputeDType::BFloat16 ? at::kBFloat16 : at::kFloat;
}

std::string stem(const std::string &path)
{
    std::filesystem::path p(path);
    while (!p.empty() && !p.has_filename())
        p = p.parent_path();
    return p.stem().string();
}

bool isTokenizerFolder(const std::string &path)
{
    return !path.empty() && std::filesystem::is_regular_file(std::filesystem::path(path) / "vocab.json")
           && std::filesystem::is_regular_file(std::filesystem::path(path) / "merges.txt");
}

// The vocabulary to hand the text conditioner. A single .safetensors file
// carries no tokenizer, so it needs CLIP's vocabulary file: located here,
// before the seconds of conversion, so that an artist without it hears so at
// once (and the app can offer the download). Otherwise options.vocabPath.
Result<std::string> vocabularyFor(const LoadOptions &options)
{
    if (!isSingleSafetensorsFile(options.modelPath) || isTokenizerFolder(options.vocabPath))
        return options.vocabPath;
    return VocabularyLocator::locateClipBpe(options.vocabPath);
}

} // namespace

struct Engine::Impl {
    struct Loaded {
        ModelInfo info;
        std::unique_ptr<TextConditioner> text;
        UNet2DConditionModel unet{nullptr};
        AutoencoderKL vae{nullptr};
        nlohmann::json schedulerConfig;
        std::unique_ptr<ModelHashJob> hash; // started once the model is loaded
    };
    std::unique_ptr<Loaded> model;
    TensorTrace trace;

    StageModels stageModels()
    {
        StageModels m;
        m.text = model->text.get();
        m.unet = &model->unet;
        m.vae = &model->vae;
        m.unetInChannels = int(model->unet->config().inChannels);
        m.vaeScalingFactor = model->vae->config().scalingFactor;
        m.vaeSpatialFactor = int(model->vae->config().spatialFactor());
        m.trace = &trace;
        return m;
    }

    Result<GenerationOutput> run(const GenerationRequest &request, const Observer &observer);
};

Engine::Engine() : m_impl(std::make_unique<Impl>()) {}
Engine::~Engine() = default;

bool Engine::isLoaded() const { return m_impl->model != nullptr; }
const ModelInfo *Engine::modelInfo() const { return m_impl->model ? &m_impl->model->info : nullptr; }
void Engine::unload() { m_impl->model.reset(); }
void Engine::setTensorTrace(TensorTrace trace) { m_impl->trace = std::move(trace); }

Result<ModelInfo> Engine::load(const LoadOptions &options, const Observer &observer)
{
    m_impl->model.reset(); // release the old model's memory first
    const auto t0 = std::chrono::steady_clock::now();
    auto progress = [&](int step) {
        if (observer.onProgress)
            observer.onProgress({Stage::Load, step, 4, secondsSince(t0)});
    };
    return runGuarded<ModelInfo>("loading the model", [&]() -> Result<ModelInfo> {
        progress(0);
        const at::ScalarType dtype = scalarType(options.dtype);
        // What is converted here goes straight to the compute dtype (fp16
        // files go to bf16 without a float32 copy), and the modules adopt
        // those tensors. Little is: the UNet's convolutions and linear layers
        // stay views of the file and pack during the first two steps
        // (loadUNetPackingLater), each converted on its way, so the first
        // step need not wait for gigabytes of fresh memory; `mapped` lets
        // each layer's file pages go once read. The text encoder's matrices
        // convert at each use and the VAE at its first
        // (openOptionsForInference).
        MappedFilesScope mapped;
        OpenOptions open = openOptionsForInference(dtype);
        open.vaePath = options.vaePath;
        auto vocabulary = vocabularyFor(options);
        if (!vocabulary)
            return vocabulary.error();
        auto ckpt = openCheckpoint(options.modelPath, open);
        if (!ckpt)
            return ckpt.error();
        progress(1);
        auto loaded = std::make_unique<Impl::Loaded>();
        // LoadOptions::vocabPath may name a diffusers tokenizer/ folder
        // (vocab.json + merges.txt): use it like a folder model's tokenizer.
        std::string vocabPath = vocabulary.value();
        if (ckpt->tokenizerDir.empty() && isTokenizerFolder(vocabPath)) {
            ckpt->tokenizerDir = vocabPath;
            vocabPath.clear();
        }
        auto text = TextConditioner::fromCheckpoint(*ckpt, dtype, vocabPath);
        if (!text)
            return text.error();
        loaded->text = std::move(text.value());
        ckpt->textEncoder.weights.clear();
        progress(2);
        auto unet = loadUNetPackingLater(ckpt->unet, dtype, mapped.files());
        if (!unet)
            return unet.error();
        loaded->unet = unet.value();
        ckpt->unet.weights.clear(); // the module now holds the only references
        progress(3);
        // The VAE stays float32: it is a small share of the time and bf16
        // decodes show banding. Its weights are converted at its first use,
        // and it is set up then: channels_last activations instead of
        // pre-packed NCHW convolutions (session 4: 512² decode 13.6 -> 11.2 s
        // and 350 MiB less peak), and the 3x3 layers on oneDNN's
        // Winograd kernel (session 9: 16-19 -> 7-8 s, a slower window;
        // docs/performance.md). A txt2img run needs it only after its last
        // step, so the first step need not wait for it.
        auto vae = loadVaeForInference(ckpt->vae);
        if (!vae)
            return vae.error();
        loaded->vae = vae.value();
        ckpt->vae.weights.clear();
        logInfo(std::to_string(loaded->unet->layersAwaitingPacking()) +
                " UNet layers pack during the first two steps; float32 3x3 convolutions on oneDNN's "
                "Winograd/direct kernel" +
                (DnnlConvolution::available() ? "" : " (not available on this CPU or build)") +
                (DnnlConvolution::enabled() ? "" : " (off: STIPPLE_DNNL_CONV=0)") +
                ", float32 linear layers on its packed GEMM" +
                (DnnlMatmul::available() ? "" : " (not available on this CPU or build)") +
                (DnnlMatmul::enabled() ? "" : " (off: STIPPLE_DNNL_LINEAR=0)"));
        // Whatever the set-up freed leaves the caches; no file pages stay
        // resident (views still in use re-read the page cache).
        releaseCachedMemory();
        mapped.releaseResidentPages();
        progress(4);
        loaded->schedulerConfig = ckpt->schedulerConfig;
        loaded->info = ckpt->info;
        // The file whose SHA-256 is the "Model hash" (for a diffusers folder, the UNet's).
        loaded->hash = std::make_unique<ModelHashJob>(
            ckpt->info.layout == CheckpointLayout::SingleFile ? ckpt->info.path : ckpt->unet.source);
        loaded->info.loadSeconds = secondsSince(t0) - loaded->info.openSeconds;
        const ModelInfo info = loaded->info;
        m_impl->model = std::move(loaded);
        logInfo("loaded " + info.displayName + " in " + std::to_string(secondsSince(t0)) + " s");
        return info;
    });
}

Result<GenerationOutput> Engine::generate(const GenerationRequest &request, const Observer &observer)
{
    if (!m_impl->model)
        return makeError(ErrorCode::InvalidArgument, "no model is loaded");
    auto valid = validateRequest(request, m_impl->model->info.variant);
    if (!valid)
        return valid.error();
    // Inference tensors for the whole request (thread-local guard).
    c10::InferenceMode inference;
    return runGuarded<GenerationOutput>("generating", [&] { return m_impl->run(request, observer); });
}

Result<GenerationOutput> Engine::Impl::run(const GenerationRequest &request, const Observer &observer)
{
    const auto t0 = std::chrono::steady_clock::now();
    // Inference has the CPU to itself: the model hash waits (ModelHashJob.h).
    struct PausedHash {
        ModelHashJob &job;
        explicit PausedHash(ModelHashJob &j) : job(j) { job.pause(); }
        ~PausedHash() { job.resume(); }
    } pausedHash(*model->hash);
    GenerationOutput output;
    auto prepared = prepareImages(request);
    if (!prepared)
        return prepared.error();
    auto plan = SamplingPlan::create(request.sampler, request.scheduleType, request.eta,
                                     model->schedulerConfig, request.steps);
    if (!plan)
        return plan.error();
    const StageModels models = stageModels();
    const int batch = request.batchSize;

    const auto tEncode = std::chrono::steady_clock::now();
    if (observer.onProgress)
        observer.onProgress({Stage::Encode, 0, 1, 0.0});
    auto cond = encodePrompts(models, request, batch);
    if (!cond)
        return cond.error();
    models.emit("prompt_embeds", cond->context);
    if (observer.onProgress)
        observer.onProgress({Stage::Encode, 1, 1, secondsSince(tEncode)});

    std::int64_t seed = request.seed;
    if (seed < 0) {
        std::random_device rd;
        seed = std::int64_t(rd() % 4294967294u); // A1111: random.randrange(4294967294)
    }
    GenerationRequest described = request;
    described.sampler = plan->samplerName();
    // "DPM++ 2M" + "Karras" is written as the canonical "DPM++ 2M Karras" alone.
    const std::string &canon = described.sampler;
    if (canon.size() > 7 && canon.compare(canon.size() - 7, 7, " Karras") == 0)
        described.scheduleType.clear();
    for (int b = 0; b < request.batchCount; ++b) {
        if (observer.cancel.isCancelled()) {
            output.cancelled = true;
            break;
        }
        const std::int64_t batchSeed = seed + b;
        // One generator per batch, as torch.Generator().manual_seed(seed).
        at::Generator generator = at::detail::createCPUGenerator(std::uint64_t(batchSeed));
        LatentSetup setup;
        try {
            auto s = prepareLatents(models, request, *prepared, *plan, generator, batch, observer.cancel);
            if (!s)
                return s.error();
            setup = std::move(s.value());
        } catch (const GenerationCancelled &) {
            output.cancelled = true;
            break;
        }
        auto den = denoise(models, request, *cond, setup, *plan, generator, observer);
        // The UNet's convolution workspace (up to ~330 MB at 512² in float32)
        // is not needed by the decode, where memory peaks, nor while idle.
        releaseDnnlWorkspaces(**models.unet);
        if (!den)
            return den.error();
        if (den->lastPreview)
            output.lastPreview = den->lastPreview;
        if (den->cancelled) {
            output.cancelled = true;
            break;
        }
        auto dec = decodeLatents(models, den->latents, observer);
        if (!dec)
            return dec.error();
        if (dec->cancelled) {
            output.cancelled = true;
            break;
        }
        const std::vector<Image> images = tensorToImages(dec->pixels);
        for (std::size_t j = 0; j < images.size(); ++j) {
            GeneratedImage out;
            out.image = finishImage(images[j], *prepared, request.composite);
            out.seed = batchSeed;
            InfotextContext ctx;
            ctx.seed = batchSeed;
            ctx.width = out.image.width;
            ctx.height = out.image.height;
            // A1111 writes the checkpoint's file name without extension.
            ctx.modelName = model->info.layout == CheckpointLayout::SingleFile
                ? stem(model->info.path)
                : std::filesystem::path(model->info.path).filename().string();
            if (ctx.modelName.empty())
                ctx.modelName = model->info.displayName;
            ctx.modelHash = model->hash->result(observer.cancel);
            ctx.vaeName = model->info.vaeOverride.empty() ? std::string() : stem(model->info.vaeOverride);
            ctx.batchPos = int(j);
            out.infotext = formatInfotext(makeInfotext(described, ctx));
            output.images.push_back(std::move(out));
        }
    }
    output.seconds = secondsSince(t0);
    return output;
}

} // namespace stipple::core
