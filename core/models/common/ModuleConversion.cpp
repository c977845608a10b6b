// In-place dtype conversion of a module's tensors (see ModuleConversion.h).
#include "core/models/common/ModuleConversion.h"

#include "core/common/FloatConversion.h"

#include <ATen/ATen.h>
#include <torch/nn/module.h>
#include <torch/utils.h>

namespace stipple::core {

void convertFloatTensors(torch::nn::Module &module, at::ScalarType dtype,
                         const std::function<bool(const at::Tensor &)> &keep)
{
    torch::NoGradGuard noGrad;
    auto convert = [&](at::Tensor &t) {
        if (!t.defined() || !t.is_floating_point() || t.scalar_type() == dtype || (keep && keep(t)))
            return;
        at::Tensor converted = at::empty(t.sizes(), t.options().dtype(dtype));
        convertInto(converted, t.contiguous());
        t.set_data(converted);
    };
    for (at::Tensor &p : module.parameters(/*recurse=*/true))
        convert(p);
    for (at::Tensor &b : module.buffers(/*recurse=*/true))
        convert(b);
}

} // namespace stipple::core
