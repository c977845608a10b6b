// Image: an 8-bit interleaved raster (1 = grey/mask, 3 = RGB, 4 = RGBA), the
// core's picture type. Converting to and from tensors and files lives in
// core/image (ImageTensor.h, ImageIO.h). Thread-safety: plain value.
#pragma once

#include <cstdint>
#include <vector>

namespace stipple::core {

struct Image {
    int width = 0;
    int height = 0;
    int channels = 0; // 1, 3 or 4
    std::vector<std::uint8_t> pixels; // row-major, width*height*channels bytes

    bool isNull() const { return width <= 0 || height <= 0 || pixels.empty(); }
    std::size_t byteSize() const { return std::size_t(width) * height * channels; }
    std::uint8_t *row(int y) { return pixels.data() + std::size_t(y) * width * channels; }
    const std::uint8_t *row(int y) const { return pixels.data() + std::size_t(y) * width * channels; }

    static Image blank(int width, int height, int channels, std::uint8_t value = 0)
    {
        Image img{width, height, channels, {}};
        img.pixels.assign(img.byteSize(), value);
        return img;
    }
};

} // namespace stipple::core
