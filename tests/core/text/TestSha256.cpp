// Sha256: FIPS 180-2 appendix B vectors on both implementations, the SHA
// extensions path against the portable one over many lengths (each also fed
// in two uneven pieces), and files.
#include "core/text/Sha256.h"
#include "core/text/Sha256Ni.h"

#include <QTemporaryDir>
#include <QTest>

#include <fstream>
#include <random>
#include <string>

using namespace stipple::core;

namespace {
std::string hexOf(const std::string &bytes, Sha256::Implementation impl)
{
    Sha256 h(impl);
    h.update(bytes.data(), bytes.size());
    return Sha256::hex(h.finish());
}
} // namespace

class TestSha256 : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void knownVectors_data()
    {
        QTest::addColumn<int>("impl");
        QTest::newRow("fastest") << int(Sha256::Implementation::Fastest);
        QTest::newRow("portable") << int(Sha256::Implementation::Portable);
    }

    void knownVectors()
    {
        QFETCH(int, impl);
        const auto i = Sha256::Implementation(impl);
        QCOMPARE(hexOf("", i), std::string("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"));
        QCOMPARE(hexOf("abc", i), std::string("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"));
        QCOMPARE(hexOf("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq", i),
                 std::string("248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1"));
        QCOMPARE(hexOf(std::string(1000000, 'a'), i),
                 std::string("cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0"));
    }

    void extensionsMatchPortable()
    {
        if (!cpuHasShaNi())
            QSKIP("this CPU has no SHA extensions: only the portable path runs");
        std::mt19937 rng(5);
        std::string data(70000, '\0');
        for (char &c : data)
            c = char(rng());
        for (std::size_t n : {1u, 55u, 56u, 63u, 64u, 65u, 127u, 128u, 129u, 1000u, 4096u, 69999u}) {
            const std::string part = data.substr(0, n);
            const std::string expected = hexOf(part, Sha256::Implementation::Portable);
            QCOMPARE(hexOf(part, Sha256::Implementation::Fastest), expected);
            // Fed in two uneven pieces: buffered partial blocks, then whole ones.
            Sha256 split;
            const std::size_t cut = n / 3;
            split.update(part.data(), cut);
            split.update(part.data() + cut, n - cut);
            QCOMPARE(Sha256::hex(split.finish()), expected);
        }
    }

    void fileHex()
    {
        QTemporaryDir dir;
        const std::string path = dir.filePath(QStringLiteral("f.bin")).toStdString();
        const std::string content(3 * (1 << 20) + 17, 'x'); // more than one read buffer
        std::ofstream(path, std::ios::binary) << content;
        auto hex = Sha256::fileHex(path);
        QVERIFY(hex.ok());
        QCOMPARE(hex.value(), hexOf(content, Sha256::Implementation::Portable));
        QVERIFY(!Sha256::fileHex(dir.filePath(QStringLiteral("missing")).toStdString()).ok());
    }
};

QTEST_GUILESS_MAIN(TestSha256)
#include "TestSha256.moc"
