// Latent -> RGB preview: the published 4x3 coefficients and its cost.
#include "core/image/LatentPreview.h"

#include <ATen/ATen.h>
#include <QElapsedTimer>
#include <QTest>

using namespace stipple::core;

class TestLatentPreview : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void projectsWithTheCoefficients()
    {
        at::Tensor z = at::zeros({2, 4, 3, 5});
        z[1][0].fill_(1.0f); // batch item 1: latent channel 0 = 1
        const Image p = latentPreview(z, 1);
        QCOMPARE(p.width, 5);
        QCOMPARE(p.height, 3);
        QCOMPARE(p.channels, 3);
        // ((0.298 + 1) / 2) * 255 = 165.5 -> 165 (truncated like .byte())
        QCOMPARE(int(p.pixels[0]), 165);
        QCOMPARE(int(p.pixels[1]), int((1.207f / 2) * 255));
        const Image zero = latentPreview(z, 0);
        QCOMPARE(int(zero.pixels[0]), 127);
        const Image comfy = latentPreview(z, 1, PreviewFactors::ComfySD15, 2);
        QCOMPARE(comfy.width, 10);
        QCOMPARE(int(comfy.pixels[0]), int((1.3512f / 2) * 255));
        // Saturates instead of wrapping.
        z[0][3].fill_(-100.0f);
        const Image sat = latentPreview(z, 0);
        QCOMPARE(int(sat.pixels[2]), 255);
    }
    void isCheap()
    {
        // SD 1.5 at 512x512: 64x64 latents. A UNet step is ~1 s on this CPU;
        // the preview must stay far below 1% of it (10 ms).
        at::Tensor z = at::randn({1, 4, 64, 64});
        latentPreview(z);
        QElapsedTimer t;
        t.start();
        for (int i = 0; i < 20; ++i)
            latentPreview(z);
        const double ms = t.nsecsElapsed() / 1e6 / 20;
        qInfo("preview of 64x64 latents: %.3f ms", ms);
        QVERIFY(ms < 10.0);
    }
};

QTEST_GUILESS_MAIN(TestLatentPreview)
#include "TestLatentPreview.moc"
