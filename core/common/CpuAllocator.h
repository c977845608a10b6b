// CPU allocator for large tensors: blocks of `largeThreshold` bytes and more
// (2 MiB by default) come from aligned_alloc(2 MiB) + madvise(MADV_HUGEPAGE)
// and, once freed, are kept in size-bucketed free lists for reuse (least
// recently freed evicted first once the cache exceeds `cacheCapBytes`).
// Smaller blocks go to the allocator that was installed before.
//
// Why: touching fresh memory costs ~14 µs per 4 KiB page on the target VMs
// (0.26 GB/s, docs/toolchain.md pitfall 4), so every new 100 MB temporary
// (attention scores, conv outputs) costs ~0.4 s. Transparent huge pages fault
// 2 MiB at a time, and the cache avoids faulting altogether after the first
// UNet step.
//
// raw_allocate/raw_deallocate work too (ideep/oneDNN allocates its weight
// reorders and scratch through them): every DataPtr has context == data and
// the same deleter, which finds the block's size and owner in a process-wide
// table; pointers not in the table came from the fallback and go back to it.
//
// Thread-safety: allocate/free/stats/releaseCached may be called from any
// thread concurrently (one mutex guards the free lists). install/uninstall
// are meant for start-up (main thread, before inference); an installed
// allocator is never destroyed, since tensors it allocated may outlive any
// scope.
#pragma once

#include <c10/core/Allocator.h>

#include <cstddef>
#include <cstdint>
#include <list>
#include <map>
#include <mutex>

namespace stipple::core {

struct CpuAllocatorOptions {
    std::size_t largeThreshold = std::size_t(2) << 20; // bytes; smaller requests go to the fallback
    std::size_t cacheCapBytes = std::size_t(1) << 30;  // freed large blocks kept for reuse, in total
    bool hugePages = true;                             // madvise(MADV_HUGEPAGE) on large blocks
};

struct CpuAllocatorStats {
    std::uint64_t largeAllocations = 0; // allocate() calls served by this allocator
    std::uint64_t cacheHits = 0;        // ... of which reused a cached block
    std::uint64_t smallAllocations = 0; // forwarded to the fallback allocator
    std::size_t bytesInUse = 0;         // large blocks handed out, rounded sizes
    std::size_t peakBytesInUse = 0;
    std::size_t bytesCached = 0;        // large blocks waiting in the free lists
    std::size_t bytesFreshlyMapped = 0; // total bytes obtained from the system
};

class CpuAllocator final : public c10::Allocator {
public:
    // `fallback` serves small blocks and must outlive this allocator (c10's
    // allocators are static).
    CpuAllocator(c10::Allocator *fallback, const CpuAllocatorOptions &options = {});
    ~CpuAllocator() override;
    CpuAllocator(const CpuAllocator &) = delete;
    CpuAllocator &operator=(const CpuAllocator &) = delete;

    c10::DataPtr allocate(std::size_t bytes) const override;
    c10::DeleterFnPtr raw_deleter() const override { return &CpuAllocator::deletePointer; }

    const CpuAllocatorOptions &options() const { return m_options; }
    c10::Allocator *fallback() const { return m_fallback; }
    CpuAllocatorStats stats() const;
    // Returns every cached block to the system (e.g. after unloading a model).
    void releaseCached() const;
    // Changes the cache's cap (evicting down to it); returns the old cap.
    std::size_t setCacheCap(std::size_t bytes);

    // Size class of a large request: a multiple of 2 MiB, and above 32 MiB
    // a multiple of 1/8 of the largest power of two below it (waste <= 12.5%).
    static std::size_t roundedSize(std::size_t bytes);

private:
    static void deletePointer(void *ptr);
    void recycle(void *ptr, std::size_t size) const;
    void evictLocked(std::size_t needed) const;

    c10::Allocator *m_fallback;
    CpuAllocatorOptions m_options;

    // Free lists: blocks in freeing order (front = oldest), indexed by size.
    struct Cached {
        std::size_t size;
        void *ptr;
    };
    mutable std::mutex m_mutex;
    mutable std::list<Cached> m_lru;
    mutable std::multimap<std::size_t, std::list<Cached>::iterator> m_bySize;
    mutable CpuAllocatorStats m_stats;
};

// Installs a CpuAllocator (wrapping the current c10 CPU allocator) with
// c10::SetCPUAllocator, once per process; a second call returns the
// installed one (its options unchanged). Never returns null.
CpuAllocator *installCpuAllocator(const CpuAllocatorOptions &options = {});
// The installed allocator, or null.
CpuAllocator *installedCpuAllocator();
// Gives memory that is cached but not in use back to the system: the
// installed allocator's free lists and malloc's free heap (malloc_trim).
// For phase changes whose block sizes differ (after loading a model, before
// the VAE decode), so the next phase's peak does not sit on the last one's
// cache. Any thread.
void releaseCachedMemory();
// While it lives, the installed allocator caches nothing (its cache is
// emptied and malloc trimmed on entry; the old cap is restored on exit).
// For one-pass work with large, varied blocks, the VAE at 512x512: measured
// there, the cache saves no time (10.9 s either way) and holds up to its cap
// on top of the decoder's own peak (bf16 512² generation 3829 -> 3279 MiB).
// No-op without an installed allocator. One scope at a time, on the thread
// that owns inference.
class AllocatorCacheOff {
public:
    AllocatorCacheOff();
    ~AllocatorCacheOff();
    AllocatorCacheOff(const AllocatorCacheOff &) = delete;
    AllocatorCacheOff &operator=(const AllocatorCacheOff &) = delete;

private:
    std::size_t m_savedCap = 0;
    bool m_active = false;
};
// While it lives, a large block allocated on this thread may reuse any
// larger cached block (the smallest that fits), not only one of its own size
// class. For short-lived temporaries of many sizes, made one after another
// (DeferredPacking: each layer's weight packed for one call): each reuses
// memory an earlier one touched instead of faulting in fresh pages (1.7-2.0
// ns/byte on the VMs measured). Not for tensors that live on: one could
// hold a block many times its size. Scopes nest.
class AllocatorLooseFit {
public:
    AllocatorLooseFit();
    ~AllocatorLooseFit();
    AllocatorLooseFit(const AllocatorLooseFit &) = delete;
    AllocatorLooseFit &operator=(const AllocatorLooseFit &) = delete;

private:
    bool m_outer;
};
// Puts the previous allocator back. Blocks handed out keep working (the
// CpuAllocator stays alive); new allocations go to the previous allocator.
void uninstallCpuAllocator();

} // namespace stipple::core
