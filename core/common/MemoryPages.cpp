#include "core/common/MemoryPages.h"

#include <cstdint>

#include <sys/mman.h>
#include <unistd.h>

namespace stipple::core {
namespace {

std::uintptr_t pageSize()
{
    static const std::uintptr_t page = static_cast<std::uintptr_t>(::sysconf(_SC_PAGESIZE));
    return page;
}

} // namespace

void releaseWholePages(const void *begin, std::size_t bytes)
{
    const std::uintptr_t page = pageSize();
    const auto b = reinterpret_cast<std::uintptr_t>(begin);
    const std::uintptr_t first = (b + page - 1) / page * page, last = (b + bytes) / page * page;
    if (last > first)
        ::madvise(reinterpret_cast<void *>(first), last - first, MADV_DONTNEED);
}

void mapPagesForReading(const void *begin, std::size_t bytes)
{
#if defined(MADV_POPULATE_READ)
    constexpr int kMadvPopulateRead = MADV_POPULATE_READ;
#elif defined(__linux__)
    constexpr int kMadvPopulateRead = 22; // linux/mman.h since 5.14; older headers lack it
#else
    constexpr int kMadvPopulateRead = -1;
#endif
    const std::uintptr_t page = pageSize();
    const auto b = reinterpret_cast<std::uintptr_t>(begin);
    const std::uintptr_t first = b / page * page, end = b + bytes;
    // Errors are harmless: EINVAL on kernels before 5.14 and on mappings it
    // cannot populate, EFAULT past a file's end (the read then faults as before).
    if (bytes > 0 && kMadvPopulateRead >= 0)
        (void)::madvise(reinterpret_cast<void *>(first), end - first, kMadvPopulateRead);
}

} // namespace stipple::core
