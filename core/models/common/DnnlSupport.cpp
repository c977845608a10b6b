#include "core/models/common/DnnlSupport.h"

#include <ATen/ATen.h>

namespace stipple::core {

dnnl::engine &dnnlCpuEngine()
{
    static dnnl::engine engine(dnnl::engine::kind::cpu, 0);
    return engine;
}

void rethrowAsTorchError(const dnnl::error &e, const char *what)
{
    TORCH_CHECK(false, what, ": ", e.what(), e.status == dnnl_out_of_memory ? " (out of memory)" : "");
    throw; // not reached: TORCH_CHECK(false) throws
}

at::Tensor dnnlBuffer(std::size_t bytes)
{
    return at::empty({static_cast<std::int64_t>((bytes + 3) / 4)}, at::TensorOptions().dtype(at::kFloat));
}

} // namespace stipple::core
