// Routes the core's log (core/common/Log.h) into Qt's logging under the
// category "stipple.core", so QT_LOGGING_RULES and message handlers apply.
// Thread-safety: installCoreLogSink() once at start-up (main thread); the
// sink itself may be called from any thread (Qt logging is thread-safe).
#pragma once

#include <QLoggingCategory>

namespace stipple::ui {

Q_DECLARE_LOGGING_CATEGORY(lcCore)

// Debug -> qCDebug, Info -> qCInfo, Warning -> qCWarning, Error -> qCCritical.
void installCoreLogSink();

} // namespace stipple::ui
