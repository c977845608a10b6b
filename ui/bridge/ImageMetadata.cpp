#include "ui/bridge/ImageMetadata.h"

#include "core/pipeline/Infotext.h"

#include <QCoreApplication>
#include <QLocale>
#include <QFile>
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

QString formatNumber(double v)
{
    // Shortest form that reads back to the same value (cfg 7 -> "7", 7.5 -> "7.5"),
    // like Python's repr and core's Infotext formatter.
    return QString::number(v, 'g', QLocale::FloatingPointShortest);
}

QString fromStd(const std::string &s) { return QString::fromStdString(s); }

// Canonical key order (core::makeInfotext / A1111 create_infotext).
const char *const kKnownKeys[] = {"Steps", "Sampler", "Schedule type", "CFG scale", "Seed", "Size",
                                  "Model hash", "Model", "Batch size", "Denoising strength",
                                  "Clip skip", "Eta"};

// core::Infotext -> ImageMetadata (typed fields + extras, order kept).
ImageMetadata fromCoreInfotext(const core::Infotext &info, const QString &raw);

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
    } else if (key == QLatin1String("Eta")) {
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
    QString v;
    if (key == QLatin1String("Prompt")) return prompt;
    if (key == QLatin1String("Negative prompt")) return negativePrompt;
    if (key == QLatin1String("Steps")) v = steps > 0 ? QString::number(steps) : QString();
    else if (key == QLatin1String("Sampler")) v = sampler;
    else if (key == QLatin1String("Schedule type")) v = scheduleType;
    else if (key == QLatin1String("CFG scale")) v = cfgScale > 0 ? formatNumber(cfgScale) : QString();
    else if (key == QLatin1String("Seed")) v = seed >= 0 ? QString::number(seed) : QString();
    else if (key == QLatin1String("Size"))
        v = width > 0 && height > 0 ? QStringLiteral("%1x%2").arg(width).arg(height) : QString();
    else if (key == QLatin1String("Model")) v = model;
    else if (key == QLatin1String("Model hash")) v = modelHash;
    else if (key == QLatin1String("Denoising strength"))
        v = denoisingStrength >= 0 ? formatNumber(denoisingStrength) : QString();
    else if (key == QLatin1String("Clip skip")) v = clipSkip > 0 ? QString::number(clipSkip) : QString();
    else if (key == QLatin1String("Eta")) v = eta >= 0 ? formatNumber(eta) : QString();
    else if (key == QLatin1String("Batch size")) v = batchSize > 0 ? QString::number(batchSize) : QString();
    if (!v.isEmpty())
        return v;
    for (const auto &kv : extra)
        if (kv.first == key)
            return kv.second;
    return {};
}

namespace {

ImageMetadata fromCoreInfotext(const core::Infotext &info, const QString &raw)
{
    ImageMetadata m;
    m.source = MetadataSource::A1111;
    m.raw = raw;
    m.prompt = fromStd(info.prompt);
    m.negativePrompt = fromStd(info.negativePrompt);
    for (const auto &[k, v] : info.params) {
        const QString key = fromStd(k);
        m.keyOrder << key;
        assignPair(m, key, fromStd(v));
    }
    return m;
}

} // namespace

ImageMetadata parseInfotext(const QString &text)
{
    if (text.trimmed().isEmpty())
        return {};
    // The core parser is the reference (it reads what core::formatInfotext
    // writes); this adds typed fields on top.
    return fromCoreInfotext(core::parseInfotext(text.toStdString()), text);
}

QString formatInfotext(const ImageMetadata &m)
{
    core::Infotext info;
    info.prompt = m.prompt.toStdString();
    info.negativePrompt = m.negativePrompt.toStdString();
    QStringList keys = m.keyOrder;
    for (const char *key : kKnownKeys)
        if (!keys.contains(QLatin1String(key)))
            keys << QLatin1String(key);
    for (const auto &kv : m.extra)
        if (!keys.contains(kv.first))
            keys << kv.first;
    for (const QString &key : std::as_const(keys)) {
        const QString value = m.value(key);
        if (!key.isEmpty() && !value.isEmpty())
            info.params.emplace_back(key.toStdString(), value.toStdString());
    }
    return fromStd(core::formatInfotext(info));
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

namespace {

// Reads the text chunks (tEXt, zTXt, iTXt) of a PNG without decoding pixels.
// QImageReader::text() is not usable for this: it passes values through
// QString::simplified(), which turns the infotext's newlines into spaces.
// Chunk layout: PNG specification (ISO/IEC 15948) 11.3.4.
enum class PngRead { Ok, NotPng, Broken };

quint32 be32(const char *p)
{
    const auto *u = reinterpret_cast<const uchar *>(p);
    return (quint32(u[0]) << 24) | (quint32(u[1]) << 16) | (quint32(u[2]) << 8) | quint32(u[3]);
}

QByteArray inflate(const QByteArray &zlibData)
{
    // qUncompress wants a 4-byte big-endian size hint in front; it grows the
    // buffer when the hint is too small.
    const quint32 hint = quint32(qMin<qint64>(qint64(zlibData.size()) * 8 + 64, 64 << 20));
    QByteArray buf(4, Qt::Uninitialized);
    buf[0] = char(hint >> 24);
    buf[1] = char(hint >> 16);
    buf[2] = char(hint >> 8);
    buf[3] = char(hint);
    return qUncompress(buf + zlibData);
}

PngRead readPngText(const QString &path, QList<QPair<QString, QString>> *chunks, QSize *size)
{
    QFile file(path);
    if (!file.open(QIODevice::ReadOnly))
        return PngRead::Broken;
    static const char kSignature[] = "\x89PNG\r\n\x1a\n";
    if (file.read(8) != QByteArray(kSignature, 8))
        return PngRead::NotPng;
    constexpr quint32 kMaxTextChunk = 64u << 20;
    while (!file.atEnd()) {
        const QByteArray head = file.read(8);
        if (head.size() < 8)
            return PngRead::Broken;
        const quint32 length = be32(head.constData());
        const QByteArray type = head.mid(4, 4);
        if (type == "IEND")
            break;
        const bool text = type == "tEXt" || type == "zTXt" || type == "iTXt";
        if (type == "IHDR" || (text && length <= kMaxTextChunk)) {
            const QByteArray data = file.read(length);
            if (quint32(data.size()) != length)
                return PngRead::Broken;
            file.skip(4); // CRC
            if (type == "IHDR") {
                if (length >= 8 && size)
                    *size = QSize(int(be32(data.constData())), int(be32(data.constData() + 4)));
                continue;
            }
            const int nul = data.indexOf('\0');
            if (nul <= 0)
                continue;
            const QString key = QString::fromLatin1(data.left(nul));
            QString value;
            if (type == "tEXt") {
                value = QString::fromLatin1(data.mid(nul + 1));
            } else if (type == "zTXt") {
                if (nul + 2 > data.size() || data.at(nul + 1) != 0)
                    continue;
                value = QString::fromLatin1(inflate(data.mid(nul + 2)));
            } else { // iTXt: key\0 flag method lang\0 translated\0 text (UTF-8)
                if (nul + 3 > data.size())
                    continue;
                const bool compressed = data.at(nul + 1) != 0;
                const int langEnd = data.indexOf('\0', nul + 3);
                const int transEnd = langEnd < 0 ? -1 : data.indexOf('\0', langEnd + 1);
                if (transEnd < 0)
                    continue;
                const QByteArray body = data.mid(transEnd + 1);
                value = QString::fromUtf8(compressed ? inflate(body) : body);
            }
            chunks->append({key, value});
        } else {
            if (!file.skip(qint64(length) + 4)) // data + CRC
                return PngRead::Broken;
        }
    }
    return PngRead::Ok;
}

} // namespace

QList<QPair<QString, QString>> readPngTextChunks(const QString &path, QString *error)
{
    QList<QPair<QString, QString>> chunks;
    QSize size;
    const PngRead r = readPngText(path, &chunks, &size);
    if (error)
        *error = r == PngRead::NotPng ? MetadataText::notPng()
               : r == PngRead::Broken && chunks.isEmpty() ? MetadataText::notImage() : QString();
    return chunks;
}

MetadataReadResult readImageMetadata(const QString &path)
{
    MetadataReadResult r;
    if (!QFileInfo::exists(path)) {
        r.error = MetadataText::noFile();
        return r;
    }
    QList<QPair<QString, QString>> chunks;
    QSize size;
    switch (readPngText(path, &chunks, &size)) {
    case PngRead::NotPng:
        r.error = QImageReader(path).canRead() ? MetadataText::notPng() : MetadataText::notImage();
        return r;
    case PngRead::Broken:
        if (chunks.isEmpty()) {
            r.error = MetadataText::notImage();
            return r;
        }
        break; // truncated after the text chunks: still use them
    case PngRead::Ok:
        break;
    }
    r.metadata = metadataFromTextChunks(chunks);
    if (r.metadata.isEmpty()) {
        r.error = MetadataText::noMetadata();
        return r;
    }
    if (r.metadata.width <= 0 && size.isValid()) {
        r.metadata.width = size.width();
        r.metadata.height = size.height();
    }
    return r;
}

ImageMetadata toMetadata(const core::GenerationRequest &req, qint64 seed, const QString &modelName)
{
    core::InfotextContext context;
    context.seed = seed;
    context.width = req.width;
    context.height = req.height;
    context.modelName = modelName.toStdString();
    const core::Infotext info = core::makeInfotext(req, context);
    return fromCoreInfotext(info, fromStd(core::formatInfotext(info)));
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
