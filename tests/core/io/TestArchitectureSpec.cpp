// ArchitectureSpec (tensor lists from configs, SD 1.5 sizes), the LDM key map
// in both directions against the fixture files, and the yaml line scanner.
#include "core/io/ArchitectureSpec.h"
#include "core/io/ConfigSynthesis.h"
#include "core/io/LdmKeyMap.h"
#include "core/io/SafeTensors.h"

#include "support/Fixtures.h"

#include <ATen/ATen.h>

#include <QTest>

#include <fstream>

using namespace stipple::core;
using stipple::test::fixturePath;

namespace {

StateDict load(const QString &rel, const std::string &prefix = {})
{
    return SafeTensorsFile::open(fixturePath(QStringLiteral("models/") + rel)).value().loadAll(std::nullopt, prefix).value();
}

void compareDicts(const StateDict &a, const StateDict &b)
{
    QCOMPARE(a.size(), b.size());
    for (const auto &[k, t] : a) {
        const auto it = b.find(k);
        QVERIFY2(it != b.end(), k.c_str());
        QVERIFY2(t.sizes() == it->second.sizes(), k.c_str());
        QVERIFY2(at::equal(t, it->second), k.c_str());
    }
}

} // namespace

class TestArchitectureSpec : public QObject {
    Q_OBJECT

private Q_SLOTS:
    void sd15Sizes();
    void specsMatchFixtures();
    void inverseMapGivesTheOriginalLayout();
    void yamlScanner();
};

void TestArchitectureSpec::sd15Sizes()
{
    // Known SD 1.5 parameter counts (diffusers' model.num_parameters()).
    QCOMPARE(specParameterCount(unetTensorSpecs(sd15UnetConfig()).value()), std::int64_t(859520964));
    QCOMPARE(specParameterCount(vaeTensorSpecs(sd15VaeConfig()).value()), std::int64_t(83653863));
    QCOMPARE(specParameterCount(textEncoderTensorSpecs(sd15TextEncoderConfig()).value()), std::int64_t(123060480));
    QVERIFY(!unetTensorSpecs(nlohmann::json::object()).ok());
}

void TestArchitectureSpec::specsMatchFixtures()
{
    STIPPLE_REQUIRE_FIXTURES();
    for (const char *m : {"tiny-sd1", "tiny-sd2", "tiny-sd1-inpaint"}) {
        const QString base = QLatin1String(m);
        auto unetCfg = nlohmann::json::parse(std::ifstream(fixturePath(QStringLiteral("models/") + base + QStringLiteral("/unet/config.json"))));
        auto vaeCfg = nlohmann::json::parse(std::ifstream(fixturePath(QStringLiteral("models/") + base + QStringLiteral("/vae/config.json"))));
        auto teCfg = nlohmann::json::parse(std::ifstream(fixturePath(QStringLiteral("models/") + base + QStringLiteral("/text_encoder/config.json"))));
        auto unet = load(base + QStringLiteral("/unet/diffusion_pytorch_model.safetensors"));
        auto vae = load(base + QStringLiteral("/vae/diffusion_pytorch_model.safetensors"));
        auto te = load(base + QStringLiteral("/text_encoder/model.safetensors"));
        te.erase("text_model.embeddings.position_ids");
        auto s1 = checkAgainstSpecs(unet, unetTensorSpecs(unetCfg).value(), "unet", m);
        QVERIFY2(s1.ok(), s1.ok() ? "" : s1.error().message.c_str());
        auto s2 = checkAgainstSpecs(vae, vaeTensorSpecs(vaeCfg).value(), "vae", m);
        QVERIFY2(s2.ok(), s2.ok() ? "" : s2.error().message.c_str());
        auto s3 = checkAgainstSpecs(te, textEncoderTensorSpecs(teCfg).value(), "text_encoder", m);
        QVERIFY2(s3.ok(), s3.ok() ? "" : s3.error().message.c_str());
    }
}

void TestArchitectureSpec::inverseMapGivesTheOriginalLayout()
{
    STIPPLE_REQUIRE_FIXTURES();
    for (const char *m : {"tiny-sd1", "tiny-sd2"}) {
        const QString base = QLatin1String(m);
        auto unetCfg = nlohmann::json::parse(std::ifstream(fixturePath(QStringLiteral("models/") + base + QStringLiteral("/unet/config.json"))));
        auto vaeCfg = nlohmann::json::parse(std::ifstream(fixturePath(QStringLiteral("models/") + base + QStringLiteral("/vae/config.json"))));
        const StateDict unet = load(base + QStringLiteral("/unet/diffusion_pytorch_model.safetensors"));
        const StateDict vae = load(base + QStringLiteral("/vae/diffusion_pytorch_model.safetensors"));
        const StateDict ldmUnet = load(base + QStringLiteral(".safetensors"), "model.diffusion_model.");
        const StateDict ldmVae = load(base + QStringLiteral(".safetensors"), "first_stage_model.");
        // diffusers -> LDM equals the file made by diffusers' own script.
        compareDicts(diffusersUnetToLdm(unet, unetLayoutFromConfig(unetCfg)).value(), ldmUnet);
        compareDicts(diffusersVaeToLdm(vae, vaeLayoutFromConfig(vaeCfg)).value(), ldmVae);
        // and the layouts inferred from either side agree.
        const auto fromLdm = unetLayoutFromLdm(ldmUnet).value();
        const auto fromCfg = unetLayoutFromConfig(unetCfg);
        QCOMPARE(fromLdm.levels, fromCfg.levels);
        QCOMPARE(fromLdm.layersPerBlock, fromCfg.layersPerBlock);
        QCOMPARE(fromLdm.downAttention, fromCfg.downAttention);
        QCOMPARE(fromLdm.upAttention, fromCfg.upAttention);
    }
}

void TestArchitectureSpec::yamlScanner()
{
    const auto y = parseLdmYaml("model:\n  params:\n    parameterization: \"v\"  # comment\n"
                                "    image_size: 96\n    unet_config:\n      params:\n        image_size: 32 # unused\n"
                                "        num_head_channels: 64\n    # tiny: width 32, heads 4, mlp 37\n",
                                "x.yaml");
    QVERIFY(y.present);
    QCOMPARE(*y.get("parameterization"), std::string("v"));
    QCOMPARE(*y.number("image_size"), 96.0);
    QCOMPARE(*y.number("num_head_channels"), 64.0);
    QCOMPARE(y.textEncoderHeads, 4);
    QVERIFY(!y.get("num_heads"));
}

QTEST_GUILESS_MAIN(TestArchitectureSpec)
#include "TestArchitectureSpec.moc"
