// SHA-256 as specified in FIPS 180-4 (sections 4.1.2, 4.2.2, 5.1.1, 6.2).
#include "core/text/Sha256.h"

#include "core/text/Sha256Constants.h"
#include "core/text/Sha256Ni.h"

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <vector>

namespace stipple::core {

namespace {

inline std::uint32_t rotr(std::uint32_t x, int n) { return (x >> n) | (x << (32 - n)); }

} // namespace

Sha256::Sha256(Implementation implementation)
    : m_h{0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19}
{
    static const bool hasShaNi = cpuHasShaNi();
    m_shaNi = implementation == Implementation::Fastest && hasShaNi;
}

void Sha256::compress(const std::uint8_t *p, size_t blocks)
{
    if (blocks == 0)
        return;
    if (m_shaNi) {
        sha256BlocksNi(m_h.data(), p, blocks);
        return;
    }
    for (size_t i = 0; i < blocks; ++i)
        block(p + 64 * i);
}

void Sha256::block(const std::uint8_t *p)
{
    std::uint32_t w[64];
    for (int t = 0; t < 16; ++t)
        w[t] = (std::uint32_t(p[4 * t]) << 24) | (std::uint32_t(p[4 * t + 1]) << 16) |
               (std::uint32_t(p[4 * t + 2]) << 8) | std::uint32_t(p[4 * t + 3]);
    for (int t = 16; t < 64; ++t) {
        const std::uint32_t s0 = rotr(w[t - 15], 7) ^ rotr(w[t - 15], 18) ^ (w[t - 15] >> 3);
        const std::uint32_t s1 = rotr(w[t - 2], 17) ^ rotr(w[t - 2], 19) ^ (w[t - 2] >> 10);
        w[t] = w[t - 16] + s0 + w[t - 7] + s1;
    }
    std::uint32_t a = m_h[0], b = m_h[1], c = m_h[2], d = m_h[3];
    std::uint32_t e = m_h[4], f = m_h[5], g = m_h[6], h = m_h[7];
    for (int t = 0; t < 64; ++t) {
        const std::uint32_t S1 = rotr(e, 6) ^ rotr(e, 11) ^ rotr(e, 25);
        const std::uint32_t ch = (e & f) ^ (~e & g);
        const std::uint32_t t1 = h + S1 + ch + kSha256RoundConstants[t] + w[t];
        const std::uint32_t S0 = rotr(a, 2) ^ rotr(a, 13) ^ rotr(a, 22);
        const std::uint32_t maj = (a & b) ^ (a & c) ^ (b & c);
        const std::uint32_t t2 = S0 + maj;
        h = g; g = f; f = e; e = d + t1;
        d = c; c = b; b = a; a = t1 + t2;
    }
    m_h[0] += a; m_h[1] += b; m_h[2] += c; m_h[3] += d;
    m_h[4] += e; m_h[5] += f; m_h[6] += g; m_h[7] += h;
}

void Sha256::update(const void *data, size_t size)
{
    const auto *p = static_cast<const std::uint8_t *>(data);
    m_totalBytes += size;
    if (m_bufLen > 0) {
        const size_t take = std::min(size, 64 - m_bufLen);
        std::memcpy(m_buf.data() + m_bufLen, p, take);
        m_bufLen += take;
        p += take;
        size -= take;
        if (m_bufLen == 64) {
            compress(m_buf.data(), 1);
            m_bufLen = 0;
        }
    }
    const size_t whole = size / 64;
    compress(p, whole);
    p += 64 * whole;
    size -= 64 * whole;
    if (size > 0) {
        std::memcpy(m_buf.data(), p, size);
        m_bufLen = size;
    }
}

std::array<std::uint8_t, 32> Sha256::finish()
{
    const std::uint64_t bits = m_totalBytes * 8;
    const std::uint8_t pad0 = 0x80;
    update(&pad0, 1);
    const std::uint8_t zero = 0;
    while (m_bufLen != 56)
        update(&zero, 1);
    std::uint8_t len[8];
    for (int i = 0; i < 8; ++i)
        len[i] = static_cast<std::uint8_t>(bits >> (56 - 8 * i));
    update(len, 8);
    std::array<std::uint8_t, 32> out{};
    for (int i = 0; i < 8; ++i)
        for (int k = 0; k < 4; ++k)
            out[4 * i + k] = static_cast<std::uint8_t>(m_h[i] >> (24 - 8 * k));
    return out;
}

std::string Sha256::hex(const std::array<std::uint8_t, 32> &digest)
{
    static const char *digits = "0123456789abcdef";
    std::string s;
    s.reserve(64);
    for (auto b : digest) {
        s.push_back(digits[b >> 4]);
        s.push_back(digits[b & 15]);
    }
    return s;
}

std::string Sha256::hashHex(const std::string &bytes)
{
    Sha256 h;
    h.update(bytes.data(), bytes.size());
    return hex(h.finish());
}

Result<std::string> Sha256::fileHex(const std::string &path, Implementation implementation)
{
    std::ifstream in(path, std::ios::binary);
    if (!in)
        return makeError(ErrorCode::FileNotFound, "cannot open " + path);
    Sha256 h(implementation);
    std::vector<char> buf(1 << 20);
    while (in) {
        in.read(buf.data(), static_cast<std::streamsize>(buf.size()));
        const auto n = in.gcount();
        if (n > 0)
            h.update(buf.data(), static_cast<size_t>(n));
    }
    if (in.bad())
        return makeError(ErrorCode::IoError, "cannot read " + path);
    return hex(h.finish());
}

} // namespace stipple::core
