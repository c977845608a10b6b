#include "core/pipeline/ModelHashJob.h"

#include <algorithm>
#include <cerrno>
#include <fcntl.h>
#include <sys/stat.h>
#include <system_error>
#include <unistd.h>
#include <vector>

namespace stipple::core {

namespace {

constexpr std::size_t kChunk = std::size_t(1) << 20;

// Hashes [offset, size) of `fd` while `keepGoing()` says so (asked before
// each chunk). Returns false on a read error or a file that shrank.
template <typename KeepGoing>
bool hashFrom(int fd, std::uint64_t size, Sha256 &hash, std::atomic<std::uint64_t> &offset, KeepGoing keepGoing)
{
    std::vector<char> buffer(kChunk);
    std::uint64_t at = offset.load();
    while (at < size && keepGoing()) {
        const std::size_t want = static_cast<std::size_t>(std::min<std::uint64_t>(kChunk, size - at));
        const ssize_t got = ::pread(fd, buffer.data(), want, static_cast<off_t>(at));
        if (got < 0 && errno == EINTR)
            continue;
        if (got <= 0)
            return false;
        hash.update(buffer.data(), static_cast<std::size_t>(got));
        at += static_cast<std::uint64_t>(got);
        offset.store(at, std::memory_order_relaxed);
    }
    return true;
}

} // namespace

ModelHashJob::ModelHashJob(const std::string &path, Start start) : m_paused(start == Start::Paused)
{
    m_fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    struct stat st {};
    if (m_fd < 0 || ::fstat(m_fd, &st) != 0) {
        m_failed = true;
        return;
    }
    m_size = static_cast<std::uint64_t>(st.st_size);
    try {
        m_worker = std::thread([this] {
            try {
                m_failed = !hashFrom(m_fd, m_size, m_hash, m_offset, [&] {
                    std::unique_lock<std::mutex> lock(m_mutex);
                    m_wake.wait(lock, [&] { return !m_paused || m_stop; });
                    return !m_stop;
                });
            } catch (const std::exception &) {
                // e.g. no memory for the buffer: result() carries on from m_offset.
            }
        });
    } catch (const std::system_error &) {
        // No thread to be had: result() hashes the whole file itself.
    }
}

ModelHashJob::~ModelHashJob()
{
    stopWorker();
    if (m_fd >= 0)
        ::close(m_fd);
}

void ModelHashJob::stopWorker()
{
    {
        std::lock_guard<std::mutex> lock(m_mutex);
        m_stop = true;
    }
    m_wake.notify_all();
    if (m_worker.joinable())
        m_worker.join();
}

void ModelHashJob::pause()
{
    std::lock_guard<std::mutex> lock(m_mutex);
    m_paused = true;
}

void ModelHashJob::resume()
{
    {
        std::lock_guard<std::mutex> lock(m_mutex);
        m_paused = false;
    }
    m_wake.notify_all();
}

std::string ModelHashJob::result(const CancelToken &cancel)
{
    if (!m_value.empty())
        return m_value;
    stopWorker(); // after the join the hash state is ours
    if (!m_failed) {
        try {
            m_failed = !hashFrom(m_fd, m_size, m_hash, m_offset, [&] { return !cancel.isCancelled(); });
        } catch (const std::exception &) {
            m_failed = true;
        }
    }
    if (!m_failed && m_offset.load() < m_size)
        return "unknown"; // cancelled: the next call carries on
    m_value = m_failed ? std::string("unknown") : Sha256::hex(m_hash.finish()).substr(0, 10);
    return m_value;
}

} // namespace stipple::core
