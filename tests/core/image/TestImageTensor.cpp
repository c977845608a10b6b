// Image <-> tensor conversions: exact diffusers arithmetic, checked against
// the fixtures' VAE inputs (from the init PNGs) and pipeline PNGs.
#include "core/image/ImageIO.h"
#include "core/image/ImageTensor.h"
#include "core/io/SafeTensors.h"
#include "support/Fixtures.h"

#include <ATen/ATen.h>
#include <QTest>

using namespace stipple::core;

class TestImageTensor : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void normalisesAndRoundTrips()
    {
        Image img = Image::blank(16, 8, 3);
        for (std::size_t i = 0; i < img.pixels.size(); ++i)
            img.pixels[i] = std::uint8_t((i * 37) % 256);
        at::Tensor t = imageToTensor(img);
        QCOMPARE(t.sizes().vec(), (std::vector<int64_t>{1, 3, 8, 16}));
        QCOMPARE(t.min().item<float>() >= -1.0f, true);
        QCOMPARE(t.max().item<float>() <= 1.0f, true);
        // Channel-first layout: pixel (x=1, y=0) green byte.
        const float g = t[0][1][0][1].item<float>();
        QCOMPARE(g, float(img.pixels[4]) / 255.0f * 2.0f - 1.0f);
        const auto back = tensorToImages(t);
        QCOMPARE(back.size(), std::size_t(1));
        QVERIFY(back[0].pixels == img.pixels);
    }
    void greyAndAlphaBecomeRgb()
    {
        Image grey = Image::blank(2, 2, 1, 200);
        QCOMPARE(toRgb(grey).pixels, std::vector<std::uint8_t>(12, 200));
        Image rgba = Image::blank(1, 1, 4);
        rgba.pixels = {10, 20, 30, 0};
        QCOMPARE(toRgb(rgba).pixels, (std::vector<std::uint8_t>{10, 20, 30}));
        Image rgb = Image::blank(1, 1, 3);
        rgb.pixels = {255, 0, 0};
        QCOMPARE(int(toGray(rgb).pixels[0]), 76); // PIL: 255*299/1000 rounded
    }
    void maskTensor()
    {
        Image m = Image::blank(4, 4, 1, 0);
        m.pixels[5] = 255;
        at::Tensor t = maskToTensor(m);
        QCOMPARE(t.sizes().vec(), (std::vector<int64_t>{1, 1, 4, 4}));
        QCOMPARE(t.sum().item<float>(), 1.0f);
        QVERIFY(tensorToMask(t).pixels == m.pixels);
    }
    void matchesFixtureVaeInput()
    {
        STIPPLE_REQUIRE_FIXTURES();
        auto file = SafeTensorsFile::open(stipple::test::fixturePath("pipelines/i2i-sd1-euler-20-s0.75.safetensors"));
        QVERIFY2(file.ok(), file.ok() ? "" : file.error().message.c_str());
        auto expected = file->tensor("vae_encode_in.0", at::kFloat);
        QVERIFY(expected.ok());
        auto img = readImage(stipple::test::fixturePath("inputs/init0_w64_h64.png"));
        QVERIFY(img.ok());
        const at::Tensor mine = imageToTensor(*img);
        QCOMPARE((mine - *expected).abs().max().item<float>(), 0.0f);
    }
    void matchesFixturePng()
    {
        STIPPLE_REQUIRE_FIXTURES();
        auto file = SafeTensorsFile::open(stipple::test::fixturePath("pipelines/t2i-sd1-euler-20.safetensors"));
        QVERIFY(file.ok());
        auto decoded = file->tensor("vae_decode_out", at::kFloat);
        QVERIFY(decoded.ok());
        auto png = readImage(stipple::test::fixturePath("pipelines/t2i-sd1-euler-20.png"));
        QVERIFY(png.ok());
        const auto mine = tensorToImages(*decoded);
        QCOMPARE(mine[0].width, png->width);
        QVERIFY(mine[0].pixels == png->pixels); // PNG = round(image * 255)
    }
};

QTEST_GUILESS_MAIN(TestImageTensor)
#include "TestImageTensor.moc"
