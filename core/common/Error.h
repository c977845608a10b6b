// Error values for everything a user can cause (bad file, bad request, out of
// memory). The UI translates `code` into text; `message` carries the details
// (file name, tensor name, sizes) in English for logs and the CLI.
// Thread-safety: plain values.
#pragma once

#include <string>

namespace stipple::core {

enum class ErrorCode {
    Ok = 0,
    FileNotFound,      // path does not exist or cannot be opened
    IoError,           // read/write/mmap failed
    CorruptFile,       // malformed content (bad header, offsets, JSON...)
    UnsafeFormat,      // pickle-based checkpoint refused
    UnsupportedModel,  // recognised but not supported (SDXL, SD3, Flux...)
    UnknownModel,      // weights we cannot identify
    MissingKeys,       // strict loading failed: keys missing
    UnexpectedKeys,    // strict loading failed: extra keys
    ShapeMismatch,     // a tensor has the wrong shape
    InvalidArgument,   // a bad request (size, steps, strength...)
    InvalidImage,      // not an image / unreadable image
    OutOfMemory,       // allocation failed
    MissingVocabulary, // tokenizer vocabulary not found
    Internal,          // torch error or broken invariant
};

struct Error {
    ErrorCode code = ErrorCode::Internal;
    std::string message;
};

// Short stable identifier, e.g. for JSON output and logs.
const char *errorCodeName(ErrorCode code);

} // namespace stipple::core
