// Tests for ParametersPanel: request round trip, Karras samplers split into
// sampler + schedule, the swap button, sizes snapped to multiples of 8, the
// dice (random seed) and the mode-dependent groups.
#include "ui/widgets/ParametersPanel.h"

#include <QComboBox>
#include <QGroupBox>
#include <QLineEdit>
#include <QSpinBox>
#include <QTest>
#include <QToolButton>

using namespace stipple::ui;
using stipple::core::GenerationRequest;

class TestParametersPanel : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void offersA1111Samplers();
    void roundTrip();
    void karrasSplit_data();
    void karrasSplit();
    void swapAndSnap();
    void diceMeansRandom();
    void groupsFollowMode();
};

void TestParametersPanel::offersA1111Samplers()
{
    const QStringList names = ParametersPanel::samplerNames();
    for (const char *n : {"Euler", "Euler a", "LMS", "LMS Karras", "Heun", "DPM++ 2M", "DPM++ 2M Karras",
                          "DPM++ SDE Karras", "DDIM", "PLMS", "DDPM", "UniPC"})
        QVERIFY2(names.contains(QLatin1String(n)), n);
}

void TestParametersPanel::roundTrip()
{
    GenerationRequest in;
    in.sampler = "DDIM";
    in.steps = 33;
    in.cfgScale = 4.5f;
    in.seed = 987654321;
    in.width = 640;
    in.height = 448;
    in.batchCount = 3;
    in.strength = 0.4f;
    in.resizeMode = stipple::core::ResizeMode::ResizeAndFill;
    in.maskBlur = 9;
    in.maskedContent = stipple::core::MaskedContent::LatentNoise;
    in.inpaintOnlyMasked = true;
    in.onlyMaskedPadding = 48;
    ParametersPanel panel;
    panel.setRequest(in);
    GenerationRequest out;
    panel.applyTo(out);
    QCOMPARE(out.sampler, in.sampler);
    QCOMPARE(out.scheduleType, std::string());
    QCOMPARE(out.steps, in.steps);
    QCOMPARE(out.cfgScale, in.cfgScale);
    QCOMPARE(out.seed, in.seed);
    QCOMPARE(out.width, in.width);
    QCOMPARE(out.height, in.height);
    QCOMPARE(out.batchCount, in.batchCount);
    QCOMPARE(out.strength, in.strength);
    QCOMPARE(out.resizeMode, in.resizeMode);
    QCOMPARE(out.maskBlur, in.maskBlur);
    QCOMPARE(out.maskedContent, in.maskedContent);
    QCOMPARE(out.inpaintOnlyMasked, true);
    QCOMPARE(out.onlyMaskedPadding, 48);
    QVERIFY(panel.inpaintOnlyMasked());
}

void TestParametersPanel::karrasSplit_data()
{
    QTest::addColumn<QString>("shown");
    QTest::addColumn<QString>("sampler");
    QTest::addColumn<QString>("schedule");
    QTest::addRow("DPM++ 2M Karras") << "DPM++ 2M Karras" << "DPM++ 2M" << "karras";
    QTest::addRow("LMS Karras") << "LMS Karras" << "LMS" << "karras";
    QTest::addRow("Euler a") << "Euler a" << "Euler a" << "";
}

void TestParametersPanel::karrasSplit()
{
    QFETCH(QString, shown);
    QFETCH(QString, sampler);
    QFETCH(QString, schedule);
    ParametersPanel panel;
    panel.findChild<QComboBox *>(QStringLiteral("sampler"))->setCurrentText(shown);
    GenerationRequest r;
    panel.applyTo(r);
    QCOMPARE(QString::fromStdString(r.sampler), sampler);
    QCOMPARE(QString::fromStdString(r.scheduleType), schedule);
    // And back: sampler + "karras" shows the combined name.
    ParametersPanel other;
    other.setRequest(r);
    QCOMPARE(other.findChild<QComboBox *>(QStringLiteral("sampler"))->currentText(), shown);
}

void TestParametersPanel::swapAndSnap()
{
    ParametersPanel panel;
    auto *w = panel.findChild<QSpinBox *>(QStringLiteral("width"));
    auto *h = panel.findChild<QSpinBox *>(QStringLiteral("height"));
    w->setValue(768);
    h->setValue(512);
    panel.findChild<QToolButton *>(QStringLiteral("swapSize"))->click();
    QCOMPARE(w->value(), 512);
    QCOMPARE(h->value(), 768);
    w->setValue(515); // typed by hand: snapped when editing ends, floored in the request
    GenerationRequest r;
    panel.applyTo(r);
    QCOMPARE(r.width % 8, 0);
    QCOMPARE(r.width, 512);
    Q_EMIT w->editingFinished();
    QCOMPARE(w->value(), 512);
}

void TestParametersPanel::diceMeansRandom()
{
    ParametersPanel panel;
    auto *seed = panel.findChild<QLineEdit *>(QStringLiteral("seed"));
    seed->setText(QStringLiteral("42"));
    GenerationRequest r;
    panel.applyTo(r);
    QCOMPARE(r.seed, qint64(42));
    panel.findChild<QToolButton *>(QStringLiteral("randomSeed"))->click();
    panel.applyTo(r);
    QCOMPARE(r.seed, qint64(-1));
    auto *reuse = panel.findChild<QToolButton *>(QStringLiteral("reuseSeed"));
    QVERIFY(!reuse->isEnabled());
    panel.setLastSeed(1234);
    reuse->click();
    panel.applyTo(r);
    QCOMPARE(r.seed, qint64(1234));
}

void TestParametersPanel::groupsFollowMode()
{
    ParametersPanel panel;
    panel.show();
    auto *strength = panel.findChild<QWidget *>(QStringLiteral("strength"));
    auto *maskBlur = panel.findChild<QWidget *>(QStringLiteral("maskBlur"));
    QVERIFY(!strength->isVisible());
    panel.setMode(GenerationMode::ImageToImage);
    QVERIFY(strength->isVisible());
    QVERIFY(!maskBlur->isVisible());
    panel.setMode(GenerationMode::Inpaint);
    QVERIFY(maskBlur->isVisible());
}

QTEST_MAIN(TestParametersPanel)
#include "TestParametersPanel.moc"
