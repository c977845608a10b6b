// Core log sink. Core never prints to stdout; front ends install a sink
// (the CLI writes to stderr, the bridge routes to QLoggingCategory).
// Thread-safety: setLogSink and log may be called from any thread.
#pragma once

#include <functional>
#include <string>

namespace stipple::core {

enum class LogLevel { Debug, Info, Warning, Error };

using LogSink = std::function<void(LogLevel, const std::string &)>;

// Replaces the sink; pass nullptr to silence. Default: stderr for Warning+.
void setLogSink(LogSink sink);
void log(LogLevel level, const std::string &message);

inline void logInfo(const std::string &m) { log(LogLevel::Info, m); }
inline void logWarning(const std::string &m) { log(LogLevel::Warning, m); }
inline void logDebug(const std::string &m) { log(LogLevel::Debug, m); }

} // namespace stipple::core
