// stipple-cli eval-builtin: measures how well a model trained on the synthetic
// shapes data set (Stipple's built-in model) follows its prompts. For a
// balanced grid of single-object prompts and several seeds it generates,
// reads the image back with core/synth/ShapeEvaluator and reports the
// accuracy of the object colour, background colour, shape and position.
#include "app/cli/Commands.h"

#include "core/common/Paths.h"
#include "core/image/ImageIO.h"
#include "core/image/ImageResize.h"
#include "core/pipeline/Engine.h"
#include "core/synth/ShapeEvaluator.h"
#include "core/synth/SyntheticShapes.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <memory>

namespace stipple::cli {
namespace {

struct EvalArgs {
    std::string model;
    int prompts = 200;
    int seeds = 2;
    int steps = 20;
    float cfg = 7.0f;
    std::string sampler = "Euler a";
    int size = 128;
    std::uint64_t sceneSeed = 12345; // another value: another set of prompts
    std::string saveDir;
    bool json = false;
    // Score the data set's own pictures after the model's VAE round trip
    // (img2img at strength 0) instead of generated ones: the best any UNet
    // could reach with this VAE and this reader.
    bool ceiling = false;
    bool listMisses = false;
    // Inpainting instead of txt2img (see InpaintingCase).
    bool inpainting = false;
    bool largeContext = false; // the object beside the mask is large, not small
};

// Issue #6's inpainting check, over many pictures: a picture with one small
// object of another colour and shape on one side, the other half masked, and
// the prompt names only the new object ("a green square"). The reader looks at
// the masked half alone; compositing must leave the kept half as it was.
struct InpaintingCase {
    core::Image init, mask;
    std::string prompt;
    int maskX0 = 0; // the masked half: columns [maskX0, maskX0 + size/2)
};

InpaintingCase inpaintingCase(const core::shapes::SceneSpec &asked, std::size_t index, int size, bool largeContext)
{
    using namespace stipple::core::shapes;
    const ShapeSpec &want = asked.objects.front();
    const bool maskRight = index % 2 == 0;
    SceneSpec context;
    context.background = asked.background;
    ShapeSpec other;
    other.shape = Shape((int(want.shape) + 1 + int(index / 2 % (int(Shape::Count) - 1))) % int(Shape::Count));
    other.colour = int(index * 7 % kColours.size());
    while (other.colour == asked.background || other.colour == want.colour)
        other.colour = (other.colour + 1) % int(kColours.size());
    other.size = largeContext ? Size::Large : Size::Small;
    other.position = maskRight ? Position::Left : Position::Right;
    context.objects.push_back(other);
    InpaintingCase c;
    c.init = SyntheticShapes::render(context, size, index);
    c.mask = core::Image::blank(size, size, 1);
    c.maskX0 = maskRight ? size / 2 : 0;
    for (int y = 0; y < size; ++y)
        std::fill_n(c.mask.row(y) + c.maskX0, size / 2, std::uint8_t(255));
    c.prompt = std::string("a ") + kColours[size_t(want.colour)].name + " " + kShapeNames[size_t(want.shape)];
    return c;
}

// Values outside the mask that differ from the original, beyond the reach of
// the mask blur (A1111's Gaussian kernel, 2.5 sigma).
int changedOutside(const core::Image &img, const InpaintingCase &c, int blur)
{
    const int reach = blur <= 0 ? 0 : int(2.5 * blur + 0.5) + 1;
    int changed = 0;
    for (int y = 0; y < img.height; ++y)
        for (int x = 0; x < img.width; ++x) {
            const bool nearMask = c.maskX0 == 0 ? x < img.width / 2 + reach : x >= img.width / 2 - reach;
            if (nearMask)
                continue;
            for (int ch = 0; ch < 3; ++ch)
                changed += img.row(y)[x * img.channels + ch] != c.init.row(y)[x * 3 + ch];
        }
    return changed;
}

// Which shapes are read as which, and the shape rate per size: where a model's
// shape errors come from (small objects? star read as cross?).
void printShapeBreakdown(const core::shapes::AttributeScores &s)
{
    using namespace stipple::core::shapes;
    std::printf("\nshape read as (rows: asked for):\n%-10s", "");
    for (const char *name : kShapeNames)
        std::printf(" %8s", name);
    std::printf(" %8s\n", "none");
    for (size_t i = 0; i < kShapeNames.size(); ++i) {
        std::printf("%-10s", kShapeNames[i]);
        for (int n : s.shapeConfusion[i])
            std::printf(" %8d", n);
        std::printf("\n");
    }
    for (size_t i = 0; i < kSizeNames.size(); ++i)
        std::printf("shape, %s objects: %.1f%% of %d\n", kSizeNames[i],
                    s.sizeTotal[i] ? 100.0 * s.shapeHitsBySize[i] / s.sizeTotal[i] : 0.0, s.sizeTotal[i]);
}

int runEval(const EvalArgs &a)
{
    using namespace stipple::core;
    const std::string modelPath = a.model.empty() ? builtinModelPath() : a.model;
    if (modelPath.empty()) {
        std::fprintf(stderr, "stipple-cli: no model given and no built-in model found\n");
        return 1;
    }
    Engine engine;
    LoadOptions lo;
    lo.modelPath = modelPath;
    auto info = engine.load(lo);
    if (!info) {
        std::fprintf(stderr, "stipple-cli: %s\n", info.error().message.c_str());
        return 1;
    }
    if (!a.saveDir.empty())
        std::filesystem::create_directories(a.saveDir);
    const auto scenes = shapes::evaluationScenes(a.prompts, a.sceneSeed);
    shapes::AttributeScores scores;
    int found = 0, unchangedOutside = 0;
    const auto t0 = std::chrono::steady_clock::now();
    int done = 0;
    for (size_t i = 0; i < scenes.size(); ++i) {
        for (int s = 0; s < a.seeds; ++s) {
            GenerationRequest r;
            r.prompt = shapes::SyntheticShapes::caption(scenes[i]);
            r.sampler = a.sampler;
            r.steps = a.steps;
            r.cfgScale = a.cfg;
            r.seed = std::int64_t(1000 + s);
            r.width = r.height = a.size;
            if (a.ceiling) {
                r.initImage = shapes::SyntheticShapes::render(scenes[i], a.size, std::uint64_t(1000 + s));
                r.strength = 0.0f;
            }
            InpaintingCase inpaint;
            if (a.inpainting) {
                inpaint = inpaintingCase(scenes[i], i, a.size, a.largeContext);
                r.prompt = inpaint.prompt;
                r.initImage = inpaint.init;
                r.mask = inpaint.mask;
                r.strength = 1.0f;
            }
            auto out = engine.generate(r);
            if (!out || out->images.empty()) {
                std::fprintf(stderr, "stipple-cli: %s\n", out ? "no image" : out.error().message.c_str());
                return 1;
            }
            const Image &img = out->images.front().image;
            const shapes::Reading reading =
                shapes::readImage(a.inpainting ? core::cropImage(img, inpaint.maskX0, 0, a.size / 2, img.height) : img);
            shapes::score(scenes[i], reading, scores);
            if (a.inpainting) {
                found += reading.found;
                unchangedOutside += changedOutside(img, inpaint, r.maskBlur) == 0;
            }
            if (a.listMisses && reading.shape != int(scenes[i].objects.front().shape))
                std::fprintf(stderr, "\nshape miss: image %zu seed %d \"%s\" read as %s\n", i, s,
                             r.prompt.c_str(), reading.shape >= 0 ? shapes::kShapeNames[size_t(reading.shape)] : "none");
            if (!a.saveDir.empty())
                (void)writePng(a.saveDir + "/" + std::to_string(i) + "_" + std::to_string(s) + ".png", img,
                               {{"parameters", out->images.front().infotext}});
            ++done;
            const double el = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
            std::fprintf(stderr, "\r%d/%d images, %.2f s/image", done, int(scenes.size()) * a.seeds, el / done);
        }
    }
    std::fprintf(stderr, "\n");
    if (a.inpainting && a.json) {
        nlohmann::json j{{"model", modelPath},
                         {"mode", a.largeContext ? "inpainting, large context" : "inpainting"},
                         {"images", scores.total},
                         {"object_found", scores.rate(found)},
                         {"object_colour", scores.rate(scores.objectColour)},
                         {"shape", scores.rate(scores.shape)},
                         {"background_colour", scores.rate(scores.background)},
                         {"outside_unchanged", scores.rate(unchangedOutside)}};
        std::printf("%s\n", j.dump(2).c_str());
        return 0;
    }
    if (a.inpainting) {
        // Positions and sizes are not asked for: only what the mask holds.
        std::printf("| inside the mask (%d images: %d prompts x %d seeds, %s, %d steps, CFG %.1f) | |\n|---|---|\n"
                    "| an object | %.1f%% |\n| object colour | %.1f%% |\n| shape | %.1f%% |\n"
                    "| background colour | %.1f%% |\n| outside the mask unchanged | %.1f%% |\n",
                    scores.total, a.prompts, a.seeds, a.sampler.c_str(), a.steps, a.cfg, 100 * scores.rate(found),
                    100 * scores.rate(scores.objectColour), 100 * scores.rate(scores.shape),
                    100 * scores.rate(scores.background), 100 * scores.rate(unchangedOutside));
        return 0;
    }
    if (a.json) {
        nlohmann::json j{{"model", modelPath},
                         {"images", scores.total},
                         {"object_colour", scores.rate(scores.objectColour)},
                         {"background_colour", scores.rate(scores.background)},
                         {"shape", scores.rate(scores.shape)},
                         {"position", scores.rate(scores.position)},
                         {"position_row", scores.rate(scores.positionRow)},
                         {"position_column", scores.rate(scores.positionColumn)},
                         {"shape_confusion", scores.shapeConfusion},
                         {"size_total", scores.sizeTotal},
                         {"shape_hits_by_size", scores.shapeHitsBySize}};
        std::printf("%s\n", j.dump(2).c_str());
    } else {
        std::printf("| attribute | accuracy (%d images: %d prompts x %d seeds, %s, %d steps, CFG %.1f) |\n"
                    "|---|---|\n| object colour | %.1f%% |\n| background colour | %.1f%% |\n"
                    "| shape | %.1f%% |\n| position | %.1f%% |\n"
                    "| (position row: top / middle / bottom) | %.1f%% |\n"
                    "| (position column: left / centre / right) | %.1f%% |\n",
                    scores.total, a.prompts, a.seeds, a.sampler.c_str(), a.steps, a.cfg,
                    100 * scores.rate(scores.objectColour), 100 * scores.rate(scores.background),
                    100 * scores.rate(scores.shape), 100 * scores.rate(scores.position),
                    100 * scores.rate(scores.positionRow), 100 * scores.rate(scores.positionColumn));
        printShapeBreakdown(scores);
    }
    return 0;
}

} // namespace

void registerEvalBuiltinCommand(CLI::App &app, CommandRunner &runner)
{
    auto args = std::make_shared<EvalArgs>();
    CLI::App *cmd = app.add_subcommand("eval-builtin", "Measure how well the built-in model follows prompts");
    cmd->add_option("-m,--model", args->model, "model folder (default: the built-in model)");
    cmd->add_option("--prompts", args->prompts, "number of prompts")->capture_default_str();
    cmd->add_option("--seeds", args->seeds, "seeds per prompt")->capture_default_str();
    cmd->add_option("--steps", args->steps)->capture_default_str();
    cmd->add_option("--cfg-scale", args->cfg)->capture_default_str();
    cmd->add_option("--sampling-method", args->sampler)->capture_default_str();
    cmd->add_option("--size", args->size)->capture_default_str();
    cmd->add_option("--scene-seed", args->sceneSeed, "seed of the prompt grid (another value gives other prompts)")
        ->capture_default_str();
    cmd->add_option("--save", args->saveDir, "also write every image to this folder");
    cmd->add_flag("--json", args->json);
    cmd->add_flag("--list-misses", args->listMisses, "print each image whose shape was not read as asked");
    cmd->add_flag("--ceiling", args->ceiling,
                  "score the data set's own images after the VAE round trip (strength 0) instead of generated ones");
    cmd->add_flag("--inpainting", args->inpainting,
                  "inpaint half of a picture that holds another object, prompt \"a <colour> <shape>\", "
                  "and score what the mask holds");
    cmd->add_flag("--large-context", args->largeContext, "with --inpainting: the object beside the mask is large");
    cmd->callback([args, &runner] { runner = [args] { return runEval(*args); }; });
}

} // namespace stipple::cli
