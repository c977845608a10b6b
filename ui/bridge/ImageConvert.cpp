#include "ui/bridge/ImageConvert.h"

#include <cstring>

namespace stipple::ui {

QImage toQImage(const core::Image &image)
{
    if (image.isNull() || image.pixels.size() < image.byteSize())
        return {};
    QImage::Format format;
    switch (image.channels) {
    case 1: format = QImage::Format_Grayscale8; break;
    case 3: format = QImage::Format_RGB888; break;
    case 4: format = QImage::Format_RGBA8888; break;
    default: return {};
    }
    QImage out(image.width, image.height, format);
    if (out.isNull())
        return {};
    const std::size_t rowBytes = std::size_t(image.width) * image.channels;
    for (int y = 0; y < image.height; ++y)
        std::memcpy(out.scanLine(y), image.row(y), rowBytes); // QImage rows are 4-byte aligned
    return out;
}

core::Image toCoreImage(const QImage &image, int channels)
{
    if (image.isNull() || (channels != 1 && channels != 3 && channels != 4))
        return {};
    QImage src;
    switch (channels) {
    case 1: src = image.convertToFormat(QImage::Format_Grayscale8); break;
    case 3: src = image.convertToFormat(QImage::Format_RGB888); break;
    default: src = image.convertToFormat(QImage::Format_RGBA8888); break;
    }
    core::Image out = core::Image::blank(src.width(), src.height(), channels);
    const std::size_t rowBytes = std::size_t(src.width()) * channels;
    for (int y = 0; y < src.height(); ++y)
        std::memcpy(out.row(y), src.constScanLine(y), rowBytes);
    return out;
}

core::Image maskToCoreImage(const QImage &mask)
{
    if (mask.isNull())
        return {};
    if (!mask.hasAlphaChannel())
        return toCoreImage(mask, 1);
    const QImage rgba = mask.convertToFormat(QImage::Format_RGBA8888);
    core::Image out = core::Image::blank(rgba.width(), rgba.height(), 1);
    for (int y = 0; y < rgba.height(); ++y) {
        const uchar *s = rgba.constScanLine(y);
        std::uint8_t *d = out.row(y);
        for (int x = 0; x < rgba.width(); ++x)
            d[x] = s[4 * x + 3];
    }
    return out;
}

} // namespace stipple::ui
