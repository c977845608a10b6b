// parallelRange (see ParallelRange.h).
#include "core/common/ParallelRange.h"

#include "core/common/Runtime.h"

#include <ATen/Parallel.h>

#include <dlfcn.h>

#include <algorithm>
#include <condition_variable>
#include <exception>
#include <mutex>

namespace stipple::core {

namespace {

// libgomp's entry points, looked up in the process (libtorch loads libgomp).
// GOMP_parallel is what `#pragma omp parallel` compiles to with GCC; calling
// it runs the parts on the very threads of ATen's OpenMP team. Why: on the
// inter-op pool a part ran beside the team's workers, which spin for a while
// after each ATen op (GOMP_SPINCOUNT) and so took a core from it: SD's
// level-1 fused attention at 256² took 0.016 s, and 0.011 s with libgomp's
// spinning cut short (session 11).
struct Gomp {
    void (*parallel)(void (*)(void *), void *, unsigned, unsigned) = nullptr;
    int (*threadNum)() = nullptr;
    int (*numThreads)() = nullptr;
};

const Gomp *gomp()
{
    static const Gomp g = [] {
        Gomp r;
        r.parallel = reinterpret_cast<decltype(r.parallel)>(::dlsym(RTLD_DEFAULT, "GOMP_parallel"));
        r.threadNum = reinterpret_cast<decltype(r.threadNum)>(::dlsym(RTLD_DEFAULT, "omp_get_thread_num"));
        r.numThreads = reinterpret_cast<decltype(r.numThreads)>(::dlsym(RTLD_DEFAULT, "omp_get_num_threads"));
        return r;
    }();
    static const bool allowed = envSwitch("STIPPLE_GOMP_TEAM") != 0; // 0: the inter-op pool (A/B runs)
    return allowed && g.parallel && g.threadNum && g.numThreads ? &g : nullptr;
}

struct TeamWork {
    const Gomp *gomp;
    const RangeFunction *fn;
    std::int64_t begin, n, parts;
    std::mutex mutex;
    std::exception_ptr error;
};

// Runs on every thread of the team: part p on thread p mod the team's size
// (a smaller team than asked for, e.g. inside another parallel region, runs
// them all). Exceptions must not unwind through libgomp's frames.
void runTeamParts(void *data)
{
    auto &w = *static_cast<TeamWork *>(data);
    const int thread = w.gomp->threadNum(), team = std::max(1, w.gomp->numThreads());
    for (std::int64_t p = thread; p < w.parts; p += team) {
        try {
            (*w.fn)(w.begin + w.n * p / w.parts, w.begin + w.n * (p + 1) / w.parts, static_cast<int>(p));
        } catch (...) {
            std::lock_guard<std::mutex> lock(w.mutex);
            if (!w.error)
                w.error = std::current_exception();
        }
    }
}

} // namespace

void parallelRange(std::int64_t begin, std::int64_t end, std::int64_t grain, const RangeFunction &fn, int workers)
{
    if (end <= begin)
        return;
    const std::int64_t n = end - begin;
    const Gomp *team = gomp();
    // On the inter-op pool, no more parts than it can run at once beside
    // this thread: tasks queued behind each other would only serialise.
    const std::int64_t threads = workers > 0 ? workers : std::max(1, at::get_num_threads());
    const std::int64_t wanted =
        team ? threads : std::min<std::int64_t>(threads, std::int64_t(at::get_num_interop_threads()) + 1);
    const std::int64_t parts = std::clamp<std::int64_t>(n / std::max<std::int64_t>(1, grain), 1, wanted);
    if (parts == 1) {
        fn(begin, end, 0);
        return;
    }
    if (team) {
        TeamWork work{team, &fn, begin, n, parts, {}, {}};
        team->parallel(&runTeamParts, &work, static_cast<unsigned>(parts), 0);
        if (work.error)
            std::rethrow_exception(work.error);
        return;
    }
    struct Shared {
        std::mutex mutex;
        std::condition_variable done;
        std::int64_t pending = 0;
        std::exception_ptr error;
    } shared;
    shared.pending = parts - 1;
    auto rangeOf = [&](std::int64_t p) {
        return std::pair<std::int64_t, std::int64_t>{begin + n * p / parts, begin + n * (p + 1) / parts};
    };
    // Parts that could not be queued (at::launch threw: no thread, no memory)
    // run here, so every part runs once and `shared` outlives every task.
    std::int64_t launched = 1;
    try {
        for (; launched < parts; ++launched) {
            at::launch([&shared, &fn, range = rangeOf(launched), part = static_cast<int>(launched)] {
                std::exception_ptr error;
                try {
                    fn(range.first, range.second, part);
                } catch (...) {
                    error = std::current_exception();
                }
                std::lock_guard<std::mutex> lock(shared.mutex);
                if (error && !shared.error)
                    shared.error = error;
                if (--shared.pending == 0)
                    shared.done.notify_one();
            });
        }
    } catch (...) {
        std::lock_guard<std::mutex> lock(shared.mutex);
        shared.pending -= parts - launched;
    }
    std::exception_ptr callerError;
    try {
        const auto [b, e] = rangeOf(0);
        fn(b, e, 0);
        for (std::int64_t p = launched; p < parts; ++p) {
            const auto [pb, pe] = rangeOf(p);
            fn(pb, pe, static_cast<int>(p));
        }
    } catch (...) {
        callerError = std::current_exception();
    }
    std::unique_lock<std::mutex> lock(shared.mutex);
    shared.done.wait(lock, [&] { return shared.pending == 0; });
    if (callerError)
        std::rethrow_exception(callerError);
    if (shared.error)
        std::rethrow_exception(shared.error);
}

} // namespace stipple::core
