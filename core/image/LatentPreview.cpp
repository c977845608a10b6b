#include "core/image/LatentPreview.h"

#include <ATen/ATen.h>

#include <algorithm>
#include <cmath>
#include <stdexcept>

namespace stipple::core {

namespace {

// See the header for the sources of both tables.
constexpr float kA1111Cheap[4][3] = {
    {0.298f, 0.207f, 0.208f},
    {0.187f, 0.286f, 0.173f},
    {-0.158f, 0.189f, 0.264f},
    {-0.184f, -0.271f, -0.473f},
};
constexpr float kComfySD15[4][3] = {
    {0.3512f, 0.2297f, 0.3227f},
    {0.3250f, 0.4974f, 0.2350f},
    {-0.2829f, 0.1762f, 0.2721f},
    {-0.2120f, -0.2616f, -0.7177f},
};

} // namespace

Image latentPreview(const at::Tensor &latents, int index, PreviewFactors factors, int upscale)
{
    at::Tensor z = latents;
    if (z.dim() == 4)
        z = z.select(0, std::clamp<int64_t>(index, 0, z.size(0) - 1));
    if (z.dim() != 3 || z.size(0) < 4)
        throw std::invalid_argument("latentPreview: expected [B, 4, h, w] latents");
    z = z.narrow(0, 0, 4).to(at::kFloat).contiguous();
    const int h = int(z.size(1)), w = int(z.size(2));
    const int s = std::max(1, upscale);
    const auto &k = factors == PreviewFactors::A1111Cheap ? kA1111Cheap : kComfySD15;
    const float *p = z.data_ptr<float>();
    const std::size_t plane = std::size_t(h) * w;
    Image out = Image::blank(w * s, h * s, 3);
    for (int y = 0; y < h; ++y) {
        for (int x = 0; x < w; ++x) {
            const std::size_t i = std::size_t(y) * w + x;
            std::uint8_t rgb[3];
            for (int c = 0; c < 3; ++c) {
                const float v = p[i] * k[0][c] + p[plane + i] * k[1][c] + p[2 * plane + i] * k[2][c]
                    + p[3 * plane + i] * k[3][c];
                // [-1, 1] -> [0, 255] as A1111/ComfyUI: clamp((v + 1) / 2, 0, 1) * 255.
                const float u = std::clamp((v + 1.f) * 0.5f, 0.f, 1.f);
                rgb[c] = std::uint8_t(u * 255.f);
            }
            for (int dy = 0; dy < s; ++dy) {
                std::uint8_t *row = out.row(y * s + dy);
                for (int dx = 0; dx < s; ++dx)
                    std::memcpy(row + 3 * (std::size_t(x) * s + dx), rgb, 3);
            }
        }
    }
    return out;
}

} // namespace stipple::core
