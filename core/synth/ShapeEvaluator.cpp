#include "core/synth/ShapeEvaluator.h"

#include <opencv2/imgproc.hpp>

#include <algorithm>
#include <cmath>
#include <random>

namespace stipple::core::shapes {
namespace {

cv::Vec3f medianColour(const cv::Mat &rgb, const cv::Mat &mask)
{
    std::vector<float> ch[3];
    for (int y = 0; y < rgb.rows; ++y)
        for (int x = 0; x < rgb.cols; ++x)
            if (mask.empty() || mask.at<uchar>(y, x)) {
                const auto &p = rgb.at<cv::Vec3b>(y, x);
                for (int c = 0; c < 3; ++c)
                    ch[c].push_back(p[c]);
            }
    cv::Vec3f out(0, 0, 0);
    for (int c = 0; c < 3; ++c) {
        if (ch[c].empty())
            continue;
        auto mid = ch[c].begin() + ch[c].size() / 2;
        std::nth_element(ch[c].begin(), mid, ch[c].end());
        out[c] = *mid;
    }
    return out;
}

int classifyShape(const std::vector<cv::Point> &contour, bool hasHole, double holeRatio)
{
    const double area = cv::contourArea(contour);
    if (area < 4)
        return -1;
    if (hasHole && holeRatio > 0.08)
        return int(Shape::Ring);
    std::vector<int> hullIdx;
    cv::convexHull(contour, hullIdx, false, false);
    std::vector<cv::Point> hull;
    for (int i : hullIdx)
        hull.push_back(contour[i]);
    const double hullArea = std::max(1.0, cv::contourArea(hull));
    const double solidity = area / hullArea;
    const cv::RotatedRect box = cv::minAreaRect(contour);
    const double extent = area / std::max(1.0f, box.size.area());
    const double perimeter = cv::arcLength(contour, true);
    const double circularity = 4 * M_PI * area / std::max(1.0, perimeter * perimeter);

    if (solidity < 0.85) {
        // Concave: star (5 deep notches) or cross (4).
        int deep = 0;
        if (hullIdx.size() >= 3) {
            std::sort(hullIdx.begin(), hullIdx.end());
            std::vector<cv::Vec4i> defects;
            try {
                cv::convexityDefects(contour, hullIdx, defects);
            } catch (const cv::Exception &) {
                defects.clear();
            }
            const double scale = std::sqrt(hullArea);
            for (const auto &d : defects)
                if (d[3] / 256.0 > 0.08 * scale)
                    ++deep;
        }
        if (deep >= 5)
            return int(Shape::Star);
        if (deep == 4)
            return int(Shape::Cross);
        return solidity < 0.62 ? int(Shape::Star) : int(Shape::Cross);
    }
    if (extent < 0.66)
        return int(Shape::Triangle);
    if (circularity > 0.86 && extent < 0.88)
        return int(Shape::Circle);
    return extent > 0.88 ? int(Shape::Square) : int(Shape::Circle);
}

} // namespace

int nearestColour(float r, float g, float b)
{
    int best = 0;
    float bestD = 1e30f;
    for (size_t i = 0; i < kColours.size(); ++i) {
        const auto &c = kColours[i];
        const float d = (r - c.r) * (r - c.r) + (g - c.g) * (g - c.g) + (b - c.b) * (b - c.b);
        if (d < bestD) {
            bestD = d;
            best = int(i);
        }
    }
    return best;
}

Reading readImage(const Image &img)
{
    Reading out;
    if (img.isNull() || img.channels < 3)
        return out;
    cv::Mat rgb(img.height, img.width, CV_8UC3);
    for (int y = 0; y < img.height; ++y)
        for (int x = 0; x < img.width; ++x)
            for (int c = 0; c < 3; ++c)
                rgb.at<cv::Vec3b>(y, x)[c] = img.row(y)[x * img.channels + c];
    const int w = img.width, h = img.height;
    const int band = std::max(2, w / 32);

    // Background per row from the left/right border bands (handles vertical
    // gradients); the named background colour from the top band.
    cv::Mat border(h, w, CV_8U, cv::Scalar(0));
    border(cv::Rect(0, 0, w, band)).setTo(255);
    const cv::Vec3f topBg = medianColour(rgb, border);
    border.setTo(0);
    border(cv::Rect(0, 0, band, h)).setTo(255);
    border(cv::Rect(w - band, 0, band, h)).setTo(255);
    border(cv::Rect(0, 0, w, band)).setTo(255);
    border(cv::Rect(0, h - band, w, band)).setTo(255);
    const cv::Vec3f allBg = medianColour(rgb, border);
    out.background = nearestColour(allBg[0], allBg[1], allBg[2]);
    (void)topBg;

    // Median of the 2*band border pixels of each row.
    std::vector<cv::Vec3f> rowBg(h);
    std::vector<float> vals[3];
    for (int y = 0; y < h; ++y) {
        for (auto &v : vals)
            v.clear();
        for (int x = 0; x < w; ++x) {
            if (x >= band && x < w - band)
                continue;
            const auto &p = rgb.at<cv::Vec3b>(y, x);
            for (int c = 0; c < 3; ++c)
                vals[c].push_back(p[c]);
        }
        for (int c = 0; c < 3; ++c) {
            auto mid = vals[c].begin() + vals[c].size() / 2;
            std::nth_element(vals[c].begin(), mid, vals[c].end());
            rowBg[y][c] = *mid;
        }
    }
    cv::Mat mask(h, w, CV_8U, cv::Scalar(0));
    for (int y = 0; y < h; ++y)
        for (int x = 0; x < w; ++x) {
            const auto &p = rgb.at<cv::Vec3b>(y, x);
            const cv::Vec3f d(p[0] - rowBg[y][0], p[1] - rowBg[y][1], p[2] - rowBg[y][2]);
            if (std::sqrt(d.dot(d)) > 70.0f)
                mask.at<uchar>(y, x) = 255;
        }
    cv::morphologyEx(mask, mask, cv::MORPH_OPEN, cv::getStructuringElement(cv::MORPH_ELLIPSE, {3, 3}));

    std::vector<std::vector<cv::Point>> contours;
    std::vector<cv::Vec4i> hierarchy;
    cv::findContours(mask, contours, hierarchy, cv::RETR_CCOMP, cv::CHAIN_APPROX_NONE);
    int best = -1;
    double bestArea = 0;
    for (size_t i = 0; i < contours.size(); ++i) {
        if (hierarchy[i][3] >= 0)
            continue; // a hole
        const double a = cv::contourArea(contours[i]);
        if (a > bestArea) {
            bestArea = a;
            best = int(i);
        }
    }
    if (best < 0 || bestArea < 0.002 * w * h)
        return out;
    out.found = true;
    double holeArea = 0;
    for (int c = hierarchy[best][2]; c >= 0; c = hierarchy[c][0])
        holeArea = std::max(holeArea, cv::contourArea(contours[c]));
    out.shape = classifyShape(contours[best], holeArea > 0, holeArea / bestArea);

    cv::Mat objMask(h, w, CV_8U, cv::Scalar(0));
    cv::drawContours(objMask, contours, best, cv::Scalar(255), cv::FILLED, cv::LINE_8, hierarchy, 1);
    cv::bitwise_and(objMask, mask, objMask);
    out.objectFraction = float(cv::countNonZero(objMask)) / float(w * h);
    const cv::Vec3f oc = medianColour(rgb, objMask);
    out.objectColour = nearestColour(oc[0], oc[1], oc[2]);

    const cv::Moments mo = cv::moments(objMask, true);
    if (mo.m00 > 0) {
        const float cx = float(mo.m10 / mo.m00) / w, cy = float(mo.m01 / mo.m00) / h;
        const int col = cx < 1.0f / 3 ? 0 : (cx < 2.0f / 3 ? 1 : 2);
        const int row = cy < 1.0f / 3 ? 0 : (cy < 2.0f / 3 ? 1 : 2);
        out.position = row * 3 + col;
    }
    return out;
}

void score(const SceneSpec &expected, const Reading &got, AttributeScores &s)
{
    ++s.total;
    if (expected.objects.empty())
        return;
    const auto &o = expected.objects.front();
    s.background += got.background == expected.background;
    s.objectColour += got.objectColour == o.colour;
    s.shape += got.shape == int(o.shape);
    const int readShape = got.shape >= 0 && got.shape < int(Shape::Count) ? got.shape : int(Shape::Count);
    ++s.shapeConfusion[size_t(o.shape)][size_t(readShape)];
    ++s.sizeTotal[size_t(o.size)];
    s.shapeHitsBySize[size_t(o.size)] += got.shape == int(o.shape);
    s.position += got.position == int(o.position);
    if (got.position >= 0) {
        s.positionRow += got.position / 3 == int(o.position) / 3;
        s.positionColumn += got.position % 3 == int(o.position) % 3;
    }
}

std::vector<SceneSpec> evaluationScenes(int count, std::uint64_t seed)
{
    std::mt19937_64 rng(seed);
    std::vector<SceneSpec> out;
    const int nc = int(kColours.size());
    for (int i = 0; i < count; ++i) {
        SceneSpec sc;
        ShapeSpec o;
        // Cycle the attributes with co-prime strides so every value appears
        // evenly and combinations vary.
        o.shape = Shape(i % int(Shape::Count));
        o.colour = (i * 3) % nc;
        o.position = Position((i * 7 + i / 9) % int(Position::Count));
        o.size = Size((i / 2) % 2);
        int bg = int(rng() % std::uint64_t(nc));
        while (bg == o.colour)
            bg = int(rng() % std::uint64_t(nc));
        sc.background = bg;
        sc.objects.push_back(o);
        out.push_back(sc);
    }
    return out;
}

} // namespace stipple::core::shapes
