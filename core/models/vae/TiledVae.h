// Tiled VAE encode/decode for images larger than the VAE comfortably
// handles in one pass (memory grows with H·W; a 2048² SD decode needs
// ~10+ GB untiled). The latent (decode) or image (encode) is cut into
// overlapping tiles; each tile is run on its own and written into the
// output with weights that ramp linearly across the overlaps (both
// neighbours' weights sum to one there), then normalised by the summed
// weights. GroupNorm statistics are per tile, so results differ slightly
// from an untiled pass near and inside the overlaps.
//
// The cancel token is checked before every tile; cancelling is an outcome
// (`cancelled = true`, tensor undefined), not an error.
// Thread-safety: runs on the calling thread; one call per VAE at a time;
// the cancel token may be set from any thread.
#pragma once

#include "core/common/CancelToken.h"
#include "core/common/Result.h"
#include "core/models/vae/AutoencoderKL.h"

#include <cstdint>
#include <functional>

namespace stipple::core {

struct VaeTileOptions {
    std::int64_t tileLatent = 64;    // tile edge in latent pixels (SD: 512 px)
    std::int64_t overlapLatent = 16; // overlap between neighbours in latent pixels
};

struct TiledDecodeResult {
    at::Tensor image; // [B, 3, H, W] raw decoder output; undefined when cancelled
    bool cancelled = false;
};

struct TiledEncodeResult {
    LatentDistribution latent; // undefined tensors when cancelled
    bool cancelled = false;
};

// Called after each tile with (done, total).
using TileProgress = std::function<void(int, int)>;

// Tile origins along one axis of `length` for tiles of `tile` with at least
// `overlap` overlap: 0, stride, ..., length - tile (last aligned to the end).
std::vector<std::int64_t> tileStarts(std::int64_t length, std::int64_t tile, std::int64_t overlap);

struct TiledTensor {
    at::Tensor tensor; // undefined when cancelled
    bool cancelled = false;
};
using TileFunction = std::function<at::Tensor(const at::Tensor &)>;

// The generic engine: applies `fn` to overlapping spatial tiles (edge `tile`,
// overlap `overlap`, in input pixels) of input [B, C, H, W]; fn's outputs are
// scaleNum/scaleDen times the tile's size and are blended with linear ramps.
// Errors: InvalidArgument, OutOfMemory, Internal (torch failures).
Result<TiledTensor> tiledApply(const at::Tensor &input, std::int64_t tile, std::int64_t overlap,
                               std::int64_t scaleNum, std::int64_t scaleDen, const TileFunction &fn,
                               const CancelToken *cancel = nullptr,
                               const TileProgress &progress = {});

// True when an untiled pass would exceed the tile size (a hint for callers).
bool vaeNeedsTiling(const AutoencoderKL &vae, std::int64_t latentH, std::int64_t latentW,
                    const VaeTileOptions &options = {});

Result<TiledDecodeResult> decodeTiled(AutoencoderKL &vae, const at::Tensor &z,
                                      const VaeTileOptions &options = {},
                                      const CancelToken *cancel = nullptr,
                                      const TileProgress &progress = {});

// image [B, 3, H, W] in [-1, 1]; tiles of tileLatent·f pixels.
Result<TiledEncodeResult> encodeTiled(AutoencoderKL &vae, const at::Tensor &image,
                                      const VaeTileOptions &options = {},
                                      const CancelToken *cancel = nullptr,
                                      const TileProgress &progress = {});

} // namespace stipple::core
