#include "core/common/TensorPages.h"

#include "core/common/MemoryPages.h"

namespace stipple::core {

void releaseSoleTensorPages(const at::Tensor &t)
{
    if (!t.defined() || t.storage().use_count() != 1)
        return;
    releaseWholePages(t.data_ptr(), t.nbytes());
}

} // namespace stipple::core
