// Helpers shared by the pipeline tests: the fixture manifest's pipeline
// cases turned into GenerationRequests, model paths per layout, image diffs.
#pragma once

#include "core/common/Result.h"
#include "core/image/ImageIO.h"
#include "core/pipeline/Engine.h"
#include "support/Fixtures.h"

#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QProcess>
#include <QString>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <map>
#include <memory>

namespace stipple::test {

inline QJsonObject manifest()
{
    static QJsonObject cached;
    if (cached.isEmpty()) {
        QFile f(fixturesDir() + QStringLiteral("/manifest.json"));
        if (f.open(QIODevice::ReadOnly))
            cached = QJsonDocument::fromJson(f.readAll()).object();
    }
    return cached;
}

inline bool isPipelineKind(const QString &kind)
{
    return kind == QLatin1String("txt2img") || kind == QLatin1String("img2img")
        || kind == QLatin1String("inpaint") || kind == QLatin1String("inpaint_legacy");
}

inline std::vector<QJsonObject> pipelineCases()
{
    std::vector<QJsonObject> out;
    for (const auto &v : manifest().value(QStringLiteral("cases")).toArray()) {
        const QJsonObject c = v.toObject();
        if (isPipelineKind(c.value(QStringLiteral("kind")).toString()))
            out.push_back(c);
    }
    return out;
}

inline QJsonObject pipelineCase(const QString &id)
{
    for (const auto &c : pipelineCases())
        if (c.value(QStringLiteral("id")).toString() == id)
            return c;
    return {};
}

// diffusers scheduler recipe -> A1111 sampler name (manifest scheduler_recipes).
inline std::string samplerForRecipe(const QString &recipe)
{
    static const std::map<QString, std::string> names{
        {QStringLiteral("pndm"), "PLMS"},      {QStringLiteral("ddim"), "DDIM"},
        {QStringLiteral("euler"), "Euler"},    {QStringLiteral("euler_a"), "Euler a"},
        {QStringLiteral("lms"), "LMS"},        {QStringLiteral("dpmpp_2m"), "DPM++ 2M"},
        {QStringLiteral("dpmpp_2m_karras"), "DPM++ 2M Karras"},
        {QStringLiteral("ddpm"), "DDPM"},
    };
    auto it = names.find(recipe);
    return it == names.end() ? std::string() : it->second;
}

enum class Layout { Diffusers, SingleFile };

inline core::LoadOptions loadOptionsFor(const QString &model, Layout layout)
{
    const QJsonObject m = manifest().value(QStringLiteral("models")).toObject().value(model).toObject();
    core::LoadOptions o;
    if (layout == Layout::Diffusers) {
        o.modelPath = fixturePath(m.value(QStringLiteral("diffusers_dir")).toString());
    } else {
        o.modelPath = fixturePath(m.value(QStringLiteral("single_file")).toString());
        o.vocabPath = (sharedDir() + (model.contains(QLatin1String("sd2")) ? QStringLiteral("/clip/hf-sd2-tokenizer")
                                                                         : QStringLiteral("/clip/hf-sd1-tokenizer")))
                          .toStdString();
    }
    return o;
}

// The case as a request (PromptSyntax::Diffusers, composite off: parity).
inline core::Result<core::GenerationRequest> requestFor(const QJsonObject &c)
{
    using namespace stipple::core;
    GenerationRequest r;
    r.prompt = c.value(QStringLiteral("prompt")).toString().toStdString();
    r.negativePrompt = c.value(QStringLiteral("negative_prompt")).toString().toStdString();
    r.promptSyntax = PromptSyntax::Diffusers;
    r.composite = false;
    r.sampler = samplerForRecipe(c.value(QStringLiteral("scheduler_recipe")).toString());
    r.steps = c.value(QStringLiteral("num_inference_steps")).toInt();
    r.cfgScale = float(c.value(QStringLiteral("guidance_scale")).toDouble());
    r.seed = c.value(QStringLiteral("seed")).toInteger();
    r.eta = float(c.value(QStringLiteral("eta")).toDouble(0.0));
    // diffusers clip_skip=k is A1111's k+1.
    r.clipSkip = c.value(QStringLiteral("clip_skip")).isNull() ? 1 : c.value(QStringLiteral("clip_skip")).toInt() + 1;
    r.batchSize = c.value(QStringLiteral("num_images_per_prompt")).toInt(1);
    r.strength = c.value(QStringLiteral("strength")).isNull() ? 1.0f : float(c.value(QStringLiteral("strength")).toDouble());
    const QString init = c.value(QStringLiteral("init_image")).toString();
    if (!init.isEmpty()) {
        auto img = readImage(fixturePath(init));
        if (!img)
            return img.error();
        r.initImage = *img;
    }
    const QString mask = c.value(QStringLiteral("mask_image")).toString();
    if (!mask.isEmpty()) {
        auto img = readImage(fixturePath(mask));
        if (!img)
            return img.error();
        r.mask = *img;
    }
    if (!c.value(QStringLiteral("height")).isNull()) {
        r.height = c.value(QStringLiteral("height")).toInt();
        r.width = c.value(QStringLiteral("width")).toInt();
    } else if (r.initImage) {
        r.height = r.initImage->height;
        r.width = r.initImage->width;
    }
    return r;
}

struct PixelDiff {
    int max = 0;
    double mean = 0;
};

inline PixelDiff pixelDiff(const core::Image &a, const core::Image &b)
{
    PixelDiff d;
    if (a.pixels.size() != b.pixels.size() || a.pixels.empty()) {
        d.max = 256;
        return d;
    }
    double sum = 0;
    for (std::size_t i = 0; i < a.pixels.size(); ++i) {
        const int v = std::abs(int(a.pixels[i]) - int(b.pixels[i]));
        d.max = std::max(d.max, v);
        sum += v;
    }
    d.mean = sum / double(a.pixels.size());
    return d;
}

// One run of the stipple-cli binary: `generate` plus args, one torch thread.
struct CliRun {
    int exitCode = -1;
    QString stderrText;
};

inline CliRun runCli(const QStringList &args)
{
    QProcess p;
    QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
    env.insert(QStringLiteral("STIPPLE_NO_REEXEC"), QStringLiteral("1"));
    p.setProcessEnvironment(env);
    // One torch thread: the test machines are shared and small.
    p.start(QStringLiteral(STIPPLE_BINARY_DIR "/bin/stipple-cli"),
            QStringList{QStringLiteral("-t"), QStringLiteral("1"), QStringLiteral("generate")} + args);
    CliRun r;
    if (!p.waitForFinished(300000)) {
        p.kill();
        p.waitForFinished();
        r.stderrText = QStringLiteral("stipple-cli did not finish within 300 s");
        return r;
    }
    r.exitCode = p.exitStatus() == QProcess::NormalExit ? p.exitCode() : -1;
    r.stderrText = QString::fromLocal8Bit(p.readAllStandardError());
    return r;
}

} // namespace stipple::test
