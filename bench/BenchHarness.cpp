#include "bench/BenchHarness.h"

#include <fmt/format.h>

#include <sys/resource.h>

#include <algorithm>
#include <cstdio>
#include <fstream>

namespace stipple::bench {


double seconds(Clock::time_point a, Clock::time_point b) { return std::chrono::duration<double>(b - a).count(); }

double median(std::vector<double> v)
{
    if (v.empty())
        return 0;
    std::sort(v.begin(), v.end());
    const size_t n = v.size();
    return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

std::string loadAverage()
{
    std::ifstream in("/proc/loadavg");
    std::string a, b, c;
    in >> a >> b >> c;
    return a + " " + b + " " + c;
}

double peakRssMiB()
{
    struct rusage ru {};
    getrusage(RUSAGE_SELF, &ru);
    return ru.ru_maxrss / 1024.0; // KiB on Linux
}

// Resident set now (VmRSS), MiB.
double currentRssMiB()
{
    std::ifstream in("/proc/self/status");
    std::string line;
    while (std::getline(in, line))
        if (line.rfind("VmRSS:", 0) == 0)
            return std::stod(line.substr(6)) / 1024.0;
    return 0;
}

namespace {

// CPU seconds (user + system) of the whole process. With --threads 1 this
// measures the work itself, unaffected by waiting for a core on a busy machine.
double processCpuSeconds()
{
    struct rusage ru {};
    getrusage(RUSAGE_SELF, &ru);
    return ru.ru_utime.tv_sec + ru.ru_stime.tv_sec + 1e-6 * (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec);
}

} // namespace

namespace {

std::vector<double> g_lastCpu; // CPU seconds of the last timeRuns() call, per run
std::vector<Row> g_rows;

} // namespace

std::vector<double> timeRuns(int warmup, int reps, const std::function<void()> &fn)
{
    for (int i = 0; i < warmup; ++i)
        fn();
    std::vector<double> t;
    g_lastCpu.clear();
    for (int i = 0; i < reps; ++i) {
        const double c = processCpuSeconds();
        const auto a = Clock::now();
        fn();
        t.push_back(seconds(a, Clock::now()));
        g_lastCpu.push_back(processCpuSeconds() - c);
    }
    return t;
}

void discardLastCpu() { g_lastCpu.clear(); }

namespace {

std::string fmtTimes(const std::vector<double> &t)
{
    std::string s;
    for (double x : t)
        s += fmt::format("{}{:.3f}", s.empty() ? "" : " ", x);
    return s;
}

} // namespace


void report(Row r)
{
    if (!g_lastCpu.empty() && g_lastCpu.size() == r.runs.size())
        r.note += fmt::format("{}cpu {:.3f} s", r.note.empty() ? "" : ", ", median(g_lastCpu));
    g_lastCpu.clear();
    g_rows.push_back(r);
    if (r.median < 0.01) // sub-10 ms stages (the preview): microseconds
        std::printf("  %-28s %-5s %4d  median %8.1f us  runs [%s ms]%s%s\n", r.stage.c_str(), r.dtype.c_str(), r.res,
                    r.median * 1e6, fmtTimes([&] { auto v = r.runs; for (double &x : v) x *= 1e3; return v; }()).c_str(),
                    r.note.empty() ? "" : "  ", r.note.c_str());
    else
        std::printf("  %-28s %-5s %4d  median %8.3f s   runs [%s]%s%s\n", r.stage.c_str(), r.dtype.c_str(),
                    r.res, r.median, fmtTimes(r.runs).c_str(), r.note.empty() ? "" : "  ", r.note.c_str());
    std::fflush(stdout);
}

const Row *findRow(const std::string &stage, const std::string &dtype, int res)
{
    for (const Row &r : g_rows)
        if (r.stage == stage && r.dtype == dtype && r.res == res)
            return &r;
    return nullptr;
}

bool wants(const Options &o, const std::string &stage)
{
    return std::find(o.stages.begin(), o.stages.end(), stage) != o.stages.end();
}

std::pair<std::vector<double>, std::vector<double>> interleavedRuns(int rounds, const std::function<void()> &a,
                                                                    const std::function<void()> &b)
{
    std::vector<double> ta, tb;
    for (int i = 0; i <= rounds; ++i) {
        const double tB = timeRuns(0, 1, b)[0], tA = timeRuns(0, 1, a)[0];
        if (i > 0) {
            ta.push_back(tA);
            tb.push_back(tB);
        }
    }
    return {ta, tb};
}

const std::vector<Row> &reportedRows() { return g_rows; }

at::ScalarType dtypeOf(const std::string &name) { return name == "bf16" ? at::kBFloat16 : at::kFloat; }

} // namespace stipple::bench
