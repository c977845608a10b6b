// Returning whole memory pages to the OS before their contents are dropped.
// Thread-safety: stateless.
#pragma once

#include <cstddef>

namespace stipple::core {

// madvise(MADV_DONTNEED) on the whole pages inside [begin, begin + bytes);
// the partial pages at either end are left alone (they may hold a
// neighbour's bytes). Anonymous pages read back as zeros afterwards and
// private file pages re-read the file, so callers pass only memory whose
// contents they no longer need or that maps an unwritten file.
void releaseWholePages(const void *begin, std::size_t bytes);

// Maps every page of [begin, begin + bytes) for reading in one system call
// (MADV_POPULATE_READ, Linux 5.14), instead of one page fault per 16 pages
// as a mapped file is read. For a conversion about to read all of a large
// view of a mapped checkpoint: the open phase of an SD 1.5 load (text
// encoder and VAE read from the file) went from 0.42-0.54 s to 0.30-0.31 s,
// alternating processes, session 12. A no-op where the kernel lacks it.
void mapPagesForReading(const void *begin, std::size_t bytes);

} // namespace stipple::core
