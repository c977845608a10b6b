// PNG/JPEG/WebP decoding, size limits, PNG text chunks (tEXt/iTXt) with
// valid CRCs, atomic writes.
#include "core/image/ImageIO.h"

#include <QTemporaryDir>
#include <QTest>

#include <opencv2/imgcodecs.hpp>
#include <zlib.h>

#include <fstream>

using namespace stipple::core;

namespace {

Image pattern(int w, int h, int c)
{
    Image img = Image::blank(w, h, c);
    for (std::size_t i = 0; i < img.pixels.size(); ++i)
        img.pixels[i] = std::uint8_t((i * 13 + i / 7) % 256);
    return img;
}

void writeBytes(const std::string &path, const std::vector<std::uint8_t> &b)
{
    std::ofstream(path, std::ios::binary).write(reinterpret_cast<const char *>(b.data()), std::streamsize(b.size()));
}

std::uint32_t be32(const std::uint8_t *p)
{
    return (std::uint32_t(p[0]) << 24) | (std::uint32_t(p[1]) << 16) | (std::uint32_t(p[2]) << 8) | p[3];
}

} // namespace

class TestImageIO : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void pngRoundTrip_data()
    {
        QTest::addColumn<int>("channels");
        QTest::addRow("grey") << 1;
        QTest::addRow("rgb") << 3;
        QTest::addRow("rgba") << 4;
    }
    void pngRoundTrip()
    {
        QFETCH(int, channels);
        const Image img = pattern(13, 7, channels);
        auto png = encodePng(img);
        QVERIFY(png.ok());
        auto back = decodeImage(*png, "mem.png");
        QVERIFY2(back.ok(), back.ok() ? "" : back.error().message.c_str());
        QCOMPARE(back->channels, channels);
        QVERIFY(back->pixels == img.pixels);
    }
    void textChunksRoundTripWithValidCrc()
    {
        const std::string params = "a cat, \"quoted\"\nNegative prompt: dog\nSteps: 20, Sampler: Euler a, CFG scale: 7";
        const std::string utf8 = "\xe7\x8c\xab (cat), \xc3\xa9t\xc3\xa9";
        auto png = encodePng(pattern(8, 8, 3), {{"parameters", params}, {"comment", utf8}});
        QVERIFY(png.ok());
        // The chunks follow IHDR directly, and every chunk's CRC is right.
        QCOMPARE(std::string(reinterpret_cast<const char *>(png->data()) + 37, 4), std::string("tEXt"));
        std::size_t pos = 8;
        int chunks = 0;
        while (pos + 12 <= png->size()) {
            const std::uint32_t len = be32(png->data() + pos);
            const uLong crc = crc32(crc32(0, Z_NULL, 0), png->data() + pos + 4, len + 4);
            QCOMPARE(std::uint32_t(crc), be32(png->data() + pos + 8 + len));
            pos += 12 + len;
            ++chunks;
        }
        QCOMPARE(pos, png->size());
        QVERIFY(chunks >= 5);
        auto text = readPngText(*png, "mem.png");
        QVERIFY(text.ok());
        QCOMPARE(findText(*text, "parameters"), params);
        QCOMPARE(findText(*text, "comment"), utf8);
        // libpng (through OpenCV) still decodes it.
        QVERIFY(decodeImage(*png, "mem.png").ok());
    }
    void writesAtomically()
    {
        QTemporaryDir dir;
        const std::string path = dir.filePath("out.png").toStdString();
        QVERIFY(writePng(path, pattern(8, 8, 3), {{"parameters", "x"}}).ok());
        QVERIFY(!QFile::exists(QString::fromStdString(path + ".tmp")));
        auto text = readPngTextFile(path);
        QVERIFY(text.ok());
        QCOMPARE(findText(*text, "parameters"), std::string("x"));
        auto img = readImage(path);
        QVERIFY(img.ok());
        QCOMPARE(img->width, 8);
        // Unwritable destination: IoError, no crash.
        auto st = writePng(dir.filePath("missing/dir/out.png").toStdString(), pattern(8, 8, 3));
        QVERIFY(!st.ok());
        QCOMPARE(int(st.error().code), int(ErrorCode::IoError));
    }
    void jpegAndWebp_data()
    {
        QTest::addColumn<QString>("ext");
        QTest::addRow("jpeg") << ".jpg";
        QTest::addRow("webp") << ".webp";
    }
    void jpegAndWebp()
    {
        QFETCH(QString, ext);
        cv::Mat m(24, 40, CV_8UC3, cv::Scalar(30, 120, 220));
        std::vector<std::uint8_t> bytes;
        QVERIFY(cv::imencode(ext.toStdString(), m, bytes));
        auto size = probeImageSize(bytes);
        QVERIFY2(size.ok(), size.ok() ? "" : size.error().message.c_str());
        QCOMPARE(size->width, 40);
        QCOMPARE(size->height, 24);
        auto img = decodeImage(bytes, "x" + ext.toStdString());
        QVERIFY(img.ok());
        QCOMPARE(img->channels, 3);
        // BGR(30,120,220) -> RGB(220,120,30), within codec loss.
        QVERIFY(std::abs(int(img->pixels[0]) - 220) <= 4);
        QVERIFY(std::abs(int(img->pixels[2]) - 30) <= 4);
    }
    void rejectsNonImagesWithTheFileName()
    {
        QTemporaryDir dir;
        const std::string path = dir.filePath("notes.png").toStdString();
        writeBytes(path, {'h', 'e', 'l', 'l', 'o'});
        auto img = readImage(path);
        QVERIFY(!img.ok());
        QCOMPARE(int(img.error().code), int(ErrorCode::InvalidImage));
        QVERIFY(img.error().message.find("notes.png") != std::string::npos);
        auto missing = readImage(dir.filePath("nope.png").toStdString());
        QCOMPARE(int(missing.error().code), int(ErrorCode::FileNotFound));
        // A PNG signature with a truncated body.
        auto png = encodePng(pattern(8, 8, 3));
        png->resize(40);
        auto trunc = decodeImage(*png, "cut.png");
        QVERIFY(!trunc.ok());
        QCOMPARE(int(trunc.error().code), int(ErrorCode::InvalidImage));
    }
    void refusesHugeImagesBeforeDecoding()
    {
        auto png = encodePng(pattern(8, 8, 1));
        QVERIFY(png.ok());
        // Patch IHDR to 20000 x 20000 (the data no longer matches; we must
        // refuse on the header alone).
        std::uint8_t *ihdr = png->data() + 16;
        const std::uint32_t big = 20000;
        for (int k = 0; k < 2; ++k) {
            ihdr[4 * k] = std::uint8_t(big >> 24);
            ihdr[4 * k + 1] = std::uint8_t(big >> 16);
            ihdr[4 * k + 2] = std::uint8_t(big >> 8);
            ihdr[4 * k + 3] = std::uint8_t(big);
        }
        auto img = decodeImage(*png, "bomb.png");
        QVERIFY(!img.ok());
        QCOMPARE(int(img.error().code), int(ErrorCode::InvalidImage));
        QVERIFY(img.error().message.find("too large") != std::string::npos);
    }
};

QTEST_GUILESS_MAIN(TestImageIO)
#include "TestImageIO.moc"
