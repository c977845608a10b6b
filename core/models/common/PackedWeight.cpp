#include "core/models/common/PackedWeight.h"

#include "core/common/TensorPages.h"
#include "core/io/SafeTensors.h"
#include "core/models/common/ModuleConversion.h"

#include <ATen/ATen.h>

namespace stipple::core {

void dropPlainWeight(at::Tensor &param, at::ScalarType dtype)
{
    if (const MappedFilesScope *scope = MappedFilesScope::current())
        scope->releasePagesOf(param);
    releaseSoleTensorPages(param);
    replaceData(param, [&] { return at::empty({0}, param.options().dtype(dtype)); });
}

} // namespace stipple::core
