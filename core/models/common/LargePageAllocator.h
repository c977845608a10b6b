// A process-wide c10 CPU allocator for inference on VMs where first-touch
// page faults are very slow (docs/toolchain.md pitfall 4: ~14 µs per 4 KiB
// page). Allocations of 2 MiB and more come from 2 MiB-aligned blocks
// advised MADV_HUGEPAGE (one fault per 2 MiB), and freed large blocks are
// kept in a bounded cache (exact size match) so that the per-step
// temporaries of a UNet (oneDNN weight reorders, GEGLU, attention) reuse
// warm memory instead of faulting in fresh pages every step. Smaller
// allocations go to the allocator that was installed before.
//
// Thread-safety: installLargePageAllocator() may be called from any thread,
// more than once (only the first call installs); allocate/free are
// thread-safe (one mutex). Install it before the model weights are created
// so they benefit as well; tensors allocated earlier keep their own deleter.
#pragma once

#include <cstddef>

namespace stipple::core {

struct LargePageAllocatorStats {
    std::size_t cachedBytes = 0;  // freed blocks kept for reuse
    std::size_t liveBytes = 0;    // large blocks in use
    std::size_t hits = 0;         // large allocations served from the cache
    std::size_t misses = 0;       // large allocations that needed fresh memory
};

// `cacheLimitBytes` bounds the memory kept in the cache of freed blocks.
void installLargePageAllocator(std::size_t cacheLimitBytes = std::size_t(2) << 30);
bool largePageAllocatorInstalled();
LargePageAllocatorStats largePageAllocatorStats();
// Returns all cached blocks to the system (e.g. after generation finishes).
void trimLargePageAllocator();

} // namespace stipple::core
