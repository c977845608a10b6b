#include "core/io/Checkpoint.h"

#include "core/common/Log.h"
#include "core/common/FloatConversion.h"
#include "core/io/ArchitectureSpec.h"
#include "core/io/ConfigSynthesis.h"
#include "core/io/LdmKeyMap.h"
#include "core/io/SafeTensors.h"

#include <ATen/ATen.h>
#include <c10/util/Exception.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <fstream>
#include <set>
#include <sstream>

#include <sys/mman.h>
#include <sys/stat.h>

namespace stipple::core {

namespace {

using Clock = std::chrono::steady_clock;

double secondsSince(Clock::time_point t0)
{
    return std::chrono::duration<double>(Clock::now() - t0).count();
}

bool startsWith(const std::string &s, const std::string &p) { return s.compare(0, p.size(), p) == 0; }

bool isDirectory(const std::string &p)
{
    struct stat st {};
    return ::stat(p.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
}

bool isFile(const std::string &p)
{
    struct stat st {};
    return ::stat(p.c_str(), &st) == 0 && S_ISREG(st.st_mode);
}

std::string lowerExtension(const std::string &path)
{
    const auto slash = path.find_last_of('/');
    const auto dot = path.find_last_of('.');
    if (dot == std::string::npos || (slash != std::string::npos && dot < slash))
        return {};
    std::string ext = path.substr(dot);
    for (auto &c : ext)
        c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return ext;
}

std::string baseName(std::string path)
{
    while (path.size() > 1 && path.back() == '/')
        path.pop_back();
    const auto slash = path.find_last_of('/');
    return slash == std::string::npos ? path : path.substr(slash + 1);
}

// "zip" (torch.save since 1.6), "pickle" (protocol 2+ header), or "".
std::string pickleMagic(const std::string &path)
{
    std::ifstream f(path, std::ios::binary);
    unsigned char b[4] = {0, 0, 0, 0};
    f.read(reinterpret_cast<char *>(b), 4);
    if (f.gcount() < 2)
        return {};
    if (b[0] == 'P' && b[1] == 'K' && f.gcount() >= 4 && b[2] == 3 && b[3] == 4)
        return "zip";
    if (b[0] == 0x80 && b[1] >= 2 && b[1] <= 5)
        return "pickle";
    return {};
}

Error unsafeFormat(const std::string &path, const std::string &why)
{
    return makeError(
        ErrorCode::UnsafeFormat,
        "'" + path + "' " + why
            + ". Pickle-based checkpoints (.ckpt/.pt/.pth/.bin) are refused because unpickling can run "
              "arbitrary code hidden in the file. Convert it to .safetensors in a trusted environment (for "
              "example diffusers' scripts/convert_original_stable_diffusion_to_diffusers.py with "
              "--to_safetensors, AUTOMATIC1111's checkpoint merger or Kohya's tools saving as safetensors), "
              "then open the .safetensors file.");
}

// Refuses pickles by extension, and by magic bytes whatever the extension.
Status checkNotPickle(const std::string &path)
{
    const std::string ext = lowerExtension(path);
    const std::string magic = pickleMagic(path);
    if (ext == ".ckpt" || ext == ".pt" || ext == ".pth" || ext == ".bin" || ext == ".pkl")
        return unsafeFormat(path, "is a pickle-based checkpoint (extension " + ext
                                      + (magic.empty() ? "" : ", " + magic + " magic bytes") + ")");
    return {};
}

Result<SafeTensorsFile> openSafeTensors(const std::string &path, double &openSeconds)
{
    if (auto s = checkNotPickle(path); !s)
        return s.error();
    const auto t0 = Clock::now();
    auto file = SafeTensorsFile::open(path);
    openSeconds += secondsSince(t0);
    if (!file && file.error().code == ErrorCode::CorruptFile) {
        const std::string magic = pickleMagic(path);
        if (!magic.empty())
            return unsafeFormat(path, "is a " + magic + " (PyTorch pickle) file despite its extension");
    }
    return file;
}

Result<nlohmann::json> readJsonFile(const std::string &path)
{
    std::ifstream f(path);
    if (!f)
        return makeError(ErrorCode::FileNotFound, "'" + path + "': cannot open");
    std::ostringstream s;
    s << f.rdbuf();
    nlohmann::json j = nlohmann::json::parse(s.str(), nullptr, false);
    if (j.is_discarded() || !j.is_object())
        return makeError(ErrorCode::CorruptFile, "'" + path + "': not a valid JSON object");
    return j;
}

std::string storedDtypeOf(const StateDict &sd)
{
    std::set<std::string> kinds;
    for (const auto &[name, t] : sd) {
        if (!t.is_floating_point())
            continue;
        switch (t.scalar_type()) {
        case at::kHalf: kinds.insert("F16"); break;
        case at::kBFloat16: kinds.insert("BF16"); break;
        case at::kFloat: kinds.insert("F32"); break;
        case at::kDouble: kinds.insert("F64"); break;
        default: kinds.insert("other"); break;
        }
    }
    if (kinds.empty())
        return "none";
    return kinds.size() == 1 ? *kinds.begin() : "mixed";
}

std::int64_t parameterCount(const StateDict &sd)
{
    std::int64_t n = 0;
    for (const auto &kv : sd)
        n += kv.second.numel();
    return n;
}

// Which weights stay unconverted views (OpenOptions::deferUnet*Weights,
// deferTextEncoderMatrices: `linear` keeps every 2-D tensor).
struct Deferred {
    bool conv = false, linear = false;
    bool keeps(const at::Tensor &t) const { return (conv && t.dim() == 4) || (linear && t.dim() == 2); }
};

// Converts floating tensors to `dtype` into one arena per component, backed
// by transparent huge pages: first-touch page faults on fresh 4 KiB pages run
// at ~0.26 GB/s on this class of VM (shared/docs/toolchain.md, pitfall 4),
// 2 MiB pages make the conversion memory-bandwidth bound. The arena lives
// while any of its tensors does. `deferred` tensors stay as they are.
void convertFloats(StateDict &sd, std::optional<c10::ScalarType> dtype, Deferred deferred)
{
    if (!dtype)
        return;
    const auto converts = [&](const at::Tensor &t) {
        return t.is_floating_point() && t.scalar_type() != *dtype && !deferred.keeps(t);
    };
    constexpr std::size_t kAlign = 64;
    constexpr std::size_t kHuge = std::size_t(2) << 20;
    const std::size_t item = c10::elementSize(*dtype);
    std::size_t total = 0;
    for (const auto &kv : sd)
        if (converts(kv.second))
            total += (static_cast<std::size_t>(kv.second.numel()) * item + kAlign - 1) / kAlign * kAlign;
    if (total == 0)
        return;
    const std::size_t bytes = (total + kHuge - 1) / kHuge * kHuge;
    void *raw = std::aligned_alloc(kHuge, bytes);
    if (!raw)
        throw std::bad_alloc();
    ::madvise(raw, bytes, MADV_HUGEPAGE);
    std::shared_ptr<void> arena(raw, [](void *p) { std::free(p); });
    std::size_t offset = 0;
    for (auto &kv : sd) {
        at::Tensor &t = kv.second;
        if (!converts(t))
            continue;
        char *ptr = static_cast<char *>(raw) + offset;
        offset += (static_cast<std::size_t>(t.numel()) * item + kAlign - 1) / kAlign * kAlign;
        at::Tensor dst = at::from_blob(
            ptr, t.sizes(), [arena](void *) {}, at::TensorOptions().dtype(*dtype));
        convertInto(dst, t);
        // The file's copy is no longer needed: off the resident set now, so that
        // a 2 GB checkpoint and its conversion are never resident together.
        if (const MappedFilesScope *scope = MappedFilesScope::current())
            scope->releasePagesOf(t);
        t = dst;
    }
}

Status validate(const ComponentWeights &c, const std::string &component)
{
    Result<std::vector<TensorSpec>> specs =
        component == "unet" ? unetTensorSpecs(c.config)
        : component == "vae" ? vaeTensorSpecs(c.config)
                             : textEncoderTensorSpecs(c.config);
    if (!specs)
        return makeError(ErrorCode::CorruptFile, component + " ('" + c.source + "'): " + specs.error().message);
    return checkAgainstSpecs(c.weights, *specs, component, c.source);
}

ModelVariant variantOf(const Checkpoint &ck, const std::string &path, Status &status)
{
    const auto in = ck.unet.config.value("in_channels", 4);
    if (in == 4)
        return ModelVariant::Base;
    if (in == 9)
        return ModelVariant::Inpaint;
    if (in == 5)
        return ModelVariant::Depth;
    status = makeError(ErrorCode::UnsupportedModel, "'" + path + "': a UNet with " + std::to_string(in)
                                                        + " input channels is not supported yet "
                                                          "(known: 4 base, 9 inpaint, 5 depth)");
    return ModelVariant::Base;
}

Error unsupported(const std::string &path, const std::string &what)
{
    return makeError(ErrorCode::UnsupportedModel, "'" + path + "' is " + what
                                                      + ": not supported yet (Stipple runs SD 1.x and SD 2.x)");
}

// ---- standalone VAE -------------------------------------------------------

Status applyVaeOverride(Checkpoint &ck, const OpenOptions &options, double &openSeconds)
{
    auto file = openSafeTensors(options.vaePath, openSeconds);
    if (!file)
        return file.error();
    const auto t0 = Clock::now();
    auto all = file->loadAll();
    if (!all)
        return all.error();
    StateDict sd = std::move(all).value();
    // Strip a common component prefix ("first_stage_model." from a full
    // checkpoint, "vae." from some exports).
    for (const std::string prefix : {"first_stage_model.", "vae."}) {
        if (!sd.empty() && std::all_of(sd.begin(), sd.end(), [&](const auto &kv) { return startsWith(kv.first, prefix); })) {
            StateDict stripped;
            for (auto &kv : sd)
                stripped.emplace(kv.first.substr(prefix.size()), kv.second);
            sd = std::move(stripped);
        }
    }
    // Training-only tensors some VAE files carry.
    for (auto it = sd.begin(); it != sd.end();)
        it = startsWith(it->first, "loss.") || it->first == "model_ema.decay" || it->first == "model_ema.num_updates"
                 ? sd.erase(it)
                 : std::next(it);
    ComponentWeights vae;
    vae.source = options.vaePath;
    if (vaeUsesDiffusersNames(sd)) {
        vae.weights = std::move(sd);
    } else {
        auto layout = vaeLayoutFromLdm(sd);
        if (!layout)
            return makeError(ErrorCode::UnknownModel, "'" + options.vaePath + "': not a VAE (" + layout.error().message + ")");
        auto mapped = ldmVaeToDiffusers(sd, *layout, options.vaePath);
        if (!mapped)
            return mapped.error();
        vae.weights = std::move(mapped).value();
    }
    LdmYaml noYaml;
    vae.config = synthVaeConfig(vae.weights, ck.info.family, ck.info.prediction, noYaml);
    // Keep what the weights cannot tell from the checkpoint's own VAE.
    for (const char *k : {"scaling_factor", "sample_size", "force_upcast"})
        if (ck.vae.config.contains(k))
            vae.config[k] = ck.vae.config[k];
    if (auto s = validate(vae, "vae"); !s)
        return s;
    ck.vae = std::move(vae);
    ck.info.vaeOverride = options.vaePath;
    ck.info.loadSeconds += secondsSince(t0);
    return {};
}

// ---- diffusers folder -----------------------------------------------------

Result<ComponentWeights> loadFolderComponent(const std::string &dir, const std::string &component,
                                             const std::string &weightsStem, double &openSeconds,
                                             double &loadSeconds)
{
    const std::string sub = dir + "/" + component;
    if (!isDirectory(sub))
        return makeError(ErrorCode::FileNotFound, "'" + dir + "': diffusers folder has no " + component + "/ folder");
    auto config = readJsonFile(sub + "/config.json");
    if (!config)
        return config.error();
    std::string file = sub + "/" + weightsStem + ".safetensors";
    if (!isFile(file))
        file = sub + "/" + weightsStem + ".fp16.safetensors";
    if (!isFile(file)) {
        for (const char *ext : {".bin", ".fp16.bin", ".ckpt"})
            if (isFile(sub + "/" + weightsStem + ext))
                return unsafeFormat(sub + "/" + weightsStem + ext, "is a pickle-based weights file");
        return makeError(ErrorCode::FileNotFound, "'" + sub + "': no " + weightsStem + ".safetensors (nor "
                                                      + weightsStem + ".fp16.safetensors)");
    }
    auto st = openSafeTensors(file, openSeconds);
    if (!st)
        return st.error();
    const auto t0 = Clock::now();
    auto all = st->loadAll();
    if (!all)
        return all.error();
    ComponentWeights c;
    c.config = std::move(config).value();
    c.weights = std::move(all).value();
    c.weights.erase("text_model.embeddings.position_ids");
    c.source = file;
    loadSeconds += secondsSince(t0);
    return c;
}

Status openFolder(const std::string &dir, Checkpoint &ck)
{
    auto index = readJsonFile(dir + "/model_index.json");
    if (!index)
        return makeError(index.error().code == ErrorCode::FileNotFound ? ErrorCode::UnknownModel : index.error().code,
                         "'" + dir + "': not a diffusers model folder (" + index.error().message + ")");
    const std::string cls = index->value("_class_name", std::string());
    if (cls.find("XL") != std::string::npos || isDirectory(dir + "/text_encoder_2"))
        return unsupported(dir, "an SDXL model (" + cls + ")");
    if (cls.find("StableDiffusion3") != std::string::npos)
        return unsupported(dir, "a Stable Diffusion 3 model");
    if (cls.find("Flux") != std::string::npos)
        return unsupported(dir, "a Flux model");
    if (isDirectory(dir + "/transformer"))
        return unsupported(dir, "a transformer-based model (" + cls + ")");

    double openSeconds = 0, loadSeconds = 0;
    auto unet = loadFolderComponent(dir, "unet", "diffusion_pytorch_model", openSeconds, loadSeconds);
    if (!unet)
        return unet.error();
    auto vae = loadFolderComponent(dir, "vae", "diffusion_pytorch_model", openSeconds, loadSeconds);
    if (!vae)
        return vae.error();
    auto text = loadFolderComponent(dir, "text_encoder", "model", openSeconds, loadSeconds);
    if (!text)
        return text.error();
    ck.unet = std::move(unet).value();
    ck.vae = std::move(vae).value();
    ck.textEncoder = std::move(text).value();
    ck.info.openSeconds = openSeconds;
    ck.info.loadSeconds = loadSeconds;

    if (ck.unet.config.value("addition_embed_type", nlohmann::json()).is_string())
        return unsupported(dir, "an SDXL-style UNet (addition_embed_type)");
    const bool sd2 = ck.textEncoder.config.value("hidden_act", std::string()) == "gelu"
                     || ck.unet.config.value("use_linear_projection", false)
                     || ck.unet.config.value("cross_attention_dim", 0) == 1024;
    ck.info.family = sd2 ? ModelFamily::SD2 : ModelFamily::SD1;

    auto sched = readJsonFile(dir + "/scheduler/scheduler_config.json");
    if (sched) {
        ck.schedulerConfig = std::move(sched).value();
        const std::string p = ck.schedulerConfig.value("prediction_type", std::string("epsilon"));
        if (p != "epsilon" && p != "v_prediction")
            return makeError(ErrorCode::UnsupportedModel, "'" + dir + "': prediction_type '" + p + "' is not supported yet");
        ck.info.prediction = p == "v_prediction" ? PredictionType::VPrediction : PredictionType::Epsilon;
        ck.info.predictionSource = "scheduler_config";
    } else {
        ck.schedulerConfig = synthSchedulerConfig(PredictionType::Epsilon, LdmYaml{});
        ck.info.predictionSource = "default: no scheduler/scheduler_config.json";
    }
    const std::string tok = dir + "/tokenizer";
    // CLIP BPE files, or a sentencepiece model (Stipple's built-in model).
    if ((isFile(tok + "/vocab.json") && isFile(tok + "/merges.txt")) || isFile(tok + "/spm.model"))
        ck.tokenizerDir = tok;
    else
        logWarning("'" + dir + "': no tokenizer/vocab.json + merges.txt; the built-in CLIP vocabulary will be needed");
    return {};
}

// ---- single file ------------------------------------------------------------

Result<StateDict> takePrefix(const SafeTensorsFile &file, const std::string &prefix)
{
    return file.loadAll(std::nullopt, prefix);
}

Status openSingleFile(const std::string &path, Checkpoint &ck)
{
    double openSeconds = 0;
    auto file = openSafeTensors(path, openSeconds);
    if (!file)
        return file.error();
    ck.info.openSeconds = openSeconds;
    const auto t0 = Clock::now();

    // Family from names only.
    bool unetKeys = false, openClip = false, hfClip = false, vaeKeys = false;
    bool bareVae = false, diffusersUnet = false;
    for (const auto &n : file->names()) {
        if (startsWith(n, "conditioner.embedders.") || startsWith(n, "model.diffusion_model.label_emb."))
            return unsupported(path, "an SDXL checkpoint");
        if (startsWith(n, "model.diffusion_model.joint_blocks.") || startsWith(n, "joint_blocks."))
            return unsupported(path, "a Stable Diffusion 3 checkpoint");
        if (startsWith(n, "model.diffusion_model.double_blocks.") || startsWith(n, "double_blocks."))
            return unsupported(path, "a Flux checkpoint");
        unetKeys |= startsWith(n, "model.diffusion_model.");
        openClip |= startsWith(n, "cond_stage_model.model.");
        hfClip |= startsWith(n, "cond_stage_model.transformer.");
        vaeKeys |= startsWith(n, "first_stage_model.");
        bareVae |= startsWith(n, "encoder.down") || startsWith(n, "decoder.up")
                   || startsWith(n, "first_stage_model.encoder.") || startsWith(n, "vae.encoder.");
        diffusersUnet |= startsWith(n, "down_blocks.") || startsWith(n, "add_embedding.");
    }
    if (!unetKeys) {
        if (bareVae)
            return makeError(ErrorCode::UnknownModel, "'" + path + "' is a standalone VAE, not a full checkpoint: "
                                                          "open a checkpoint and pass this file as its VAE (--vae)");
        if (diffusersUnet)
            return makeError(ErrorCode::UnknownModel, "'" + path + "' holds a diffusers UNet only: open the whole "
                                                          "diffusers folder instead");
        return makeError(ErrorCode::UnknownModel, "'" + path + "': no model.diffusion_model.* tensors, "
                                                      "not a Stable Diffusion checkpoint");
    }
    if (!vaeKeys)
        return makeError(ErrorCode::MissingKeys, "'" + path + "': no first_stage_model.* (VAE) tensors");
    if (!openClip && !hfClip)
        return makeError(ErrorCode::MissingKeys, "'" + path + "': no cond_stage_model.* (text encoder) tensors");
    ck.info.family = openClip ? ModelFamily::SD2 : ModelFamily::SD1;

    auto unetLdm = takePrefix(*file, "model.diffusion_model.");
    auto vaeLdm = takePrefix(*file, "first_stage_model.");
    auto textLdm = takePrefix(*file, openClip ? "cond_stage_model.model." : "cond_stage_model.transformer.");
    if (!unetLdm)
        return unetLdm.error();
    if (!vaeLdm)
        return vaeLdm.error();
    if (!textLdm)
        return textLdm.error();
    auto unetLayout = unetLayoutFromLdm(*unetLdm);
    if (!unetLayout)
        return makeError(unetLayout.error().code, "'" + path + "': " + unetLayout.error().message);
    auto vaeLayout = vaeLayoutFromLdm(*vaeLdm);
    if (!vaeLayout)
        return makeError(vaeLayout.error().code, "'" + path + "': " + vaeLayout.error().message);
    auto unet = ldmUnetToDiffusers(*unetLdm, *unetLayout, path);
    if (!unet)
        return unet.error();
    auto vae = ldmVaeToDiffusers(*vaeLdm, *vaeLayout, path);
    if (!vae)
        return vae.error();
    auto text = openClip ? openClipToDiffusers(*textLdm, path) : ldmClipToDiffusers(*textLdm, path);
    if (!text)
        return text.error();

    // Prediction type: metadata, then the sibling .yaml, then a documented heuristic.
    const LdmYaml yaml = readSiblingYaml(path);
    const auto &meta = file->metadata();
    auto metaValue = [&](const char *k) -> std::string {
        const auto it = meta.find(k);
        return it == meta.end() ? std::string() : it->second;
    };
    const std::string mp = !metaValue("prediction_type").empty() ? metaValue("prediction_type")
                                                                 : metaValue("modelspec.prediction_type");
    const std::string kohyaV = metaValue("ss_v_parameterization");
    if (!mp.empty()) {
        ck.info.prediction = (mp == "v" || mp == "v_prediction") ? PredictionType::VPrediction : PredictionType::Epsilon;
        ck.info.predictionSource = "metadata";
    } else if (kohyaV == "True" || kohyaV == "true") {
        ck.info.prediction = PredictionType::VPrediction;
        ck.info.predictionSource = "metadata (ss_v_parameterization)";
    } else if (yaml.present) {
        const auto p = yaml.get("parameterization");
        ck.info.prediction = (p && *p == "v") ? PredictionType::VPrediction : PredictionType::Epsilon;
        ck.info.predictionSource = p ? "yaml" : "yaml (no parameterization: eps)";
    } else if (ck.info.family == ModelFamily::SD2) {
        const auto in = unet->count("conv_in.weight") ? unet->at("conv_in.weight").size(1) : 4;
        if (in == 4) {
            ck.info.prediction = PredictionType::VPrediction;
            ck.info.predictionSource = "heuristic: SD 2.x base without yaml or metadata is assumed to be a 768-v "
                                       "model (2.0-v / 2.1); 512-base models are epsilon: add a .yaml next to the file";
        } else {
            ck.info.prediction = PredictionType::Epsilon;
            ck.info.predictionSource = "heuristic: SD 2.x inpainting/depth models are epsilon";
        }
    } else {
        ck.info.prediction = PredictionType::Epsilon;
        ck.info.predictionSource = "heuristic: SD 1.x is epsilon";
    }

    ck.unet.weights = std::move(unet).value();
    ck.vae.weights = std::move(vae).value();
    ck.textEncoder.weights = std::move(text).value();
    ck.unet.source = ck.vae.source = ck.textEncoder.source = path;
    ck.unet.config = synthUnetConfig(ck.unet.weights, ck.info.family, ck.info.prediction, yaml);
    ck.vae.config = synthVaeConfig(ck.vae.weights, ck.info.family, ck.info.prediction, yaml);
    ck.textEncoder.config = synthTextEncoderConfig(ck.textEncoder.weights, ck.info.family, yaml);
    ck.schedulerConfig = synthSchedulerConfig(ck.info.prediction, yaml);
    ck.info.loadSeconds = secondsSince(t0);
    return {};
}

} // namespace

Result<Checkpoint> openCheckpoint(const std::string &path, const OpenOptions &options)
{
    try {
        MappedFilesScope mapped;
        Checkpoint ck;
        ck.info.path = path;
        ck.info.displayName = baseName(path);
        struct stat st {};
        if (path.empty() || ::stat(path.c_str(), &st) != 0)
            return makeError(ErrorCode::FileNotFound, "'" + path + "': no such file or folder");
        if (S_ISDIR(st.st_mode)) {
            ck.info.layout = CheckpointLayout::DiffusersFolder;
            if (auto s = openFolder(path, ck); !s)
                return s.error();
        } else {
            ck.info.layout = CheckpointLayout::SingleFile;
            if (auto s = openSingleFile(path, ck); !s)
                return s.error();
        }
        // Stored dtypes and parameter counts, before any conversion.
        const auto t0 = Clock::now();
        Status variantStatus;
        ck.info.variant = variantOf(ck, path, variantStatus);
        if (!variantStatus)
            return variantStatus.error();
        if (!options.vaePath.empty()) {
            double openSeconds = 0;
            if (auto s = applyVaeOverride(ck, options, openSeconds); !s)
                return s.error();
            ck.info.openSeconds += openSeconds;
        }
        for (auto [name, comp] : {std::pair<const char *, ComponentWeights *>{"unet", &ck.unet},
                                  {"vae", &ck.vae},
                                  {"text_encoder", &ck.textEncoder}}) {
            if (auto s = validate(*comp, name); !s)
                return s.error();
            ck.info.components.push_back({name, parameterCount(comp->weights), storedDtypeOf(comp->weights), comp->source});
            if (comp == &ck.vae && options.deferVaeWeights)
                continue; // views, converted at the VAE's first use
            const Deferred deferred = comp == &ck.unet ? Deferred{options.deferUnetConvWeights, options.deferUnetLinearWeights}
                                      : comp == &ck.textEncoder ? Deferred{false, options.deferTextEncoderMatrices}
                                                                : Deferred{};
            convertFloats(comp->weights, comp == &ck.vae && options.vaeDtype ? options.vaeDtype : options.dtype,
                          deferred);
        }
        // Native resolution: the UNet's latent sample_size times the VAE's
        // downscale, 2^(levels - 1) (diffusers' vae_scale_factor).
        const auto boc = ck.vae.config.find("block_out_channels");
        const auto ss = ck.unet.config.find("sample_size");
        if (boc != ck.vae.config.end() && boc->is_array() && !boc->empty() && ss != ck.unet.config.end() &&
            ss->is_number_integer() && ss->get<int>() > 0 && ss->get<int>() < 4096)
            ck.info.nativeResolution = ss->get<int>() << (boc->size() - 1);
        // Every float tensor now lives in the conversion arenas: the file's
        // pages need not stay resident (they come back from the page cache
        // if an unconverted tensor is read). With deferred views nothing is
        // released here (the caller reads them next, and releases each one
        // and then the rest through its own MappedFilesScope).
        if (options.dtype && !options.deferUnetConvWeights && !options.deferUnetLinearWeights &&
            !options.deferTextEncoderMatrices && !options.deferVaeWeights)
            mapped.releaseResidentPages();
        ck.info.loadSeconds += secondsSince(t0);
        return ck;
    } catch (const c10::Error &e) {
        return makeError(ErrorCode::Internal, "'" + path + "': " + e.what_without_backtrace());
    } catch (const std::bad_alloc &) {
        return makeError(ErrorCode::OutOfMemory, "'" + path + "': out of memory while loading");
    } catch (const std::exception &e) {
        return makeError(ErrorCode::Internal, "'" + path + "': " + e.what());
    }
}

bool isSingleSafetensorsFile(const std::string &path)
{
    return lowerExtension(path) == ".safetensors" && isFile(path);
}

} // namespace stipple::core
