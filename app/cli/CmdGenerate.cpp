// stipple-cli generate: txt2img / img2img / inpaint / depth2img from the
// command line, with stable-diffusion.cpp's flag names:
//   -m/--model, --vae, -p/--prompt, -n/--negative-prompt, --cfg-scale,
//   --sampling-method, --schedule, --steps, -s/--seed (negative = random),
//   -W/--width, -H/--height, -b/--batch-count, --batch-size, -i/--init-img,
//   --mask, --strength, --clip-skip, --eta, -o/--output, plus --dtype f32|bf16,
//   --no-composite, --only-masked, --only-masked-padding, --depth-map, --prompt-syntax a1111|diffusers, --vocab.
// Writes one PNG per image (output.png, output_2.png, ... as sd.cpp numbers
// them) carrying the A1111 "parameters" text chunk; shows a progress bar on
// stderr; Ctrl+C cancels at the next step. Exit codes: 0 ok, 1 error,
// 130 cancelled.
#include "app/cli/Commands.h"

#include "core/common/Paths.h"
#include "core/image/ImageIO.h"
#include "core/image/ImageResize.h"
#include "core/pipeline/Engine.h"

#include <fmt/core.h>

#include <algorithm>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <filesystem>
#include <memory>

namespace stipple::cli {

namespace {

struct GenerateArgs {
    std::string model, vae, vocab;
    std::string prompt, negativePrompt;
    float cfgScale = 7.0f;
    std::string sampler = "euler_a";
    std::string schedule;
    int steps = 20;
    std::int64_t seed = 42;
    int width = 512, height = 512;
    int batchCount = 1, batchSize = 1;
    std::string initImage, mask, depthMap;
    float strength = 0.75f;
    int clipSkip = -1;
    float eta = 0.0f;
    std::string output = "output.png";
    std::string dtype = "f32";
    bool noComposite = false;
    std::string promptSyntax = "a1111";
    int maskBlur = 4;
    bool onlyMasked = false;
    int onlyMaskedPadding = 32;
    bool widthSet = false, heightSet = false;
};

// Ctrl+C -> cancel token (an atomic store: async-signal-safe in practice).
core::CancelToken *g_cancel = nullptr;
extern "C" void onSigint(int)
{
    if (g_cancel)
        g_cancel->cancel();
}

class ProgressBar {
public:
    void update(const core::ProgressEvent &e)
    {
        using namespace std::chrono;
        if (e.stage != m_stage || e.step < m_lastStep) {
            finishLine();
            m_stage = e.stage;
        }
        m_lastStep = e.step;
        const int width = 30;
        const int filled = e.total > 0 ? std::min(width, e.step * width / e.total) : 0;
        const double rate = e.elapsedSec > 0 ? e.step / e.elapsedSec : 0;
        const double eta = rate > 0 ? (e.total - e.step) / rate : 0;
        std::string bar(std::size_t(filled), '=');
        bar.resize(std::size_t(width), ' ');
        std::fprintf(stderr, "\r%-8s |%s| %d/%d", core::stageName(e.stage), bar.c_str(), e.step, e.total);
        if (e.stage == core::Stage::Denoise && e.step > 0)
            std::fprintf(stderr, "  %.2f it/s  ETA %.1fs ", rate, eta);
        else
            std::fprintf(stderr, "  %.1fs ", e.elapsedSec);
        m_open = true;
        if (e.step >= e.total)
            finishLine();
        std::fflush(stderr);
    }
    void finishLine()
    {
        if (m_open)
            std::fprintf(stderr, "\n");
        m_open = false;
        m_lastStep = -1;
    }

private:
    core::Stage m_stage = core::Stage::Load;
    int m_lastStep = -1;
    bool m_open = false;
};

std::string outputPath(const std::string &base, std::size_t index)
{
    if (index == 0)
        return base;
    std::filesystem::path p(base);
    const std::string ext = p.has_extension() ? p.extension().string() : ".png";
    return (p.parent_path() / (p.stem().string() + "_" + std::to_string(index + 1) + ext)).string();
}

int fail(const core::Error &e, const char *what)
{
    std::fprintf(stderr, "\nerror (%s) %s: %s\n", core::errorCodeName(e.code), what, e.message.c_str());
    return 1;
}

int runGenerate(const GenerateArgs &a)
{
    using namespace stipple::core;
    GenerationRequest r;
    r.prompt = a.prompt;
    r.negativePrompt = a.negativePrompt;
    r.cfgScale = a.cfgScale;
    r.sampler = a.sampler;
    r.scheduleType = a.schedule == "discrete" || a.schedule == "default" ? std::string() : a.schedule;
    r.steps = a.steps;
    r.seed = a.seed;
    r.width = a.width;
    r.height = a.height;
    r.batchCount = a.batchCount;
    r.batchSize = a.batchSize;
    r.strength = a.strength;
    r.clipSkip = a.clipSkip <= 0 ? 1 : a.clipSkip;
    r.eta = a.eta;
    r.composite = !a.noComposite;
    r.maskBlur = a.maskBlur;
    r.inpaintOnlyMasked = a.onlyMasked;
    r.onlyMaskedPadding = a.onlyMaskedPadding;
    r.promptSyntax = a.promptSyntax == "diffusers" ? PromptSyntax::Diffusers : PromptSyntax::A1111;
    r.dtype = a.dtype == "bf16" ? ComputeDType::BFloat16 : ComputeDType::Float32;

    // Input pictures first: a bad file fails before the (slow) model load.
    if (!a.initImage.empty()) {
        auto img = readImage(a.initImage);
        if (!img)
            return fail(img.error(), "reading the init image");
        r.initImage = *img;
        // Without -W/-H the init image's size (rounded down to /8) is used.
        if (!a.widthSet)
            r.width = roundDownToMultipleOf8(img->width);
        if (!a.heightSet)
            r.height = roundDownToMultipleOf8(img->height);
    }
    if (!a.mask.empty()) {
        auto img = readImage(a.mask);
        if (!img)
            return fail(img.error(), "reading the mask");
        r.mask = *img;
    }
    if (!a.depthMap.empty()) {
        auto img = readImage(a.depthMap);
        if (!img)
            return fail(img.error(), "reading the depth map");
        r.depthMap = *img;
    }

    ProgressBar bar;
    Observer observer;
    observer.onProgress = [&bar](const ProgressEvent &e) { bar.update(e); };
    g_cancel = &observer.cancel;
    std::signal(SIGINT, onSigint);

    Engine engine;
    LoadOptions load;
    // No model named: the built-in one (resources/builtin-model), so a fresh
    // checkout generates without a download.
    load.modelPath = a.model.empty() ? builtinModelPath() : a.model;
    if (load.modelPath.empty()) {
        std::fprintf(stderr, "stipple-cli: no model given (-m) and the built-in model was not found\n");
        return 1;
    }
    load.vaePath = a.vae;
    load.vocabPath = a.vocab;
    load.dtype = r.dtype;
    auto info = engine.load(load, observer);
    bar.finishLine();
    if (!info)
        return fail(info.error(), "loading the model");
    std::fprintf(stderr, "model: %s (%s, %s), loaded in %.1fs\n", info->displayName.c_str(),
                 modelFamilyName(info->family), modelVariantName(info->variant),
                 info->openSeconds + info->loadSeconds);

    auto out = engine.generate(r, observer);
    bar.finishLine();
    g_cancel = nullptr;
    std::signal(SIGINT, SIG_DFL);
    if (!out)
        return fail(out.error(), "generating");
    for (std::size_t i = 0; i < out->images.size(); ++i) {
        const std::string path = outputPath(a.output, i);
        auto st = writePng(path, out->images[i].image, {{"parameters", out->images[i].infotext}});
        if (!st)
            return fail(st.error(), "writing the image");
        std::fprintf(stderr, "saved %s (seed %lld)\n", path.c_str(), static_cast<long long>(out->images[i].seed));
    }
    if (out->cancelled) {
        std::fprintf(stderr, "cancelled (%zu image(s) saved)\n", out->images.size());
        return 130;
    }
    std::fprintf(stderr, "done in %.1fs\n", out->seconds);
    return 0;
}

} // namespace

void registerGenerateCommand(CLI::App &app, CommandRunner &runner)
{
    auto args = std::make_shared<GenerateArgs>();
    CLI::App *cmd = app.add_subcommand("generate", "generate images (txt2img, img2img, inpaint, depth2img)");
    cmd->add_option("-m,--model", args->model,
                    "diffusers folder or single .safetensors checkpoint (default: the built-in model)");
    cmd->add_option("--vae", args->vae, "standalone VAE .safetensors overriding the model's");
    cmd->add_option("--vocab", args->vocab, "CLIP vocabulary for single files: bpe_simple_vocab_16e6.txt.gz or a tokenizer/ folder");
    cmd->add_option("-p,--prompt", args->prompt, "the prompt");
    cmd->add_option("-n,--negative-prompt", args->negativePrompt, "the negative prompt");
    cmd->add_option("--cfg-scale", args->cfgScale, "classifier-free guidance scale (default 7; <= 1 disables it)");
    cmd->add_option("--sampling-method", args->sampler,
                    "sampler: euler_a, euler, lms, heun, dpm++2m, ddim, plms, ddpm, unipc, "
                    "or A1111/diffusers names such as \"DPM++ 2M Karras\" (default euler_a)");
    cmd->add_option("--schedule", args->schedule, "schedule type: discrete (default) or karras");
    cmd->add_option("--steps", args->steps, "sampling steps (default 20)");
    cmd->add_option("-s,--seed", args->seed, "seed; negative = random (default 42)");
    cmd->add_option("-W,--width", args->width, "image width, a multiple of 8 (default 512, or the init image's)")
        ->each([args](const std::string &) { args->widthSet = true; });
    cmd->add_option("-H,--height", args->height, "image height, a multiple of 8 (default 512, or the init image's)")
        ->each([args](const std::string &) { args->heightSet = true; });
    cmd->add_option("-b,--batch-count", args->batchCount, "number of batches, seed + i each (default 1)");
    cmd->add_option("--batch-size", args->batchSize, "images per batch, sharing one seed (default 1)");
    cmd->add_option("-i,--init-img", args->initImage, "init image for img2img / inpainting");
    cmd->add_option("--mask", args->mask, "inpainting mask (white = repaint), same size as the init image");
    cmd->add_option("--mask-blur", args->maskBlur, "mask blur in pixels for compositing (default 4)");
    cmd->add_option("--depth-map", args->depthMap, "depth map for depth2img models");
    cmd->add_option("--strength", args->strength, "denoising strength for img2img, 0..1 (default 0.75)");
    cmd->add_option("--clip-skip", args->clipSkip, "CLIP layers to skip: 1 = none, 2 = penultimate (<= 0: 1)");
    cmd->add_option("--eta", args->eta, "DDIM eta (default 0)");
    cmd->add_option("-o,--output", args->output, "output PNG; further images get _2, _3, ... (default output.png)");
    cmd->add_option("--dtype", args->dtype, "compute precision (default f32)")
        ->check(CLI::IsMember({"f32", "bf16"}));
    cmd->add_flag("--only-masked", args->onlyMasked,
                  "inpaint a crop around the mask at full size, then paste it back (A1111 'Only masked')");
    cmd->add_option("--only-masked-padding", args->onlyMaskedPadding, "pixels around the mask's box (default 32)");
    cmd->add_flag("--no-composite", args->noComposite, "do not paste the result over the original outside the mask");
    cmd->add_option("--prompt-syntax", args->promptSyntax,
                    "a1111: (emphasis:1.2), BREAK, long prompts chunked; diffusers: literal text, 77 tokens")
        ->check(CLI::IsMember({"a1111", "diffusers"}));
    cmd->callback([args, &runner] { runner = [args] { return runGenerate(*args); }; });
}

} // namespace stipple::cli
