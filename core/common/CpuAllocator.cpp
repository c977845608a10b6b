// Huge-page, caching CPU allocator (see CpuAllocator.h).
#include "core/common/CpuAllocator.h"

#include <c10/core/CPUAllocator.h>
#include <c10/core/impl/alloc_cpu.h>
#include <c10/util/Exception.h>

#include <malloc.h>
#include <sys/mman.h>

#include <algorithm>
#include <cstdlib>
#include <unordered_map>

namespace stipple::core {

namespace {

constexpr std::size_t kHugePage = std::size_t(2) << 20;

// Large blocks handed out by any CpuAllocator: pointer -> (rounded size, owner).
struct Owned {
    std::size_t size;
    const CpuAllocator *owner;
};
std::mutex s_tableMutex;
std::unordered_map<void *, Owned> &table()
{
    static auto *t = new std::unordered_map<void *, Owned>(); // leaked: used during static destruction
    return *t;
}
// How blocks of the fallback are freed when they come back through
// raw_deallocate (c10's default allocator: context == data).
c10::DeleterFnPtr s_fallbackDeleter = nullptr;

thread_local bool t_looseFit = false; // AllocatorLooseFit

CpuAllocator *s_instance = nullptr; // leaked on purpose: tensors may outlive main()
c10::Allocator *s_previous = nullptr;
bool s_installed = false;
std::mutex s_installMutex;

} // namespace

CpuAllocator::CpuAllocator(c10::Allocator *fallback, const CpuAllocatorOptions &options)
    : m_fallback(fallback), m_options(options)
{
    TORCH_CHECK(m_fallback != nullptr, "CpuAllocator needs a fallback allocator");
    m_options.largeThreshold = std::max<std::size_t>(m_options.largeThreshold, 1);
    std::lock_guard<std::mutex> lock(s_tableMutex);
    if (!s_fallbackDeleter)
        s_fallbackDeleter = m_fallback->raw_deleter();
}

CpuAllocator::~CpuAllocator() { releaseCached(); }

std::size_t CpuAllocator::roundedSize(std::size_t bytes)
{
    std::size_t rounded = (bytes + kHugePage - 1) / kHugePage * kHugePage;
    if (rounded > (std::size_t(32) << 20)) {
        std::size_t pow2 = std::size_t(1) << 25; // largest power of two <= rounded
        while (pow2 * 2 <= rounded)
            pow2 <<= 1;
        const std::size_t step = pow2 / 8; // >= 4 MiB, a multiple of 2 MiB
        rounded = (rounded + step - 1) / step * step;
    }
    return rounded;
}

c10::DataPtr CpuAllocator::allocate(std::size_t bytes) const
{
    if (bytes < m_options.largeThreshold) {
        {
            std::lock_guard<std::mutex> lock(m_mutex);
            ++m_stats.smallAllocations;
        }
        return m_fallback->allocate(bytes);
    }
    std::size_t size = roundedSize(bytes);
    void *ptr = nullptr;
    {
        std::lock_guard<std::mutex> lock(m_mutex);
        ++m_stats.largeAllocations;
        auto it = m_bySize.find(size);
        if (it == m_bySize.end() && t_looseFit)
            it = m_bySize.lower_bound(size); // the smallest larger block
        if (it != m_bySize.end()) {
            size = it->first; // the block's own class, which it returns to
            ptr = it->second->ptr;
            m_lru.erase(it->second);
            m_bySize.erase(it);
            m_stats.bytesCached -= size;
            ++m_stats.cacheHits;
        }
    }
    if (!ptr) {
        ptr = std::aligned_alloc(kHugePage, size);
        if (!ptr) {
            releaseCached();
            ptr = std::aligned_alloc(kHugePage, size);
        }
        TORCH_CHECK(ptr != nullptr, "CpuAllocator: not enough memory: you tried to allocate ", bytes,
                    " bytes.");
        // Advisory only: a kernel without transparent huge pages ignores it.
        if (m_options.hugePages)
            madvise(ptr, size, MADV_HUGEPAGE);
        std::lock_guard<std::mutex> lock(m_mutex);
        m_stats.bytesFreshlyMapped += size;
    }
    {
        std::lock_guard<std::mutex> lock(m_mutex);
        m_stats.bytesInUse += size;
        m_stats.peakBytesInUse = std::max(m_stats.peakBytesInUse, m_stats.bytesInUse);
    }
    try {
        std::lock_guard<std::mutex> lock(s_tableMutex);
        table().emplace(ptr, Owned{size, this});
    } catch (...) {
        recycle(ptr, size);
        throw;
    }
    return c10::DataPtr(ptr, ptr, &CpuAllocator::deletePointer, c10::Device(c10::DeviceType::CPU));
}

void CpuAllocator::deletePointer(void *ptr)
{
    if (!ptr)
        return;
    Owned owned{0, nullptr};
    c10::DeleterFnPtr fallback = nullptr;
    {
        std::lock_guard<std::mutex> lock(s_tableMutex);
        auto it = table().find(ptr);
        if (it != table().end()) {
            owned = it->second;
            table().erase(it);
        }
        fallback = s_fallbackDeleter;
    }
    if (owned.owner)
        owned.owner->recycle(ptr, owned.size);
    else if (fallback)
        fallback(ptr); // a small block of the fallback, freed through raw_deallocate
    else
        c10::free_cpu(ptr);
}

void CpuAllocator::recycle(void *ptr, std::size_t size) const
{
    {
        std::lock_guard<std::mutex> lock(m_mutex);
        m_stats.bytesInUse -= size;
        if (size <= m_options.cacheCapBytes) {
            evictLocked(size);
            auto pos = m_lru.insert(m_lru.end(), Cached{size, ptr});
            m_bySize.emplace(size, pos);
            m_stats.bytesCached += size;
            return;
        }
    }
    std::free(ptr);
}

// Frees least recently cached blocks until `needed` more bytes fit under the cap.
void CpuAllocator::evictLocked(std::size_t needed) const
{
    while (!m_lru.empty() && m_stats.bytesCached + needed > m_options.cacheCapBytes) {
        const Cached victim = m_lru.front();
        auto range = m_bySize.equal_range(victim.size);
        for (auto it = range.first; it != range.second; ++it) {
            if (it->second == m_lru.begin()) {
                m_bySize.erase(it);
                break;
            }
        }
        m_lru.pop_front();
        m_stats.bytesCached -= victim.size;
        std::free(victim.ptr);
    }
}

void CpuAllocator::releaseCached() const
{
    std::list<Cached> victims;
    {
        std::lock_guard<std::mutex> lock(m_mutex);
        victims.swap(m_lru);
        m_bySize.clear();
        m_stats.bytesCached = 0;
    }
    for (const Cached &c : victims)
        std::free(c.ptr);
}

CpuAllocatorStats CpuAllocator::stats() const
{
    std::lock_guard<std::mutex> lock(m_mutex);
    return m_stats;
}

CpuAllocator *installCpuAllocator(const CpuAllocatorOptions &options)
{
    std::lock_guard<std::mutex> lock(s_installMutex);
    if (s_installed)
        return s_instance;
    c10::Allocator *current = c10::GetCPUAllocator();
    if (!s_instance) {
        s_previous = current;
        s_instance = new CpuAllocator(current, options);
    }
    c10::SetCPUAllocator(s_instance, /*priority=*/1);
    s_installed = true;
    return s_instance;
}

CpuAllocator *installedCpuAllocator()
{
    std::lock_guard<std::mutex> lock(s_installMutex);
    return s_installed ? s_instance : nullptr;
}

std::size_t CpuAllocator::setCacheCap(std::size_t bytes)
{
    std::lock_guard<std::mutex> lock(m_mutex);
    const std::size_t old = m_options.cacheCapBytes;
    m_options.cacheCapBytes = bytes;
    evictLocked(0);
    return old;
}

AllocatorCacheOff::AllocatorCacheOff()
{
    if (CpuAllocator *a = installedCpuAllocator()) {
        m_savedCap = a->setCacheCap(0);
        m_active = true;
    }
    ::malloc_trim(0);
}

AllocatorCacheOff::~AllocatorCacheOff()
{
    if (!m_active)
        return;
    if (CpuAllocator *a = installedCpuAllocator())
        a->setCacheCap(m_savedCap);
}

void releaseCachedMemory()
{
    if (CpuAllocator *a = installedCpuAllocator())
        a->releaseCached();
    ::malloc_trim(0);
}

AllocatorLooseFit::AllocatorLooseFit() : m_outer(t_looseFit) { t_looseFit = true; }

AllocatorLooseFit::~AllocatorLooseFit() { t_looseFit = m_outer; }

void uninstallCpuAllocator()
{
    std::lock_guard<std::mutex> lock(s_installMutex);
    if (!s_installed)
        return;
    c10::SetCPUAllocator(s_previous, /*priority=*/1);
    s_installed = false;
}

} // namespace stipple::core
