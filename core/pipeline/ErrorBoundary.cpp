#include "core/pipeline/ErrorBoundary.h"

namespace stipple::core {

bool isOutOfMemoryMessage(const std::string &what)
{
    // c10/core/CPUAllocator.cpp: "DefaultCPUAllocator: can't allocate memory: you
    // tried to allocate N bytes"; CUDA: "CUDA out of memory"; oneDNN/others:
    // "not enough memory".
    return what.find("can't allocate memory") != std::string::npos
        || what.find("not enough memory") != std::string::npos
        || what.find("out of memory") != std::string::npos
        || what.find("Out of memory") != std::string::npos;
}

Error errorFromBadAlloc(const std::string &what)
{
    return makeError(ErrorCode::OutOfMemory,
                     what + ": out of memory (try a smaller image or batch size, or bf16)");
}

Error errorFromTorch(const std::string &what, const c10::Error &e)
{
    const std::string msg = e.what_without_backtrace();
    if (isOutOfMemoryMessage(msg))
        return makeError(ErrorCode::OutOfMemory,
                         what + ": out of memory (try a smaller image or batch size, or bf16): " + msg);
    return makeError(ErrorCode::Internal, what + ": " + msg);
}

} // namespace stipple::core
