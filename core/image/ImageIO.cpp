#include "core/image/ImageIO.h"

#include <opencv2/core.hpp>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include <zlib.h>

#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>

namespace stipple::core {

namespace {

constexpr std::uint8_t kPngSignature[8] = {0x89, 'P', 'N', 'G', 0x0D, 0x0A, 0x1A, 0x0A};

std::uint32_t be32(const std::uint8_t *p)
{
    return (std::uint32_t(p[0]) << 24) | (std::uint32_t(p[1]) << 16) | (std::uint32_t(p[2]) << 8) | p[3];
}

void putBe32(std::vector<std::uint8_t> &out, std::uint32_t v)
{
    out.push_back(std::uint8_t(v >> 24));
    out.push_back(std::uint8_t(v >> 16));
    out.push_back(std::uint8_t(v >> 8));
    out.push_back(std::uint8_t(v));
}

bool isPng(const std::vector<std::uint8_t> &b)
{
    return b.size() >= 8 && std::memcmp(b.data(), kPngSignature, 8) == 0;
}

// Latin-1 -> UTF-8 (tEXt/zTXt are Latin-1 by the PNG specification).
std::string latin1ToUtf8(const std::string &s)
{
    std::string out;
    out.reserve(s.size());
    for (unsigned char c : s) {
        if (c < 0x80) {
            out.push_back(char(c));
        } else {
            out.push_back(char(0xC0 | (c >> 6)));
            out.push_back(char(0x80 | (c & 0x3F)));
        }
    }
    return out;
}

bool isAscii(const std::string &s)
{
    for (unsigned char c : s)
        if (c >= 0x80)
            return false;
    return true;
}

// zlib inflate with an output bound (text chunks are small; refuse bombs).
std::optional<std::string> inflateBounded(const std::uint8_t *data, std::size_t size, std::size_t limit)
{
    z_stream zs{};
    if (inflateInit(&zs) != Z_OK)
        return std::nullopt;
    std::string out;
    std::vector<char> buf(64 * 1024);
    zs.next_in = const_cast<Bytef *>(data);
    zs.avail_in = uInt(size);
    int rc = Z_OK;
    while (rc == Z_OK) {
        zs.next_out = reinterpret_cast<Bytef *>(buf.data());
        zs.avail_out = uInt(buf.size());
        rc = inflate(&zs, Z_NO_FLUSH);
        if (rc != Z_OK && rc != Z_STREAM_END)
            break;
        out.append(buf.data(), buf.size() - zs.avail_out);
        if (out.size() > limit) {
            rc = Z_MEM_ERROR;
            break;
        }
    }
    inflateEnd(&zs);
    if (rc != Z_STREAM_END)
        return std::nullopt;
    return out;
}

std::vector<std::uint8_t> makeChunk(const char type[4], const std::string &data)
{
    std::vector<std::uint8_t> chunk;
    putBe32(chunk, std::uint32_t(data.size()));
    chunk.insert(chunk.end(), type, type + 4);
    chunk.insert(chunk.end(), data.begin(), data.end());
    // CRC-32 over type + data (PNG spec 5.3), zlib's crc32.
    uLong crc = crc32(0L, Z_NULL, 0);
    crc = crc32(crc, chunk.data() + 4, uInt(4 + data.size()));
    putBe32(chunk, std::uint32_t(crc));
    return chunk;
}

Error invalid(const std::string &name, const std::string &why)
{
    return makeError(ErrorCode::InvalidImage, "'" + name + "': " + why);
}

} // namespace

Result<ImageSize> probeImageSize(const std::vector<std::uint8_t> &b)
{
    const std::size_t n = b.size();
    if (isPng(b)) {
        // The first chunk must be IHDR: width, height as big-endian u32.
        if (n < 24 || std::memcmp(b.data() + 12, "IHDR", 4) != 0)
            return makeError(ErrorCode::InvalidImage, "truncated PNG header");
        const std::uint32_t w = be32(b.data() + 16), h = be32(b.data() + 20);
        if (w > 0x7fffffffu || h > 0x7fffffffu)
            return makeError(ErrorCode::InvalidImage, "PNG size out of range");
        return ImageSize{int(w), int(h)};
    }
    if (n >= 4 && b[0] == 0xFF && b[1] == 0xD8) {
        // JPEG: walk the marker segments to the first SOFn (ITU T.81 B.2).
        std::size_t i = 2;
        while (i + 4 <= n) {
            if (b[i] != 0xFF) {
                ++i;
                continue;
            }
            const std::uint8_t marker = b[i + 1];
            if (marker == 0xFF) {
                ++i;
                continue;
            }
            if (marker == 0xD8 || marker == 0x01 || (marker >= 0xD0 && marker <= 0xD7)) {
                i += 2;
                continue;
            }
            const std::size_t len = (std::size_t(b[i + 2]) << 8) | b[i + 3];
            const bool sof = marker >= 0xC0 && marker <= 0xCF && marker != 0xC4 && marker != 0xC8 && marker != 0xCC;
            if (sof) {
                if (i + 9 > n)
                    break;
                const int h = (b[i + 5] << 8) | b[i + 6];
                const int w = (b[i + 7] << 8) | b[i + 8];
                return ImageSize{w, h};
            }
            if (len < 2)
                break;
            i += 2 + len;
        }
        return makeError(ErrorCode::InvalidImage, "JPEG without a frame header");
    }
    if (n >= 30 && std::memcmp(b.data(), "RIFF", 4) == 0 && std::memcmp(b.data() + 8, "WEBP", 4) == 0) {
        const std::uint8_t *c = b.data() + 12; // first chunk header; data at c + 8
        if (std::memcmp(c, "VP8X", 4) == 0) {
            const int w = 1 + int(c[12] | (c[13] << 8) | (c[14] << 16));
            const int h = 1 + int(c[15] | (c[16] << 8) | (c[17] << 16));
            return ImageSize{w, h};
        }
        if (std::memcmp(c, "VP8 ", 4) == 0) {
            // Frame tag (3 bytes), start code 9d 01 2a, then 14-bit sizes (RFC 6386 9.1).
            const std::uint8_t *d = c + 8;
            if (d[3] != 0x9d || d[4] != 0x01 || d[5] != 0x2a)
                return makeError(ErrorCode::InvalidImage, "bad WebP VP8 start code");
            return ImageSize{(d[6] | (d[7] << 8)) & 0x3fff, (d[8] | (d[9] << 8)) & 0x3fff};
        }
        if (std::memcmp(c, "VP8L", 4) == 0) {
            const std::uint8_t *d = c + 8; // signature 0x2f, then 14+14 bits (minus one)
            const std::uint32_t bits = d[1] | (d[2] << 8) | (d[3] << 16) | (std::uint32_t(d[4]) << 24);
            return ImageSize{int(bits & 0x3fff) + 1, int((bits >> 14) & 0x3fff) + 1};
        }
        return makeError(ErrorCode::InvalidImage, "unknown WebP chunk");
    }
    return makeError(ErrorCode::InvalidImage, "not a PNG, JPEG or WebP file");
}

Result<Image> decodeImage(const std::vector<std::uint8_t> &bytes, const std::string &name)
{
    if (bytes.empty())
        return invalid(name, "empty file");
    auto size = probeImageSize(bytes);
    if (size.ok()) {
        const ImageSize s = size.value();
        if (s.width <= 0 || s.height <= 0)
            return invalid(name, "image has no pixels");
        if (s.width > kMaxImageSide || s.height > kMaxImageSide
            || std::int64_t(s.width) * s.height > kMaxImagePixels)
            return invalid(name, "image is too large (" + std::to_string(s.width) + "x"
                                     + std::to_string(s.height) + "; the limit is "
                                     + std::to_string(kMaxImageSide) + " pixels per side and "
                                     + std::to_string(kMaxImagePixels / 1'000'000) + " MP)");
    }
    cv::Mat mat;
    try {
        const cv::Mat raw(1, int(bytes.size()), CV_8UC1, const_cast<std::uint8_t *>(bytes.data()));
        mat = cv::imdecode(raw, cv::IMREAD_UNCHANGED);
    } catch (const cv::Exception &e) {
        return invalid(name, std::string("cannot decode: ") + e.what());
    }
    if (mat.empty())
        return invalid(name, size.ok() ? "corrupt or unsupported image data" : "not an image");
    if (mat.cols > kMaxImageSide || mat.rows > kMaxImageSide
        || std::int64_t(mat.cols) * mat.rows > kMaxImagePixels)
        return invalid(name, "image is too large");
    if (mat.depth() == CV_16U)
        mat.convertTo(mat, CV_8U, 1.0 / 257.0);
    else if (mat.depth() != CV_8U)
        mat.convertTo(mat, CV_8U, 255.0);
    cv::Mat out;
    int channels = 3;
    switch (mat.channels()) {
    case 1: out = mat; channels = 1; break;
    case 3: cv::cvtColor(mat, out, cv::COLOR_BGR2RGB); break;
    case 4: cv::cvtColor(mat, out, cv::COLOR_BGRA2RGBA); channels = 4; break;
    default: return invalid(name, "unsupported channel count " + std::to_string(mat.channels()));
    }
    Image img = Image::blank(out.cols, out.rows, channels);
    for (int y = 0; y < out.rows; ++y)
        std::memcpy(img.row(y), out.ptr(y), std::size_t(out.cols) * channels);
    return img;
}

Result<std::vector<std::uint8_t>> readFileBytes(const std::string &path)
{
    std::error_code ec;
    if (!std::filesystem::is_regular_file(path, ec))
        return makeError(ErrorCode::FileNotFound, "'" + path + "': no such file");
    std::ifstream in(path, std::ios::binary);
    if (!in)
        return makeError(ErrorCode::IoError, "'" + path + "': cannot open");
    std::vector<std::uint8_t> bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    if (in.bad())
        return makeError(ErrorCode::IoError, "'" + path + "': read error");
    return bytes;
}

Result<Image> readImage(const std::string &path)
{
    auto bytes = readFileBytes(path);
    if (!bytes)
        return bytes.error();
    return decodeImage(bytes.value(), path);
}

Result<std::vector<std::uint8_t>> encodePng(const Image &image, const TextChunks &text)
{
    if (image.isNull() || image.pixels.size() != image.byteSize()
        || (image.channels != 1 && image.channels != 3 && image.channels != 4))
        return makeError(ErrorCode::InvalidArgument, "encodePng: invalid image");
    const int type = image.channels == 1 ? CV_8UC1 : image.channels == 3 ? CV_8UC3 : CV_8UC4;
    const cv::Mat src(image.height, image.width, type, const_cast<std::uint8_t *>(image.pixels.data()));
    cv::Mat bgr;
    if (image.channels == 3)
        cv::cvtColor(src, bgr, cv::COLOR_RGB2BGR);
    else if (image.channels == 4)
        cv::cvtColor(src, bgr, cv::COLOR_RGBA2BGRA);
    else
        bgr = src;
    std::vector<std::uint8_t> png;
    try {
        // zlib level 6, PIL's default (OpenCV's own default is 1: fast, larger files).
        if (!cv::imencode(".png", bgr, png, {cv::IMWRITE_PNG_COMPRESSION, 6}))
            return makeError(ErrorCode::Internal, "PNG encoding failed");
    } catch (const cv::Exception &e) {
        return makeError(ErrorCode::Internal, std::string("PNG encoding failed: ") + e.what());
    }
    if (text.empty())
        return png;
    // Insert the chunks right after IHDR (8-byte signature + 25-byte IHDR chunk).
    std::vector<std::uint8_t> chunks;
    for (const auto &[key, value] : text) {
        if (key.empty() || key.size() > 79)
            return makeError(ErrorCode::InvalidArgument, "PNG text keyword must be 1-79 bytes");
        std::vector<std::uint8_t> c;
        if (isAscii(value)) {
            c = makeChunk("tEXt", key + std::string(1, '\0') + value);
        } else {
            // iTXt: keyword \0 compression-flag compression-method language \0 translated \0 text
            std::string data = key;
            data.push_back('\0');
            data.push_back('\0');
            data.push_back('\0');
            data.push_back('\0');
            data.push_back('\0');
            data += value;
            c = makeChunk("iTXt", data);
        }
        chunks.insert(chunks.end(), c.begin(), c.end());
    }
    const std::size_t ihdrEnd = 8 + 4 + 4 + 13 + 4;
    if (png.size() < ihdrEnd || std::memcmp(png.data() + 12, "IHDR", 4) != 0)
        return makeError(ErrorCode::Internal, "PNG encoder produced no IHDR");
    png.insert(png.begin() + std::ptrdiff_t(ihdrEnd), chunks.begin(), chunks.end());
    return png;
}

Status writePng(const std::string &path, const Image &image, const TextChunks &text)
{
    auto png = encodePng(image, text);
    if (!png)
        return png.error();
    const std::string tmp = path + ".tmp";
    {
        std::FILE *f = std::fopen(tmp.c_str(), "wb");
        if (!f)
            return makeError(ErrorCode::IoError, "'" + path + "': cannot create file");
        const std::size_t written = std::fwrite(png->data(), 1, png->size(), f);
        const bool ok = written == png->size() && std::fflush(f) == 0;
        std::fclose(f);
        if (!ok) {
            std::remove(tmp.c_str());
            return makeError(ErrorCode::IoError, "'" + path + "': write failed (disk full?)");
        }
    }
    std::error_code ec;
    std::filesystem::rename(tmp, path, ec);
    if (ec) {
        std::remove(tmp.c_str());
        return makeError(ErrorCode::IoError, "'" + path + "': " + ec.message());
    }
    return {};
}

Result<TextChunks> readPngText(const std::vector<std::uint8_t> &b, const std::string &name)
{
    if (!isPng(b))
        return invalid(name, "not a PNG file");
    TextChunks out;
    std::size_t pos = 8;
    constexpr std::size_t kTextLimit = 16u << 20;
    while (pos + 12 <= b.size()) {
        const std::uint32_t len = be32(b.data() + pos);
        const std::string type(reinterpret_cast<const char *>(b.data() + pos + 4), 4);
        if (len > b.size() - pos - 12)
            return invalid(name, "truncated PNG chunk '" + type + "'");
        const std::uint8_t *d = b.data() + pos + 8;
        const std::string data(reinterpret_cast<const char *>(d), len);
        const std::size_t nul = data.find('\0');
        if (type == "tEXt" && nul != std::string::npos) {
            out.emplace_back(data.substr(0, nul), latin1ToUtf8(data.substr(nul + 1)));
        } else if (type == "zTXt" && nul != std::string::npos && nul + 2 <= data.size()) {
            auto text = inflateBounded(d + nul + 2, len - nul - 2, kTextLimit);
            if (text)
                out.emplace_back(data.substr(0, nul), latin1ToUtf8(*text));
        } else if (type == "iTXt" && nul != std::string::npos && nul + 3 <= data.size()) {
            const bool compressed = data[nul + 1] != 0;
            const std::size_t lang = data.find('\0', nul + 3);
            const std::size_t trans = lang == std::string::npos ? lang : data.find('\0', lang + 1);
            if (trans != std::string::npos) {
                if (!compressed) {
                    out.emplace_back(data.substr(0, nul), data.substr(trans + 1));
                } else if (auto text = inflateBounded(d + trans + 1, len - trans - 1, kTextLimit)) {
                    out.emplace_back(data.substr(0, nul), *text);
                }
            }
        } else if (type == "IEND") {
            break;
        }
        pos += 12 + std::size_t(len);
    }
    return out;
}

Result<TextChunks> readPngTextFile(const std::string &path)
{
    auto bytes = readFileBytes(path);
    if (!bytes)
        return bytes.error();
    return readPngText(bytes.value(), path);
}

std::string findText(const TextChunks &chunks, const std::string &key)
{
    for (const auto &[k, v] : chunks)
        if (k == key)
            return v;
    return {};
}

} // namespace stipple::core
