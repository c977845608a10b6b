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
    const std::int64_t wanted = workers > 0 ? workers : std::max(1, at::get_num_threads());
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
    for (std::int64_t p = 1; p < parts; ++p) {
        at::launch([&shared, &fn, range = rangeOf(p), part = static_cast<int>(p)] {
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
    std::exception_ptr callerError;
    try {
        const auto [b, e] = rangeOf(0);
        fn(b, e, 0);
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
