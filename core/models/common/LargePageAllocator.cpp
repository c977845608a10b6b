// LargePageAllocator (see LargePageAllocator.h).
#include "core/models/common/LargePageAllocator.h"

#include <c10/core/Allocator.h>
#include <c10/core/CPUAllocator.h>

#include <cstdint>
#include <cstdlib>
#include <map>
#include <mutex>
#include <new>
#include <unordered_map>

#include <sys/mman.h>

namespace stipple::core {

namespace {

constexpr std::size_t kHugePage = std::size_t(2) << 20;

class LargePageAllocator final : public c10::Allocator {
public:
    LargePageAllocator(c10::Allocator *fallback, std::size_t cacheLimit)
        : m_fallback(fallback), m_cacheLimit(cacheLimit)
    {
    }

    c10::DataPtr allocate(std::size_t n) const override
    {
        if (n < kHugePage)
            return m_fallback->allocate(n);
        const std::size_t size = (n + kHugePage - 1) / kHugePage * kHugePage;
        void *p = self().take(size);
        return {p, p, &LargePageAllocator::release, c10::Device(c10::DeviceType::CPU)};
    }

    // ideep (oneDNN) uses raw_allocate/raw_deallocate, which need this.
    c10::DeleterFnPtr raw_deleter() const override { return &LargePageAllocator::release; }

    static void release(void *p) { instance()->give(p); }

    static LargePageAllocator *&instance()
    {
        static LargePageAllocator *s = nullptr;
        return s;
    }

    LargePageAllocatorStats stats()
    {
        std::lock_guard<std::mutex> lock(m_mutex);
        return m_stats;
    }

    void trim()
    {
        std::lock_guard<std::mutex> lock(m_mutex);
        for (auto &kv : m_cache)
            unmap(kv.second, kv.first);
        m_cache.clear();
        m_stats.cachedBytes = 0;
    }

private:
    LargePageAllocator &self() const { return const_cast<LargePageAllocator &>(*this); }

    void *take(std::size_t size)
    {
        {
            std::lock_guard<std::mutex> lock(m_mutex);
            auto it = m_cache.find(size);
            if (it != m_cache.end()) {
                void *p = it->second;
                m_cache.erase(it);
                m_stats.cachedBytes -= size;
                m_stats.liveBytes += size;
                ++m_stats.hits;
                m_sizes[p] = size;
                return p;
            }
        }
        void *p = mapAligned(size);
        if (!p) {
            trim(); // give cached memory back and retry once
            p = mapAligned(size);
            if (!p)
                throw std::bad_alloc();
        }
        std::lock_guard<std::mutex> lock(m_mutex);
        m_sizes[p] = size;
        m_stats.liveBytes += size;
        ++m_stats.misses;
        return p;
    }

    // Anonymous mapping aligned to 2 MiB (mmap directly rather than
    // aligned_alloc, so freed blocks never fragment the malloc heap).
    static void *mapAligned(std::size_t size)
    {
        const std::size_t total = size + kHugePage;
        void *raw = ::mmap(nullptr, total, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (raw == MAP_FAILED)
            return nullptr;
        const auto base = reinterpret_cast<std::uintptr_t>(raw);
        const std::uintptr_t aligned = (base + kHugePage - 1) & ~(std::uintptr_t(kHugePage) - 1);
        if (aligned > base)
            ::munmap(raw, aligned - base);
        const std::uintptr_t end = base + total, used = aligned + size;
        if (end > used)
            ::munmap(reinterpret_cast<void *>(used), end - used);
        void *p = reinterpret_cast<void *>(aligned);
        ::madvise(p, size, MADV_HUGEPAGE);
        return p;
    }

    static void unmap(void *p, std::size_t size) { ::munmap(p, size); }

    void give(void *p)
    {
        if (!p)
            return;
        std::unique_lock<std::mutex> lock(m_mutex);
        auto it = m_sizes.find(p);
        if (it == m_sizes.end()) {
            // A small block from the fallback (raw_deallocate path).
            lock.unlock();
            if (c10::DeleterFnPtr d = m_fallback->raw_deleter())
                d(p);
            else
                std::free(p);
            return;
        }
        const std::size_t size = it->second;
        m_sizes.erase(it);
        m_stats.liveBytes -= size;
        if (size > m_cacheLimit) {
            unmap(p, size);
            return;
        }
        // Evict the largest cached blocks until the new one fits.
        while (m_stats.cachedBytes + size > m_cacheLimit && !m_cache.empty()) {
            auto last = std::prev(m_cache.end());
            m_stats.cachedBytes -= last->first;
            unmap(last->second, last->first);
            m_cache.erase(last);
        }
        m_cache.emplace(size, p);
        m_stats.cachedBytes += size;
    }

    c10::Allocator *m_fallback;
    std::size_t m_cacheLimit;
    std::mutex m_mutex;
    std::multimap<std::size_t, void *> m_cache;
    std::unordered_map<void *, std::size_t> m_sizes;
    LargePageAllocatorStats m_stats;
};

std::once_flag g_once;

} // namespace

void installLargePageAllocator(std::size_t cacheLimitBytes)
{
    std::call_once(g_once, [cacheLimitBytes] {
        // Intentionally leaked: tensors may be freed during static destruction.
        auto *a = new LargePageAllocator(c10::GetCPUAllocator(), cacheLimitBytes);
        LargePageAllocator::instance() = a;
        c10::SetCPUAllocator(a, /*priority=*/1);
    });
}

bool largePageAllocatorInstalled() { return LargePageAllocator::instance() != nullptr; }

LargePageAllocatorStats largePageAllocatorStats()
{
    auto *a = LargePageAllocator::instance();
    return a ? a->stats() : LargePageAllocatorStats{};
}

void trimLargePageAllocator()
{
    if (auto *a = LargePageAllocator::instance())
        a->trim();
}

} // namespace stipple::core
