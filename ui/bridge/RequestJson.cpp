#include "ui/bridge/RequestJson.h"

namespace stipple::ui {

namespace {

template <typename E, std::size_t N>
QString enumName(E value, const char *const (&names)[N])
{
    const auto i = std::size_t(value);
    return i < N ? QString::fromLatin1(names[i]) : QString();
}

template <typename E, std::size_t N>
E enumValue(const QJsonValue &v, const char *const (&names)[N], E fallback)
{
    const QString s = v.toString();
    for (std::size_t i = 0; i < N; ++i)
        if (s == QLatin1String(names[i]))
            return E(i);
    return fallback;
}

// Same order as the enums in core/pipeline/Request.h.
const char *const kResizeModes[] = {"JustResize", "CropAndResize", "ResizeAndFill"};
const char *const kMaskedContent[] = {"Original", "Fill", "LatentNoise", "LatentNothing"};
const char *const kDTypes[] = {"Float32", "BFloat16"};
const char *const kSyntax[] = {"A1111", "Diffusers"};

} // namespace

QJsonObject requestToJson(const core::GenerationRequest &r)
{
    QJsonObject o;
    o.insert(QStringLiteral("prompt"), QString::fromStdString(r.prompt));
    o.insert(QStringLiteral("negativePrompt"), QString::fromStdString(r.negativePrompt));
    o.insert(QStringLiteral("promptSyntax"), enumName(r.promptSyntax, kSyntax));
    o.insert(QStringLiteral("sampler"), QString::fromStdString(r.sampler));
    o.insert(QStringLiteral("scheduleType"), QString::fromStdString(r.scheduleType));
    o.insert(QStringLiteral("steps"), r.steps);
    o.insert(QStringLiteral("cfgScale"), double(r.cfgScale));
    // Seeds may exceed 2^53 in theory; keep them exact as strings.
    o.insert(QStringLiteral("seed"), QString::number(r.seed));
    o.insert(QStringLiteral("width"), r.width);
    o.insert(QStringLiteral("height"), r.height);
    o.insert(QStringLiteral("batchSize"), r.batchSize);
    o.insert(QStringLiteral("batchCount"), r.batchCount);
    o.insert(QStringLiteral("clipSkip"), r.clipSkip);
    o.insert(QStringLiteral("eta"), double(r.eta));
    o.insert(QStringLiteral("strength"), double(r.strength));
    o.insert(QStringLiteral("resizeMode"), enumName(r.resizeMode, kResizeModes));
    o.insert(QStringLiteral("maskBlur"), r.maskBlur);
    o.insert(QStringLiteral("maskedContent"), enumName(r.maskedContent, kMaskedContent));
    o.insert(QStringLiteral("inpaintOnlyMasked"), r.inpaintOnlyMasked);
    o.insert(QStringLiteral("onlyMaskedPadding"), r.onlyMaskedPadding);
    o.insert(QStringLiteral("composite"), r.composite);
    o.insert(QStringLiteral("dtype"), enumName(r.dtype, kDTypes));
    return o;
}

core::GenerationRequest requestFromJson(const QJsonObject &o, const core::GenerationRequest &base)
{
    core::GenerationRequest r = base;
    auto str = [&o](const char *k, std::string &dst) {
        const QJsonValue v = o.value(QLatin1String(k));
        if (v.isString())
            dst = v.toString().toStdString();
    };
    auto integer = [&o](const char *k, int &dst) {
        const QJsonValue v = o.value(QLatin1String(k));
        if (v.isDouble())
            dst = v.toInt(dst);
    };
    auto real = [&o](const char *k, float &dst) {
        const QJsonValue v = o.value(QLatin1String(k));
        if (v.isDouble())
            dst = float(v.toDouble());
    };
    auto boolean = [&o](const char *k, bool &dst) {
        const QJsonValue v = o.value(QLatin1String(k));
        if (v.isBool())
            dst = v.toBool();
    };
    str("prompt", r.prompt);
    str("negativePrompt", r.negativePrompt);
    r.promptSyntax = enumValue(o.value(QLatin1String("promptSyntax")), kSyntax, r.promptSyntax);
    str("sampler", r.sampler);
    str("scheduleType", r.scheduleType);
    integer("steps", r.steps);
    real("cfgScale", r.cfgScale);
    const QJsonValue seed = o.value(QLatin1String("seed"));
    if (seed.isString()) {
        bool ok = false;
        const qint64 s = seed.toString().toLongLong(&ok);
        if (ok)
            r.seed = s;
    } else if (seed.isDouble()) {
        r.seed = qint64(seed.toDouble());
    }
    integer("width", r.width);
    integer("height", r.height);
    integer("batchSize", r.batchSize);
    integer("batchCount", r.batchCount);
    integer("clipSkip", r.clipSkip);
    real("eta", r.eta);
    real("strength", r.strength);
    r.resizeMode = enumValue(o.value(QLatin1String("resizeMode")), kResizeModes, r.resizeMode);
    integer("maskBlur", r.maskBlur);
    r.maskedContent = enumValue(o.value(QLatin1String("maskedContent")), kMaskedContent, r.maskedContent);
    boolean("inpaintOnlyMasked", r.inpaintOnlyMasked);
    integer("onlyMaskedPadding", r.onlyMaskedPadding);
    boolean("composite", r.composite);
    r.dtype = enumValue(o.value(QLatin1String("dtype")), kDTypes, r.dtype);
    return r;
}

} // namespace stipple::ui
