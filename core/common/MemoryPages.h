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

} // namespace stipple::core
