// A cancel flag passed per request. The requester (any thread) calls
// cancel(); the inference thread polls isCancelled() at every step and inside
// long loops (tiled VAE). Thread-safety: fully thread-safe (atomic).
#pragma once

#include <atomic>
#include <memory>

namespace stipple::core {

class CancelToken {
public:
    CancelToken() : m_flag(std::make_shared<std::atomic<bool>>(false)) {}
    void cancel() const { m_flag->store(true, std::memory_order_relaxed); }
    bool isCancelled() const { return m_flag->load(std::memory_order_relaxed); }
    void reset() const { m_flag->store(false, std::memory_order_relaxed); }

private:
    // Shared so copies handed to a worker observe the same flag.
    std::shared_ptr<std::atomic<bool>> m_flag;
};

} // namespace stipple::core
