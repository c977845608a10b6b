// Fused float32 attention rows (see AttentionKernelAvx512.h). Compiled with
// -mavx512f -mfma (core/models/CMakeLists.txt); the bfloat16 functions carry
// their own target attribute (AVX512-BF16, which implies AVX512BW), so no
// other function here may use those instructions, and they are reached only
// when the caller saw the CPU flag. Nothing but the kernel's own header,
// Avx512Math.h, <immintrin.h> and <cstring> is included, and everything but
// attendRowsAvx512 has internal linkage (see the header for why).
#include "core/models/common/AttentionKernelAvx512.h"
#include "core/models/common/Avx512Math.h"

#include <immintrin.h>

#include <cstring>

namespace stipple::core::kernels {

namespace {

#define STIPPLE_BF16_TARGET __attribute__((target("avx512f,avx512bw,avx512bf16,fma")))

// The bf16 probabilities are written over the float scores and read back as
// pairs: through these types, which may alias the floats (plain uint16_t /
// uint32_t accesses to float storage would be undefined behaviour).
typedef std::uint16_t __attribute__((may_alias)) AliasU16;
typedef std::uint32_t __attribute__((may_alias)) AliasU32;

constexpr int kQkRows = 6;    // q rows per q·kᵀ register tile
constexpr int kQkVectors = 4; // 64 keys per tile: 24 accumulators + 4 loads + 1 broadcast

// Rows per p·v register tile for dv in V vectors: R·V accumulators + V loads
// + 1 broadcast fit the 32 vector registers, and R divides the 24-row block.
constexpr int pvTileRows(int vectors)
{
    return vectors == 1 ? 24 : vectors == 2 ? 12 : vectors == 3 ? 8 : vectors == 4 ? 6 : vectors <= 6 ? 4 : vectors == 7 ? 3 : 2;
}

// s[0..keys) <- exp(s - max s); returns the sum of the exponentials.
float softmaxNumerators(float *s, std::int64_t keys)
{
    __m512 mx = _mm512_set1_ps(-__builtin_inff());
    std::int64_t j = 0;
    for (; j + 16 <= keys; j += 16)
        mx = _mm512_max_ps(mx, _mm512_loadu_ps(s + j));
    if (j < keys) {
        const __mmask16 m = tailMask(keys - j);
        mx = _mm512_mask_max_ps(mx, m, mx, _mm512_maskz_loadu_ps(m, s + j));
    }
    const __m512 rowMax = _mm512_set1_ps(_mm512_reduce_max_ps(mx));
    __m512 sum = _mm512_setzero_ps();
    for (j = 0; j + 16 <= keys; j += 16) {
        const __m512 e = expPs(_mm512_sub_ps(_mm512_loadu_ps(s + j), rowMax));
        _mm512_storeu_ps(s + j, e);
        sum = _mm512_add_ps(sum, e);
    }
    if (j < keys) {
        const __mmask16 m = tailMask(keys - j);
        const __m512 e = expPs(_mm512_sub_ps(_mm512_maskz_loadu_ps(m, s + j), rowMax));
        _mm512_mask_storeu_ps(s + j, m, e);
        sum = _mm512_mask_add_ps(sum, m, sum, e);
    }
    return _mm512_reduce_add_ps(sum);
}

// s[r][0..64) = scale · Σ_k q[r][k] · panel[k][0..64) for the 6 rows of q6 (6 x d).
void qkTile(const float *q6, std::int64_t d, const float *panel, float scale, float *s, std::int64_t sStride)
{
    __m512 acc[kQkRows][kQkVectors];
    for (int r = 0; r < kQkRows; ++r)
        for (int i = 0; i < kQkVectors; ++i)
            acc[r][i] = _mm512_setzero_ps();
    for (std::int64_t k = 0; k < d; ++k) {
        const float *b = panel + k * 64;
        __m512 bv[kQkVectors];
        for (int i = 0; i < kQkVectors; ++i)
            bv[i] = _mm512_loadu_ps(b + 16 * i);
        for (int r = 0; r < kQkRows; ++r) {
            const __m512 a = _mm512_set1_ps(q6[r * d + k]);
            for (int i = 0; i < kQkVectors; ++i)
                acc[r][i] = _mm512_fmadd_ps(a, bv[i], acc[r][i]);
        }
    }
    const __m512 sc = _mm512_set1_ps(scale);
    for (int r = 0; r < kQkRows; ++r)
        for (int i = 0; i < kQkVectors; ++i)
            _mm512_storeu_ps(s + r * sStride + 16 * i, _mm512_mul_ps(acc[r][i], sc));
}

// The same from bfloat16: q6 holds 6 rows of `pairs` (q[2i], q[2i+1]) pairs
// as 32-bit words, the panel `pairs` x 64 keys x 2 (the header's layout).
// vdpbf16ps adds both products of a pair to each key's lane.
STIPPLE_BF16_TARGET void qkTileBf16(const std::uint32_t *q6, std::int64_t pairs, const std::uint16_t *panel,
                                    float scale, float *s, std::int64_t sStride)
{
    __m512 acc[kQkRows][kQkVectors];
    for (int r = 0; r < kQkRows; ++r)
        for (int i = 0; i < kQkVectors; ++i)
            acc[r][i] = _mm512_setzero_ps();
    for (std::int64_t p = 0; p < pairs; ++p) {
        const std::uint16_t *b = panel + p * 2 * kAttentionKeyStep;
        __m512bh bv[kQkVectors];
        for (int i = 0; i < kQkVectors; ++i)
            bv[i] = (__m512bh)_mm512_loadu_si512(b + 32 * i);
        for (int r = 0; r < kQkRows; ++r) {
            const __m512bh a = (__m512bh)_mm512_set1_epi32(static_cast<int>(q6[r * pairs + p]));
            for (int i = 0; i < kQkVectors; ++i)
                acc[r][i] = _mm512_dpbf16_ps(acc[r][i], a, bv[i]);
        }
    }
    const __m512 sc = _mm512_set1_ps(scale);
    for (int r = 0; r < kQkRows; ++r)
        for (int i = 0; i < kQkVectors; ++i)
            _mm512_storeu_ps(s + r * sStride + 16 * i, _mm512_mul_ps(acc[r][i], sc));
}

// scores = scale · q·kᵀ for the block's rows, from bfloat16 q and kᵀ.
STIPPLE_BF16_TARGET void scoresFromBf16(const AttentionRowsArgs &a, std::int64_t tiles, std::int64_t sStride)
{
    const std::int64_t pairs = (a.d + 1) / 2;
    std::uint32_t qPairs[kAttentionRowBlock * ((kAttentionMaxHeadDim + 1) / 2)];
    for (std::int64_t r = 0; r < tiles * kQkRows; ++r)
        for (std::int64_t p = 0; p < pairs; ++p) {
            std::uint16_t pair[2] = {0, 0};
            if (r < a.rows) {
                pair[0] = a.qBf16[r * a.qStride + 2 * p];
                pair[1] = 2 * p + 1 < a.d ? a.qBf16[r * a.qStride + 2 * p + 1] : std::uint16_t(0);
            }
            std::memcpy(&qPairs[r * pairs + p], pair, sizeof pair); // little-endian: pair[0] is the low half
        }
    for (std::int64_t j = 0; j < a.keysPadded; j += kAttentionKeyStep) {
        const std::uint16_t *panel = a.ktBf16 + j * pairs * 2;
        for (std::int64_t t = 0; t < tiles; ++t)
            qkTileBf16(qPairs + t * kQkRows * pairs, pairs, panel, a.scale, a.scores + t * kQkRows * sStride + j,
                       sStride);
    }
}

// out[r0 + r] = invSum[r0 + r] · acc[r] for the tile's rows that exist.
// Always inlined: called out of line, `acc` would leave the registers for
// the whole p·v loop (measured: the kernel at half speed).
template <int R, int V>
__attribute__((always_inline)) inline void storeScaledRows(const AttentionRowsArgs &a, const float *invSum,
                                                           std::int64_t r0, __m512 (&acc)[R][V], __mmask16 last)
{
    for (int r = 0; r < R && r0 + r < a.rows; ++r) {
        const __m512 inv = _mm512_set1_ps(invSum[r0 + r]);
        float *o = a.out + (r0 + r) * a.outStride;
        for (int i = 0; i < V - 1; ++i)
            _mm512_storeu_ps(o + 16 * i, _mm512_mul_ps(acc[r][i], inv));
        _mm512_mask_storeu_ps(o + 16 * (V - 1), last, _mm512_mul_ps(acc[r][V - 1], inv));
    }
}

// The mask of dv's last vector.
template <int V>
__attribute__((always_inline)) inline __mmask16 lastVectorMask(std::int64_t dv)
{
    return tailMask(dv - 16 * (V - 1));
}

// out[r] = invSum[r] · Σ_j p[r][j] · v[j] for R rows at a time, dv in V
// vectors (the last one masked).
template <int V>
void pvRows(const AttentionRowsArgs &a, const float *invSum)
{
    constexpr int R = pvTileRows(V);
    static_assert(kAttentionRowBlock % R == 0, "row tiles must divide the row block");
    const __mmask16 last = lastVectorMask<V>(a.dv);
    const std::int64_t sStride = a.keysPadded + kAttentionScoreRowPad;
    for (std::int64_t r0 = 0; r0 < a.rows; r0 += R) {
        __m512 acc[R][V];
        for (int r = 0; r < R; ++r)
            for (int i = 0; i < V; ++i)
                acc[r][i] = _mm512_setzero_ps();
        const float *p = a.scores + r0 * sStride;
        for (std::int64_t j = 0; j < a.keys; ++j) {
            const float *vr = a.v + j * a.vStride;
            __m512 bv[V];
            for (int i = 0; i < V - 1; ++i)
                bv[i] = _mm512_loadu_ps(vr + 16 * i);
            bv[V - 1] = _mm512_maskz_loadu_ps(last, vr + 16 * (V - 1));
            for (int r = 0; r < R; ++r) {
                const __m512 w = _mm512_set1_ps(p[r * sStride + j]);
                for (int i = 0; i < V; ++i)
                    acc[r][i] = _mm512_fmadd_ps(w, bv[i], acc[r][i]);
            }
        }
        storeScaledRows<R, V>(a, invSum, r0, acc, last);
    }
}

// Rounds each row's probabilities to bfloat16 in place: the first 2·keys
// bytes of the row hold them afterwards, zero-padded to an even count (the
// row is read from the front as it is overwritten: 32 floats in, 64 bytes
// out, always behind the read).
STIPPLE_BF16_TARGET void probabilitiesToBf16(float *scores, std::int64_t rows, std::int64_t keys,
                                             std::int64_t sStride)
{
    for (std::int64_t r = 0; r < rows; ++r) {
        float *row = scores + r * sStride;
        auto *out = reinterpret_cast<AliasU16 *>(row);
        std::int64_t j = 0;
        for (; j + 32 <= keys; j += 32) {
            const __m512bh pair = _mm512_cvtne2ps_pbh(_mm512_loadu_ps(row + j + 16), _mm512_loadu_ps(row + j));
            _mm512_storeu_si512(out + j, (__m512i)pair);
        }
        if (j < keys) {
            alignas(64) float tail[32] = {};
            for (std::int64_t t = j; t < keys; ++t)
                tail[t - j] = row[t];
            const __m512bh pair = _mm512_cvtne2ps_pbh(_mm512_load_ps(tail + 16), _mm512_load_ps(tail));
            alignas(64) std::uint16_t bits[32];
            _mm512_store_si512(bits, (__m512i)pair);
            for (std::int64_t t = j; t < keys + (keys & 1); ++t)
                out[t] = bits[t - j];
        }
    }
}

// p·v from bfloat16 probabilities (probabilitiesToBf16) and a bfloat16 v in
// pairs of keys (the header's layout): vdpbf16ps adds two keys' products per
// lane. Otherwise as pvRows.
template <int V>
STIPPLE_BF16_TARGET void pvRowsBf16(const AttentionRowsArgs &a, const float *invSum)
{
    constexpr int R = pvTileRows(V);
    static_assert(kAttentionRowBlock % R == 0, "row tiles must divide the row block");
    const __mmask16 last = lastVectorMask<V>(a.dv);
    const std::int64_t sStride = a.keysPadded + kAttentionScoreRowPad; // in 32-bit words: one pair each
    const auto *p = reinterpret_cast<const AliasU32 *>(a.scores);
    const std::int64_t pairs = (a.keys + 1) / 2, rowPairs = 16 * V * 2; // bf16 per pair of v rows
    for (std::int64_t r0 = 0; r0 < a.rows; r0 += R) {
        __m512 acc[R][V];
        for (int r = 0; r < R; ++r)
            for (int i = 0; i < V; ++i)
                acc[r][i] = _mm512_setzero_ps();
        for (std::int64_t jj = 0; jj < pairs; ++jj) {
            const std::uint16_t *vr = a.vBf16 + jj * rowPairs;
            __m512bh bv[V];
            for (int i = 0; i < V; ++i)
                bv[i] = (__m512bh)_mm512_loadu_si512(vr + 32 * i);
            for (int r = 0; r < R; ++r) {
                const __m512bh w = (__m512bh)_mm512_set1_epi32(static_cast<int>(p[(r0 + r) * sStride + jj]));
                for (int i = 0; i < V; ++i)
                    acc[r][i] = _mm512_dpbf16_ps(acc[r][i], w, bv[i]);
            }
        }
        storeScaledRows<R, V>(a, invSum, r0, acc, last);
    }
}

template <int V>
void pvRowsAny(const AttentionRowsArgs &a, const float *invSum)
{
    if (a.vBf16)
        pvRowsBf16<V>(a, invSum);
    else
        pvRows<V>(a, invSum);
}

} // namespace

void attendRowsAvx512(const AttentionRowsArgs &a)
{
    const std::int64_t sStride = a.keysPadded + kAttentionScoreRowPad;
    // q·kᵀ: panel by panel, all row tiles of the block per panel, so the
    // panel (d x 64 floats) stays in L1 (1.1x over rows-outer). Rows past
    // a.rows are zero; their scores, and scratch rows below the last tile,
    // go through p·v tiles whose results for those rows are not stored.
    const std::int64_t tiles = (a.rows + kQkRows - 1) / kQkRows;
    if (a.ktBf16) {
        scoresFromBf16(a, tiles, sStride);
    } else {
        float qRows[kAttentionRowBlock * kAttentionMaxHeadDim];
        for (std::int64_t r = 0; r < tiles * kQkRows; ++r)
            for (std::int64_t k = 0; k < a.d; ++k)
                qRows[r * a.d + k] = r < a.rows ? a.q[r * a.qStride + k] : 0.0f;
        for (std::int64_t j = 0; j < a.keysPadded; j += kAttentionKeyStep) {
            const float *panel = a.kt + j * a.d;
            for (std::int64_t t = 0; t < tiles; ++t)
                qkTile(qRows + t * kQkRows * a.d, a.d, panel, a.scale, a.scores + t * kQkRows * sStride + j,
                       sStride);
        }
    }
    float invSum[kAttentionRowBlock];
    for (std::int64_t r = 0; r < a.rows; ++r)
        invSum[r] = 1.0f / softmaxNumerators(a.scores + r * sStride, a.keys);
    // (Rows past a.rows that the p·v tiles read keep their float bits; their
    // results are dropped.)
    if (a.vBf16)
        probabilitiesToBf16(a.scores, a.rows, a.keys, sStride);
    switch ((a.dv + 15) / 16) {
    case 1: pvRowsAny<1>(a, invSum); break;
    case 2: pvRowsAny<2>(a, invSum); break;
    case 3: pvRowsAny<3>(a, invSum); break;
    case 4: pvRowsAny<4>(a, invSum); break;
    case 5: pvRowsAny<5>(a, invSum); break;
    case 6: pvRowsAny<6>(a, invSum); break;
    case 7: pvRowsAny<7>(a, invSum); break;
    case 8: pvRowsAny<8>(a, invSum); break;
    case 9: pvRowsAny<9>(a, invSum); break;
    default: pvRowsAny<10>(a, invSum); break; // dv <= kAttentionMaxHeadDim = 160
    }
}

} // namespace stipple::core::kernels
