#include "ui/bridge/Settings.h"

#include <QCoreApplication>
#include <QSettings>
#include <QStandardPaths>

namespace stipple::ui {

namespace {

struct KeyInfo {
    Settings::Key key;
    const char *name;
};

// The one table of key names; defaults are in Settings::defaultValue (some
// depend on QStandardPaths, which needs the application object).
const KeyInfo kKeys[] = {
    {Settings::Key::ModelsFolder, "paths/modelsFolder"},
    {Settings::Key::LastModel, "paths/lastModel"},
    {Settings::Key::VaePath, "paths/vae"},
    {Settings::Key::VocabPath, "paths/vocab"},
    {Settings::Key::GalleryFolder, "paths/galleryFolder"},
    {Settings::Key::AutoSave, "paths/autoSave"},
    {Settings::Key::Threads, "runtime/threads"},
    {Settings::Key::ComputeDType, "runtime/computeDType"},
    {Settings::Key::Prompt, "parameters/prompt"},
    {Settings::Key::NegativePrompt, "parameters/negativePrompt"},
    {Settings::Key::Sampler, "parameters/sampler"},
    {Settings::Key::ScheduleType, "parameters/scheduleType"},
    {Settings::Key::Steps, "parameters/steps"},
    {Settings::Key::CfgScale, "parameters/cfgScale"},
    {Settings::Key::Seed, "parameters/seed"},
    {Settings::Key::Width, "parameters/width"},
    {Settings::Key::Height, "parameters/height"},
    {Settings::Key::BatchCount, "parameters/batchCount"},
    {Settings::Key::BatchSize, "parameters/batchSize"},
    {Settings::Key::ClipSkip, "parameters/clipSkip"},
    {Settings::Key::Strength, "parameters/strength"},
    {Settings::Key::ResizeMode, "parameters/resizeMode"},
    {Settings::Key::MaskBlur, "parameters/maskBlur"},
    {Settings::Key::MaskedContent, "parameters/maskedContent"},
    {Settings::Key::InpaintOnlyMasked, "parameters/inpaintOnlyMasked"},
    {Settings::Key::OnlyMaskedPadding, "parameters/onlyMaskedPadding"},
    {Settings::Key::WindowGeometry, "window/geometry"},
    {Settings::Key::WindowState, "window/state"},
    {Settings::Key::MaskOverlayColor, "canvas/maskOverlayColor"},
    {Settings::Key::MaskOverlayOpacity, "canvas/maskOverlayOpacity"},
};
static_assert(sizeof(kKeys) / sizeof(kKeys[0]) == std::size_t(Settings::Key::KeyCount),
              "every Settings::Key needs a name");

const char *const kResizeModes[] = {"JustResize", "CropAndResize", "ResizeAndFill"};
const char *const kMaskedContent[] = {"Original", "Fill", "LatentNoise", "LatentNothing"};

template <std::size_t N>
int indexOf(const QString &s, const char *const (&names)[N], int fallback)
{
    for (std::size_t i = 0; i < N; ++i)
        if (s == QLatin1String(names[i]))
            return int(i);
    return fallback;
}

} // namespace

Settings::Settings(const QString &iniPath, QObject *parent)
    : QObject(parent)
{
    if (iniPath.isEmpty()) {
        const QString org = QCoreApplication::organizationName().isEmpty()
            ? QStringLiteral("Stipple") : QCoreApplication::organizationName();
        const QString app = QCoreApplication::applicationName().isEmpty()
            ? QStringLiteral("stipple") : QCoreApplication::applicationName();
        m_settings = std::make_unique<QSettings>(QSettings::IniFormat, QSettings::UserScope, org, app);
    } else {
        m_settings = std::make_unique<QSettings>(iniPath, QSettings::IniFormat);
    }
}

Settings::~Settings() = default;

QString Settings::keyName(Key key)
{
    const auto i = std::size_t(key);
    return i < std::size_t(Key::KeyCount) ? QString::fromLatin1(kKeys[i].name) : QString();
}

QVariant Settings::defaultValue(Key key)
{
    switch (key) {
    case Key::ModelsFolder:
        return QStandardPaths::writableLocation(QStandardPaths::AppDataLocation) + QStringLiteral("/models");
    case Key::LastModel:
    case Key::VaePath:
    case Key::VocabPath:
    case Key::Prompt:
    case Key::NegativePrompt:
    case Key::ScheduleType:
        return QString();
    case Key::GalleryFolder:
        return QStandardPaths::writableLocation(QStandardPaths::PicturesLocation) + QStringLiteral("/Stipple");
    case Key::AutoSave: return true;
    case Key::Threads: return 0;
    case Key::ComputeDType: return QStringLiteral("float32");
    case Key::Sampler: return QStringLiteral("Euler a");
    case Key::Steps: return 20;
    case Key::CfgScale: return 7.0;
    case Key::Seed: return qint64(-1);
    case Key::Width:
    case Key::Height: return 512;
    case Key::BatchCount:
    case Key::BatchSize:
    case Key::ClipSkip: return 1;
    case Key::Strength: return 0.75;
    case Key::ResizeMode: return QStringLiteral("JustResize");
    case Key::MaskBlur: return 4;
    case Key::MaskedContent: return QStringLiteral("Original");
    case Key::InpaintOnlyMasked: return false;
    case Key::OnlyMaskedPadding: return 32;
    case Key::WindowGeometry:
    case Key::WindowState: return QByteArray();
    case Key::MaskOverlayColor: return QColor(0xff, 0x3c, 0x3c);
    case Key::MaskOverlayOpacity: return 0.5;
    case Key::KeyCount: break;
    }
    return {};
}

QVariant Settings::value(Key key) const
{
    const QVariant def = defaultValue(key);
    const QVariant stored = m_settings->value(keyName(key));
    if (!stored.isValid())
        return def;
    if (stored.metaType() == def.metaType())
        return stored;
    // INI files give strings back; convert to the default's type, and fall
    // back to the default when the stored text is not of that type.
    QVariant v = stored;
    if (def.metaType().id() == QMetaType::Bool && v.metaType().id() == QMetaType::QString) {
        const QString s = v.toString().toLower();
        if (s == QLatin1String("true") || s == QLatin1String("1")) return true;
        if (s == QLatin1String("false") || s == QLatin1String("0")) return false;
        return def;
    }
    if (def.metaType().id() == QMetaType::Int || def.metaType().id() == QMetaType::LongLong
        || def.metaType().id() == QMetaType::Double) {
        bool ok = false;
        if (def.metaType().id() == QMetaType::Double) {
            const double d = v.toDouble(&ok);
            return ok ? QVariant(d) : def;
        }
        const qint64 n = v.toLongLong(&ok);
        if (!ok)
            return def;
        return def.metaType().id() == QMetaType::Int ? QVariant(int(n)) : QVariant(n);
    }
    if (v.convert(def.metaType()))
        return v;
    return def;
}

void Settings::setValue(Key key, const QVariant &newValue)
{
    const QVariant old = value(key);
    m_settings->setValue(keyName(key), newValue);
    if (old != value(key))
        Q_EMIT changed(key);
}

void Settings::reset(Key key)
{
    const QVariant old = value(key);
    m_settings->remove(keyName(key));
    if (old != value(key))
        Q_EMIT changed(key);
}

bool Settings::contains(Key key) const { return m_settings->contains(keyName(key)); }
QString Settings::fileName() const { return m_settings->fileName(); }
void Settings::sync() { m_settings->sync(); }

core::ComputeDType Settings::computeDType() const
{
    return value(Key::ComputeDType).toString().compare(QLatin1String("bfloat16"), Qt::CaseInsensitive) == 0
        ? core::ComputeDType::BFloat16 : core::ComputeDType::Float32;
}

core::GenerationRequest Settings::lastRequest() const
{
    core::GenerationRequest r;
    r.prompt = value(Key::Prompt).toString().toStdString();
    r.negativePrompt = value(Key::NegativePrompt).toString().toStdString();
    r.sampler = value(Key::Sampler).toString().toStdString();
    r.scheduleType = value(Key::ScheduleType).toString().toStdString();
    r.steps = value(Key::Steps).toInt();
    r.cfgScale = float(value(Key::CfgScale).toDouble());
    r.seed = value(Key::Seed).toLongLong();
    r.width = value(Key::Width).toInt();
    r.height = value(Key::Height).toInt();
    r.batchCount = value(Key::BatchCount).toInt();
    r.batchSize = value(Key::BatchSize).toInt();
    r.clipSkip = value(Key::ClipSkip).toInt();
    r.strength = float(value(Key::Strength).toDouble());
    r.resizeMode = core::ResizeMode(indexOf(value(Key::ResizeMode).toString(), kResizeModes, 0));
    r.maskBlur = value(Key::MaskBlur).toInt();
    r.maskedContent = core::MaskedContent(indexOf(value(Key::MaskedContent).toString(), kMaskedContent, 0));
    r.inpaintOnlyMasked = value(Key::InpaintOnlyMasked).toBool();
    r.onlyMaskedPadding = value(Key::OnlyMaskedPadding).toInt();
    r.dtype = computeDType();
    return r;
}

void Settings::setLastRequest(const core::GenerationRequest &r)
{
    setValue(Key::Prompt, QString::fromStdString(r.prompt));
    setValue(Key::NegativePrompt, QString::fromStdString(r.negativePrompt));
    setValue(Key::Sampler, QString::fromStdString(r.sampler));
    setValue(Key::ScheduleType, QString::fromStdString(r.scheduleType));
    setValue(Key::Steps, r.steps);
    setValue(Key::CfgScale, double(r.cfgScale));
    setValue(Key::Seed, qint64(r.seed));
    setValue(Key::Width, r.width);
    setValue(Key::Height, r.height);
    setValue(Key::BatchCount, r.batchCount);
    setValue(Key::BatchSize, r.batchSize);
    setValue(Key::ClipSkip, r.clipSkip);
    setValue(Key::Strength, double(r.strength));
    setValue(Key::ResizeMode, QString::fromLatin1(kResizeModes[int(r.resizeMode)]));
    setValue(Key::MaskBlur, r.maskBlur);
    setValue(Key::MaskedContent, QString::fromLatin1(kMaskedContent[int(r.maskedContent)]));
    setValue(Key::InpaintOnlyMasked, r.inpaintOnlyMasked);
    setValue(Key::OnlyMaskedPadding, r.onlyMaskedPadding);
}

core::LoadOptions Settings::loadOptions() const
{
    core::LoadOptions o;
    o.modelPath = lastModel().toStdString();
    o.vaePath = value(Key::VaePath).toString().toStdString();
    o.vocabPath = vocabPath().toStdString();
    o.dtype = computeDType();
    return o;
}

} // namespace stipple::ui
