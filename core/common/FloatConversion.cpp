#include "core/common/FloatConversion.h"

#include "core/common/MemoryPages.h"
#include "core/common/ParallelRange.h"

#include <ATen/ATen.h>

#include <cpuid.h>
#include <cstdint>
#include <immintrin.h>

namespace stipple::core {
namespace {

// F16 -> F32 with F16C (8 values per instruction), parallel over chunks;
// ATen 1.13's copy_ converts Half element by element.
__attribute__((target("avx,f16c"))) void halfToFloatF16c(const std::uint16_t *src, float *dst, std::int64_t n)
{
    std::int64_t i = 0;
    for (; i + 8 <= n; i += 8) {
        const __m128i h = _mm_loadu_si128(reinterpret_cast<const __m128i *>(src + i));
        _mm256_storeu_ps(dst + i, _mm256_cvtph_ps(h));
    }
    for (; i < n; ++i)
        dst[i] = _cvtsh_ss(src[i]);
}

void bfloat16ToFloat(const std::uint16_t *src, float *dst, std::int64_t n)
{
    auto *out = reinterpret_cast<std::uint32_t *>(dst);
    for (std::int64_t i = 0; i < n; ++i)
        out[i] = static_cast<std::uint32_t>(src[i]) << 16; // bf16 is the top half of an f32
}

bool hasF16c()
{
    static const bool f16c = [] {
        unsigned a = 0, b = 0, c = 0, d = 0;
        return __get_cpuid(1, &a, &b, &c, &d) && (c & (1u << 29)) && (c & (1u << 28)); // F16C, AVX
    }();
    return f16c;
}

} // namespace

bool convertsVectorised(at::ScalarType dst, at::ScalarType src)
{
    return dst == at::kFloat && ((src == at::kHalf && hasF16c()) || src == at::kBFloat16);
}

void convertToFloat(const void *src, at::ScalarType srcType, float *dst, std::int64_t n)
{
    TORCH_CHECK(convertsVectorised(at::kFloat, srcType), "convertToFloat: no vectorised path from ", srcType);
    const auto *in = static_cast<const std::uint16_t *>(src);
    if (srcType == at::kHalf)
        halfToFloatF16c(in, dst, n);
    else
        bfloat16ToFloat(in, dst, n);
}

void convertInto(const at::Tensor &dst, const at::Tensor &src)
{
    TORCH_CHECK(dst.numel() == src.numel(), "convertInto: ", src.numel(), " elements into ", dst.numel());
    // Sources are mostly views of a mapped checkpoint: map a large one in one go.
    if (src.is_contiguous() && src.nbytes() >= (std::size_t(1) << 20))
        mapPagesForReading(src.data_ptr(), src.nbytes());
    if (convertsVectorised(dst.scalar_type(), src.scalar_type()) && dst.is_contiguous() && src.is_contiguous()) {
        const auto *in = static_cast<const std::uint16_t *>(src.data_ptr());
        auto *out = dst.data_ptr<float>();
        const at::ScalarType from = src.scalar_type();
        // parallelRange, not at::parallel_for (serial in files built without
        // OpenMP, see ParallelRange.h).
        parallelRange(0, src.numel(), std::int64_t(1) << 16,
                      [&](std::int64_t b, std::int64_t e, int) { convertToFloat(in + b, from, out + b, e - b); });
        return;
    }
    dst.copy_(src);
}

at::Tensor convertedThroughScratch(const at::Tensor &t, at::ScalarType dtype, at::Tensor &scratch)
{
    if (t.scalar_type() == dtype)
        return t;
    const std::int64_t n = t.numel();
    if (!scratch.defined() || scratch.scalar_type() != dtype || scratch.numel() < n)
        scratch = at::empty({n}, t.options().dtype(dtype));
    at::Tensor view = scratch.narrow(0, 0, n).view(t.sizes());
    convertInto(view, t.contiguous());
    return view;
}

} // namespace stipple::core
