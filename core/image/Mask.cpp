#include "core/image/Mask.h"

#include "core/image/ImageResize.h"
#include "core/image/ImageTensor.h"

#include <ATen/ATen.h>
#include <opencv2/core.hpp>
#include <opencv2/imgproc.hpp>

#include <algorithm>
#include <cmath>
#include <stdexcept>

namespace stipple::core {

namespace {

cv::Mat wrap(const Image &img)
{
    return cv::Mat(img.height, img.width, CV_8UC(img.channels), const_cast<std::uint8_t *>(img.pixels.data()));
}

} // namespace

Image binarizeMask(const Image &mask)
{
    Image out = toGray(mask);
    for (auto &p : out.pixels)
        p = p >= 128 ? 255 : 0;
    return out;
}

Image blurMask(const Image &mask, int radius)
{
    Image g = toGray(mask);
    if (radius <= 0 || g.isNull())
        return g;
    const int k = 2 * int(2.5 * radius + 0.5) + 1;
    cv::Mat out;
    cv::GaussianBlur(wrap(g), out, cv::Size(k, k), radius, radius);
    Image res = Image::blank(g.width, g.height, 1);
    for (int y = 0; y < g.height; ++y)
        std::memcpy(res.row(y), out.ptr(y), std::size_t(g.width));
    return res;
}

at::Tensor downsampleMask(const at::Tensor &mask, int height, int width, MaskSampling sampling)
{
    if (mask.dim() != 4)
        throw std::invalid_argument("downsampleMask: expected [N, C, H, W]");
    const int64_t inH = mask.size(2), inW = mask.size(3);
    auto indices = [&](int64_t in, int64_t out) {
        std::vector<int64_t> idx(out);
        // F.interpolate nearest (legacy): scale = in/out as float, floor(dst*scale).
        // PIL NEAREST: the centre of each destination pixel, floor((dst+0.5)*scale).
        const double scale = double(in) / double(out);
        for (int64_t i = 0; i < out; ++i) {
            const double src = sampling == MaskSampling::Interpolate ? double(float(i) * float(scale))
                                                                     : (double(i) + 0.5) * scale;
            idx[i] = std::min<int64_t>(int64_t(std::floor(src)), in - 1);
        }
        return at::tensor(idx, at::kLong);
    };
    return mask.index_select(2, indices(inH, height)).index_select(3, indices(inW, width)).contiguous();
}

Image compositeMasked(const Image &result, const Image &original, const Image &softMask)
{
    if (result.width != original.width || result.height != original.height
        || softMask.width != result.width || softMask.height != result.height)
        throw std::invalid_argument("compositeMasked: sizes differ");
    const Image a = result.channels == original.channels ? result : toRgb(result);
    const Image b = result.channels == original.channels ? original : toRgb(original);
    const Image m = toGray(softMask);
    Image out = b;
    const int c = out.channels;
    const std::size_t n = std::size_t(out.width) * out.height;
    for (std::size_t i = 0; i < n; ++i) {
        const unsigned w = m.pixels[i];
        if (w == 0)
            continue;
        for (int k = 0; k < c; ++k) {
            const unsigned o = b.pixels[i * c + k], r = a.pixels[i * c + k];
            out.pixels[i * c + k] = std::uint8_t((o * (255 - w) + r * w + 127) / 255);
        }
    }
    return out;
}

Image fillMaskedArea(const Image &image, const Image &mask)
{
    const Image rgb = toRgb(image);
    const Image m = toGray(mask);
    const int w = rgb.width, h = rgb.height;
    cv::Mat colour, keep;
    wrap(rgb).convertTo(colour, CV_32FC3, 1.0 / 255);
    wrap(m).convertTo(keep, CV_32FC1, -1.0 / 255, 1.0); // 1 = unmasked (kept) pixel
    // Premultiplied colour of the kept pixels.
    cv::Mat keep3;
    cv::cvtColor(keep, keep3, cv::COLOR_GRAY2BGR);
    const cv::Mat premul = colour.mul(keep3);
    cv::Mat acc = cv::Mat::zeros(h, w, CV_32FC3);
    cv::Mat accA = cv::Mat::zeros(h, w, CV_32FC1);
    // A1111 fill(): layers blurred with decreasing radii, alpha-composited on top.
    const std::pair<int, int> passes[] = {{256, 1}, {64, 1}, {16, 2}, {4, 4}, {2, 2}, {0, 1}};
    for (const auto &[radius, repeats] : passes) {
        cv::Mat p, a;
        if (radius == 0) {
            p = premul.clone();
            a = keep.clone();
        } else {
            // Large radii on a reduced grid: same result up to smoothness, far cheaper.
            const int f = std::max(1, radius / 8);
            cv::Mat ps, as;
            const cv::Size small(std::max(1, w / f), std::max(1, h / f));
            cv::resize(premul, ps, small, 0, 0, cv::INTER_AREA);
            cv::resize(keep, as, small, 0, 0, cv::INTER_AREA);
            const double s = double(radius) / f;
            const int k = 2 * int(std::ceil(3 * s)) + 1;
            cv::GaussianBlur(ps, ps, cv::Size(k, k), s, s, cv::BORDER_REPLICATE);
            cv::GaussianBlur(as, as, cv::Size(k, k), s, s, cv::BORDER_REPLICATE);
            cv::resize(ps, p, cv::Size(w, h), 0, 0, cv::INTER_LINEAR);
            cv::resize(as, a, cv::Size(w, h), 0, 0, cv::INTER_LINEAR);
        }
        for (int rep = 0; rep < repeats; ++rep) {
            // Porter-Duff "over" in premultiplied form: acc = src + acc * (1 - srcA).
            cv::Mat inv;
            cv::subtract(cv::Scalar::all(1.0), a, inv);
            cv::Mat inv3;
            cv::cvtColor(inv, inv3, cv::COLOR_GRAY2BGR);
            acc = p + acc.mul(inv3);
            accA = a + accA.mul(inv);
        }
    }
    Image out = Image::blank(w, h, 3);
    for (int y = 0; y < h; ++y) {
        for (int x = 0; x < w; ++x) {
            const float alpha = accA.at<float>(y, x);
            const cv::Vec3f c = acc.at<cv::Vec3f>(y, x);
            for (int k = 0; k < 3; ++k) {
                const float v = alpha > 1e-6f ? c[k] / alpha : 0.f;
                out.row(y)[3 * x + k] = std::uint8_t(std::clamp(std::lround(v * 255.f), 0L, 255L));
            }
        }
    }
    return out;
}

Rect maskBoundingBox(const Image &mask)
{
    const Image m = toGray(mask);
    int x0 = m.width, y0 = m.height, x1 = -1, y1 = -1;
    for (int y = 0; y < m.height; ++y) {
        const std::uint8_t *r = m.row(y);
        for (int x = 0; x < m.width; ++x) {
            if (r[x]) {
                x0 = std::min(x0, x);
                x1 = std::max(x1, x);
                y0 = std::min(y0, y);
                y1 = std::max(y1, y);
            }
        }
    }
    if (x1 < 0)
        return {};
    return {x0, y0, x1 - x0 + 1, y1 - y0 + 1};
}

Rect onlyMaskedCropRegion(const Image &mask, int padding, int targetWidth, int targetHeight)
{
    Rect box = maskBoundingBox(mask);
    if (box.empty())
        return box;
    // get_crop_region: pad and clamp (x2/y2 exclusive).
    int x1 = std::max(box.x - padding, 0), y1 = std::max(box.y - padding, 0);
    int x2 = std::min(box.x + box.width + padding, mask.width);
    int y2 = std::min(box.y + box.height + padding, mask.height);
    // expand_crop_region: grow the short side to the processing aspect ratio.
    const double ratioCrop = double(x2 - x1) / (y2 - y1);
    const double ratioProc = double(targetWidth) / targetHeight;
    if (ratioCrop > ratioProc) {
        const int desired = int((x2 - x1) / ratioProc);
        const int diff = desired - (y2 - y1);
        y1 -= diff / 2;
        y2 += diff - diff / 2;
        if (y2 >= mask.height) {
            const int d = y2 - mask.height;
            y2 -= d;
            y1 -= d;
        }
        if (y1 < 0) {
            y2 -= y1;
            y1 = 0;
        }
        y2 = std::min(y2, mask.height);
    } else {
        const int desired = int((y2 - y1) * ratioProc);
        const int diff = desired - (x2 - x1);
        x1 -= diff / 2;
        x2 += diff - diff / 2;
        if (x2 >= mask.width) {
            const int d = x2 - mask.width;
            x2 -= d;
            x1 -= d;
        }
        if (x1 < 0) {
            x2 -= x1;
            x1 = 0;
        }
        x2 = std::min(x2, mask.width);
    }
    return {x1, y1, x2 - x1, y2 - y1};
}

} // namespace stipple::core
