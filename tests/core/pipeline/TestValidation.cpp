// Request validation: each mistake gives InvalidArgument with a clear message.
#include "core/pipeline/Validation.h"

#include <QTest>

#include <cmath>
#include <functional>

using namespace stipple::core;

Q_DECLARE_METATYPE(std::function<void(stipple::core::GenerationRequest &)>)

using Mutation = std::function<void(GenerationRequest &)>;

class TestValidation : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void defaultsAreValid()
    {
        GenerationRequest r;
        QVERIFY(validateRequest(r, ModelVariant::Base).ok());
        r.initImage = Image::blank(100, 60, 3);
        r.mask = Image::blank(100, 60, 1);
        QVERIFY(validateRequest(r, ModelVariant::Inpaint).ok());
    }
    void rejects_data()
    {
        QTest::addColumn<Mutation>("mutate");
        QTest::addColumn<QString>("expected"); // part of the message
        QTest::addRow("width not /8") << Mutation([](GenerationRequest &r) { r.width = 513; }) << "multiples of 8";
        QTest::addRow("height not /8") << Mutation([](GenerationRequest &r) { r.height = 100; }) << "multiples of 8";
        QTest::addRow("zero size") << Mutation([](GenerationRequest &r) { r.width = 0; }) << "positive";
        QTest::addRow("absurd size") << Mutation([](GenerationRequest &r) { r.width = r.height = 100000; }) << "too large";
        QTest::addRow("absurd area") << Mutation([](GenerationRequest &r) { r.width = r.height = 8192; }) << "too large";
        QTest::addRow("0 steps") << Mutation([](GenerationRequest &r) { r.steps = 0; }) << "steps";
        QTest::addRow("many steps") << Mutation([](GenerationRequest &r) { r.steps = 5000; }) << "steps";
        QTest::addRow("cfg nan") << Mutation([](GenerationRequest &r) { r.cfgScale = NAN; }) << "CFG";
        QTest::addRow("batch 0") << Mutation([](GenerationRequest &r) { r.batchSize = 0; }) << "batch size";
        QTest::addRow("count 0") << Mutation([](GenerationRequest &r) { r.batchCount = 0; }) << "batch count";
        QTest::addRow("clip skip 0") << Mutation([](GenerationRequest &r) { r.clipSkip = 0; }) << "clip skip";
        QTest::addRow("strength > 1") << Mutation([](GenerationRequest &r) {
            r.initImage = Image::blank(64, 64, 3);
            r.strength = 1.5f;
        }) << "strength";
        QTest::addRow("strength < 0") << Mutation([](GenerationRequest &r) {
            r.initImage = Image::blank(64, 64, 3);
            r.strength = -0.1f;
        }) << "strength";
        QTest::addRow("mask without init") << Mutation([](GenerationRequest &r) { r.mask = Image::blank(64, 64, 1); })
                                           << "needs an init image";
        QTest::addRow("mask size") << Mutation([](GenerationRequest &r) {
            r.initImage = Image::blank(64, 64, 3);
            r.mask = Image::blank(64, 32, 1);
        }) << "differs";
        QTest::addRow("broken init") << Mutation([](GenerationRequest &r) {
            r.initImage = Image::blank(64, 64, 3);
            r.initImage->pixels.resize(10);
        }) << "malformed";
        QTest::addRow("depth on base") << Mutation([](GenerationRequest &r) { r.depthMap = Image::blank(8, 8, 1); })
                                       << "not a depth model";
        QTest::addRow("eta") << Mutation([](GenerationRequest &r) { r.eta = -1; }) << "eta";
    }
    void rejects()
    {
        QFETCH(Mutation, mutate);
        QFETCH(QString, expected);
        GenerationRequest r;
        mutate(r);
        const Status s = validateRequest(r, ModelVariant::Base);
        QVERIFY(!s.ok());
        QCOMPARE(int(s.error().code), int(ErrorCode::InvalidArgument));
        QVERIFY2(QString::fromStdString(s.error().message).contains(expected),
                 s.error().message.c_str());
    }
    void depthModelNeedsDepthMap()
    {
        GenerationRequest r;
        QVERIFY(!validateRequest(r, ModelVariant::Depth).ok());
        r.depthMap = Image::blank(8, 8, 1);
        QVERIFY(validateRequest(r, ModelVariant::Depth).ok());
    }
};

QTEST_GUILESS_MAIN(TestValidation)
#include "TestValidation.moc"
