// Top-level operator timing with ATen RecordFunction callbacks (see OpProfiler.h).
#include "bench/OpProfiler.h"

#include <ATen/record_function.h>

#include <algorithm>
#include <chrono>

namespace stipple::bench {

namespace {

using Clock = std::chrono::steady_clock;

struct Context : at::ObserverContext {
    Clock::time_point start;
    bool topLevel = false;
};

thread_local int t_depth = 0;
std::map<std::string, OpTotal> g_totals; // touched by the profiled thread only

std::unique_ptr<at::ObserverContext> onStart(const at::RecordFunction &fn)
{
    auto ctx = std::make_unique<Context>();
    ctx->topLevel = t_depth == 0;
    ++t_depth;
    ctx->start = Clock::now();
    return ctx;
}

void onEnd(const at::RecordFunction &fn, at::ObserverContext *base)
{
    const auto end = Clock::now();
    --t_depth;
    auto *ctx = static_cast<Context *>(base);
    if (!ctx || !ctx->topLevel)
        return;
    OpTotal &t = g_totals[fn.name()];
    t.name = fn.name();
    t.seconds += std::chrono::duration<double>(end - ctx->start).count();
    ++t.calls;
}

std::vector<OpTotal> sorted(std::map<std::string, OpTotal> m)
{
    std::vector<OpTotal> v;
    for (auto &kv : m)
        v.push_back(kv.second);
    std::sort(v.begin(), v.end(), [](const OpTotal &a, const OpTotal &b) { return a.seconds > b.seconds; });
    return v;
}

} // namespace

OpProfiler::OpProfiler()
{
    g_totals.clear();
    t_depth = 0;
    m_handle = at::addThreadLocalCallback(
        at::RecordFunctionCallback(&onStart, &onEnd).scopes({at::RecordScope::FUNCTION}));
}

OpProfiler::~OpProfiler() { at::removeCallback(m_handle); }

void OpProfiler::reset() { g_totals.clear(); }

std::vector<OpTotal> OpProfiler::byOperator() const { return sorted(g_totals); }

std::string OpProfiler::categoryOf(const std::string &op)
{
    auto has = [&](const char *s) { return op.find(s) != std::string::npos; };
    if (has("conv") || has("mkldnn_convolution"))
        return "convolution";
    if (has("bmm") || has("softmax") || has("fused_attention"))
        return "attention (q·kT, softmax, p·v)";
    if (has("linear") || has("addmm") || has("matmul") || op == "aten::mm")
        return "linear / matmul";
    if (has("group_norm") || has("layer_norm") || has("native_norm"))
        return "normalisation (GroupNorm, LayerNorm)";
    if (has("silu") || has("gelu") || has("sigmoid") || has("tanh"))
        return "activation (SiLU, GELU)";
    if (has("copy") || has("contiguous") || has("aten::to") || has("_to_copy") || has("clone") ||
        has("cat") || has("permute") || has("reshape") || has("view") || has("transpose") ||
        has("narrow") || has("empty") || has("resize") || has("chunk") || has("split"))
        return "copies / layout";
    if (has("upsample") || has("interpolate"))
        return "upsampling";
    return "element-wise / other";
}

std::vector<OpTotal> OpProfiler::byCategory() const
{
    std::map<std::string, OpTotal> cats;
    for (const auto &kv : g_totals) {
        const std::string c = categoryOf(kv.first);
        OpTotal &t = cats[c];
        t.name = c;
        t.seconds += kv.second.seconds;
        t.calls += kv.second.calls;
    }
    return sorted(cats);
}

double OpProfiler::totalSeconds() const
{
    double s = 0;
    for (const auto &kv : g_totals)
        s += kv.second.seconds;
    return s;
}

} // namespace stipple::bench
