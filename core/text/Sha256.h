// Sha256: a small SHA-256 (FIPS 180-4) for verifying downloaded vocabulary
// files and for the "Model hash" of checkpoints, without adding a crypto
// dependency. Uses the CPU's SHA extensions where present (Sha256Ni.h).
// Thread-safety: an instance is not shared; the static helpers are reentrant.
#pragma once

#include "core/common/Result.h"

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>

namespace stipple::core {

class Sha256 {
public:
    enum class Implementation {
        Fastest,  // SHA extensions when the CPU has them, else Portable
        Portable, // plain C++ (tests compare the two)
    };
    explicit Sha256(Implementation implementation = Implementation::Fastest);
    void update(const void *data, size_t size);
    // Finishes the hash; the object must not be updated afterwards.
    std::array<std::uint8_t, 32> finish();

    static std::string hex(const std::array<std::uint8_t, 32> &digest);
    static std::string hashHex(const std::string &bytes);
    // Lower-case hex SHA-256 of a file's bytes. Errors: FileNotFound, IoError.
    static Result<std::string> fileHex(const std::string &path,
                                       Implementation implementation = Implementation::Fastest);

private:
    void compress(const std::uint8_t *p, size_t blocks);
    void block(const std::uint8_t *p);

    std::array<std::uint32_t, 8> m_h;
    std::array<std::uint8_t, 64> m_buf{};
    size_t m_bufLen = 0;
    std::uint64_t m_totalBytes = 0;
    bool m_shaNi = false;
};

} // namespace stipple::core
