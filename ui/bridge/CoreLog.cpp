#include "ui/bridge/CoreLog.h"

#include "core/common/Log.h"

namespace stipple::ui {

Q_LOGGING_CATEGORY(lcCore, "stipple.core")

void installCoreLogSink()
{
    core::setLogSink([](core::LogLevel level, const std::string &message) {
        const QString text = QString::fromStdString(message);
        switch (level) {
        case core::LogLevel::Debug: qCDebug(lcCore).noquote() << text; break;
        case core::LogLevel::Info: qCInfo(lcCore).noquote() << text; break;
        case core::LogLevel::Warning: qCWarning(lcCore).noquote() << text; break;
        case core::LogLevel::Error: qCCritical(lcCore).noquote() << text; break;
        }
    });
}

} // namespace stipple::ui
