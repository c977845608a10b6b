// stipple-bench's measuring and reporting: timing runs (wall and CPU
// seconds), interleaved A/B pairs, the result rows and their printing, the
// machine's load and memory, and the command-line options every stage reads.
// Thread-safety: single-threaded (the harness's main thread).
#pragma once

#include <c10/core/ScalarType.h>

#include <chrono>
#include <functional>
#include <string>
#include <utility>
#include <vector>

namespace stipple::bench {

using Clock = std::chrono::steady_clock;

double seconds(Clock::time_point a, Clock::time_point b);
double median(std::vector<double> v);
std::string loadAverage();
double peakRssMiB();
double currentRssMiB(); // VmRSS now
// Times `fn` `warmup` + `reps` times; returns the timed runs (wall seconds).
// The CPU seconds of each run go into the next report()'s note.
std::vector<double> timeRuns(int warmup, int reps, const std::function<void()> &fn);
// Forgets the CPU seconds of the last timeRuns() (a run that is not reported).
void discardLastCpu();
// Times `a` and `b` one run each in turn, `rounds` times, so the VM's drift
// hits both alike; a first round (plans, caches) is run and not counted.
std::pair<std::vector<double>, std::vector<double>> interleavedRuns(int rounds, const std::function<void()> &a,
                                                                    const std::function<void()> &b);

struct Options {
    std::string checkpoint = "/tmp/sd15-random.safetensors";
    std::vector<int> resolutions{256, 512};
    std::vector<std::string> dtypes{"fp32", "bf16"};
    std::vector<std::string> stages{"load", "text", "unet", "vae", "preview"};
    int reps = 5;
    int warmup = 1;
    int threads = 0;
    bool channelsLast = false;
    bool vaePrepacked = false;
    bool convertBeforePacking = false; // the UNet's convolutions through the arena first (before session 8)
    bool packAtLoad = false;           // the UNet packed while loading (before session 14)
    bool profile = false;
    bool compare = false;
    std::size_t trimThresholdBytes = 0; // malloc's, as configureRuntime set it (0: glibc's default)
    std::string python = "/usr/bin/python3";
    std::string diffusersPath = "/tmp/sched-ref/src:/tmp/sched-ref/hub";
    int compareReps = 3;
    std::string sdCpp;
    std::string sdCppModel;
    std::string ab; // "allocator" or "threads": interleaved A/B of the UNet step
};

bool wants(const Options &o, const std::string &stage);
// "bf16" -> bfloat16, anything else float32 (the --dtype names).
at::ScalarType dtypeOf(const std::string &name);

struct Row {
    std::string stage, dtype;
    int res = 0;
    double median = 0;
    std::vector<double> runs;
    std::string note;
};

// Prints `r` (with the CPU seconds of the last timeRuns() when they match)
// and keeps it for findRow() and reportedRows().
void report(Row r);
const Row *findRow(const std::string &stage, const std::string &dtype, int res);
const std::vector<Row> &reportedRows();

} // namespace stipple::bench
