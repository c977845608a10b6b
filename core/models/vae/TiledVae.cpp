// Tiled VAE (see TiledVae.h).
#include "core/models/vae/TiledVae.h"

#include <ATen/ATen.h>
#include <torch/utils.h>

#include <algorithm>
#include <new>

namespace stipple::core {

std::vector<std::int64_t> tileStarts(std::int64_t length, std::int64_t tile, std::int64_t overlap)
{
    if (length <= tile)
        return {0};
    const std::int64_t stride = std::max<std::int64_t>(1, tile - overlap);
    std::vector<std::int64_t> starts;
    for (std::int64_t s = 0; s + tile < length; s += stride)
        starts.push_back(s);
    starts.push_back(length - tile);
    return starts;
}

bool vaeNeedsTiling(const AutoencoderKL &, std::int64_t latentH, std::int64_t latentW,
                    const VaeTileOptions &options)
{
    return latentH > options.tileLatent || latentW > options.tileLatent;
}

namespace {

// 1-D blend weights for a tile of `size` output pixels whose leading/trailing
// edges are interior (ramped over `ramp` pixels) or on the image border (flat).
at::Tensor rampWeights(std::int64_t size, std::int64_t ramp, bool rampStart, bool rampEnd)
{
    at::Tensor w = at::ones({size}, at::TensorOptions().dtype(at::kFloat));
    ramp = std::min(ramp, size / 2);
    if (ramp <= 0)
        return w;
    // (i + 0.5) / ramp rises from ~0 to ~1; mirrored at the end. Opposite
    // ramps of two neighbours sum to 1 across an overlap of `ramp` pixels.
    at::Tensor up = (at::arange(ramp, at::TensorOptions().dtype(at::kFloat)) + 0.5) / ramp;
    if (rampStart)
        w.narrow(0, 0, ramp).copy_(up);
    if (rampEnd)
        w.narrow(0, size - ramp, ramp).mul_(up.flip({0}));
    return w;
}

// Blends fn(tile) outputs into one tensor (see tiledApply).
at::Tensor blendTiles(const at::Tensor &input, std::int64_t tile, std::int64_t overlap,
                      std::int64_t num, std::int64_t den, const TileFunction &fn,
                      const CancelToken *cancel, const TileProgress &progress, bool &cancelled)
{
    const std::int64_t h = input.size(2), w = input.size(3);
    const std::vector<std::int64_t> ys = tileStarts(h, tile, overlap), xs = tileStarts(w, tile, overlap);
    const int total = static_cast<int>(ys.size() * xs.size());
    at::Tensor acc, wsum;
    int done = 0;
    for (std::size_t iy = 0; iy < ys.size(); ++iy) {
        for (std::size_t ix = 0; ix < xs.size(); ++ix) {
            if (cancel && cancel->isCancelled()) {
                cancelled = true;
                return at::Tensor();
            }
            const std::int64_t y0 = ys[iy], x0 = xs[ix];
            const std::int64_t th = std::min(tile, h - y0), tw = std::min(tile, w - x0);
            const at::Tensor out = fn(input.narrow(2, y0, th).narrow(3, x0, tw)).to(at::kFloat);
            TORCH_CHECK(out.dim() == 4 && out.size(2) == th * num / den &&
                            out.size(3) == tw * num / den,
                        "tiled: the tile function returned an unexpected size");
            if (!acc.defined()) {
                acc = at::zeros({out.size(0), out.size(1), h * num / den, w * num / den},
                                out.options());
                wsum = at::zeros({1, 1, h * num / den, w * num / den}, out.options());
            }
            const std::int64_t oy = y0 * num / den, ox = x0 * num / den;
            const std::int64_t oh = out.size(2), ow = out.size(3);
            const std::int64_t ramp = overlap * num / den;
            const at::Tensor wy = rampWeights(oh, ramp, iy > 0, iy + 1 < ys.size());
            const at::Tensor wx = rampWeights(ow, ramp, ix > 0, ix + 1 < xs.size());
            const at::Tensor weight = (wy.unsqueeze(1) * wx.unsqueeze(0)).unsqueeze(0).unsqueeze(0);
            acc.narrow(2, oy, oh).narrow(3, ox, ow).add_(out * weight);
            wsum.narrow(2, oy, oh).narrow(3, ox, ow).add_(weight);
            ++done;
            if (progress)
                progress(done, total);
        }
    }
    return acc / wsum;
}

template <typename T>
Result<T> guarded(const std::function<Result<T>()> &fn)
{
    try {
        return fn();
    } catch (const std::bad_alloc &) {
        return makeError(ErrorCode::OutOfMemory, "out of memory in tiled VAE");
    } catch (const c10::Error &e) {
        return makeError(ErrorCode::Internal,
                         std::string("tiled VAE failed: ") + e.what_without_backtrace());
    }
}

} // namespace

Result<TiledTensor> tiledApply(const at::Tensor &input, std::int64_t tile, std::int64_t overlap,
                               std::int64_t scaleNum, std::int64_t scaleDen, const TileFunction &fn,
                               const CancelToken *cancel, const TileProgress &progress)
{
    if (input.dim() != 4 || tile <= 0 || overlap < 0 || overlap >= tile || scaleNum <= 0 ||
        scaleDen <= 0 || !fn)
        return makeError(ErrorCode::InvalidArgument, "tiled: bad input or tile options");
    return guarded<TiledTensor>([&]() -> Result<TiledTensor> {
        torch::NoGradGuard noGrad;
        TiledTensor r;
        r.tensor = blendTiles(input, tile, overlap, scaleNum, scaleDen, fn, cancel, progress,
                              r.cancelled);
        return r;
    });
}

Result<TiledDecodeResult> decodeTiled(AutoencoderKL &vae, const at::Tensor &z,
                                      const VaeTileOptions &options, const CancelToken *cancel,
                                      const TileProgress &progress)
{
    const std::int64_t f = vae->config().spatialFactor();
    auto r = tiledApply(z, options.tileLatent, options.overlapLatent, f, 1,
                        [&](const at::Tensor &t) { return vae->decode(t); }, cancel, progress);
    if (!r)
        return r.error();
    return TiledDecodeResult{r->tensor, r->cancelled};
}

Result<TiledEncodeResult> encodeTiled(AutoencoderKL &vae, const at::Tensor &image,
                                      const VaeTileOptions &options, const CancelToken *cancel,
                                      const TileProgress &progress)
{
    const std::int64_t f = vae->config().spatialFactor();
    if (image.dim() != 4 || image.size(2) % f || image.size(3) % f)
        return makeError(ErrorCode::InvalidArgument,
                         "tiled encode: image sides must be multiples of " + std::to_string(f));
    // Blend the moments (mean and raw logvar), then derive the distribution.
    auto r = tiledApply(image, options.tileLatent * f, options.overlapLatent * f, 1, f,
                        [&](const at::Tensor &t) { return vae->encode(t).moments; }, cancel,
                        progress);
    if (!r)
        return r.error();
    TiledEncodeResult out;
    out.cancelled = r->cancelled;
    if (!r->cancelled)
        out.latent = LatentDistribution::fromMoments(r->tensor);
    return out;
}

} // namespace stipple::core
