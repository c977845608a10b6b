// SafeTensorsFile / writeSafeTensors / parseSafeTensorsHeader: round trips,
// zero-copy, conversions, and a corpus of crafted bad files (generated at
// runtime into a QTemporaryDir), each refused with a clear message.
#include "core/io/SafeTensors.h"

#include <ATen/ATen.h>

#include <QFile>
#include <QTemporaryDir>
#include <QTest>

#include <cstdint>
#include <fstream>
#include <string>

using namespace stipple::core;

namespace {

std::string le64(std::uint64_t n)
{
    std::string s(8, '\0');
    for (int i = 0; i < 8; ++i)
        s[i] = static_cast<char>((n >> (8 * i)) & 0xff);
    return s;
}

// A file made of a length field for `json`, the json and `data` bytes.
std::string craft(const std::string &json, std::size_t dataBytes)
{
    return le64(json.size()) + json + std::string(dataBytes, '\x01');
}

void writeBytes(const std::string &path, const std::string &bytes)
{
    std::ofstream f(path, std::ios::binary);
    f.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

} // namespace

class TestSafeTensors : public QObject {
    Q_OBJECT

private Q_SLOTS:
    void roundTrip();
    void zeroCopyKeepsMappingAlive();
    void releasedPagesReadBackFromTheFile();
    void releasePagesOfTouchesOnlyMappedTensors();
    void readBytesOfReadsTheFile();
    void outerScopeReleasesInnerMappings();
    void conversions();
    void missingFile();
    void badFiles_data();
    void badFiles();
    void pureParser();
};

void TestSafeTensors::roundTrip()
{
    QTemporaryDir dir;
    const std::string path = dir.filePath("a.safetensors").toStdString();
    StateDict sd;
    sd["w.f32"] = at::arange(12, at::kFloat).reshape({3, 4});
    sd["w.f16"] = at::linspace(-2, 2, 6).to(at::kHalf).reshape({2, 3});
    sd["w.bf16"] = at::linspace(-1, 1, 5).to(at::kBFloat16);
    sd["ids"] = at::arange(7, at::kLong);
    sd["empty"] = at::empty({0, 5}, at::kFloat);
    sd["scalar"] = at::scalar_tensor(3.5, at::kFloat);
    sd["mask"] = at::tensor({1, 0, 1}, at::kInt).to(at::kBool);
    sd["nc"] = at::arange(6, at::kFloat).reshape({2, 3}).t(); // non-contiguous
    QVERIFY(writeSafeTensors(path, sd, {{"format", "pt"}, {"note", "hello"}}).ok());

    auto file = SafeTensorsFile::open(path);
    QVERIFY2(file.ok(), file.ok() ? "" : file.error().message.c_str());
    QCOMPARE(file->names().size(), sd.size());
    QCOMPARE(file->metadata().at("note"), std::string("hello"));
    QCOMPARE(file->info("w.f16")->dtype, std::string("F16"));
    QVERIFY(file->contains("empty"));
    QVERIFY(!file->contains("nope"));
    for (const auto &[name, t] : sd) {
        auto r = file->tensor(name);
        QVERIFY2(r.ok(), name.c_str());
        QCOMPARE(r->scalar_type(), t.scalar_type());
        QCOMPARE(r->sizes().vec(), t.sizes().vec());
        QVERIFY2(at::equal(*r, t), name.c_str());
    }
    auto all = file->loadAll(at::kFloat, "w.");
    QVERIFY(all.ok());
    QCOMPARE(all->size(), std::size_t(3));
    QCOMPARE(all->at("f16").scalar_type(), at::kFloat);
    QVERIFY(at::equal(all->at("f16"), sd["w.f16"].to(at::kFloat)));
}

void TestSafeTensors::zeroCopyKeepsMappingAlive()
{
    QTemporaryDir dir;
    const std::string path = dir.filePath("z.safetensors").toStdString();
    QVERIFY(writeSafeTensors(path, {{"x", at::arange(1024, at::kFloat)}}).ok());
    at::Tensor a, b;
    {
        auto file = SafeTensorsFile::open(path);
        QVERIFY(file.ok());
        a = file->tensor("x").value();
        b = file->tensor("x").value();
    }
    // Same bytes of the mapping (no copy), still valid after the file object died.
    QCOMPARE(a.data_ptr(), b.data_ptr());
    QCOMPARE(a[1000].item<float>(), 1000.0f);
    QVERIFY(at::equal(a, at::arange(1024, at::kFloat)));
}

void TestSafeTensors::releasedPagesReadBackFromTheFile()
{
    // MappedFilesScope drops the mapped pages from the resident set; a view
    // into the mapping must still read the file's values afterwards.
    QTemporaryDir dir;
    const std::string path = dir.filePath("r.safetensors").toStdString();
    const at::Tensor values = at::arange(1 << 20, at::kFloat); // 4 MiB: whole pages inside
    QVERIFY(writeSafeTensors(path, {{"x", values}}).ok());
    at::Tensor view;
    {
        MappedFilesScope scope;
        auto file = SafeTensorsFile::open(path);
        QVERIFY(file.ok());
        view = file->tensor("x").value();
        QVERIFY(at::equal(view, values)); // touch every page
        scope.releaseResidentPages();
    }
    QVERIFY(at::equal(view, values));
    // Outside a scope nothing is collected (and releasing is harmless).
    MappedFilesScope empty;
    empty.releaseResidentPages();
    QVERIFY(MappedFilesScope::current() == &empty);
}

void TestSafeTensors::releasePagesOfTouchesOnlyMappedTensors()
{
    // The per-tensor release during conversion: a view of the file reads the
    // same values afterwards, and memory the scope did not map (a converted
    // copy on the heap) is never dropped, which would zero it.
    QTemporaryDir dir;
    const std::string path = dir.filePath("p.safetensors").toStdString();
    const at::Tensor values = at::arange(1 << 20, at::kFloat);
    QVERIFY(writeSafeTensors(path, {{"x", values}}).ok());
    MappedFilesScope scope;
    QVERIFY(MappedFilesScope::current() == &scope);
    auto file = SafeTensorsFile::open(path);
    QVERIFY(file.ok());
    const at::Tensor view = file->tensor("x").value();
    const at::Tensor copy = view.clone();
    QVERIFY(at::equal(view, values));
    scope.releasePagesOf(view);
    scope.releasePagesOf(copy);
    scope.releasePagesOf(at::Tensor());
    QVERIFY(at::equal(view, values));
    QVERIFY(at::equal(copy, values));
}

void TestSafeTensors::readBytesOfReadsTheFile()
{
    // DeferredPacking reads a view's bytes with pread: the values the view
    // holds, from any offset, kept by a copy of the scope's set after the
    // scope (and the file object) are gone; anything else is refused.
    QTemporaryDir dir;
    const std::string path = dir.filePath("b.safetensors").toStdString();
    const at::Tensor values = at::arange(100000, at::kFloat).to(at::kHalf);
    QVERIFY(writeSafeTensors(path, {{"a", at::ones({7})}, {"x", values}}).ok());
    MappedFiles files;
    at::Tensor view;
    {
        MappedFilesScope scope;
        view = SafeTensorsFile::open(path)->tensor("x").value();
        files = scope.files();
    }
    at::Tensor out = at::zeros({100000}, at::kHalf);
    QVERIFY(files.readBytesOf(view, 0, view.nbytes(), out.data_ptr()));
    QVERIFY(at::equal(out, values));
    at::Tensor part = at::zeros({1000}, at::kHalf);
    QVERIFY(files.readBytesOf(view, 2 * 5000, 2 * 1000, part.data_ptr()));
    QVERIFY(at::equal(part, values.narrow(0, 5000, 1000)));
    QVERIFY(!files.readBytesOf(view, 2, view.nbytes(), out.data_ptr())); // past its end
    QVERIFY(!files.readBytesOf(values, 0, values.nbytes(), out.data_ptr())); // not in a mapping
    QVERIFY(!files.readBytesOf(at::Tensor(), 0, 0, out.data_ptr()));
    QVERIFY(!MappedFiles().readBytesOf(view, 0, view.nbytes(), out.data_ptr())); // an empty set
}

namespace {
// Resident kB of the mapping that contains `addr` (/proc/self/smaps), -1 if none.
long residentKbOfMappingAt(const void *addr)
{
    QFile smaps(QStringLiteral("/proc/self/smaps"));
    if (!smaps.open(QIODevice::ReadOnly | QIODevice::Text))
        return -1;
    const auto a = reinterpret_cast<quintptr>(addr);
    bool inside = false;
    for (const QByteArray &line : smaps.readAll().split('\n')) {
        const int dash = line.indexOf('-');
        const int space = line.indexOf(' ');
        if (dash > 0 && space > dash) { // "begin-end perms offset dev inode path" header
            inside = line.left(dash).toULongLong(nullptr, 16) <= a && a < line.mid(dash + 1, space - dash - 1).toULongLong(nullptr, 16);
        } else if (inside && line.startsWith("Rss:")) {
            return line.mid(4).trimmed().split(' ').first().toLong();
        }
    }
    return -1;
}
} // namespace

void TestSafeTensors::outerScopeReleasesInnerMappings()
{
    // Engine::load holds a scope around openCheckpoint's own: views that the
    // inner scope left mapped (deferred conversions) are released through the
    // outer one, and still read the file afterwards.
    QTemporaryDir dir;
    const std::string path = dir.filePath("n.safetensors").toStdString();
    const at::Tensor values = at::arange(1 << 22, at::kFloat); // 16 MiB
    QVERIFY(writeSafeTensors(path, {{"x", values}}).ok());
    MappedFilesScope outer;
    at::Tensor view;
    {
        MappedFilesScope inner;
        auto file = SafeTensorsFile::open(path);
        QVERIFY(file.ok());
        view = file->tensor("x").value();
    }
    QVERIFY(MappedFilesScope::current() == &outer);
    QVERIFY(at::equal(view, values)); // every page resident now
    const long before = residentKbOfMappingAt(view.data_ptr());
    QVERIFY2(before >= 15 * 1024, qPrintable(QString::number(before)));
    outer.releasePagesOf(view);
    const long after = residentKbOfMappingAt(view.data_ptr());
    QVERIFY2(after >= 0 && after < 1024, qPrintable(QString::number(after)));
    QVERIFY(at::equal(view, values));
}

void TestSafeTensors::conversions()
{
    QTemporaryDir dir;
    const std::string path = dir.filePath("c.safetensors").toStdString();
    const at::Tensor h = at::randn({4, 4}).to(at::kHalf);
    QVERIFY(writeSafeTensors(path, {{"h", h}, {"i", at::arange(3, at::kInt)}}).ok());
    auto file = SafeTensorsFile::open(path);
    QVERIFY(file.ok());
    QVERIFY(at::equal(file->tensor("h", at::kFloat).value(), h.to(at::kFloat)));
    QVERIFY(at::equal(file->tensor("h", at::kBFloat16).value(), h.to(at::kBFloat16)));
    QCOMPARE(file->tensor("i", at::kLong)->scalar_type(), at::kLong);
    auto bad = file->tensor("h", at::kLong);
    QVERIFY(!bad.ok());
    QCOMPARE(bad.error().code, ErrorCode::InvalidArgument);
    auto missing = file->tensor("nope");
    QVERIFY(!missing.ok());
    QVERIFY(missing.error().message.find("nope") != std::string::npos);
}

void TestSafeTensors::missingFile()
{
    auto r = SafeTensorsFile::open("/nonexistent/dir/x.safetensors");
    QVERIFY(!r.ok());
    QCOMPARE(r.error().code, ErrorCode::FileNotFound);
    QVERIFY(r.error().message.find("x.safetensors") != std::string::npos);
}

void TestSafeTensors::badFiles_data()
{
    QTest::addColumn<QByteArray>("bytes");
    QTest::addColumn<QString>("expect"); // substring of the message

    const std::string ok = R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}})";
    const std::string good = craft(ok, 8);
    auto row = [](const char *name, const std::string &b, const char *expect) {
        QTest::newRow(name) << QByteArray(b.data(), int(b.size())) << QString::fromLatin1(expect);
    };
    row("empty file", "", "too small");
    row("truncated length field", good.substr(0, 5), "too small");
    row("truncated data", good.substr(0, good.size() - 3), "tensor 'a'");
    row("truncated header", good.substr(0, 20), "exceeds the file size");
    row("header length huge", le64(1ull << 40) + "{}", "exceeds the limit");
    row("header length max", le64(~0ull) + "{}", "exceeds the limit");
    row("header length zero", le64(0), "too small");
    row("garbage json", craft("{\"a\": [1, 2,, }", 0), "not valid JSON");
    row("not json at all", craft("hello world", 0), "does not start");
    row("json array", craft("[1,2]  ", 0), "does not start");
    row("entry not object", craft(R"({"a": 3})", 0), "tensor 'a'");
    row("unknown dtype", craft(R"({"a":{"dtype":"F8_E4M3","shape":[2],"data_offsets":[0,2]}})", 2),
        "unsupported dtype 'F8_E4M3'");
    row("missing dtype", craft(R"({"a":{"shape":[2],"data_offsets":[0,8]}})", 8), "'dtype'");
    row("negative shape", craft(R"({"a":{"dtype":"F32","shape":[-2],"data_offsets":[0,8]}})", 8),
        "non-negative");
    row("float shape", craft(R"({"a":{"dtype":"F32","shape":[2.5],"data_offsets":[0,8]}})", 8),
        "non-negative");
    row("size mismatch", craft(R"({"a":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}})", 8),
        "size mismatch");
    row("overflowing shape",
        craft(R"({"a":{"dtype":"F32","shape":[4294967296,4294967296],"data_offsets":[0,8]}})", 8),
        "overflows");
    row("out of range offsets", craft(R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[8,16]}})", 8),
        "outside the data section");
    row("begin after end", craft(R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[8,0]}})", 8),
        "begin 8 > end 0");
    row("overlapping offsets",
        craft(R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}})",
              12),
        "overlaps tensor 'a'");
    row("three offsets", craft(R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,4,8]}})", 8),
        "two integers");
    row("metadata not strings", craft(R"({"__metadata__":{"k":1}})", 0), "__metadata__");
    row("pickle zip (.ckpt)", std::string("PK\x03\x04\x14\x00\x00\x00\x08\x00", 10) + std::string(200, 'x'),
        "not a safetensors file");
    row("raw pickle", std::string("\x80\x02}q\x00(X\x05\x00\x00\x00", 12) + std::string(40, 'x'),
        "not a safetensors file");
    row("deep nesting", craft("{\"a\":" + std::string(100000, '[') + std::string(100000, ']') + "}", 0),
        "tensor 'a'");
}

void TestSafeTensors::badFiles()
{
    QFETCH(QByteArray, bytes);
    QFETCH(QString, expect);
    QTemporaryDir dir;
    const std::string path = dir.filePath("bad.safetensors").toStdString();
    writeBytes(path, bytes.toStdString());
    auto r = SafeTensorsFile::open(path);
    QVERIFY2(!r.ok(), "a bad file was accepted");
    QCOMPARE(r.error().code, ErrorCode::CorruptFile);
    const std::string &msg = r.error().message;
    QVERIFY2(msg.find(path) != std::string::npos, msg.c_str());
    QVERIFY2(msg.find(expect.toStdString()) != std::string::npos, msg.c_str());
}

void TestSafeTensors::pureParser()
{
    // Zero-size tensors are legal anywhere, even "inside" another tensor.
    auto h = parseSafeTensorsHeader(
        R"({"a":{"dtype":"F16","shape":[4],"data_offsets":[0,8]},"e":{"dtype":"F32","shape":[0,7],"data_offsets":[4,4]}})",
        8, "mem");
    QVERIFY2(h.ok(), h.ok() ? "" : h.error().message.c_str());
    QCOMPARE(h->tensors.size(), std::size_t(2));
    QCOMPARE(h->tensors[1].name, std::string("e"));
    QCOMPARE(h->tensors[1].shape, (std::vector<std::int64_t>{0, 7}));
    QCOMPARE(safeTensorsItemSize("BF16"), std::size_t(2));
    QCOMPARE(safeTensorsItemSize("F8_E5M2"), std::size_t(0));
    auto bad = parseSafeTensorsHeader("{\"x\":{\"dtype\":\"F32\"", 0, "mem");
    QVERIFY(!bad.ok());
    QVERIFY(bad.error().message.find("'mem'") != std::string::npos);
}

QTEST_GUILESS_MAIN(TestSafeTensors)
#include "TestSafeTensors.moc"
