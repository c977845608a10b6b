// Conv2d / Linear / Embedding (core/models/common): with initialisation on
// they draw exactly what torch::nn's layers draw (training runs unchanged),
// forward matches torch::nn's, SkipParameterInit leaves the values untouched
// (fast checkpoint loading), and WeightTransfer::Adopt shares the dict's
// storage instead of copying.
#include "core/models/common/Conv2d.h"
#include "core/models/common/Linear.h"
#include "core/models/common/ParameterInit.h"
#include "core/models/common/WeightLoading.h"

#include <ATen/ATen.h>
#include <torch/nn/modules/conv.h>
#include <torch/nn/modules/embedding.h>
#include <torch/nn/modules/linear.h>

#include <QTest>

using namespace stipple::core;

class TestLayers : public QObject {
    Q_OBJECT

private Q_SLOTS:
    void initTestCase() { at::GradMode::set_enabled(false); }

    void conv2dDrawsAndComputesLikeTorch()
    {
        const auto opts = torch::nn::Conv2dOptions(6, 10, 3).stride(2).padding(1);
        at::manual_seed(7);
        torch::nn::Conv2d ref(opts);
        at::manual_seed(7);
        Conv2d ours(opts);
        QVERIFY(at::equal(ours->weight, ref->weight));
        QVERIFY(at::equal(ours->bias, ref->bias));
        const at::Tensor x = at::randn({2, 6, 9, 7});
        QVERIFY(at::equal(ours->forward(x), ref->forward(x)));
        QCOMPARE(ours->named_parameters().size(), ref->named_parameters().size());

        // Prepared for inference: the packed weight gives the same result,
        // the plain copy is released, other uses fail clearly.
        if (ours->prepareForInference()) {
            QVERIFY(ours->preparedForInference());
            QCOMPARE(ours->weight.numel(), std::int64_t(0));
            QVERIFY(at::equal(ours->forward(x), ref->forward(x)));
            QVERIFY_THROWS_EXCEPTION(c10::Error, ours->forward(x.to(at::kBFloat16)));
            at::AutoGradMode grad(true);
            QVERIFY_THROWS_EXCEPTION(c10::Error, ours->forward(x));
        } else {
            qWarning("oneDNN unavailable: the packed path is not tested");
        }
        at::manual_seed(9);
        torch::nn::Conv2d refB(opts);
        refB->to(at::kBFloat16);
        at::manual_seed(9);
        Conv2d oursB(opts);
        oursB->to(at::kBFloat16);
        struct Holder : torch::nn::Module {
            explicit Holder(Conv2d c) { register_module("inner", c); }
        } holder(oursB);
        QCOMPARE(prepareConvolutionsForInference(holder), oursB->preparedForInference() ? 1 : 0);
        const at::Tensor xb = x.to(at::kBFloat16);
        QVERIFY(at::equal(oursB->forward(xb), refB->forward(xb)));

        // Packed for another dtype straight from a float16 weight (a file
        // view when loading), through one shared conversion buffer: the same
        // as converting first.
        if (convolutionPackingEnabled()) {
            struct Pair : torch::nn::Module {
                Pair(Conv2d a, Conv2d b)
                {
                    register_module("a", a);
                    register_module("b", b);
                }
            };
            at::manual_seed(11);
            Conv2d small(torch::nn::Conv2dOptions(6, 5, 3).padding(1)), large(torch::nn::Conv2dOptions(6, 16, 3).padding(1));
            at::manual_seed(11);
            torch::nn::Conv2d refSmall(torch::nn::Conv2dOptions(6, 5, 3).padding(1)),
                refLarge(torch::nn::Conv2dOptions(6, 16, 3).padding(1));
            for (auto *c : {&small, &large}) {
                (*c)->weight.set_data((*c)->weight.to(at::kHalf));
                (*c)->bias.set_data((*c)->bias.to(at::kHalf));
            }
            for (auto *r : {&refSmall, &refLarge}) {
                (*r)->weight.set_data((*r)->weight.to(at::kHalf).to(at::kFloat));
                (*r)->bias.set_data((*r)->bias.to(at::kHalf).to(at::kFloat));
            }
            Pair pair(small, large);
            QCOMPARE(prepareConvolutionsForInference(pair, at::kFloat), 2);
            QCOMPARE(small->bias.scalar_type(), at::kFloat);
            QCOMPARE(small->weight.scalar_type(), at::kFloat);
            QCOMPARE(small->weight.numel(), std::int64_t(0));
            QVERIFY(at::equal(small->forward(x), refSmall->forward(x)));
            QVERIFY(at::equal(large->forward(x), refLarge->forward(x)));

            // The buffer a caller passes grows to the larger weight; without
            // one, a local buffer serves.
            at::manual_seed(12);
            Conv2d first(torch::nn::Conv2dOptions(6, 5, 3).padding(1)), second(torch::nn::Conv2dOptions(6, 16, 3).padding(1)),
                alone(torch::nn::Conv2dOptions(6, 5, 3).padding(1));
            std::vector<at::Tensor> expected;
            for (auto *c : {&first, &second, &alone}) {
                (*c)->weight.set_data((*c)->weight.to(at::kHalf));
                expected.push_back(at::conv2d(x, (*c)->weight.to(at::kFloat), (*c)->bias, 1, 1));
            }
            at::Tensor scratch;
            QVERIFY(first->prepareForInference(at::kFloat, &scratch));
            QCOMPARE(scratch.numel(), first->options.out_channels() * 6 * 9);
            QVERIFY(second->prepareForInference(at::kFloat, &scratch));
            QCOMPARE(scratch.numel(), second->options.out_channels() * 6 * 9);
            QVERIFY(alone->prepareForInference(at::kFloat));
            QVERIFY(at::equal(first->forward(x), expected[0]));
            QVERIFY(at::equal(second->forward(x), expected[1]));
            QVERIFY(at::equal(alone->forward(x), expected[2]));
        }

        Conv2d noBias(torch::nn::Conv2dOptions(4, 4, 1).bias(false));
        QVERIFY(!noBias->bias.defined());
        QCOMPARE(noBias->named_parameters().size(), size_t(1));
    }

    void linearAndEmbeddingDrawLikeTorch()
    {
        at::manual_seed(3);
        torch::nn::Linear ref(torch::nn::LinearOptions(5, 7));
        torch::nn::Embedding refEmb(11, 4);
        at::manual_seed(3);
        Linear ours(5, 7);
        Embedding emb(11, 4);
        QVERIFY(at::equal(ours->weight, ref->weight));
        QVERIFY(at::equal(ours->bias, ref->bias));
        QVERIFY(at::equal(emb->weight, refEmb->weight));
        const at::Tensor x = at::randn({3, 5});
        QVERIFY(at::equal(ours->forward(x), ref->forward(x)));
        const at::Tensor ids = at::tensor({0, 10, 3}, at::kLong);
        QVERIFY(at::equal(emb->forward(ids), refEmb->forward(ids)));
    }

    void skipLeavesTheGeneratorAlone()
    {
        at::manual_seed(5);
        const at::Tensor expected = at::rand({4});
        at::manual_seed(5);
        {
            SkipParameterInit skip;
            QVERIFY(!parameterInitEnabled());
            {
                SkipParameterInit nested;
            }
            QVERIFY(!parameterInitEnabled()); // nesting restores the outer state
            Conv2d c(torch::nn::Conv2dOptions(64, 64, 3));
            Linear l(256, 256);
            QCOMPARE(c->weight.sizes().vec(), (std::vector<std::int64_t>{64, 64, 3, 3}));
            QCOMPARE(l->bias.size(0), std::int64_t(256));
        }
        QVERIFY(parameterInitEnabled());
        // No random draws happened while skipping.
        QVERIFY(at::equal(at::rand({4}), expected));
    }

    void adoptSharesStorageCopyDoesNot()
    {
        StateDict d{{"weight", at::randn({3, 2}).to(at::kBFloat16)}, {"bias", at::randn({3})}};
        Linear copied(2, 3), adopted(2, 3);
        QVERIFY(loadWeightsStrict(*copied, d, "copy").ok());
        QVERIFY(loadWeightsStrict(*adopted, d, "adopt", nullptr, WeightTransfer::Adopt).ok());
        QCOMPARE(copied->weight.scalar_type(), at::kFloat); // copy_ converts to the module's dtype
        QVERIFY(copied->weight.data_ptr() != d.at("weight").data_ptr());
        QCOMPARE(adopted->weight.scalar_type(), at::kBFloat16);
        QCOMPARE(adopted->weight.data_ptr(), d.at("weight").data_ptr());
        QVERIFY(at::equal(adopted->bias, d.at("bias")));
        // Strictness is the same in both modes.
        d.erase("bias");
        QVERIFY(!loadWeightsStrict(*adopted, d, "adopt", nullptr, WeightTransfer::Adopt).ok());
    }
};

QTEST_GUILESS_MAIN(TestLayers)
#include "TestLayers.moc"
