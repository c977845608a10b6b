// Settings: defaults, typed values through an INI file in a temporary folder,
// persistence across instances, the "last parameters" group, change signals.
#include "ui/bridge/Settings.h"

#include <QGuiApplication>
#include <QSettings>
#include <QSignalSpy>
#include <QStandardPaths>
#include <QTemporaryDir>
#include <QTest>

using namespace stipple;
using namespace stipple::ui;
using Key = Settings::Key;

class TestSettings : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void initTestCase();
    void defaults();
    void everyKeyHasNameAndDefault();
    void persistsTypedValues();
    void wrongTypeFallsBack();
    void lastRequestRoundTrip();
    void changedSignal();
    void defaultLocationIsRedirected();

private:
    QTemporaryDir m_dir;
    QString ini(const char *name) const { return m_dir.filePath(QLatin1String(name)); }
};

void TestSettings::initTestCase()
{
    QStandardPaths::setTestModeEnabled(true);
    QVERIFY(m_dir.isValid());
}

void TestSettings::defaults()
{
    Settings s(ini("defaults.ini"));
    QCOMPARE(s.galleryFolder(),
             QStandardPaths::writableLocation(QStandardPaths::PicturesLocation) + QStringLiteral("/Stipple"));
    QCOMPARE(s.value(Key::Steps).toInt(), 20);
    QCOMPARE(s.value(Key::CfgScale).toDouble(), 7.0);
    QCOMPARE(s.value(Key::Seed).toLongLong(), qint64(-1));
    QCOMPARE(s.value(Key::Sampler).toString(), QStringLiteral("Euler a"));
    QCOMPARE(s.threads(), 0);
    QCOMPARE(s.computeDType(), core::ComputeDType::Float32);
    QCOMPARE(s.maskOverlayOpacity(), 0.5);
    QVERIFY(s.maskOverlayColor().isValid());
    QVERIFY(!s.contains(Key::Steps));
    const core::GenerationRequest r = s.lastRequest();
    const core::GenerationRequest d;
    QCOMPARE(r.steps, d.steps);
    QCOMPARE(r.width, d.width);
    QCOMPARE(r.sampler, d.sampler);
    QCOMPARE(r.strength, d.strength);
    QCOMPARE(r.maskBlur, d.maskBlur);
}

void TestSettings::everyKeyHasNameAndDefault()
{
    QSet<QString> names;
    for (int k = 0; k < int(Key::KeyCount); ++k) {
        const QString name = Settings::keyName(Key(k));
        QVERIFY2(!name.isEmpty(), qPrintable(QString::number(k)));
        QVERIFY2(!names.contains(name), qPrintable(name));
        names.insert(name);
        QVERIFY2(Settings::defaultValue(Key(k)).isValid(), qPrintable(name));
    }
}

void TestSettings::persistsTypedValues()
{
    const QString path = ini("typed.ini");
    {
        Settings s(path);
        s.setValue(Key::ModelsFolder, QStringLiteral("/models"));
        s.setValue(Key::LastModel, QStringLiteral("/models/tiny.safetensors"));
        s.setValue(Key::VocabPath, QStringLiteral("/clip/vocab.txt.gz"));
        s.setValue(Key::Threads, 6);
        s.setValue(Key::ComputeDType, QStringLiteral("bfloat16"));
        s.setValue(Key::WindowGeometry, QByteArray("\x01\x02\x00\xff", 4));
        s.setValue(Key::MaskOverlayColor, QColor(1, 2, 3));
        s.setValue(Key::MaskOverlayOpacity, 0.25);
        s.setValue(Key::Seed, Q_INT64_C(9007199254740993));
        s.setValue(Key::AutoSave, false);
        s.sync();
        QCOMPARE(s.fileName(), path);
    }
    Settings s(path);
    QCOMPARE(s.modelsFolder(), QStringLiteral("/models"));
    QCOMPARE(s.lastModel(), QStringLiteral("/models/tiny.safetensors"));
    QCOMPARE(s.threads(), 6);
    QCOMPARE(s.value(Key::Threads).metaType().id(), QMetaType::Int);
    QCOMPARE(s.computeDType(), core::ComputeDType::BFloat16);
    QCOMPARE(s.value(Key::WindowGeometry).toByteArray(), QByteArray("\x01\x02\x00\xff", 4));
    QCOMPARE(s.maskOverlayColor(), QColor(1, 2, 3));
    QCOMPARE(s.maskOverlayOpacity(), 0.25);
    QCOMPARE(s.value(Key::Seed).toLongLong(), Q_INT64_C(9007199254740993));
    QCOMPARE(s.value(Key::AutoSave).toBool(), false);
    const core::LoadOptions o = s.loadOptions();
    QCOMPARE(o.modelPath, std::string("/models/tiny.safetensors"));
    QCOMPARE(o.vocabPath, std::string("/clip/vocab.txt.gz"));
    QCOMPARE(o.dtype, core::ComputeDType::BFloat16);
    s.reset(Key::Threads);
    QCOMPARE(s.threads(), 0);
    QVERIFY(!s.contains(Key::Threads));
}

void TestSettings::wrongTypeFallsBack()
{
    const QString path = ini("broken.ini");
    {
        QSettings raw(path, QSettings::IniFormat);
        raw.setValue(Settings::keyName(Key::Steps), QStringLiteral("many"));
        raw.setValue(Settings::keyName(Key::AutoSave), QStringLiteral("perhaps"));
    }
    Settings s(path);
    QCOMPARE(s.value(Key::Steps).toInt(), 20);
    QCOMPARE(s.value(Key::AutoSave).toBool(), true);
}

void TestSettings::lastRequestRoundTrip()
{
    const QString path = ini("last.ini");
    core::GenerationRequest r;
    r.prompt = "a, b: c\nline two";
    r.negativePrompt = "bad";
    r.sampler = "DPM++ 2M";
    r.scheduleType = "karras";
    r.steps = 33;
    r.cfgScale = 5.5f;
    r.seed = 123456789012345;
    r.width = 768;
    r.height = 320;
    r.batchCount = 3;
    r.batchSize = 2;
    r.clipSkip = 2;
    r.strength = 0.4f;
    r.resizeMode = core::ResizeMode::ResizeAndFill;
    r.maskBlur = 9;
    r.maskedContent = core::MaskedContent::LatentNoise;
    r.inpaintOnlyMasked = true;
    r.onlyMaskedPadding = 48;
    {
        Settings s(path);
        s.setLastRequest(r);
    }
    Settings s(path);
    const core::GenerationRequest b = s.lastRequest();
    QCOMPARE(b.prompt, r.prompt);
    QCOMPARE(b.negativePrompt, r.negativePrompt);
    QCOMPARE(b.sampler, r.sampler);
    QCOMPARE(b.scheduleType, r.scheduleType);
    QCOMPARE(b.steps, r.steps);
    QCOMPARE(b.cfgScale, r.cfgScale);
    QCOMPARE(b.seed, r.seed);
    QCOMPARE(b.width, r.width);
    QCOMPARE(b.height, r.height);
    QCOMPARE(b.batchCount, r.batchCount);
    QCOMPARE(b.batchSize, r.batchSize);
    QCOMPARE(b.clipSkip, r.clipSkip);
    QCOMPARE(b.strength, r.strength);
    QCOMPARE(b.resizeMode, r.resizeMode);
    QCOMPARE(b.maskBlur, r.maskBlur);
    QCOMPARE(b.maskedContent, r.maskedContent);
    QCOMPARE(b.inpaintOnlyMasked, r.inpaintOnlyMasked);
    QCOMPARE(b.onlyMaskedPadding, r.onlyMaskedPadding);
}

void TestSettings::changedSignal()
{
    Settings s(ini("signal.ini"));
    QSignalSpy spy(&s, &Settings::changed);
    s.setValue(Key::Steps, 20); // equals the default: no change
    QCOMPARE(spy.size(), 0);
    s.setValue(Key::Steps, 21);
    QCOMPARE(spy.size(), 1);
    QCOMPARE(spy.first().first().value<Key>(), Key::Steps);
    s.setValue(Key::Steps, 21);
    QCOMPARE(spy.size(), 1);
    s.reset(Key::Steps);
    QCOMPARE(spy.size(), 2);
}

void TestSettings::defaultLocationIsRedirected()
{
    // ctest points XDG_CONFIG_HOME into the build folder; with an explicit
    // setPath the default constructor writes into our temporary folder.
    QSettings::setPath(QSettings::IniFormat, QSettings::UserScope, m_dir.filePath(QStringLiteral("config")));
    Settings s;
    QVERIFY2(s.fileName().startsWith(m_dir.path()), qPrintable(s.fileName()));
    s.setValue(Key::Threads, 3);
    s.sync();
    QVERIFY(QFileInfo::exists(s.fileName()));
}

int main(int argc, char **argv)
{
    QGuiApplication app(argc, argv);
    app.setOrganizationName(QStringLiteral("StippleTest"));
    app.setApplicationName(QStringLiteral("test_bridge_settings"));
    TestSettings test;
    return QTest::qExec(&test, argc, argv);
}

#include "TestSettings.moc"
