#include "core/image/ImageTensor.h"

#include <ATen/ATen.h>

#include <stdexcept>

namespace stipple::core {

Image toRgb(const Image &image)
{
    if (image.channels == 3)
        return image;
    Image out = Image::blank(image.width, image.height, 3);
    const std::size_t n = std::size_t(image.width) * image.height;
    const std::uint8_t *src = image.pixels.data();
    std::uint8_t *dst = out.pixels.data();
    for (std::size_t i = 0; i < n; ++i) {
        if (image.channels == 1) {
            dst[3 * i] = dst[3 * i + 1] = dst[3 * i + 2] = src[i];
        } else {
            const std::uint8_t *p = src + i * image.channels;
            dst[3 * i] = p[0];
            dst[3 * i + 1] = p[1];
            dst[3 * i + 2] = p[2];
        }
    }
    return out;
}

Image toGray(const Image &image)
{
    if (image.channels == 1)
        return image;
    Image out = Image::blank(image.width, image.height, 1);
    const std::size_t n = std::size_t(image.width) * image.height;
    for (std::size_t i = 0; i < n; ++i) {
        const std::uint8_t *p = image.pixels.data() + i * image.channels;
        // PIL Convert.c, L24: ITU-R 601-2 luma in 16.16 fixed point.
        const std::uint32_t v = (p[0] * 19595u + p[1] * 38470u + p[2] * 7471u + 0x8000u) >> 16;
        out.pixels[i] = std::uint8_t(v > 255 ? 255 : v);
    }
    return out;
}

at::Tensor imageToTensor(const Image &image)
{
    if (image.isNull())
        throw std::invalid_argument("imageToTensor: null image");
    const Image rgb = toRgb(image);
    at::Tensor hwc = at::from_blob(const_cast<std::uint8_t *>(rgb.pixels.data()),
                                   {rgb.height, rgb.width, 3}, at::kByte);
    // float32(pixel) / 255 then 2x - 1, in that order (diffusers normalize()).
    at::Tensor x = hwc.to(at::kFloat).div_(255.0f);
    x = x.mul_(2.0f).sub_(1.0f);
    return x.permute({2, 0, 1}).unsqueeze(0).contiguous();
}

at::Tensor denormalizeImages(const at::Tensor &images)
{
    return (images.to(at::kFloat) / 2 + 0.5).clamp(0, 1);
}

std::vector<Image> tensorToImages(const at::Tensor &images)
{
    if (images.dim() != 4 || images.size(1) != 3)
        throw std::invalid_argument("tensorToImages: expected [N, 3, H, W]");
    at::Tensor y = denormalizeImages(images).mul(255.0f).round().to(at::kByte);
    y = y.permute({0, 2, 3, 1}).contiguous();
    std::vector<Image> out;
    const int h = int(y.size(1)), w = int(y.size(2));
    for (int64_t i = 0; i < y.size(0); ++i) {
        Image img = Image::blank(w, h, 3);
        std::memcpy(img.pixels.data(), y[i].data_ptr<std::uint8_t>(), img.byteSize());
        out.push_back(std::move(img));
    }
    return out;
}

at::Tensor maskToTensor(const Image &mask)
{
    if (mask.isNull())
        throw std::invalid_argument("maskToTensor: null mask");
    const Image g = toGray(mask);
    at::Tensor t = at::from_blob(const_cast<std::uint8_t *>(g.pixels.data()),
                                 {1, 1, g.height, g.width}, at::kByte);
    return t.to(at::kFloat).div_(255.0f);
}

Image tensorToMask(const at::Tensor &mask)
{
    at::Tensor m = mask.to(at::kFloat);
    while (m.dim() > 2)
        m = m.select(0, 0);
    m = m.clamp(0, 1).mul(255.0f).round().to(at::kByte).contiguous();
    Image img = Image::blank(int(m.size(1)), int(m.size(0)), 1);
    std::memcpy(img.pixels.data(), m.data_ptr<std::uint8_t>(), img.byteSize());
    return img;
}

} // namespace stipple::core
