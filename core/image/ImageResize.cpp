#include "core/image/ImageResize.h"

#include <opencv2/core.hpp>
#include <opencv2/imgproc.hpp>

#include <algorithm>
#include <cstring>
#include <stdexcept>

namespace stipple::core {

namespace {

cv::Mat wrap(const Image &img)
{
    return cv::Mat(img.height, img.width, CV_8UC(img.channels), const_cast<std::uint8_t *>(img.pixels.data()));
}

Image fromMat(const cv::Mat &m, int channels)
{
    Image out = Image::blank(m.cols, m.rows, channels);
    for (int y = 0; y < m.rows; ++y)
        std::memcpy(out.row(y), m.ptr(y), std::size_t(m.cols) * channels);
    return out;
}

Image resampled(const Image &image, int width, int height, int interpolation)
{
    if (image.isNull() || width <= 0 || height <= 0)
        throw std::invalid_argument("resizeImage: empty image or size");
    if (image.width == width && image.height == height)
        return image;
    cv::Mat out;
    cv::resize(wrap(image), out, cv::Size(width, height), 0, 0, interpolation);
    return fromMat(out, image.channels);
}

} // namespace

Image resizeImage(const Image &image, int width, int height)
{
    const bool shrinking = width <= image.width && height <= image.height;
    return resampled(image, width, height, shrinking ? cv::INTER_AREA : cv::INTER_LANCZOS4);
}

Image resizeImageNearest(const Image &image, int width, int height)
{
    return resampled(image, width, height, cv::INTER_NEAREST);
}

int roundDownToMultipleOf8(int value)
{
    return std::max(8, value / 8 * 8);
}

Image cropImage(const Image &image, int x, int y, int width, int height)
{
    const int x0 = std::clamp(x, 0, image.width), y0 = std::clamp(y, 0, image.height);
    const int x1 = std::clamp(x + width, x0, image.width), y1 = std::clamp(y + height, y0, image.height);
    Image out = Image::blank(x1 - x0, y1 - y0, image.channels);
    for (int r = y0; r < y1; ++r)
        std::memcpy(out.row(r - y0), image.row(r) + std::size_t(x0) * image.channels,
                    std::size_t(x1 - x0) * image.channels);
    return out;
}

void pasteImage(Image &dst, const Image &src, int x, int y)
{
    if (dst.channels != src.channels)
        throw std::invalid_argument("pasteImage: channel counts differ");
    const int x0 = std::max(0, x), x1 = std::min(dst.width, x + src.width);
    const int y0 = std::max(0, y), y1 = std::min(dst.height, y + src.height);
    if (x1 <= x0)
        return;
    for (int r = y0; r < y1; ++r)
        std::memcpy(dst.row(r) + std::size_t(x0) * dst.channels,
                    src.row(r - y) + std::size_t(x0 - x) * src.channels,
                    std::size_t(x1 - x0) * dst.channels);
}

Image fitImage(const Image &im, int width, int height, FitMode mode)
{
    if (im.width == width && im.height == height)
        return im;
    if (mode == FitMode::JustResize)
        return resizeImage(im, width, height);

    // A1111 resize_image(): ratio comparisons and integer divisions as there.
    const double ratio = double(width) / height;
    const double srcRatio = double(im.width) / im.height;
    Image res = Image::blank(width, height, im.channels);
    if (mode == FitMode::CropAndResize) {
        const int srcW = ratio > srcRatio ? width : im.width * height / im.height;
        const int srcH = ratio <= srcRatio ? height : im.height * width / im.width;
        const Image resized = resizeImage(im, std::max(1, srcW), std::max(1, srcH));
        pasteImage(res, resized, width / 2 - srcW / 2, height / 2 - srcH / 2);
        return res;
    }
    // ResizeAndFill
    const int srcW = ratio < srcRatio ? width : im.width * height / im.height;
    const int srcH = ratio >= srcRatio ? height : im.height * width / im.width;
    const Image resized = resizeImage(im, std::max(1, srcW), std::max(1, srcH));
    pasteImage(res, resized, width / 2 - srcW / 2, height / 2 - srcH / 2);
    if (ratio < srcRatio) {
        // Bands above and below: stretch the first/last row of the picture.
        const int fill = height / 2 - srcH / 2;
        if (fill > 0) {
            const Image top = resizeImage(cropImage(resized, 0, 0, resized.width, 1), width, fill);
            const Image bottom = resizeImage(cropImage(resized, 0, resized.height - 1, resized.width, 1), width, fill);
            pasteImage(res, top, 0, 0);
            pasteImage(res, bottom, 0, fill + srcH);
        }
    } else if (ratio > srcRatio) {
        const int fill = width / 2 - srcW / 2;
        if (fill > 0) {
            const Image left = resizeImage(cropImage(resized, 0, 0, 1, resized.height), fill, height);
            const Image right = resizeImage(cropImage(resized, resized.width - 1, 0, 1, resized.height), fill, height);
            pasteImage(res, left, 0, 0);
            pasteImage(res, right, fill + srcW, 0);
        }
    }
    return res;
}

} // namespace stipple::core
