// DeferredPacking (core/models/common): what a layer packed for one call
// builds from its checkpoint weight, a chunk of rows at a time, is what it
// packs for good from the whole converted weight: the same rows, the same
// streamed convolution (in several groups and chunks, stride 1 and 2), the
// same packed matmul. From a float16 file (read with pread) and from memory.
#include "core/io/SafeTensors.h"
#include "core/models/common/DeferredPacking.h"
#include "core/models/common/DnnlConvolution.h"
#include "core/models/common/DnnlMatmul.h"

#include <ATen/ATen.h>
#include <c10/util/Exception.h>

#include <QTemporaryDir>
#include <QTest>

#include <string>
#include <utility>

using namespace stipple::core;

namespace {

// A float16 weight as a layer receives it: a view of a mapped checkpoint
// (`scope` collects the mapping, as openCheckpoint's does), or, without a
// scope, a tensor in memory; and a float32 DeferredPacking over it.
struct Source {
    at::Tensor view;
    std::shared_ptr<DeferredPacking> packing;
};

Source sourceOf(const at::Tensor &weight, MappedFilesScope *scope, const QTemporaryDir &dir)
{
    Source s;
    const at::Tensor half = weight.to(at::kHalf);
    if (!scope) {
        s.view = half;
        s.packing = std::make_shared<DeferredPacking>(at::kFloat, MappedFiles{});
        return s;
    }
    const std::string path = dir.filePath("weight.safetensors").toStdString();
    if (!writeSafeTensors(path, {{"w", half}}).ok())
        return s;
    auto file = SafeTensorsFile::open(path);
    if (!file.ok())
        return s;
    auto view = file->tensor("w");
    if (!view.ok())
        return s;
    s.view = *view;
    s.packing = std::make_shared<DeferredPacking>(at::kFloat, scope->files());
    return s;
}

// The data rows of a test run from a file view and from memory.
void fileAndMemoryRows()
{
    QTest::addColumn<bool>("fromFile");
    QTest::newRow("file") << true;
    QTest::newRow("memory") << false;
}

} // namespace

#define STIPPLE_REQUIRE_DNNL()                                                                                    \
    do {                                                                                                         \
        if (!DnnlConvolution::available() || !DnnlMatmul::available())                                          \
            QSKIP("oneDNN's kernels are not available (built without libdnnl-dev, or no AVX-512 here)");         \
    } while (false)

class TestDeferredPacking : public QObject {
    Q_OBJECT

    QTemporaryDir m_dir;

private Q_SLOTS:
    void initTestCase()
    {
        at::GradMode::set_enabled(false);
        QVERIFY(m_dir.isValid());
    }

    void rowsOfReadsTheRows_data() { fileAndMemoryRows(); }
    void rowsOfReadsTheRows()
    {
        QFETCH(bool, fromFile);
        at::manual_seed(5);
        const at::Tensor weight = at::randn({100, 7, 3});
        MappedFilesScope scope;
        Source s = sourceOf(weight, fromFile ? &scope : nullptr, m_dir);
        QVERIFY(s.view.defined());
        QCOMPARE(s.view.scalar_type(), at::kHalf);
        const at::Tensor expected = s.view.to(at::kFloat);
        for (const auto &[r0, count] : {std::pair{0, 100}, std::pair{13, 40}, std::pair{99, 1}}) {
            const at::Tensor rows = s.packing->rowsOf(s.view, r0, count);
            QCOMPARE(rows.scalar_type(), at::kFloat);
            QCOMPARE(rows.sizes(), (at::IntArrayRef{count, 7, 3}));
            QVERIFY(at::equal(rows, expected.narrow(0, r0, count)));
        }
        QVERIFY_THROWS_EXCEPTION(c10::Error, s.packing->rowsOf(s.view, 90, 11));
    }

    // A whole weight of more than one 2M-element chunk, into float32 (read
    // and converted on both threads) and into bfloat16 (copy_).
    void convertedReadsTheWholeWeight_data()
    {
        QTest::addColumn<bool>("bf16");
        QTest::newRow("float32") << false;
        QTest::newRow("bfloat16") << true;
    }
    void convertedReadsTheWholeWeight()
    {
        QFETCH(bool, bf16);
        at::manual_seed(6);
        const at::Tensor weight = at::randn({1280, 2560});
        MappedFilesScope scope;
        Source s = sourceOf(weight, &scope, m_dir);
        QVERIFY(s.view.defined());
        const at::ScalarType dtype = bf16 ? at::kBFloat16 : at::kFloat;
        DeferredPacking packing(dtype, scope.files());
        const at::Tensor converted = packing.converted(s.view);
        QCOMPARE(converted.scalar_type(), dtype);
        QVERIFY(at::equal(converted, s.view.to(dtype)));
    }

    // The region a model's first forward lends (beginForward) holds the
    // groups; the layer is adopted as a model's would be.
    void streamedConvolutionIsThePackedLayer_data()
    {
        QTest::addColumn<int>("out");
        QTest::addColumn<int>("in");
        QTest::addColumn<int>("size");
        QTest::addColumn<int>("stride");
        QTest::addColumn<bool>("fromFile");
        QTest::addColumn<int>("groups");
        // 512 x 1280: 23.6 MB blocked, two groups of 16 MiB at most, each
        // read in 32-row chunks.
        QTest::newRow("512 x 1280 at 8x8, file") << 512 << 1280 << 8 << 1 << true << 2;
        QTest::newRow("512 x 1280 at 8x8, memory") << 512 << 1280 << 8 << 1 << false << 2;
        QTest::newRow("stride 2, 256 x 640 at 16x16, file") << 256 << 640 << 16 << 2 << true << 1;
        QTest::newRow("320 x 320 at 32x32 (Winograd), file") << 320 << 320 << 32 << 1 << true << 1;
    }
    void streamedConvolutionIsThePackedLayer()
    {
        STIPPLE_REQUIRE_DNNL();
        QFETCH(int, out);
        QFETCH(int, in);
        QFETCH(int, size);
        QFETCH(int, stride);
        QFETCH(bool, fromFile);
        QFETCH(int, groups);
        at::manual_seed(7);
        const at::Tensor weight = at::randn({out, in, 3, 3}) * (1.0 / std::sqrt(9.0 * in));
        MappedFilesScope scope;
        Source s = sourceOf(weight, fromFile ? &scope : nullptr, m_dir);
        QVERIFY(s.view.defined());
        at::Tensor parameter = s.view, bias = at::randn({out});
        const at::Tensor view = s.packing->adopt(parameter, bias);
        s.packing->beginForward();
        QVERIFY(!s.packing->packsForGood());
        // Packed for good: the whole weight converted, then blocked.
        DnnlConvolution packed(view.to(at::kFloat), bias, nullptr, stride);
        const auto streamed = s.packing->streamedConvolution(view, bias, stride);
        const at::Tensor x = at::randn({2, in, size, size});
        QCOMPARE(streamed->groupsFor(2, size, size), groups);
        const at::Tensor y = streamed->forward(x);
        QCOMPARE(y.size(2), std::int64_t((size - 1) / stride + 1));
        QVERIFY(at::equal(y, packed.forward(x)));
        // Again, as the next step's call would (the buffer is reused).
        QVERIFY(at::equal(streamed->forward(x), y));
    }

    void matmulFromRowsIsThePackedLayer_data() { fileAndMemoryRows(); }
    void matmulFromRowsIsThePackedLayer()
    {
        STIPPLE_REQUIRE_DNNL();
        QFETCH(bool, fromFile);
        at::manual_seed(9);
        // 5120 -> 1280: 20 chunks of 64 output features.
        const at::Tensor weight = at::randn({1280, 5120}) * (1.0 / std::sqrt(5120.0));
        const at::Tensor bias = at::randn({1280});
        MappedFilesScope scope;
        Source s = sourceOf(weight, fromFile ? &scope : nullptr, m_dir);
        QVERIFY(s.view.defined());
        DnnlMatmul packed(s.view.to(at::kFloat), bias);
        DnnlMatmul byRows(
            DnnlMatmul::Rows{}, [&](std::int64_t n0, std::int64_t count) { return s.packing->rowsOf(s.view, n0, count); },
            1280, 5120, bias);
        QVERIFY(at::equal(byRows.plainWeight(), packed.plainWeight()));
        const at::Tensor x = at::randn({130, 5120});
        QVERIFY(at::equal(byRows.forward(x), packed.forward(x)));
    }
};

QTEST_GUILESS_MAIN(TestDeferredPacking)
#include "TestDeferredPacking.moc"
