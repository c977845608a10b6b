// parallelRange (see ParallelRange.h).
#include "core/common/ParallelRange.h"

#include <ATen/Parallel.h>

#include <algorithm>
#include <condition_variable>
#include <exception>
#include <mutex>

namespace stipple::core {

void parallelRange(std::int64_t begin, std::int64_t end, std::int64_t grain, const RangeFunction &fn, int workers)
{
    if (end <= begin)
        return;
    const std::int64_t n = end - begin;
    // No more parts than the pool can run at once beside this thread: tasks
    // queued behind each other would only serialise.
    const std::int64_t wanted =
        std::min<std::int64_t>(workers > 0 ? workers : std::max(1, at::get_num_threads()),
                               std::int64_t(at::get_num_interop_threads()) + 1);
    const std::int64_t parts = std::clamp<std::int64_t>(n / std::max<std::int64_t>(1, grain), 1, wanted);
    if (parts == 1) {
        fn(begin, end, 0);
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
