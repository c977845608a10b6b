// BrownianTree and SeedSequence against torchsde 0.2.6 / numpy 1.24:
// ref/ref-brownian_tree.safetensors (made by ref/make_reference.py, described
// by the "brownian" section of ref/manifest.json) holds raw
// torchsde.BrownianTree increments for several entropies, intervals, shapes
// and dtypes, and numpy SeedSequence states. Also checks the properties the
// DPM++ SDE sampler relies on: increments do not depend on query order or on
// the cache, are additive, and have variance tb - ta.
#include "core/io/SafeTensors.h"
#include "core/schedulers/BrownianTree.h"
#include "core/schedulers/SeedSequence.h"

#include <ATen/ATen.h>
#include <nlohmann/json.hpp>

#include <QTest>

#include <fstream>

using namespace stipple::core;

namespace {

const QString kRefDir = QStringLiteral(STIPPLE_SOURCE_DIR "/tests/core/schedulers/ref");

nlohmann::json brownianManifest()
{
    std::ifstream in((kRefDir + QStringLiteral("/manifest.json")).toStdString());
    return nlohmann::json::parse(in).at("brownian");
}

at::Tensor refTensor(const std::string &name)
{
    const std::string file =
        (kRefDir + QLatin1Char('/')).toStdString() + brownianManifest().at("file").get<std::string>();
    auto f = SafeTensorsFile::open(file);
    if (!f.ok())
        qFatal("%s: %s", file.c_str(), f.error().message.c_str());
    auto t = f->tensor(name);
    if (!t.ok())
        qFatal("%s: %s", name.c_str(), t.error().message.c_str());
    return *t;
}

double maxAbs(const at::Tensor &a, const at::Tensor &b)
{
    return (a.to(at::kDouble) - b.to(at::kDouble)).abs().max().item<double>();
}

at::ScalarType dtypeOf(const std::string &name)
{
    if (name == "torch.float64")
        return at::kDouble;
    if (name == "torch.float32")
        return at::kFloat;
    qFatal("unexpected dtype %s", name.c_str());
    return at::kFloat;
}

} // namespace

class TestBrownianTree : public QObject {
    Q_OBJECT

private Q_SLOTS:
    void seedSequence();
    void roundTime_data();
    void roundTime();
    void torchsdeIncrements_data();
    void torchsdeIncrements();
    void orderAndCacheIndependent();
    void additiveWithBridgeVariance();
    void invalidQueries();
};

void TestBrownianTree::seedSequence()
{
    const nlohmann::json ss = brownianManifest().at("seed_sequence");
    const at::Tensor states = refTensor(ss.at("tensor"));
    const int pool = ss.at("pool_size");
    const auto &entropies = ss.at("entropies");
    const auto &keys = ss.at("spawn_keys");
    QCOMPARE(states.size(0), int64_t(entropies.size()));
    for (size_t e = 0; e < entropies.size(); ++e) {
        for (size_t k = 0; k < keys.size(); ++k) {
            const auto key = keys[k].get<std::vector<uint64_t>>();
            const std::vector<uint32_t> got = SeedSequence(entropies[e].get<uint64_t>(), key, pool).generateState(4);
            for (int w = 0; w < 4; ++w) {
                const auto want = uint32_t(states[e][k][w].item<int64_t>());
                if (got[w] != want)
                    QFAIL(qPrintable(QStringLiteral("entropy #%1 spawn key #%2 word %3: %4, numpy %5")
                                         .arg(e).arg(k).arg(w).arg(got[w]).arg(want)));
            }
        }
    }
    // generate_state cycles the pool: word i + pool uses the same pool word
    // with a later hash constant, so it differs.
    const auto many = SeedSequence(1, {}, 4).generateState(8);
    QCOMPARE(int(many.size()), 8);
    QVERIFY(many[0] != many[4]);
}

void TestBrownianTree::roundTime_data()
{
    QTest::addColumn<double>("x");
    QTest::addColumn<double>("expected");
    // Python round(x, 6).
    QTest::newRow("sigma min") << 0.029167532920837402 << 0.029168;
    QTest::newRow("sigma max") << 14.614642143249512 << 14.614642;
    QTest::newRow("exact tie, to even") << 0.0078125 << 0.007812;
    QTest::newRow("just below a tie") << 0.0078135 << 0.007813; // binary value 0.00781349999...
    QTest::newRow("just above a tie") << 0.0078145 << 0.007815; // binary value 0.00781450000...
    QTest::newRow("negative") << -1.23456789 << -1.234568;
    QTest::newRow("grid point") << 3.3 << 3.3;
}

void TestBrownianTree::roundTime()
{
    QFETCH(double, x);
    QFETCH(double, expected);
    QCOMPARE(BrownianTree::roundTime(x), expected);
}

void TestBrownianTree::torchsdeIncrements_data()
{
    QTest::addColumn<int>("index");
    const auto trees = brownianManifest().at("trees");
    for (size_t i = 0; i < trees.size(); ++i)
        QTest::newRow(qPrintable(QStringLiteral("tree%1 entropy %2")
                                     .arg(i)
                                     .arg(trees[i].at("entropy").get<uint64_t>())))
            << int(i);
}

void TestBrownianTree::torchsdeIncrements()
{
    QFETCH(int, index);
    const nlohmann::json t = brownianManifest().at("trees").at(index);
    const at::Tensor ref = refTensor(t.at("tensor"));
    const auto shape = t.at("shape").get<std::vector<int64_t>>();
    const at::ScalarType dtype = dtypeOf(t.at("dtype"));
    BrownianTree tree(t.at("t0").get<double>(), t.at("t1").get<double>(), t.at("entropy").get<uint64_t>(), shape,
                      dtype);
    QCOMPARE(tree.start(), BrownianTree::roundTime(t.at("t0").get<double>()));
    const auto &queries = t.at("queries");
    double worst = 0;
    for (size_t q = 0; q < queries.size(); ++q) {
        const double a = queries[q][0], b = queries[q][1];
        const at::Tensor w = tree.increment(a, b);
        QCOMPARE(w.scalar_type(), dtype);
        QCOMPARE(w.sizes(), ref[q].sizes());
        // The same ATen kernels on the same CPU give the same bits; 1e-6
        // leaves room for other SIMD paths of randn.
        const double d = maxAbs(w, ref[q]);
        QVERIFY2(d <= 1e-6, qPrintable(QStringLiteral("query %1 [%2, %3]: max |diff| %4").arg(q).arg(a).arg(b).arg(d)));
        worst = std::max(worst, d);
    }
    qInfo("tree %d: %zu queries, max |diff| vs torchsde %.3g", index, queries.size(), worst);
}

void TestBrownianTree::orderAndCacheIndependent()
{
    // Queries in reverse order, with enough others in between to push every
    // interval out of the 45-entry cache, give the same increments.
    const std::vector<std::pair<double, double>> qs = {{0.2, 0.7}, {1.5, 9.0}, {0.05, 14.5}, {3.141593, 3.141594}};
    BrownianTree a(0.03, 14.6, 77, {3, 4}), b(0.03, 14.6, 77, {3, 4});
    std::vector<at::Tensor> first;
    for (const auto &q : qs)
        first.push_back(a.increment(q.first, q.second));
    for (int k = 0; k < 200; ++k)
        a.increment(0.03 + 0.07 * k, 0.03 + 0.07 * k + 0.01);
    for (size_t i = qs.size(); i-- > 0;) {
        QVERIFY(at::equal(a.increment(qs[i].first, qs[i].second), first[i]));
        QVERIFY(at::equal(b.increment(qs[i].first, qs[i].second), first[i]));
    }
    // Another entropy, another path.
    BrownianTree c(0.03, 14.6, 78, {3, 4});
    QVERIFY(!at::equal(c.increment(0.2, 0.7), first[0]));
}

void TestBrownianTree::additiveWithBridgeVariance()
{
    // W(a, c) = W(a, b) + W(b, c) and Var W(a, b) = b - a over many elements.
    BrownianTree tree(0.02, 15.0, 123456789, {64, 64}, at::kDouble);
    const at::Tensor ab = tree.increment(0.5, 2.25), bc = tree.increment(2.25, 7.0), ac = tree.increment(0.5, 7.0);
    QVERIFY(maxAbs(ab + bc, ac) < 1e-12);
    const double var = bc.var().item<double>();
    QVERIFY2(std::abs(var - 4.75) < 0.25, qPrintable(QStringLiteral("variance %1, expected 4.75").arg(var)));
    // Disjoint increments are uncorrelated.
    const double corr = (ab * bc).mean().item<double>() / std::sqrt(1.75 * 4.75);
    QVERIFY2(std::abs(corr) < 0.05, qPrintable(QStringLiteral("correlation %1").arg(corr)));
    // Clamped to [t0, t1]; empty intervals are zero.
    QVERIFY(at::equal(tree.increment(0.0, 20.0), tree.increment(0.02, 15.0)));
    QCOMPARE(tree.increment(3.0, 3.0).abs().max().item<double>(), 0.0);
    QCOMPARE(tree.increment(3.0, 3.0000001).abs().max().item<double>(), 0.0); // same 1e-6 grid point
}

void TestBrownianTree::invalidQueries()
{
    BrownianTree tree(0.0, 1.0, 1, {2});
    QVERIFY_THROWS_EXCEPTION(c10::Error, tree.increment(0.6, 0.4));
    QVERIFY_THROWS_EXCEPTION(c10::Error, BrownianTree(1.0, 1.0, 1, {2}));
}

QTEST_GUILESS_MAIN(TestBrownianTree)
#include "TestBrownianTree.moc"
