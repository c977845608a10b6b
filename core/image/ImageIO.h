// Reading and writing pictures. Decoding uses OpenCV (PNG, JPEG, WebP, ...)
// from bytes; writing produces PNG with text chunks ("parameters", the
// A1111 infotext) inserted after IHDR, written atomically (temp + rename).
// Also reads the text chunks of a PNG (tEXt, zTXt, iTXt) for "PNG Info".
// Images larger than kMaxImageSide per side or kMaxImagePixels in total are
// refused before decoding, so a hostile header cannot exhaust memory.
// Thread-safety: pure functions (OpenCV codecs are reentrant).
#pragma once

#include "core/common/Result.h"
#include "core/image/Image.h"

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace stipple::core {

constexpr int kMaxImageSide = 16384;
constexpr std::int64_t kMaxImagePixels = 100'000'000; // 100 MP

using TextChunks = std::vector<std::pair<std::string, std::string>>; // keyword, UTF-8 text

// Width/height from the header of a PNG, JPEG or WebP without decoding; an
// Error when the bytes are none of these or the header is truncated.
struct ImageSize { int width = 0; int height = 0; };
Result<ImageSize> probeImageSize(const std::vector<std::uint8_t> &bytes);

// Decodes bytes; `name` names the source in error messages. 16-bit images
// are reduced to 8 bits; the result has 1, 3 (RGB) or 4 (RGBA) channels.
Result<Image> decodeImage(const std::vector<std::uint8_t> &bytes, const std::string &name);

// Reads and decodes a file (FileNotFound / IoError / InvalidImage).
Result<Image> readImage(const std::string &path);

// PNG bytes with the given text chunks right after IHDR. Latin-1-safe ASCII
// text goes into tEXt, anything else into iTXt (UTF-8), as PIL's add_text does.
Result<std::vector<std::uint8_t>> encodePng(const Image &image, const TextChunks &text = {});

// encodePng + atomic write (path.tmp then rename).
Status writePng(const std::string &path, const Image &image, const TextChunks &text = {});

// Text chunks of PNG bytes / of a PNG file, in file order (tEXt Latin-1 is
// converted to UTF-8; zTXt and compressed iTXt are inflated).
Result<TextChunks> readPngText(const std::vector<std::uint8_t> &bytes, const std::string &name);
Result<TextChunks> readPngTextFile(const std::string &path);

// Convenience: the value of `key` (e.g. "parameters"), empty when absent.
std::string findText(const TextChunks &chunks, const std::string &key);

// Whole file into memory (FileNotFound / IoError).
Result<std::vector<std::uint8_t>> readFileBytes(const std::string &path);

} // namespace stipple::core
