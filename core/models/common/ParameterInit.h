// Whether new Conv2d / Linear / Embedding layers (this folder) fill their
// parameters with torch's default random initialisation. Loading a checkpoint
// overwrites every value, and for SD 1.5 the random fill alone (about 1.07
// billion uniform_/normal_ draws) takes 5-13 s on a 2-core CPU, longer than
// reading and converting the file; loaders therefore build modules inside a
// SkipParameterInit scope. Training keeps the default (initialise).
// Thread-safety: the setting is thread-local.
#pragma once

#include <ATen/core/Tensor.h>

#include <utility>

namespace stipple::core {

// True unless a SkipParameterInit is alive on this thread.
bool parameterInitEnabled();

// torch's default initialisation of Linear and ConvNd layers (libtorch 1.13
// reset_parameters), draw for draw: weight ~ kaiming_uniform(a = sqrt(5)),
// bias ~ U(-1/sqrt(fan_in), 1/sqrt(fan_in)) when defined. Does nothing while
// a SkipParameterInit is alive.
void initLikeTorch(at::Tensor &weight, at::Tensor &bias);

// RAII: layers built on this thread while it lives have uninitialised
// (at::empty) parameters. Nests.
class SkipParameterInit {
public:
    SkipParameterInit();
    ~SkipParameterInit();
    SkipParameterInit(const SkipParameterInit &) = delete;
    SkipParameterInit &operator=(const SkipParameterInit &) = delete;

private:
    bool m_previous;
};

// Holder(args...) built inside a SkipParameterInit: for modules whose every
// value is about to come from a checkpoint.
template <typename Holder, typename... Args>
Holder buildWithoutInit(Args &&...args)
{
    SkipParameterInit skip;
    return Holder(std::forward<Args>(args)...);
}

} // namespace stipple::core
