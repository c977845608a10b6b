#include "core/pipeline/ModelHashJob.h"

#include <fstream>
#include <system_error>
#include <vector>

namespace stipple::core {

namespace {

constexpr std::size_t kChunk = std::size_t(1) << 20;

// Hashes from `offset` on until the end of the file or until `keepGoing`
// says no (checked before each chunk). Returns false on a read error.
template <typename KeepGoing>
bool hashFrom(const std::string &path, Sha256 &hash, std::uint64_t &offset, KeepGoing keepGoing)
{
    std::ifstream in(path, std::ios::binary);
    if (!in || !in.seekg(static_cast<std::streamoff>(offset)))
        return false;
    std::vector<char> buffer(kChunk);
    while (keepGoing()) {
        in.read(buffer.data(), static_cast<std::streamsize>(buffer.size()));
        const auto got = in.gcount();
        if (got > 0) {
            hash.update(buffer.data(), static_cast<std::size_t>(got));
            offset += static_cast<std::uint64_t>(got);
        }
        if (in.eof())
            return true;
        if (!in)
            return false;
    }
    return true;
}

} // namespace

ModelHashJob::ModelHashJob(std::string path) : m_path(std::move(path)), m_shared(std::make_shared<Shared>())
{
    try {
        m_worker = std::thread([this, shared = m_shared] {
            const bool ok = hashFrom(m_path, m_hash, m_offset, [&] {
                std::unique_lock<std::mutex> lock(shared->mutex);
                shared->wake.wait(lock, [&] { return !shared->paused || shared->stop; });
                return !shared->stop;
            });
            m_failed = !ok;
        });
    } catch (const std::system_error &) {
        // No thread to be had: result() hashes the whole file itself.
    }
}

ModelHashJob::~ModelHashJob() { stopWorker(); }

void ModelHashJob::stopWorker()
{
    {
        std::lock_guard<std::mutex> lock(m_shared->mutex);
        m_shared->stop = true;
    }
    m_shared->wake.notify_all();
    if (m_worker.joinable())
        m_worker.join();
}

void ModelHashJob::pause()
{
    std::lock_guard<std::mutex> lock(m_shared->mutex);
    m_shared->paused = true;
}

void ModelHashJob::resume()
{
    {
        std::lock_guard<std::mutex> lock(m_shared->mutex);
        m_shared->paused = false;
    }
    m_shared->wake.notify_all();
}

const std::string &ModelHashJob::result()
{
    if (!m_value.empty())
        return m_value;
    stopWorker(); // after the join the hash state is ours
    if (!m_failed)
        m_failed = !hashFrom(m_path, m_hash, m_offset, [] { return true; });
    m_value = m_failed ? std::string("unknown") : Sha256::hex(m_hash.finish()).substr(0, 10);
    return m_value;
}

} // namespace stipple::core
