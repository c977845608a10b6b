// stipple-cli info -m PATH [--vae PATH] [--dtype stored|f32|f16|bf16] [--json]
// Opens a model (diffusers folder or single .safetensors file), loads every
// weight and prints what was detected: family, variant, prediction type and
// how it was decided, each component's parameter count and stored dtype, and
// the open (headers + mmap) and load (mapping, validation, conversion) times.
#include "app/cli/Commands.h"

#include "core/io/Checkpoint.h"

#include <ATen/ATen.h>
#include <fmt/core.h>
#include <nlohmann/json.hpp>

#include <cstdio>
#include <memory>

namespace stipple::cli {

namespace {

struct InfoArgs {
    std::string model;
    std::string vae;
    std::string dtype = "stored";
    bool json = false;
};

std::string millions(std::int64_t n) { return fmt::format("{:.1f}M", static_cast<double>(n) / 1e6); }

int runInfo(const InfoArgs &a)
{
    using namespace stipple::core;
    OpenOptions options;
    options.vaePath = a.vae;
    if (a.dtype == "f32")
        options.dtype = at::kFloat;
    else if (a.dtype == "f16")
        options.dtype = at::kHalf;
    else if (a.dtype == "bf16")
        options.dtype = at::kBFloat16;

    auto ck = openCheckpoint(a.model, options);
    if (!ck) {
        if (a.json) {
            std::printf("%s\n", nlohmann::json{{"error", errorCodeName(ck.error().code)},
                                               {"message", ck.error().message}}.dump(2).c_str());
        }
        std::fprintf(stderr, "error (%s): %s\n", errorCodeName(ck.error().code), ck.error().message.c_str());
        return 1;
    }
    const ModelInfo &info = ck->info;
    double bytes = 0;
    for (const ComponentWeights *c : {&ck->unet, &ck->vae, &ck->textEncoder})
        for (const auto &kv : c->weights)
            bytes += static_cast<double>(kv.second.nbytes());
    const double gbps = info.loadSeconds > 0 ? bytes / 1e9 / info.loadSeconds : 0;

    if (a.json) {
        nlohmann::json j{{"path", info.path},
                         {"name", info.displayName},
                         {"layout", info.layout == CheckpointLayout::SingleFile ? "single_file" : "diffusers"},
                         {"family", modelFamilyName(info.family)},
                         {"variant", modelVariantName(info.variant)},
                         {"prediction_type", predictionTypeName(info.prediction)},
                         {"prediction_source", info.predictionSource},
                         {"vae_override", info.vaeOverride},
                         {"tokenizer_dir", ck->tokenizerDir},
                         {"open_seconds", info.openSeconds},
                         {"load_seconds", info.loadSeconds},
                         {"loaded_bytes", bytes},
                         {"load_gb_per_s", gbps},
                         {"dtype", a.dtype}};
        for (const auto &c : info.components)
            j["components"].push_back({{"name", c.name}, {"parameters", c.parameters},
                                       {"stored_dtype", c.storedDtype}, {"source", c.source}});
        std::printf("%s\n", j.dump(2).c_str());
        return 0;
    }
    fmt::print("model:       {} ({})\n", info.path,
               info.layout == CheckpointLayout::SingleFile ? "single file" : "diffusers folder");
    fmt::print("family:      {}\n", modelFamilyName(info.family));
    fmt::print("variant:     {}\n", modelVariantName(info.variant));
    fmt::print("prediction:  {} ({})\n", predictionTypeName(info.prediction), info.predictionSource);
    if (!info.vaeOverride.empty())
        fmt::print("vae file:    {}\n", info.vaeOverride);
    for (const auto &c : info.components)
        fmt::print("{:<13}{:>9}  {:<5} {}\n", c.name + ":", millions(c.parameters), c.storedDtype, c.source);
    fmt::print("open:        {:.3f} s (headers + mmap)\n", info.openSeconds);
    if (a.dtype == "stored")
        fmt::print("load:        {:.3f} s ({:.2f} GB, zero-copy views of the mapped file)\n", info.loadSeconds,
                   bytes / 1e9);
    else
        fmt::print("load:        {:.3f} s ({:.2f} GB converted to {}, {:.2f} GB/s)\n", info.loadSeconds,
                   bytes / 1e9, a.dtype, gbps);
    return 0;
}

} // namespace

void registerInfoCommand(CLI::App &app, CommandRunner &runner)
{
    auto args = std::make_shared<InfoArgs>();
    CLI::App *cmd = app.add_subcommand("info", "Open a model and print what it is (family, variant, sizes, timings)");
    cmd->add_option("-m,--model", args->model, "diffusers folder or single .safetensors file")->required();
    cmd->add_option("--vae", args->vae, "standalone VAE .safetensors overriding the model's");
    cmd->add_option("--dtype", args->dtype, "convert floating weights while loading")
        ->check(CLI::IsMember({"stored", "f32", "f16", "bf16"}));
    cmd->add_flag("--json", args->json, "machine-readable output");
    cmd->callback([args, &runner] { runner = [args] { return runInfo(*args); }; });
}

} // namespace stipple::cli
