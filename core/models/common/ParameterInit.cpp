#include "core/models/common/ParameterInit.h"

#include <torch/nn/init.h>
#include <torch/utils.h>

#include <cmath>

namespace stipple::core {
namespace {
thread_local bool t_initEnabled = true;
}

bool parameterInitEnabled() { return t_initEnabled; }

void initLikeTorch(at::Tensor &weight, at::Tensor &bias)
{
    if (!t_initEnabled)
        return;
    torch::NoGradGuard noGrad;
    torch::nn::init::kaiming_uniform_(weight, std::sqrt(5.0));
    if (bias.defined()) {
        const auto fan = torch::nn::init::_calculate_fan_in_and_fan_out(weight);
        const double bound = 1 / std::sqrt(double(std::get<0>(fan)));
        torch::nn::init::uniform_(bias, -bound, bound);
    }
}

SkipParameterInit::SkipParameterInit() : m_previous(t_initEnabled) { t_initEnabled = false; }

SkipParameterInit::~SkipParameterInit() { t_initEnabled = m_previous; }

} // namespace stipple::core
