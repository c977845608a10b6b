// How prompt text is read: A1111's syntax (weights, BREAK, chunks) or
// literally, as diffusers does. Thread-safety: plain value.
#pragma once

namespace stipple::core {

enum class PromptSyntax {
    A1111,    // (x:1.2), [x], BREAK, 75-token chunks concatenated
    Diffusers // literal text, one truncated 77-token window (reference parity)
};

} // namespace stipple::core
