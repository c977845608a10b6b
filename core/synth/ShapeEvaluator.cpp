#include "core/synth/ShapeEvaluator.h"

#include "core/synth/ShapeDrawing.h"

#include <opencv2/imgproc.hpp>

#include <algorithm>
#include <array>
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

// The shape is read by matching the object's outline (its outer contour,
// filled) against the outlines the data set draws
// (core/synth/ShapeDrawing), each placed and scaled to fit the object best; the
// reading is the outline with the highest intersection over union. Thresholds
// on hand-picked contour features (solidity, convexity defects, extent) read
// crisp renders well but fail on the softened edges of decoded images: a
// cross whose inner corners a VAE rounds off loses its deep defects. Matching
// whole outlines degrades gracefully instead, and a region that fits no
// outline (IoU < kMinShapeIoU) reads as no shape, so a shapeless blob is not
// counted as whichever shape happens to be nearest.
constexpr double kMinShapeIoU = 0.5;
// Outlines are compared as a decoder draws them: blurred, then cut at half
// height like the object (halfWayToObject). A VAE at /8 cannot keep a small
// star's 3-pixel notches; blurred alike, a small star still looks more like a
// star than a circle does. 1.5 px: on the built-in model's VAE round trip of
// 60 data-set images (eval-builtin --ceiling) 0.8 px read 93% of shapes,
// 1.5 and 2.2 px 95%.
constexpr double kEdgeSoftness = 1.5;

struct Prototype {
    double areaPerRadius2 = 1;  // hard-mask area / radius^2
    cv::Point2d centroidOffset; // (centroid - drawing centre) / radius
};

const std::array<Prototype, size_t(Shape::Count)> &prototypes()
{
    static const auto table = [] {
        std::array<Prototype, size_t(Shape::Count)> t;
        constexpr float r = 100;
        cv::Mat m(320, 320, CV_8U);
        for (size_t i = 0; i < t.size(); ++i) {
            m.setTo(0);
            drawShape(m, Shape(i), {160, 160}, r, cv::Scalar(255), cv::LINE_8);
            const cv::Moments mo = cv::moments(m, true);
            t[i].areaPerRadius2 = mo.m00 / (r * r);
            t[i].centroidOffset = {(mo.m10 / mo.m00 - 160) / r, (mo.m01 / mo.m00 - 160) / r};
        }
        return t;
    }();
    return table;
}

class OutlineMatcher {
public:
    explicit OutlineMatcher(const cv::Mat &object)
        : m_object(object), m_objectArea(cv::countNonZero(object)), m_proto(object.size(), CV_8U),
          m_both(object.size(), CV_8U)
    {
    }

    // Best IoU of `shape` over placements near the one the object's area and
    // centroid suggest: a greedy search over centre (+-step px) and radius
    // (x(1 +- 3% step)) at halving steps. Objects cut by the image border are
    // handled because the prototype is clipped by the same border.
    double bestIoU(Shape shape, cv::Point2d objectCentroid)
    {
        const Prototype &p = prototypes()[size_t(shape)];
        double r = std::sqrt(m_objectArea / p.areaPerRadius2);
        cv::Point2d c = objectCentroid - p.centroidOffset * r;
        double best = iou(shape, c, r);
        for (double step : {4.0, 2.0, 1.0, 0.5}) {
            for (int iteration = 0; iteration < 12; ++iteration) {
                const cv::Point2d moves[] = {{step, 0}, {-step, 0}, {0, step}, {0, -step}};
                cv::Point2d bestC = c;
                double bestR = r, candidate = best;
                for (const auto &mv : moves)
                    if (const double v = iou(shape, c + mv, r); v > candidate) {
                        candidate = v;
                        bestC = c + mv;
                        bestR = r;
                    }
                for (double f : {1 + 0.03 * step, 1 - 0.03 * step})
                    if (const double v = iou(shape, c, r * f); v > candidate) {
                        candidate = v;
                        bestC = c;
                        bestR = r * f;
                    }
                if (candidate <= best)
                    break;
                best = candidate;
                c = bestC;
                r = bestR;
            }
        }
        return best;
    }

private:
    double iou(Shape shape, cv::Point2d c, double r)
    {
        m_proto.setTo(0);
        drawShape(m_proto, shape, cv::Point2f(float(c.x), float(c.y)), float(r), cv::Scalar(255), cv::LINE_AA);
        cv::GaussianBlur(m_proto, m_proto, {0, 0}, kEdgeSoftness);
        cv::threshold(m_proto, m_proto, 127, 255, cv::THRESH_BINARY);
        cv::bitwise_and(m_proto, m_object, m_both);
        const int inter = cv::countNonZero(m_both);
        const int uni = m_objectArea + cv::countNonZero(m_proto) - inter;
        return uni > 0 ? double(inter) / uni : 0.0;
    }

    const cv::Mat &m_object;
    int m_objectArea;
    cv::Mat m_proto, m_both;
};

// `outline`: the object's outer contour, filled (holes included). A ring and a
// circle share that outline; the hole tells them apart (kRingHoleRatio: the
// smallest hole, as a fraction of the outline's area, that makes a ring; a
// small ring's hole is about 0.27 of it, and soft edges shrink it).
constexpr double kRingHoleRatio = 0.08;

int matchShape(const cv::Mat &outlineImage, double holeRatio)
{
    // Work on the object's surroundings only (prototypes are blurred at every
    // try); the margin is wider than any placement the search reaches. Where
    // the window meets the image border, prototypes are cut as the object is.
    const cv::Rect box = cv::boundingRect(outlineImage);
    const int margin = std::max(box.width, box.height) / 2 + 8;
    const cv::Rect window = (box + cv::Size(2 * margin, 2 * margin) - cv::Point(margin, margin)) &
                            cv::Rect(0, 0, outlineImage.cols, outlineImage.rows);
    const cv::Mat outline = outlineImage(window);
    const cv::Moments mo = cv::moments(outline, true);
    if (mo.m00 < 4)
        return -1;
    const cv::Point2d centroid(mo.m10 / mo.m00, mo.m01 / mo.m00);
    OutlineMatcher matcher(outline);
    int best = -1;
    double bestIoU = kMinShapeIoU;
    for (Shape s : {Shape::Circle, Shape::Square, Shape::Triangle, Shape::Star, Shape::Cross})
        if (const double v = matcher.bestIoU(s, centroid); v > bestIoU) {
            bestIoU = v;
            best = int(s);
        }
    if (best == int(Shape::Circle) && holeRatio >= kRingHoleRatio)
        return int(Shape::Ring);
    return best;
}

// Background colour of each row. Gradients in the data set are vertical and
// linear (SyntheticShapes::render), so the line from the top band's median to
// the bottom band's is the model; a row's own left/right band median is used
// where it agrees with that line (generated gradients are not exactly
// linear), and not where an object cut by the side border covers that row's band.
std::vector<cv::Vec3f> backgroundRows(const cv::Mat &rgb, int band)
{
    const int w = rgb.cols, h = rgb.rows;
    cv::Mat strip(h, w, CV_8U, cv::Scalar(0));
    strip(cv::Rect(0, 0, w, band)).setTo(255);
    const cv::Vec3f top = medianColour(rgb, strip);
    strip.setTo(0);
    strip(cv::Rect(0, h - band, w, band)).setTo(255);
    const cv::Vec3f bottom = medianColour(rgb, strip);

    // One row's left and right bands.
    cv::Mat sides(1, w, CV_8U, cv::Scalar(0));
    sides(cv::Rect(0, 0, band, 1)).setTo(255);
    sides(cv::Rect(w - band, 0, band, 1)).setTo(255);
    std::vector<cv::Vec3f> rows(h);
    for (int y = 0; y < h; ++y) {
        const cv::Vec3f own = medianColour(rgb.row(y), sides);
        const float t = h > 1 ? float(y) / float(h - 1) : 0.0f;
        const cv::Vec3f line = top + (bottom - top) * t;
        rows[y] = cv::norm(own - line) < 40.0 ? own : line;
    }
    return rows;
}

cv::Mat farFromBackground(const cv::Mat &rgb, const std::vector<cv::Vec3f> &rowBg, float distance)
{
    cv::Mat mask(rgb.size(), CV_8U, cv::Scalar(0));
    for (int y = 0; y < rgb.rows; ++y)
        for (int x = 0; x < rgb.cols; ++x) {
            const auto &p = rgb.at<cv::Vec3b>(y, x);
            const cv::Vec3f d(p[0] - rowBg[y][0], p[1] - rowBg[y][1], p[2] - rowBg[y][2]);
            if (std::sqrt(d.dot(d)) > distance)
                mask.at<uchar>(y, x) = 255;
        }
    cv::morphologyEx(mask, mask, cv::MORPH_OPEN, cv::getStructuringElement(cv::MORPH_ELLIPSE, {3, 3}));
    return mask;
}

// Pixels inside `roi` whose colour lies more than half way from the row's
// background to `object` (projection on the background->object line).
cv::Mat halfWayToObject(const cv::Mat &rgb, const std::vector<cv::Vec3f> &rowBg, cv::Vec3f object, cv::Rect roi)
{
    cv::Mat mask(rgb.size(), CV_8U, cv::Scalar(0));
    for (int y = roi.y; y < roi.y + roi.height; ++y) {
        const cv::Vec3f axis = object - rowBg[y];
        const float len2 = axis.dot(axis);
        if (len2 < 1.0f)
            continue;
        for (int x = roi.x; x < roi.x + roi.width; ++x) {
            const auto &p = rgb.at<cv::Vec3b>(y, x);
            const cv::Vec3f d(p[0] - rowBg[y][0], p[1] - rowBg[y][1], p[2] - rowBg[y][2]);
            if (d.dot(axis) > 0.5f * len2)
                mask.at<uchar>(y, x) = 255;
        }
    }
    cv::morphologyEx(mask, mask, cv::MORPH_OPEN, cv::getStructuringElement(cv::MORPH_ELLIPSE, {3, 3}));
    return mask;
}

// Index of the outer contour with the largest area, or -1.
int largestOuterContour(const cv::Mat &mask, std::vector<std::vector<cv::Point>> &contours,
                        std::vector<cv::Vec4i> &hierarchy)
{
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
    return best;
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

    // The named background colour: the median of the whole border band.
    cv::Mat border(h, w, CV_8U, cv::Scalar(0));
    border(cv::Rect(0, 0, band, h)).setTo(255);
    border(cv::Rect(w - band, 0, band, h)).setTo(255);
    border(cv::Rect(0, 0, w, band)).setTo(255);
    border(cv::Rect(0, h - band, w, band)).setTo(255);
    const cv::Vec3f allBg = medianColour(rgb, border);
    out.background = nearestColour(allBg[0], allBg[1], allBg[2]);

    const std::vector<cv::Vec3f> rowBg = backgroundRows(rgb, band);

    // First pass: pixels far from the background; the largest component is
    // the object. Its median colour then sets a second pass at half way
    // between background and object, so that the outline sits where the edge
    // is, whatever the contrast (yellow on orange is 86 apart, white on black 390).
    cv::Mat mask = farFromBackground(rgb, rowBg, 70.0f);
    std::vector<std::vector<cv::Point>> contours;
    std::vector<cv::Vec4i> hierarchy;
    int best = largestOuterContour(mask, contours, hierarchy);
    if (best >= 0) {
        cv::Mat first(h, w, CV_8U, cv::Scalar(0));
        cv::drawContours(first, contours, best, cv::Scalar(255), cv::FILLED);
        cv::bitwise_and(first, mask, first);
        const cv::Vec3f oc = medianColour(rgb, first);
        const int grow = w / 8;
        const cv::Rect near = (cv::boundingRect(contours[best]) + cv::Size(2 * grow, 2 * grow) -
                               cv::Point(grow, grow)) & cv::Rect(0, 0, w, h);
        cv::Mat second = halfWayToObject(rgb, rowBg, oc, near);
        std::vector<std::vector<cv::Point>> c2;
        std::vector<cv::Vec4i> h2;
        if (const int b2 = largestOuterContour(second, c2, h2); b2 >= 0) {
            mask = second;
            contours = std::move(c2);
            hierarchy = std::move(h2);
            best = b2;
        }
    }
    const double bestArea = best >= 0 ? cv::contourArea(contours[best]) : 0.0;
    if (best < 0 || bestArea < 0.002 * w * h)
        return out;
    out.found = true;

    double holeArea = 0;
    for (int c = hierarchy[best][2]; c >= 0; c = hierarchy[c][0])
        holeArea += cv::contourArea(contours[c]);
    cv::Mat objMask(h, w, CV_8U, cv::Scalar(0));
    cv::drawContours(objMask, contours, best, cv::Scalar(255), cv::FILLED);
    out.shape = matchShape(objMask, holeArea / bestArea);
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
