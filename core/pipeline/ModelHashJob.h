// The "Model hash" of a loaded checkpoint (A1111's first 10 hex digits of
// the file's SHA-256), hashed on a background thread while the engine is
// idle: between loading and the first Generate (the artist writing the
// prompt) it costs nothing, and it never competes with inference, which
// pauses it. Whatever is left when the first infotext needs the hash is
// finished on the calling thread. A 2 GB file takes ~2 s with the SHA
// extensions on the development VM, ~10 s without. The file is opened once,
// when the job starts, so moving or replacing it later changes nothing.
// Thread-safety: all members from one thread (the engine's). The worker
// reads the file and owns m_hash and m_failed until it is joined (stop,
// destructor, result()); it publishes m_offset atomically; pause/stop go
// through the mutex.
#pragma once

#include "core/common/CancelToken.h"
#include "core/text/Sha256.h"

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <string>
#include <thread>

namespace stipple::core {

class ModelHashJob {
public:
    enum class Start { Running, Paused };

    explicit ModelHashJob(const std::string &path, Start start = Start::Running);
    // Stops the worker (within one 1 MiB read) and joins it.
    ~ModelHashJob();
    ModelHashJob(const ModelHashJob &) = delete;
    ModelHashJob &operator=(const ModelHashJob &) = delete;

    // While paused the worker reads nothing (the engine pauses it for a
    // generation). Nesting is not supported; both are no-ops once finished.
    void pause();
    void resume();

    // Bytes the worker has hashed so far (for tests and diagnostics).
    std::uint64_t bytesHashed() const { return m_offset.load(std::memory_order_relaxed); }

    // The 10 hex digits, or "unknown" if the file could not be read. The
    // first call stops the worker and hashes the rest here; if `cancel` is
    // raised meanwhile it returns "unknown" and a later call carries on.
    std::string result(const CancelToken &cancel = CancelToken());

private:
    void stopWorker();

    // The worker is joined before any member goes, so it uses them directly.
    std::mutex m_mutex;
    std::condition_variable m_wake;
    bool m_paused = false; // guarded by m_mutex
    bool m_stop = false;   // guarded by m_mutex
    int m_fd = -1;
    std::uint64_t m_size = 0;
    Sha256 m_hash;
    std::atomic<std::uint64_t> m_offset{0}; // bytes hashed so far
    bool m_failed = false;
    std::thread m_worker;
    std::string m_value; // set once finished
};

} // namespace stipple::core
