#include "ui/bridge/ImageMetadata.h"

#include <QCoreApplication>
#include <QFileInfo>
#include <QImageReader>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QStringList>

#include <algorithm>
#include <cmath>

namespace stipple::ui {

namespace {

class MetadataText {
    Q_DECLARE_TR_FUNCTIONS(ImageMetadata)
public:
    static QString noFile() { return tr("The file does not exist."); }
    static QString notImage() { return tr("The file is not a readable image."); }
    static QString notPng() { return tr("Only PNG images carry generation parameters that Stipple can read."); }
    static QString noMetadata() { return tr("This image has no generation parameters."); }
};

const QLatin1String kNegativePrefix("Negative prompt:");

QString formatNumber(double v)
{
    // Shortest form that reads back to the same float (cfg 7 -> "7", 7.5 -> "7.5").
    return QString::number(v, 'g', 7);
}

// A1111 quotes a value holding a separator as a JSON string.
QString quoteIfNeeded(const QString &value)
{
    if (!value.contains(QLatin1Char(',')) && !value.contains(QLatin1Char(':'))
        && !value.contains(QLatin1Char('"')) && !value.contains(QLatin1Char('\n')))
        return value;
    const QByteArray json = QJsonDocument(QJsonArray{value}).toJson(QJsonDocument::Compact);
    return QString::fromUtf8(json.mid(1, json.size() - 2)); // strip [ ]
}

// Splits a parameter line into "Key: value" pairs. Returns false when the line
// is not a parameter line (fewer than `minPairs` pairs or stray text).
bool parsePairs(const QString &line, QList<QPair<QString, QString>> *pairs, int minPairs)
{
    QList<QPair<QString, QString>> out;
    int i = 0;
    const int n = line.size();
    while (i < n) {
        while (i < n && line.at(i).isSpace())
            ++i;
        if (i >= n)
            break;
        const int colon = line.indexOf(QLatin1Char(':'), i);
        if (colon <= i)
            return false;
        const QString key = line.mid(i, colon - i).trimmed();
        if (key.isEmpty() || key.contains(QLatin1Char(',')) || key.contains(QLatin1Char('"')))
            return false;
        i = colon + 1;
        while (i < n && line.at(i) == QLatin1Char(' '))
            ++i;
        QString value;
        if (i < n && line.at(i) == QLatin1Char('"')) {
            // JSON string: find the closing quote, honouring backslash escapes.
            int j = i + 1;
            while (j < n && line.at(j) != QLatin1Char('"'))
                j += line.at(j) == QLatin1Char('\\') ? 2 : 1;
            if (j >= n)
                return false;
            const QString quoted = line.mid(i, j - i + 1);
            const QJsonDocument doc = QJsonDocument::fromJson(
                QByteArray("[") + quoted.toUtf8() + QByteArray("]"));
            if (!doc.isArray())
                return false;
            value = doc.array().at(0).toString();
            i = j + 1;
            while (i < n && line.at(i) == QLatin1Char(' '))
                ++i;
            if (i < n && line.at(i) != QLatin1Char(','))
                return false;
            ++i;
        } else {
            int comma = line.indexOf(QLatin1Char(','), i);
            if (comma < 0)
                comma = n;
            value = line.mid(i, comma - i).trimmed();
            i = comma + 1;
        }
        out.append({key, value});
    }
    if (out.size() < minPairs)
        return false;
    *pairs = out;
    return true;
}

void assignPair(ImageMetadata &m, const QString &key, const QString &value)
{
    bool ok = false;
    if (key == QLatin1String("Steps")) {
        const int v = value.toInt(&ok);
        if (ok) { m.steps = v; return; }
    } else if (key == QLatin1String("Sampler")) {
        m.sampler = value;
        return;
    } else if (key == QLatin1String("Schedule type")) {
        m.scheduleType = value;
        return;
    } else if (key == QLatin1String("CFG scale")) {
        const double v = value.toDouble(&ok);
        if (ok) { m.cfgScale = v; return; }
    } else if (key == QLatin1String("Seed")) {
        const qint64 v = value.toLongLong(&ok);
        if (ok) { m.seed = v; return; }
    } else if (key == QLatin1String("Size")) {
        const QStringList wh = value.split(QLatin1Char('x'));
        if (wh.size() == 2) {
            bool okW = false, okH = false;
            const int w = wh[0].trimmed().toInt(&okW), h = wh[1].trimmed().toInt(&okH);
            if (okW && okH) { m.width = w; m.height = h; return; }
        }
    } else if (key == QLatin1String("Model hash")) {
        m.modelHash = value;
        return;
    } else if (key == QLatin1String("Model")) {
        m.model = value;
        return;
    } else if (key == QLatin1String("Denoising strength")) {
        const double v = value.toDouble(&ok);
        if (ok) { m.denoisingStrength = v; return; }
    } else if (key == QLatin1String("Clip skip")) {
        const int v = value.toInt(&ok);
        if (ok) { m.clipSkip = v; return; }
    } else if (key == QLatin1String("Eta") || key == QLatin1String("Eta DDIM")) {
        const double v = value.toDouble(&ok);
        if (ok) { m.eta = v; return; }
    } else if (key == QLatin1String("Batch size")) {
        const int v = value.toInt(&ok);
        if (ok) { m.batchSize = v; return; }
    }
    m.extra.append({key, value}); // unknown key, or a known one with an unreadable value
}

QJsonObject parseObject(const QString &json)
{
    QJsonParseError err{};
    const QJsonDocument doc = QJsonDocument::fromJson(json.toUtf8(), &err);
    return doc.isObject() ? doc.object() : QJsonObject();
}

qint64 jsonInt(const QJsonValue &v, qint64 fallback)
{
    if (v.isDouble())
        return qint64(v.toDouble());
    if (v.isString()) {
        bool ok = false;
        const qint64 r = v.toString().toLongLong(&ok);
        if (ok)
            return r;
    }
    return fallback;
}

double jsonDouble(const QJsonValue &v, double fallback)
{
    if (v.isDouble())
        return v.toDouble();
    if (v.isString()) {
        bool ok = false;
        const double r = v.toString().toDouble(&ok);
        if (ok)
            return r;
    }
    return fallback;
}

// ComfyUI: an input is either a literal or a link [nodeId, outputIndex].
QString linkTarget(const QJsonValue &input)
{
    if (!input.isArray() || input.toArray().isEmpty())
        return {};
    const QJsonValue id = input.toArray().at(0);
    return id.isString() ? id.toString() : QString::number(qint64(id.toDouble()));
}

// Text reached from a conditioning link: CLIPTextEncode's "text" (itself a
// literal or a link to a primitive/string node), through pass-through nodes.
QString comfyText(const QJsonObject &graph, const QString &nodeId, int depth = 0)
{
    if (nodeId.isEmpty() || depth > 12 || !graph.contains(nodeId))
        return {};
    const QJsonObject inputs = graph.value(nodeId).toObject().value(QLatin1String("inputs")).toObject();
    for (const char *key : {"text", "text_g", "string", "value", "prompt"}) {
        const QJsonValue v = inputs.value(QLatin1String(key));
        if (v.isString())
            return v.toString();
        if (v.isArray())
            return comfyText(graph, linkTarget(v), depth + 1);
    }
    for (const char *key : {"conditioning", "conditioning_1", "clip_conditioning"}) {
        const QJsonValue v = inputs.value(QLatin1String(key));
        if (v.isArray())
            return comfyText(graph, linkTarget(v), depth + 1);
    }
    return {};
}

QString comfyModel(const QJsonObject &graph, const QString &nodeId, int depth = 0)
{
    if (nodeId.isEmpty() || depth > 12 || !graph.contains(nodeId))
        return {};
    const QJsonObject inputs = graph.value(nodeId).toObject().value(QLatin1String("inputs")).toObject();
    for (const char *key : {"ckpt_name", "unet_name", "model_name"}) {
        const QJsonValue v = inputs.value(QLatin1String(key));
        if (v.isString())
            return QFileInfo(v.toString()).completeBaseName();
    }
    return comfyModel(graph, linkTarget(inputs.value(QLatin1String("model"))), depth + 1);
}

struct SamplerName { const char *from; const char *to; };
const SamplerName kSamplers[] = {
    {"euler", "Euler"}, {"euler_ancestral", "Euler a"}, {"euler_a", "Euler a"},
    {"k_euler", "Euler"}, {"k_euler_a", "Euler a"}, {"k_euler_ancestral", "Euler a"},
    {"heun", "Heun"}, {"k_heun", "Heun"}, {"dpm_2", "DPM2"}, {"k_dpm_2", "DPM2"},
    {"dpm_2_ancestral", "DPM2 a"}, {"k_dpm_2_a", "DPM2 a"}, {"k_dpm_2_ancestral", "DPM2 a"},
    {"lms", "LMS"}, {"k_lms", "LMS"}, {"dpm_fast", "DPM fast"}, {"dpm_adaptive", "DPM adaptive"},
    {"dpmpp_2s_ancestral", "DPM++ 2S a"}, {"k_dpmpp_2s_a", "DPM++ 2S a"}, {"dpmpp_sde", "DPM++ SDE"},
    {"dpmpp_2m", "DPM++ 2M"}, {"k_dpmpp_2m", "DPM++ 2M"}, {"dpmpp_2m_sde", "DPM++ 2M SDE"},
    {"dpmpp_3m_sde", "DPM++ 3M SDE"}, {"ddim", "DDIM"}, {"plms", "PLMS"}, {"pndm", "PLMS"},
    {"uni_pc", "UniPC"}, {"unipc", "UniPC"}, {"lcm", "LCM"}, {"deis", "DEIS"},
    {"eulerancestraldiscretescheduler", "Euler a"}, {"eulerdiscretescheduler", "Euler"},
    {"dpmsolvermultistepscheduler", "DPM++ 2M"}, {"ddimscheduler", "DDIM"},
    {"lmsdiscretescheduler", "LMS"}, {"pndmscheduler", "PLMS"}, {"heundiscretescheduler", "Heun"},
    {"unipcmultistepscheduler", "UniPC"},
};
const char *const kA1111Samplers[] = {
    "Euler", "Euler a", "Heun", "DPM2", "DPM2 a", "LMS", "DPM fast", "DPM adaptive",
    "DPM++ 2S a", "DPM++ SDE", "DPM++ 2M", "DPM++ 2M SDE", "DPM++ 3M SDE", "DDIM", "PLMS",
    "UniPC", "LCM", "DEIS",
};

} // namespace

QString ImageMetadata::value(const QString &key) const
{
    if (key == QLatin1String("Prompt")) return prompt;
    if (key == QLatin1String("Negative prompt")) return negativePrompt;
    if (key == QLatin1String("Steps")) return steps > 0 ? QString::number(steps) : QString();
    if (key == QLatin1String("Sampler")) return sampler;
    if (key == QLatin1String("Schedule type")) return scheduleType;
    if (key == QLatin1String("CFG scale")) return cfgScale > 0 ? formatNumber(cfgScale) : QString();
    if (key == QLatin1String("Seed")) return seed >= 0 ? QString::number(seed) : QString();
    if (key == QLatin1String("Size"))
        return width > 0 && height > 0 ? QStringLiteral("%1x%2").arg(width).arg(height) : QString();
    if (key == QLatin1String("Model")) return model;
    if (key == QLatin1String("Model hash")) return modelHash;
    if (key == QLatin1String("Denoising strength"))
        return denoisingStrength >= 0 ? formatNumber(denoisingStrength) : QString();
    if (key == QLatin1String("Clip skip")) return clipSkip > 0 ? QString::number(clipSkip) : QString();
    if (key == QLatin1String("Eta")) return eta >= 0 ? formatNumber(eta) : QString();
    if (key == QLatin1String("Batch size")) return batchSize > 0 ? QString::number(batchSize) : QString();
    for (const auto &kv : extra)
        if (kv.first == key)
            return kv.second;
    return {};
}

ImageMetadata parseInfotext(const QString &textIn)
{
    ImageMetadata m;
    QString text = textIn;
    text.replace(QLatin1String("\r\n"), QLatin1String("\n"));
    if (text.trimmed().isEmpty())
        return m;
    m.source = MetadataSource::A1111;
    m.raw = textIn;

    QStringList lines = text.split(QLatin1Char('\n'));
    while (!lines.isEmpty() && lines.last().trimmed().isEmpty())
        lines.removeLast();
    QList<QPair<QString, QString>> pairs;
    if (!lines.isEmpty() && parsePairs(lines.last().trimmed(), &pairs, 3)) {
        lines.removeLast();
        for (const auto &kv : std::as_const(pairs))
            assignPair(m, kv.first, kv.second);
    }
    QStringList prompt, negative;
    bool inNegative = false;
    for (const QString &line : std::as_const(lines)) {
        if (!inNegative && line.startsWith(kNegativePrefix)) {
            inNegative = true;
            negative << line.mid(kNegativePrefix.size()).trimmed();
        } else if (inNegative) {
            negative << line;
        } else {
            prompt << line;
        }
    }
    m.prompt = prompt.join(QLatin1Char('\n')).trimmed();
    m.negativePrompt = negative.join(QLatin1Char('\n')).trimmed();
    return m;
}

QString formatInfotext(const ImageMetadata &m)
{
    QStringList params;
    auto add = [&params](const char *key, const QString &value) {
        if (!value.isEmpty())
            params << QLatin1String(key) + QLatin1String(": ") + quoteIfNeeded(value);
    };
    for (const char *key : {"Steps", "Sampler", "Schedule type", "CFG scale", "Seed", "Size",
                            "Model hash", "Model", "Denoising strength", "Clip skip", "Eta",
                            "Batch size"})
        add(key, m.value(QLatin1String(key)));
    for (const auto &kv : m.extra)
        if (!kv.first.isEmpty() && !kv.second.isEmpty())
            params << kv.first + QLatin1String(": ") + quoteIfNeeded(kv.second);

    QString out = m.prompt;
    if (!m.negativePrompt.isEmpty())
        out += QLatin1Char('\n') + kNegativePrefix + QLatin1Char(' ') + m.negativePrompt;
    if (!params.isEmpty())
        out += QLatin1Char('\n') + params.join(QLatin1String(", "));
    return out;
}

ImageMetadata parseComfyPrompt(const QString &json)
{
    ImageMetadata m;
    const QJsonObject graph = parseObject(json);
    if (graph.isEmpty())
        return m;
    // Lowest node id first, so the result does not depend on hash order.
    QStringList ids = graph.keys();
    std::sort(ids.begin(), ids.end(), [](const QString &a, const QString &b) {
        bool okA = false, okB = false;
        const qint64 ia = a.toLongLong(&okA), ib = b.toLongLong(&okB);
        return okA && okB ? ia < ib : a < b;
    });
    QString samplerId;
    for (const QString &id : std::as_const(ids)) {
        const QString type = graph.value(id).toObject().value(QLatin1String("class_type")).toString();
        if (type == QLatin1String("KSampler") || type == QLatin1String("KSamplerAdvanced")) {
            samplerId = id;
            break;
        }
    }
    if (samplerId.isEmpty())
        return m;
    const QJsonObject in = graph.value(samplerId).toObject().value(QLatin1String("inputs")).toObject();
    m.source = MetadataSource::ComfyUI;
    m.raw = json;
    m.seed = jsonInt(in.contains(QLatin1String("seed")) ? in.value(QLatin1String("seed"))
                                                        : in.value(QLatin1String("noise_seed")), -1);
    m.steps = int(jsonInt(in.value(QLatin1String("steps")), 0));
    m.cfgScale = jsonDouble(in.value(QLatin1String("cfg")), 0);
    QString schedule;
    m.sampler = a1111SamplerName(in.value(QLatin1String("sampler_name")).toString(), &schedule);
    const QString scheduler = in.value(QLatin1String("scheduler")).toString();
    m.scheduleType = scheduler == QLatin1String("normal") ? schedule : scheduler;
    const double denoise = jsonDouble(in.value(QLatin1String("denoise")), -1);
    m.prompt = comfyText(graph, linkTarget(in.value(QLatin1String("positive"))));
    m.negativePrompt = comfyText(graph, linkTarget(in.value(QLatin1String("negative"))));
    m.model = comfyModel(graph, linkTarget(in.value(QLatin1String("model"))));
    const QString latentId = linkTarget(in.value(QLatin1String("latent_image")));
    const QJsonObject latent = graph.value(latentId).toObject();
    const QString latentType = latent.value(QLatin1String("class_type")).toString();
    if (latentType.startsWith(QLatin1String("EmptyLatentImage"))
        || latentType.startsWith(QLatin1String("EmptySD3LatentImage"))) {
        const QJsonObject li = latent.value(QLatin1String("inputs")).toObject();
        m.width = int(jsonInt(li.value(QLatin1String("width")), 0));
        m.height = int(jsonInt(li.value(QLatin1String("height")), 0));
        m.batchSize = int(jsonInt(li.value(QLatin1String("batch_size")), 0));
    } else if (denoise >= 0 && denoise < 1) {
        m.denoisingStrength = denoise; // img2img: the latent comes from an encoded image
    }
    return m;
}

ImageMetadata parseInvokeMetadata(const QString &json)
{
    ImageMetadata m;
    const QJsonObject o = parseObject(json);
    if (o.isEmpty() || !(o.contains(QLatin1String("positive_prompt")) || o.contains(QLatin1String("seed"))))
        return m;
    m.source = MetadataSource::InvokeAI;
    m.raw = json;
    m.prompt = o.value(QLatin1String("positive_prompt")).toString();
    m.negativePrompt = o.value(QLatin1String("negative_prompt")).toString();
    m.seed = jsonInt(o.value(QLatin1String("seed")), -1);
    m.steps = int(jsonInt(o.value(QLatin1String("steps")), 0));
    m.cfgScale = jsonDouble(o.value(QLatin1String("cfg_scale")), 0);
    m.width = int(jsonInt(o.value(QLatin1String("width")), 0));
    m.height = int(jsonInt(o.value(QLatin1String("height")), 0));
    QString schedule;
    m.sampler = a1111SamplerName(o.value(QLatin1String("scheduler")).toString(), &schedule);
    m.scheduleType = schedule;
    const QJsonValue model = o.value(QLatin1String("model"));
    if (model.isObject()) {
        const QJsonObject mo = model.toObject();
        m.model = mo.value(QLatin1String("name")).toString();
        if (m.model.isEmpty())
            m.model = mo.value(QLatin1String("model_name")).toString();
        m.modelHash = mo.value(QLatin1String("hash")).toString();
    } else {
        m.model = model.toString();
    }
    const double strength = jsonDouble(o.value(QLatin1String("strength")), -1);
    if (strength >= 0)
        m.denoisingStrength = strength;
    const int clipSkip = int(jsonInt(o.value(QLatin1String("clip_skip")), -1));
    if (clipSkip >= 0)
        m.clipSkip = clipSkip + 1; // InvokeAI counts skipped layers (0 = none), A1111 counts from 1
    return m;
}

ImageMetadata metadataFromTextChunks(const QList<QPair<QString, QString>> &chunks)
{
    auto find = [&chunks](const char *key) {
        for (const auto &kv : chunks)
            if (kv.first == QLatin1String(key))
                return kv.second;
        return QString();
    };
    ImageMetadata m = parseInfotext(find("parameters"));
    if (!m.isEmpty())
        return m;
    m = parseInvokeMetadata(find("invokeai_metadata"));
    if (!m.isEmpty())
        return m;
    return parseComfyPrompt(find("prompt"));
}

MetadataReadResult readImageMetadata(const QString &path)
{
    MetadataReadResult r;
    if (!QFileInfo::exists(path)) {
        r.error = MetadataText::noFile();
        return r;
    }
    QImageReader reader(path);
    if (!reader.canRead()) {
        r.error = MetadataText::notImage();
        return r;
    }
    if (reader.format() != "png") {
        r.error = MetadataText::notPng();
        return r;
    }
    QList<QPair<QString, QString>> chunks;
    const QStringList keys = reader.textKeys();
    for (const QString &key : keys)
        chunks.append({key, reader.text(key)});
    r.metadata = metadataFromTextChunks(chunks);
    if (r.metadata.isEmpty()) {
        r.error = MetadataText::noMetadata();
        return r;
    }
    const QSize size = reader.size();
    if (r.metadata.width <= 0 && size.isValid()) {
        r.metadata.width = size.width();
        r.metadata.height = size.height();
    }
    return r;
}

ImageMetadata toMetadata(const core::GenerationRequest &req, qint64 seed, const QString &modelName)
{
    ImageMetadata m;
    m.source = MetadataSource::A1111;
    m.prompt = QString::fromStdString(req.prompt);
    m.negativePrompt = QString::fromStdString(req.negativePrompt);
    m.steps = req.steps;
    m.sampler = QString::fromStdString(req.sampler);
    m.scheduleType = QString::fromStdString(req.scheduleType);
    m.cfgScale = req.cfgScale;
    m.seed = seed;
    m.width = req.width;
    m.height = req.height;
    m.model = modelName;
    if (req.initImage)
        m.denoisingStrength = req.strength;
    if (req.clipSkip > 1)
        m.clipSkip = req.clipSkip;
    if (req.eta != 0.0f)
        m.eta = req.eta;
    if (req.batchSize > 1)
        m.batchSize = req.batchSize;
    if (req.mask)
        m.extra.append({QStringLiteral("Mask blur"), QString::number(req.maskBlur)});
    m.raw = formatInfotext(m);
    return m;
}

void applyToRequest(const ImageMetadata &m, core::GenerationRequest &req)
{
    if (m.isEmpty())
        return;
    req.prompt = m.prompt.toStdString();
    req.negativePrompt = m.negativePrompt.toStdString();
    if (!m.sampler.isEmpty()) {
        QString sampler = m.sampler;
        QString schedule = m.scheduleType;
        // Old A1111 names carry the schedule: "DPM++ 2M Karras".
        for (const char *suffix : {" Karras", " Exponential"}) {
            if (sampler.endsWith(QLatin1String(suffix), Qt::CaseInsensitive)) {
                sampler.chop(int(qstrlen(suffix)));
                if (schedule.isEmpty())
                    schedule = QString::fromLatin1(suffix + 1).toLower();
            }
        }
        QString mappedSchedule;
        sampler = a1111SamplerName(sampler, &mappedSchedule);
        if (schedule.isEmpty())
            schedule = mappedSchedule;
        req.sampler = sampler.toStdString();
        req.scheduleType = schedule.toLower() == QLatin1String("automatic") ? std::string()
                                                                             : schedule.toLower().toStdString();
    }
    if (m.steps > 0) req.steps = m.steps;
    if (m.cfgScale > 0) req.cfgScale = float(m.cfgScale);
    if (m.seed >= 0) req.seed = m.seed;
    if (m.width > 0 && m.height > 0) {
        req.width = m.width;
        req.height = m.height;
    }
    if (m.denoisingStrength >= 0) req.strength = float(m.denoisingStrength);
    if (m.clipSkip > 0) req.clipSkip = m.clipSkip;
    if (m.eta >= 0) req.eta = float(m.eta);
    if (m.batchSize > 0) req.batchSize = m.batchSize;
    bool ok = false;
    const int blur = m.value(QStringLiteral("Mask blur")).toInt(&ok);
    if (ok) req.maskBlur = blur;
}

QString a1111SamplerName(const QString &nameIn, QString *scheduleType)
{
    if (scheduleType)
        scheduleType->clear();
    QString name = nameIn.trimmed();
    for (const char *known : kA1111Samplers)
        if (name.compare(QLatin1String(known), Qt::CaseInsensitive) == 0)
            return QString::fromLatin1(known);
    QString key = name.toLower();
    // InvokeAI marks Karras sigmas with a "_k" suffix ("dpmpp_2m_k").
    if (key.endsWith(QLatin1String("_k"))) {
        key.chop(2);
        if (scheduleType)
            *scheduleType = QStringLiteral("karras");
    } else if (key.endsWith(QLatin1String("_karras"))) {
        key.chop(7);
        if (scheduleType)
            *scheduleType = QStringLiteral("karras");
    }
    for (const SamplerName &s : kSamplers)
        if (key == QLatin1String(s.from))
            return QString::fromLatin1(s.to);
    if (scheduleType)
        scheduleType->clear();
    return name;
}

} // namespace stipple::ui
