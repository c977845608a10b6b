#include "core/common/Log.h"

#include <cstdio>
#include <mutex>

namespace stipple::core {
namespace {

std::mutex &sinkMutex()
{
    static std::mutex m;
    return m;
}

LogSink &sinkRef()
{
    static LogSink sink = [](LogLevel level, const std::string &msg) {
        if (level >= LogLevel::Warning)
            std::fprintf(stderr, "stipple: %s\n", msg.c_str());
    };
    return sink;
}

} // namespace

void setLogSink(LogSink sink)
{
    std::lock_guard<std::mutex> lock(sinkMutex());
    sinkRef() = std::move(sink);
}

void log(LogLevel level, const std::string &message)
{
    std::lock_guard<std::mutex> lock(sinkMutex());
    if (sinkRef())
        sinkRef()(level, message);
}

} // namespace stipple::core
