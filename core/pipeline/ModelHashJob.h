// The "Model hash" of a loaded checkpoint (A1111's first 10 hex digits of
// the file's SHA-256), hashed on a background thread while the engine is
// idle: between loading and the first Generate (the artist writing the
// prompt) it costs nothing, and it never competes with inference, which
// pauses it. Whatever is left when the first infotext needs the hash is
// finished on the calling thread. A 2 GB file takes ~2 s with the SHA
// extensions on the development VM, ~10 s without.
// Thread-safety: all members from one thread (the engine's); the worker
// touches only the file and the shared state under its mutex.
#pragma once

#include "core/text/Sha256.h"

#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

namespace stipple::core {

class ModelHashJob {
public:
    explicit ModelHashJob(std::string path);
    // Stops the worker (within one 1 MiB read) and joins it.
    ~ModelHashJob();
    ModelHashJob(const ModelHashJob &) = delete;
    ModelHashJob &operator=(const ModelHashJob &) = delete;

    // While paused the worker reads nothing (the engine pauses it for a
    // generation). Nesting is not supported; both are no-ops once finished.
    void pause();
    void resume();

    // The 10 hex digits, or "unknown" if the file could not be read. The
    // first call stops the worker and hashes the rest of the file here.
    const std::string &result();

private:
    struct Shared {
        std::mutex mutex;
        std::condition_variable wake;
        bool paused = false;
        bool stop = false;
    };
    void stopWorker();

    std::string m_path;
    std::shared_ptr<Shared> m_shared;
    // Owned by the worker until it is joined, then by this object.
    Sha256 m_hash;
    std::uint64_t m_offset = 0;
    bool m_failed = false;
    std::thread m_worker;
    std::string m_value;
};

} // namespace stipple::core
