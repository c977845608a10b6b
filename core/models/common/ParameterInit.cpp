#include "core/models/common/ParameterInit.h"

namespace stipple::core {
namespace {
thread_local bool t_initEnabled = true;
}

bool parameterInitEnabled() { return t_initEnabled; }

SkipParameterInit::SkipParameterInit() : m_previous(t_initEnabled) { t_initEnabled = false; }

SkipParameterInit::~SkipParameterInit() { t_initEnabled = m_previous; }

} // namespace stipple::core
