#include "core/common/MemoryPages.h"

#include <cstdint>

#include <sys/mman.h>
#include <unistd.h>

namespace stipple::core {

void releaseWholePages(const void *begin, std::size_t bytes)
{
    static const std::uintptr_t page = static_cast<std::uintptr_t>(::sysconf(_SC_PAGESIZE));
    const auto b = reinterpret_cast<std::uintptr_t>(begin);
    const std::uintptr_t first = (b + page - 1) / page * page, last = (b + bytes) / page * page;
    if (last > first)
        ::madvise(reinterpret_cast<void *>(first), last - first, MADV_DONTNEED);
}

void mapPagesForReading(const void *begin, std::size_t bytes)
{
#ifndef MADV_POPULATE_READ
    constexpr int MADV_POPULATE_READ = 22; // linux/mman.h since 5.14
#endif
    static const std::uintptr_t page = static_cast<std::uintptr_t>(::sysconf(_SC_PAGESIZE));
    const auto b = reinterpret_cast<std::uintptr_t>(begin);
    const std::uintptr_t first = b / page * page, end = b + bytes;
    if (bytes > 0)
        (void)::madvise(reinterpret_cast<void *>(first), end - first, MADV_POPULATE_READ); // EINVAL on old kernels
}

} // namespace stipple::core
