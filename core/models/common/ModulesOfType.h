// Collecting the modules of one implementation type inside a module tree.
// Thread-safety: reads the tree; call from the thread that owns the modules.
#pragma once

#include <torch/nn/module.h>

#include <vector>

namespace stipple::core {

// `module` itself (when it is an Impl) and every Impl below it, in the
// tree's order. `module` need not be held by a shared_ptr.
template <typename Impl>
std::vector<Impl *> modulesOfType(torch::nn::Module &module)
{
    std::vector<Impl *> found;
    if (auto *self = module.as<Impl>())
        found.push_back(self);
    for (const auto &m : module.modules(/*include_self=*/false)) // include_self needs a shared_ptr
        if (auto *typed = m->as<Impl>())
            found.push_back(typed);
    return found;
}

} // namespace stipple::core
