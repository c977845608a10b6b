// stipple-cli export-random --config sd15 --layout single|diffusers
//                          --dtype f16|f32 -o PATH [--seed N] [--tokenizer DIR]
// Writes a checkpoint with random weights and the full SD 1.5 architecture
// (UNet 859.5M, VAE 83.7M, CLIP ViT-L/14 text encoder 123.1M parameters),
// generated tensor by tensor from the key/shape lists of core/io/ArchitectureSpec
// (independent of the model classes). `single` uses the original LDM names
// (model.diffusion_model.*, first_stage_model.*, cond_stage_model.transformer.*),
// `diffusers` a model folder. For load/benchmark tests, not for images.
#include "app/cli/Commands.h"

#include "core/io/ArchitectureSpec.h"
#include "core/io/LdmKeyMap.h"
#include "core/io/SafeTensors.h"

#include <ATen/ATen.h>
#include <fmt/core.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <memory>

namespace stipple::cli {

namespace {

namespace fs = std::filesystem;
using namespace stipple::core;

struct ExportArgs {
    std::string config = "sd15";
    std::string layout = "single";
    std::string dtype = "f16";
    std::string output;
    std::string tokenizer;
    std::uint64_t seed = 0;
};

bool endsWith(const std::string &s, const std::string &e)
{
    return s.size() >= e.size() && s.compare(s.size() - e.size(), e.size(), e) == 0;
}

// Plausible magnitudes: N(0, 1/fan_in) matrices and convs, norm scales near
// 1, small biases, embeddings N(0, 0.02^2).
at::Tensor randomTensor(const TensorSpec &spec, at::ScalarType dtype, at::Generator &gen)
{
    const auto options = at::TensorOptions().dtype(at::kFloat);
    at::Tensor t = at::empty(spec.shape, options);
    if (spec.shape.size() >= 2) {
        std::int64_t fanIn = 1;
        for (std::size_t i = 1; i < spec.shape.size(); ++i)
            fanIn *= spec.shape[i];
        const bool embedding = spec.name.find("embedding") != std::string::npos;
        t.normal_(0.0, embedding ? 0.02 : 1.0 / std::sqrt(static_cast<double>(fanIn)), gen);
    } else if (endsWith(spec.name, ".weight")) { // norm scales
        t.normal_(1.0, 0.02, gen);
    } else {
        t.normal_(0.0, 0.02, gen);
    }
    return t.to(dtype);
}

Result<StateDict> randomComponent(const Result<std::vector<TensorSpec>> &specs, at::ScalarType dtype,
                                  at::Generator &gen)
{
    if (!specs)
        return specs.error();
    StateDict sd;
    for (const auto &s : *specs)
        sd.emplace(s.name, randomTensor(s, dtype, gen));
    return sd;
}

Status writeJson(const fs::path &path, const nlohmann::json &j)
{
    std::error_code ec;
    fs::create_directories(path.parent_path(), ec);
    std::ofstream f(path);
    f << j.dump(2) << "\n";
    if (!f)
        return makeError(ErrorCode::IoError, "'" + path.string() + "': write failed");
    return {};
}

int fail(const Error &e)
{
    std::fprintf(stderr, "error (%s): %s\n", errorCodeName(e.code), e.message.c_str());
    return 1;
}

int runExport(const ExportArgs &a)
{
    const auto t0 = std::chrono::steady_clock::now();
    const at::ScalarType dtype = a.dtype == "f32" ? at::kFloat : at::kHalf;
    at::Generator gen = at::detail::createCPUGenerator(a.seed);

    const nlohmann::json unetCfg = sd15UnetConfig();
    const nlohmann::json vaeCfg = sd15VaeConfig();
    nlohmann::json textCfg = sd15TextEncoderConfig();
    textCfg["torch_dtype"] = a.dtype == "f32" ? "float32" : "float16";

    auto unet = randomComponent(unetTensorSpecs(unetCfg), dtype, gen);
    if (!unet)
        return fail(unet.error());
    auto vae = randomComponent(vaeTensorSpecs(vaeCfg), dtype, gen);
    if (!vae)
        return fail(vae.error());
    auto text = randomComponent(textEncoderTensorSpecs(textCfg), dtype, gen);
    if (!text)
        return fail(text.error());
    // transformers saves this buffer too; openCheckpoint ignores it.
    text->emplace("text_model.embeddings.position_ids", at::arange(77, at::kLong).unsqueeze(0));

    std::int64_t params = 0;
    for (const StateDict *sd : {&*unet, &*vae, &*text})
        for (const auto &kv : *sd)
            if (kv.second.is_floating_point())
                params += kv.second.numel();
    const std::map<std::string, std::string> meta = {
        {"format", "pt"}, {"stipple.generator", fmt::format("export-random {} seed {}", a.config, a.seed)}};

    if (a.layout == "single") {
        StateDict all;
        auto ldmUnet = diffusersUnetToLdm(*unet, unetLayoutFromConfig(unetCfg));
        if (!ldmUnet)
            return fail(ldmUnet.error());
        auto ldmVae = diffusersVaeToLdm(*vae, vaeLayoutFromConfig(vaeCfg));
        if (!ldmVae)
            return fail(ldmVae.error());
        for (auto &kv : *ldmUnet)
            all.emplace("model.diffusion_model." + kv.first, kv.second);
        for (auto &kv : *ldmVae)
            all.emplace("first_stage_model." + kv.first, kv.second);
        for (auto &kv : *text)
            all.emplace("cond_stage_model.transformer." + kv.first, kv.second);
        if (auto s = writeSafeTensors(a.output, all, meta); !s)
            return fail(s.error());
    } else {
        const fs::path dir(a.output);
        nlohmann::json index{{"_class_name", "StableDiffusionPipeline"}, {"_diffusers_version", "0.25.0"},
                             {"feature_extractor", {nullptr, nullptr}}, {"image_encoder", {nullptr, nullptr}},
                             {"requires_safety_checker", false}, {"safety_checker", {nullptr, nullptr}},
                             {"scheduler", {"diffusers", "PNDMScheduler"}},
                             {"text_encoder", {"transformers", "CLIPTextModel"}},
                             {"tokenizer", {"transformers", "CLIPTokenizer"}},
                             {"unet", {"diffusers", "UNet2DConditionModel"}},
                             {"vae", {"diffusers", "AutoencoderKL"}}};
        for (const auto &[file, json] : std::initializer_list<std::pair<const char *, nlohmann::json>>{
                 {"model_index.json", index},
                 {"unet/config.json", unetCfg},
                 {"vae/config.json", vaeCfg},
                 {"text_encoder/config.json", textCfg},
                 {"scheduler/scheduler_config.json", sd15SchedulerConfig()}}) {
            if (auto s = writeJson(dir / file, json); !s)
                return fail(s.error());
        }
        if (auto s = writeSafeTensors((dir / "unet/diffusion_pytorch_model.safetensors").string(), *unet, meta); !s)
            return fail(s.error());
        if (auto s = writeSafeTensors((dir / "vae/diffusion_pytorch_model.safetensors").string(), *vae, meta); !s)
            return fail(s.error());
        if (auto s = writeSafeTensors((dir / "text_encoder/model.safetensors").string(), *text, meta); !s)
            return fail(s.error());
        if (!a.tokenizer.empty()) {
            std::error_code ec;
            fs::create_directories(dir / "tokenizer", ec);
            for (const char *f : {"vocab.json", "merges.txt", "special_tokens_map.json", "tokenizer_config.json"})
                if (fs::exists(fs::path(a.tokenizer) / f))
                    fs::copy_file(fs::path(a.tokenizer) / f, dir / "tokenizer" / f,
                                  fs::copy_options::overwrite_existing, ec);
            if (ec)
                return fail(makeError(ErrorCode::IoError, "copying the tokenizer: " + ec.message()));
        }
    }
    const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    fmt::print("wrote {} ({} layout, {}, {:.1f}M parameters) in {:.1f} s\n", a.output, a.layout, a.dtype,
               static_cast<double>(params) / 1e6, secs);
    return 0;
}

} // namespace

void registerExportCommand(CLI::App &app, CommandRunner &runner)
{
    auto args = std::make_shared<ExportArgs>();
    CLI::App *cmd = app.add_subcommand("export-random", "Write a random-weight checkpoint (full SD 1.5 architecture)");
    cmd->add_option("--config", args->config, "architecture")->check(CLI::IsMember({"sd15"}));
    cmd->add_option("--layout", args->layout, "single .safetensors file (LDM names) or diffusers folder")
        ->check(CLI::IsMember({"single", "diffusers"}));
    cmd->add_option("--dtype", args->dtype, "stored dtype")->check(CLI::IsMember({"f16", "f32"}));
    cmd->add_option("-o,--output", args->output, "file (single) or folder (diffusers)")->required();
    cmd->add_option("--seed", args->seed, "random seed");
    cmd->add_option("--tokenizer", args->tokenizer, "folder with vocab.json + merges.txt to copy (diffusers layout)");
    cmd->callback([args, &runner] { runner = [args] { return runExport(*args); }; });
}

} // namespace stipple::cli
