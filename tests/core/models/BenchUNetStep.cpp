// Manual benchmark (not a ctest): SD 1.5-sized UNet step time with random
// weights, and chunked vs plain attention. Run with OPENBLAS_CORETYPE=SkylakeX.
//   bench_unet_step attention
//   bench_unet_step unet <latent 32|64> <fp32|bf16> [iters] [channels_last 0|1]
#include "core/models/common/Attention.h"
#include "core/common/CpuAllocator.h"
#include "core/models/unet/UNet2DConditionModel.h"

#include <ATen/ATen.h>
#include <ATen/Parallel.h>
#include <c10/core/InferenceMode.h>
#include <torch/nn/module.h>
#include <torch/csrc/autograd/profiler_legacy.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <string>

#include <sys/resource.h>

using namespace stipple::core;
using Clock = std::chrono::steady_clock;

static double cpuSeconds()
{
    rusage u{};
    getrusage(RUSAGE_SELF, &u);
    return u.ru_utime.tv_sec + u.ru_stime.tv_sec + 1e-6 * (u.ru_utime.tv_usec + u.ru_stime.tv_usec);
}

static double seconds(Clock::time_point a) { return std::chrono::duration<double>(Clock::now() - a).count(); }

static long peakRssMb()
{
    std::ifstream in("/proc/self/status");
    std::string line;
    while (std::getline(in, line))
        if (line.rfind("VmHWM:", 0) == 0)
            return std::atol(line.c_str() + 6) / 1024;
    return -1;
}

static void benchAttention()
{
    for (auto dtype : {at::kFloat, at::kBFloat16}) {
        // One SD 1.5 first-level self-attention at 512², CFG batch 2: 16 x 4096 x 40.
        at::Tensor q = at::randn({16, 4096, 40}).to(dtype), k = at::randn({16, 4096, 40}).to(dtype),
                   v = at::randn({16, 4096, 40}).to(dtype);
        const double scale = 1.0 / std::sqrt(40.0);
        auto run = [&](const char *name, auto fn) {
            fn();
            double best = 1e9;
            for (int i = 0; i < 2; ++i) {
                auto t = Clock::now();
                fn();
                best = std::min(best, seconds(t));
            }
            std::printf("%-5s %-28s %.3f s\n", dtype == at::kFloat ? "fp32" : "bf16", name, best);
        };
        run("plain (1 GiB scores)", [&] { scaledDotProductAttentionPlain(q, k, v, scale); });
        for (std::int64_t mb : {4, 16, 64}) {
            AttentionOptions o;
            o.chunkBytes = mb << 20;
            const std::string name = "chunked " + std::to_string(mb) + " MiB";
            run(name.c_str(), [&] { scaledDotProductAttention(q, k, v, scale, o); });
        }
        AttentionOptions o;
        const double d = (scaledDotProductAttention(q, k, v, scale, o).to(at::kFloat) -
                          scaledDotProductAttentionPlain(q, k, v, scale).to(at::kFloat))
                             .abs()
                             .max()
                             .item<double>();
        std::printf("      chunked vs plain max|diff| = %.3g\n", d);
    }
}

static void benchUNet(std::int64_t latent, bool bf16, int iters, bool channelsLast)
{
    torch::manual_seed(0);
    UNet2DConditionModel unet(UNetConfig::sd15());
    unet->eval();
    if (bf16)
        unet->toDtype(at::kBFloat16);
    unet->setChannelsLast(channelsLast);
    const at::Tensor x = at::randn({2, 4, latent, latent});
    const at::Tensor ctx = at::randn({2, 77, 768});
    const at::Tensor t = at::tensor(int64_t(999));
    auto t0 = Clock::now();
    at::Tensor out = unet->forward(x, t, ctx);
    std::printf("warm-up step: %.2f s\n", seconds(t0));
    if (const char *trace = std::getenv("BENCH_TRACE")) {
        torch::autograd::profiler::RecordProfile guard(trace);
        unet->forward(x, t, ctx);
    }
    double total = 0, best = 1e9;
    const double cpu0 = cpuSeconds();
    for (int i = 0; i < iters; ++i) {
        auto s = Clock::now();
        out = unet->forward(x, t, ctx);
        const double dt = seconds(s);
        total += dt;
        best = std::min(best, dt);
    }
    const double cpu = (cpuSeconds() - cpu0) / iters;
    if (const CpuAllocator *alloc = installedCpuAllocator()) {
        const auto st = alloc->stats();
        std::printf("huge-page allocator: on, large allocations %llu (cache hits %llu), cached %zu MiB\n",
                    (unsigned long long)st.largeAllocations, (unsigned long long)st.cacheHits, st.bytesCached >> 20);
    } else {
        std::printf("huge-page allocator: off\n");
    }
    std::printf("UNet SD1.5 %lldx%lld latents (%lld px) batch 2 %s%s: mean %.2f s/step, best %.2f "
                "(%d steps), CPU %.2f s/step (~%.2f s on 2 idle cores), peak RSS %ld MiB, finite=%d\n",
                (long long)latent, (long long)latent, (long long)latent * 8, bf16 ? "bf16" : "fp32",
                channelsLast ? " channels_last" : "", total / iters, best, iters, cpu, cpu / 2, peakRssMb(),
                int(at::isfinite(out).all().item<bool>()));
}

int main(int argc, char **argv)
{
    std::setvbuf(stdout, nullptr, _IONBF, 0);
    c10::InferenceMode inference; // forward() records autograd otherwise
    if (!std::getenv("BENCH_NO_LARGE_PAGES"))
        stipple::core::installCpuAllocator();
    at::set_num_threads(2);
    const std::string mode = argc > 1 ? argv[1] : "attention";
    if (mode == "attention") {
        benchAttention();
    } else if (mode == "unet") {
        const std::int64_t latent = argc > 2 ? std::atoll(argv[2]) : 32;
        const bool bf16 = argc > 3 && std::strcmp(argv[3], "bf16") == 0;
        const int iters = argc > 4 ? std::atoi(argv[4]) : 2;
        const bool cl = argc > 5 && std::atoi(argv[5]) != 0;
        benchUNet(latent, bf16, iters, cl);
    }
    return 0;
}
