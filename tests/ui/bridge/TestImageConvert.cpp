// QImage <-> core::Image conversion, the error-code text table and the
// core log sink (small bridge helpers, one test executable).
#include "ui/bridge/CoreLog.h"
#include "ui/bridge/ErrorText.h"
#include "core/common/Log.h"
#include "ui/bridge/ImageConvert.h"

#include <QSet>
#include <QTest>

using namespace stipple;
using namespace stipple::ui;

class TestImageConvert : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void roundTrip_data();
    void roundTrip();
    void fromAnyFormat();
    void masks();
    void invalid();
    void errorTexts();
    void coreLogGoesToQt();
};

void TestImageConvert::roundTrip_data()
{
    QTest::addColumn<int>("channels");
    QTest::addColumn<int>("width");
    QTest::newRow("grey odd width") << 1 << 13;
    QTest::newRow("rgb odd width") << 3 << 7;
    QTest::newRow("rgba") << 4 << 9;
}

void TestImageConvert::roundTrip()
{
    QFETCH(int, channels);
    QFETCH(int, width);
    core::Image img = core::Image::blank(width, 5, channels);
    for (std::size_t i = 0; i < img.pixels.size(); ++i)
        img.pixels[i] = std::uint8_t(i * 31 + 7);
    const QImage q = toQImage(img);
    QCOMPARE(q.size(), QSize(width, 5));
    const core::Image back = toCoreImage(q, channels);
    QCOMPARE(back.width, img.width);
    QCOMPARE(back.height, img.height);
    QCOMPARE(back.channels, channels);
    QVERIFY(back.pixels == img.pixels); // rows are unpadded again
    if (channels == 3)
        QCOMPARE(q.pixelColor(1, 0), QColor(img.pixels[3], img.pixels[4], img.pixels[5]));
}

void TestImageConvert::fromAnyFormat()
{
    QImage argb(4, 2, QImage::Format_ARGB32_Premultiplied);
    argb.fill(QColor(200, 100, 50, 255));
    const core::Image rgb = toCoreImage(argb, 3);
    QCOMPARE(rgb.channels, 3);
    QCOMPARE(int(rgb.pixels[0]), 200);
    QCOMPARE(int(rgb.pixels[1]), 100);
    QCOMPARE(int(rgb.pixels[2]), 50);
    const core::Image grey = toCoreImage(argb, 1);
    QCOMPARE(grey.pixels.size(), std::size_t(8));
}

void TestImageConvert::masks()
{
    // Painted overlay: alpha is coverage, colour is irrelevant.
    QImage overlay(3, 1, QImage::Format_ARGB32);
    overlay.setPixelColor(0, 0, QColor(255, 0, 0, 0));
    overlay.setPixelColor(1, 0, QColor(255, 0, 0, 128));
    overlay.setPixelColor(2, 0, QColor(0, 0, 255, 255));
    core::Image m = maskToCoreImage(overlay);
    QCOMPARE(m.channels, 1);
    QCOMPARE(int(m.pixels[0]), 0);
    QCOMPARE(int(m.pixels[1]), 128);
    QCOMPARE(int(m.pixels[2]), 255);
    // Grey mask: luminance.
    QImage grey(2, 1, QImage::Format_Grayscale8);
    grey.setPixel(0, 0, qRgb(0, 0, 0));
    grey.setPixel(1, 0, qRgb(255, 255, 255));
    m = maskToCoreImage(grey);
    QCOMPARE(int(m.pixels[0]), 0);
    QCOMPARE(int(m.pixels[1]), 255);
}

void TestImageConvert::invalid()
{
    QVERIFY(toQImage(core::Image{}).isNull());
    core::Image two = core::Image::blank(2, 2, 2);
    QVERIFY(toQImage(two).isNull());
    core::Image shortBuffer{4, 4, 3, std::vector<std::uint8_t>(10)};
    QVERIFY(toQImage(shortBuffer).isNull());
    QVERIFY(toCoreImage(QImage(), 3).isNull());
    QImage ok(2, 2, QImage::Format_RGB888);
    QVERIFY(toCoreImage(ok, 2).isNull());
}

void TestImageConvert::errorTexts()
{
    QSet<QString> seen;
    for (int c = int(core::ErrorCode::Ok); c <= int(core::ErrorCode::Internal); ++c) {
        const QString text = errorText(core::ErrorCode(c));
        QVERIFY2(!text.isEmpty(), core::errorCodeName(core::ErrorCode(c)));
        QVERIFY2(!seen.contains(text), qPrintable(text)); // each code says something different
        seen.insert(text);
    }
    const QString withDetail = errorText(core::Error{core::ErrorCode::FileNotFound, "/x/y.safetensors"});
    QVERIFY(withDetail.startsWith(errorText(core::ErrorCode::FileNotFound)));
    QVERIFY(withDetail.contains(QStringLiteral("/x/y.safetensors")));
}

// The core's log lands in Qt's "stipple.core" category.
void TestImageConvert::coreLogGoesToQt()
{
    installCoreLogSink();
    QTest::ignoreMessage(QtWarningMsg, "hello from core");
    core::logWarning("hello from core");
    QTest::ignoreMessage(QtCriticalMsg, "broken");
    core::log(core::LogLevel::Error, "broken");
    core::setLogSink(nullptr);
}

QTEST_GUILESS_MAIN(TestImageConvert)
#include "TestImageConvert.moc"
