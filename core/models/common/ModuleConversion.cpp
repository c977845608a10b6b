// In-place dtype conversion of a module's tensors (see ModuleConversion.h).
#include "core/models/common/ModuleConversion.h"

#include "core/common/FloatConversion.h"

#include <ATen/ATen.h>
#include <c10/core/InferenceMode.h>
#include <torch/nn/module.h>
#include <torch/utils.h>

namespace stipple::core {

void replaceData(at::Tensor &param, const std::function<at::Tensor()> &make)
{
    at::Tensor value;
    {
        c10::InferenceMode sameKind(param.is_inference());
        torch::NoGradGuard noGrad;
        value = make();
    }
    torch::NoGradGuard noGrad;
    param.set_data(value);
}

void convertTensor(at::Tensor &t, at::ScalarType dtype)
{
    if (!t.defined() || !t.is_floating_point() || t.scalar_type() == dtype)
        return;
    replaceData(t, [&] {
        at::Tensor converted = at::empty(t.sizes(), t.options().dtype(dtype));
        convertInto(converted, t.contiguous());
        return converted;
    });
}

void convertFloatTensors(torch::nn::Module &module, at::ScalarType dtype,
                         const std::function<bool(const at::Tensor &)> &keep)
{
    for (at::Tensor &p : module.parameters(/*recurse=*/true))
        if (!keep || !keep(p))
            convertTensor(p, dtype);
    for (at::Tensor &b : module.buffers(/*recurse=*/true))
        if (!keep || !keep(b))
            convertTensor(b, dtype);
}

} // namespace stipple::core
