#include "core/train/Trainer.h"

#include "core/common/Log.h"
#include "core/image/Mask.h"
#include "core/io/SafeTensors.h"
#include "core/models/clip/ClipTextConfig.h"
#include "core/models/clip/ClipTextModel.h"
#include "core/models/common/WeightLoading.h"
#include "core/models/unet/UNet2DConditionModel.h"
#include "core/models/unet/UNetConfig.h"
#include "core/models/vae/AutoencoderKL.h"
#include "core/models/vae/VaeConfig.h"
#include "core/text/SentencePieceTokenizer.h"
#include "core/train/BuiltinModelSpec.h"
#include "core/train/LossPlot.h"
#include "core/train/TrainingData.h"

#include <ATen/ATen.h>
#include <torch/nn/utils/clip_grad.h>
#include <torch/optim/adam.h>
#include <torch/serialize.h>

#include <chrono>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <limits>

namespace fs = std::filesystem;

namespace stipple::core {
namespace {

using Clock = std::chrono::steady_clock;

double secondsSince(Clock::time_point t0)
{
    return std::chrono::duration<double>(Clock::now() - t0).count();
}

StateDict moduleState(torch::nn::Module &m)
{
    StateDict sd;
    for (const auto &p : m.named_parameters())
        sd[p.key()] = p.value().detach();
    for (const auto &b : m.named_buffers())
        sd[b.key()] = b.value().detach();
    return sd;
}

StateDict toHalf(const StateDict &sd)
{
    StateDict out;
    for (const auto &[k, v] : sd)
        out[k] = v.is_floating_point() ? v.to(at::kHalf).contiguous() : v.contiguous();
    return out;
}

// Loss history and step count of a phase, next to its weights.
struct PhaseState {
    int step = 0;
    std::vector<float> losses;
};

Status savePhase(const std::string &dir, const std::string &phase, torch::nn::Module &model,
                 torch::optim::Optimizer &opt, const PhaseState &st, const nlohmann::json &extra = {})
{
    auto s = writeSafeTensors(dir + "/" + phase + ".safetensors", moduleState(model));
    if (!s)
        return s;
    try {
        torch::save(opt, dir + "/" + phase + ".optim.pt.tmp");
        fs::rename(dir + "/" + phase + ".optim.pt.tmp", dir + "/" + phase + ".optim.pt");
    } catch (const std::exception &e) {
        return makeError(ErrorCode::IoError, std::string("cannot save optimizer state: ") + e.what());
    }
    nlohmann::json j = extra;
    j["step"] = st.step;
    j["losses"] = st.losses;
    const std::string tmp = dir + "/" + phase + ".json.tmp";
    {
        std::ofstream out(tmp);
        out << j.dump();
        if (!out)
            return makeError(ErrorCode::IoError, "cannot write " + tmp);
    }
    fs::rename(tmp, dir + "/" + phase + ".json");
    return {};
}

// Loaded strictly; WeightTransfer::Copy copies into the module's own
// storage, so the training weights never alias the mapped file.
// unetInChannels > 0: a 4-channel "unet.conv_in.weight" is widened to that
// many input channels, the new ones zero, so a text-to-image UNet starts an
// inpainting one computing exactly what it did (runwayml's
// stable-diffusion-inpainting model card: "5 additional input channels ...
// whose weights were zero-initialized after restoring the non-inpainting checkpoint").
Status loadWeightsFile(const std::string &path, torch::nn::Module &model, const std::string &what,
                       std::int64_t unetInChannels = 0)
{
    auto file = SafeTensorsFile::open(path);
    if (!file)
        return file.error();
    auto sd = file->loadAll(at::kFloat);
    if (!sd)
        return sd.error();
    if (auto it = sd->find("unet.conv_in.weight");
        unetInChannels > 0 && it != sd->end() && it->second.dim() == 4 && it->second.size(1) < unetInChannels) {
        const at::Tensor old = it->second;
        at::Tensor wide = at::zeros({old.size(0), unetInChannels, old.size(2), old.size(3)}, old.options());
        wide.narrow(1, 0, old.size(1)).copy_(old);
        it->second = wide;
    }
    return loadWeightsStrict(model, *sd, what);
}

Result<PhaseState> loadPhase(const std::string &dir, const std::string &phase, torch::nn::Module &model,
                             torch::optim::Optimizer *opt, nlohmann::json *extra = nullptr)
{
    PhaseState st;
    const std::string jsonPath = dir + "/" + phase + ".json";
    if (!fs::exists(jsonPath))
        return st;
    std::ifstream in(jsonPath);
    nlohmann::json j = nlohmann::json::parse(in, nullptr, false);
    if (j.is_discarded())
        return makeError(ErrorCode::CorruptFile, "corrupt checkpoint state " + jsonPath);
    if (auto s = loadWeightsFile(dir + "/" + phase + ".safetensors", model, phase); !s)
        return s.error();
    if (opt && fs::exists(dir + "/" + phase + ".optim.pt")) {
        try {
            torch::load(*opt, dir + "/" + phase + ".optim.pt");
        } catch (const std::exception &e) {
            logWarning(std::string("optimizer state not restored: ") + e.what());
        }
    }
    st.step = j.value("step", 0);
    // JSON has no NaN: a non-finite loss was written as null. Read it back as
    // NaN rather than refuse the whole checkpoint.
    if (const auto it = j.find("losses"); it != j.end() && it->is_array())
        for (const auto &v : *it)
            st.losses.push_back(v.is_number() ? v.get<float>() : std::numeric_limits<float>::quiet_NaN());
    if (extra)
        *extra = j;
    return st;
}

class ProgressReporter {
public:
    ProgressReporter(const TrainOptions &o, std::string phase, int total, int firstStep)
        : m_opt(o), m_phase(std::move(phase)), m_total(total), m_first(firstStep), m_t0(Clock::now())
    {
    }
    void report(int step, float loss)
    {
        m_ema = m_ema < 0 ? loss : 0.98f * m_ema + 0.02f * loss;
        if (m_opt.onProgress)
            m_opt.onProgress({m_phase, step, m_total, m_first, m_ema, secondsSince(m_t0)});
    }

private:
    const TrainOptions &m_opt;
    std::string m_phase;
    int m_total;
    int m_first;
    Clock::time_point m_t0;
    float m_ema = -1;
};

// SD 1.x scaled-linear schedule: betas = linspace(sqrt(0.00085), sqrt(0.012), 1000)^2
// (diffusers DDPMScheduler beta_schedule="scaled_linear"); alphas_cumprod = cumprod(1 - betas).
// Cosine decay from `base` to base/10 over the phase (Loshchilov & Hutter 2017, SGDR
// without restarts), after a short linear warm-up that keeps Adam's first steps small.
void setLearningRate(torch::optim::Optimizer &opt, double base, int step, int total)
{
    const int warmup = std::min(200, std::max(1, total / 20));
    const double progress = total > 0 ? double(step) / total : 1.0;
    double lr = base * (0.1 + 0.9 * 0.5 * (1 + std::cos(M_PI * progress)));
    if (step < warmup)
        lr *= double(step + 1) / warmup;
    for (auto &group : opt.param_groups())
        static_cast<torch::optim::AdamOptions &>(group.options()).lr(lr);
}

// A non-finite loss means the weights are already broken: stop before they
// overwrite the last good checkpoint, and say what to change.
Error diverged(const char *phase, int step, const std::string &workDir)
{
    return makeError(ErrorCode::Internal,
                     std::string(phase) + " training diverged at step " + std::to_string(step + 1) +
                         " (loss is not finite); the last checkpoint in " + workDir +
                         " is kept: resume with a lower learning rate");
}

at::Tensor scaledLinearAlphasCumprod()
{
    at::Tensor betas = at::linspace(std::sqrt(0.00085), std::sqrt(0.012), 1000, at::kFloat).pow(2);
    return (1 - betas).cumprod(0);
}

} // namespace

TrainOptions quickTrainOptions(const std::string &outDir, const std::string &workDir)
{
    TrainOptions o;
    o.outDir = outDir;
    o.workDir = workDir;
    o.vaeSteps = 20;
    o.unetSteps = 20;
    o.batchSize = 2;
    o.vaeBatchSize = 2;
    o.imageSize = 32;
    o.vaeLowResFraction = 0;
    o.checkpointEvery = 10;
    o.vaeLearningRate = 2e-3f;
    o.unetLearningRate = 1e-3f;
    o.fixedBatch = true;
    return o;
}

Result<TrainResult> trainBuiltinModel(const TrainOptions &o)
{
    const auto t0 = Clock::now();
    TrainResult result;
    try {
        fs::create_directories(o.workDir);
        fs::create_directories(o.outDir);
        at::manual_seed(o.seed);

        // 1. Tokenizer.
        const std::string spmPrefix = o.workDir + "/spm";
        if (!fs::exists(spmPrefix + ".model")) {
            if (o.onProgress)
                o.onProgress({"tokenizer", 0, 1, 0, 0, 0});
            auto s = writeCaptionCorpus(o.workDir + "/captions.txt", o.seed, 20000);
            if (!s)
                return s.error();
            s = trainSentencePiece(o.workDir + "/captions.txt", spmPrefix);
            if (!s)
                return s.error();
        }
        auto tok = SentencePieceTokenizer::load(spmPrefix + ".model");
        if (!tok)
            return tok.error();
        std::shared_ptr<const Tokenizer> tokenizer = *tok;
        TrainingData data(o.seed, o.imageSize, tokenizer, o.contextObjectProbability, o.inpainting);
        TrainingData lowResData(o.seed, std::min(o.vaeLowResSize, o.imageSize), tokenizer);

        // 2. VAE.
        auto vaeCfg = VaeConfig::fromJson(builtin::vaeConfig(1.0));
        if (!vaeCfg)
            return vaeCfg.error();
        AutoencoderKL vae(*vaeCfg);
        torch::optim::Adam vaeOpt(vae->parameters(), torch::optim::AdamOptions(o.vaeLearningRate));
        nlohmann::json vaeExtra;
        auto vst = loadPhase(o.workDir, "vae", *vae, &vaeOpt, &vaeExtra);
        if (!vst)
            return vst.error();
        PhaseState vaeState = *vst;
        if (vaeState.step == 0) {
            // Start from a near-deterministic posterior (sigma = e^-4): with the default
            // logvar of 0 the decoder first sees unit noise over a tiny mean and learns
            // very slowly; the KL term is free to widen sigma again later.
            torch::NoGradGuard ng;
            at::Tensor bias = vae->named_parameters()["quant_conv.bias"];
            const auto l = bias.size(0) / 2;
            bias.slice(0, l).fill_(-8.0);
        }
        {
            ProgressReporter rep(o, "vae", o.vaeSteps, vaeState.step);
            vae->train();
            for (int step = vaeState.step; step < o.vaeSteps; ++step) {
                if (o.cancel.isCancelled()) {
                    result.cancelled = true;
                    if (auto s = savePhase(o.workDir, "vae", *vae, vaeOpt, vaeState); !s)
                        return s.error();
                    break;
                }
                const bool lowRes = step < int(o.vaeLowResFraction * o.vaeSteps);
                // 4x the samples per step at a quarter of the pixels: the same cost.
                const int n = lowRes ? o.vaeBatchSize * 4 : o.vaeBatchSize;
                const auto b = (lowRes ? lowResData : data).batch(o.fixedBatch ? 1000000 : 1000000 + step, n, 0.f);
                setLearningRate(vaeOpt, o.vaeLearningRate, step, o.vaeSteps);
                auto post = vae->encode(b.images);
                const at::Tensor z = post.mean + post.std * at::randn_like(post.mean);
                const at::Tensor rec = vae->decode(z);
                // KL(N(mu, sigma) || N(0, 1)) summed per sample (Kingma & Welling 2014, appendix B),
                // weighted 1e-6 as LDM's KL-f8 autoencoder does.
                const at::Tensor kl =
                    0.5 * (post.mean.pow(2) + post.logvar.exp() - 1 - post.logvar).sum({1, 2, 3}).mean();
                // L1 reconstruction, as LDM's autoencoder (Rombach et al. 2022, sec. 3): it keeps
                // flat colours saturated where MSE settles for a washed-out mean.
                const at::Tensor l1 = (rec - b.images).abs().mean();
                const at::Tensor loss = l1 + 1e-6 * kl;
                vaeOpt.zero_grad();
                loss.backward();
                torch::nn::utils::clip_grad_norm_(vae->parameters(), 1.0);
                vaeOpt.step();
                vaeState.losses.push_back(l1.item<float>());
                if (!std::isfinite(vaeState.losses.back()))
                    return diverged("VAE", step, o.workDir);
                vaeState.step = step + 1;
                rep.report(step + 1, vaeState.losses.back());
                if ((step + 1) % o.checkpointEvery == 0 || step + 1 == o.vaeSteps) {
                    auto s = savePhase(o.workDir, "vae", *vae, vaeOpt, vaeState);
                    if (!s)
                        return s.error();
                }
            }
        }
        result.vaeLoss = vaeState.losses;
        if (result.cancelled)
            return result;

        // Latent scale: 1/std of the latents, as SD's 0.18215 was chosen, times latentStd.
        vae->eval();
        double unitScale = vaeExtra.is_object() ? vaeExtra.value("scaling_factor", 0.0) : 0.0;
        if (unitScale <= 0) {
            torch::NoGradGuard ng;
            const auto b = data.batch(2000000, std::max(16, o.batchSize), 0.f);
            const at::Tensor mean = vae->encode(b.images).mean;
            unitScale = 1.0 / std::max(1e-3, mean.std().item<double>());
            vaeExtra["scaling_factor"] = unitScale;
            auto s = savePhase(o.workDir, "vae", *vae, vaeOpt, vaeState, vaeExtra);
            if (!s)
                return s.error();
        }
        const double scale = unitScale * o.latentStd;

        // 3. Text encoder + UNet.
        auto teCfg = ClipTextConfig::fromJson(builtin::textEncoderConfig(tokenizer->vocabSize()));
        nlohmann::json unetJson = builtin::unetConfig();
        if (!o.unetConfigPath.empty()) {
            std::ifstream in(o.unetConfigPath);
            if (!in.is_open())
                return makeError(ErrorCode::FileNotFound, "'" + o.unetConfigPath + "': cannot open");
            unetJson = nlohmann::json::parse(in, nullptr, /*allow_exceptions=*/false);
            if (unetJson.is_discarded())
                return makeError(ErrorCode::InvalidArgument, "'" + o.unetConfigPath + "': not valid JSON");
        }
        if (o.inpainting)
            unetJson["in_channels"] = 9;
        auto unetCfg = UNetConfig::fromJson(unetJson);
        if (!teCfg)
            return teCfg.error();
        if (!unetCfg)
            return unetCfg.error();
        ClipTextModel te(*teCfg);
        UNet2DConditionModel unet(*unetCfg);
        // One module holding both so they checkpoint and optimise together.
        torch::nn::Module joint;
        joint.register_module("text_encoder", te.ptr());
        joint.register_module("unet", unet.ptr());
        torch::optim::Adam opt(joint.parameters(), torch::optim::AdamOptions(o.unetLearningRate));
        auto ust = loadPhase(o.workDir, "unet", joint, &opt);
        if (!ust)
            return ust.error();
        PhaseState unetState = *ust;
        if (unetState.step == 0 && !o.unetInit.empty()) {
            if (auto s = loadWeightsFile(o.unetInit, joint, "unet init", unetCfg->inChannels); !s)
                return s.error();
        }
        const at::Tensor alphasCumprod = scaledLinearAlphasCumprod();
        const int unetEnd = o.unetStopAt > 0 ? std::min(o.unetStopAt, o.unetSteps) : o.unetSteps;
        {
            ProgressReporter rep(o, "unet", unetEnd, unetState.step);
            te->train();
            unet->train();
            for (int step = unetState.step; step < unetEnd; ++step) {
                if (o.cancel.isCancelled()) {
                    result.cancelled = true;
                    if (auto s = savePhase(o.workDir, "unet", joint, opt, unetState); !s)
                        return s.error();
                    break;
                }
                const auto b = data.batch(o.fixedBatch ? 0 : step, o.batchSize, o.captionDropout);
                setLearningRate(opt, o.unetLearningRate, step, o.unetSteps);
                at::Tensor latents, extra;
                {
                    torch::NoGradGuard ng;
                    auto sample = [&](const at::Tensor &images) {
                        auto post = vae->encode(images);
                        return (post.mean + post.std * at::randn_like(post.mean)) * scale;
                    };
                    latents = sample(b.images);
                    if (o.inpainting) {
                        // The engine's 9-channel input (core/pipeline/LatentStage.cpp):
                        // the mask sampled down to the latent grid, then the latents
                        // of image * (mask < 0.5).
                        const at::Tensor keep = (b.masks < 0.5f).to(at::kFloat);
                        const at::Tensor latentMask = downsampleMask(b.masks, int(latents.size(2)),
                                                                     int(latents.size(3)), MaskSampling::Interpolate);
                        extra = at::cat({latentMask, sample(b.images * keep)}, 1);
                    }
                }
                // DDPM training (Ho et al. 2020, Algorithm 1) on the scaled-linear
                // schedule: x_t = sqrt(a_t) x_0 + sqrt(1 - a_t) eps, predict eps (with offset noise).
                const at::Tensor t = at::randint(0, 1000, {o.batchSize}, at::kLong);
                const at::Tensor a = alphasCumprod.index_select(0, t).view({-1, 1, 1, 1});
                at::Tensor noise = at::randn_like(latents);
                if (o.offsetNoise > 0)
                    noise = noise + o.offsetNoise * at::randn({latents.size(0), latents.size(1), 1, 1});
                const at::Tensor noisy = a.sqrt() * latents + (1 - a).sqrt() * noise;
                const at::Tensor context = te->encode(b.ids, 1);
                const at::Tensor pred = unet->forward(extra.defined() ? at::cat({noisy, extra}, 1) : noisy, t, context);
                const at::Tensor mse = (pred - noise).pow(2).mean({1, 2, 3});
                // The curve keeps the plain MSE, comparable between runs.
                const at::Tensor loss =
                    o.highNoiseWeight > 1.0f
                        ? (mse * ((1 - a) / a).view({-1}).clamp(1.0, o.highNoiseWeight)).mean()
                        : mse.mean();
                opt.zero_grad();
                loss.backward();
                torch::nn::utils::clip_grad_norm_(joint.parameters(), 1.0);
                opt.step();
                unetState.losses.push_back(mse.mean().item<float>());
                if (!std::isfinite(unetState.losses.back()))
                    return diverged("UNet", step, o.workDir);
                unetState.step = step + 1;
                rep.report(step + 1, unetState.losses.back());
                if ((step + 1) % o.checkpointEvery == 0 || step + 1 == unetEnd) {
                    auto s = savePhase(o.workDir, "unet", joint, opt, unetState);
                    if (!s)
                        return s.error();
                }
            }
        }
        result.unetLoss = unetState.losses;
        result.lossPlotPath = o.workDir + "/loss.png";
        auto plot = writeLossPlot(result.lossPlotPath, {{"vae reconstruction (L1)", result.vaeLoss},
                                                        {"unet epsilon (MSE)", result.unetLoss}});
        if (!plot)
            logWarning(plot.error().message);
        if (result.cancelled)
            return result;

        // 4. Export a diffusers folder, fp16.
        if (o.onProgress)
            o.onProgress({"export", 0, 1, 0, 0, secondsSince(t0)});
        auto writeJson = [](const std::string &path, const nlohmann::json &j) {
            std::ofstream out(path);
            out << j.dump(2) << '\n';
            return bool(out);
        };
        for (const char *d : {"unet", "vae", "text_encoder", "tokenizer", "scheduler"})
            fs::create_directories(o.outDir + "/" + d);
        writeJson(o.outDir + "/model_index.json", builtin::modelIndex());
        writeJson(o.outDir + "/unet/config.json", unetJson);
        writeJson(o.outDir + "/vae/config.json", builtin::vaeConfig(scale));
        writeJson(o.outDir + "/text_encoder/config.json", builtin::textEncoderConfig(tokenizer->vocabSize()));
        writeJson(o.outDir + "/scheduler/scheduler_config.json", builtin::schedulerConfig());
        writeJson(o.outDir + "/tokenizer/tokenizer_config.json",
                  {{"tokenizer_class", "SentencePieceTokenizer"}, {"model_file", "spm.model"},
                   {"model_max_length", 77}, {"pad_token", "eos"}});
        fs::copy_file(spmPrefix + ".model", o.outDir + "/tokenizer/spm.model", fs::copy_options::overwrite_existing);
        const std::map<std::string, std::string> meta{{"format", "pt"}, {"stipple", "built-in model"}};
        for (auto [name, file, module] :
             {std::tuple<std::string, std::string, torch::nn::Module *>{"unet", "diffusion_pytorch_model", unet.get()},
              {"vae", "diffusion_pytorch_model", vae.get()},
              {"text_encoder", "model", te.get()}}) {
            auto s = writeSafeTensors(o.outDir + "/" + name + "/" + file + ".fp16.safetensors",
                                      toHalf(moduleState(*module)), meta);
            if (!s)
                return s.error();
        }
    } catch (const c10::Error &e) {
        return makeError(ErrorCode::Internal, std::string("training failed: ") + e.what_without_backtrace());
    } catch (const std::exception &e) {
        return makeError(ErrorCode::Internal, std::string("training failed: ") + e.what());
    }
    result.seconds = secondsSince(t0);
    return result;
}

} // namespace stipple::core
