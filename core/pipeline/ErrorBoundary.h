// The core boundary of the pipeline: runs a body and converts every
// exception into an Error value (architecture rule: no exception leaves
// core). Out-of-memory (std::bad_alloc, or a c10::Error from an allocator
// such as "DefaultCPUAllocator: can't allocate memory") becomes
// ErrorCode::OutOfMemory with a hint; other torch errors ErrorCode::Internal.
// Thread-safety: stateless.
#pragma once

#include "core/common/Result.h"

#include <c10/util/Exception.h>

#include <new>
#include <string>

namespace stipple::core {

// True for the messages allocators put into c10::Error when memory runs out.
bool isOutOfMemoryMessage(const std::string &what);

// The Error for an exception caught while doing `what` ("generating", ...).
Error errorFromBadAlloc(const std::string &what);
Error errorFromTorch(const std::string &what, const c10::Error &e);

template <typename T, typename F>
Result<T> runGuarded(const std::string &what, F &&body)
{
    try {
        return body();
    } catch (const std::bad_alloc &) {
        return errorFromBadAlloc(what);
    } catch (const c10::Error &e) {
        return errorFromTorch(what, e);
    } catch (const std::exception &e) {
        return makeError(ErrorCode::Internal, what + ": " + e.what());
    }
}

} // namespace stipple::core
