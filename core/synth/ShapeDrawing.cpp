#include "core/synth/ShapeDrawing.h"

#include <opencv2/imgproc.hpp>

#include <algorithm>
#include <cmath>
#include <vector>

namespace stipple::core::shapes {

namespace {

std::vector<cv::Point> regularPolygon(cv::Point2f c, float r, int n, float phase)
{
    std::vector<cv::Point> pts;
    for (int i = 0; i < n; ++i) {
        const float a = phase + float(2 * M_PI) * i / n;
        pts.emplace_back(cvRound(c.x + r * std::cos(a)), cvRound(c.y + r * std::sin(a)));
    }
    return pts;
}

} // namespace

void drawShape(cv::Mat &img, Shape shape, cv::Point2f centre, float radius, const cv::Scalar &col,
               int aa)
{
    switch (shape) {
    case Shape::Circle:
        cv::circle(img, centre, cvRound(radius), col, cv::FILLED, aa);
        break;
    case Shape::Square: {
        const float h = radius * 0.85f;
        cv::rectangle(img, cv::Point(cvRound(centre.x - h), cvRound(centre.y - h)),
                      cv::Point(cvRound(centre.x + h), cvRound(centre.y + h)), col, cv::FILLED, aa);
        break;
    }
    case Shape::Triangle: {
        // Apex up; lowered so the visual centre sits on `centre`.
        auto pts = regularPolygon({centre.x, centre.y + radius * 0.15f}, radius * 1.1f, 3, float(-M_PI / 2));
        cv::fillConvexPoly(img, pts, col, aa);
        break;
    }
    case Shape::Star: {
        std::vector<cv::Point> pts;
        for (int i = 0; i < 10; ++i) {
            const float r = (i % 2 == 0) ? radius * 1.1f : radius * 0.45f;
            const float a = float(-M_PI / 2) + float(M_PI) * i / 5;
            pts.emplace_back(cvRound(centre.x + r * std::cos(a)), cvRound(centre.y + r * std::sin(a)));
        }
        std::vector<std::vector<cv::Point>> polys{pts};
        cv::fillPoly(img, polys, col, aa);
        break;
    }
    case Shape::Ring:
        cv::circle(img, centre, cvRound(radius * 0.72f), col, std::max(2, cvRound(radius * 0.45f)), aa);
        break;
    case Shape::Cross: {
        const float l = radius, w = radius * 0.36f;
        cv::rectangle(img, cv::Point(cvRound(centre.x - l), cvRound(centre.y - w)),
                      cv::Point(cvRound(centre.x + l), cvRound(centre.y + w)), col, cv::FILLED, aa);
        cv::rectangle(img, cv::Point(cvRound(centre.x - w), cvRound(centre.y - l)),
                      cv::Point(cvRound(centre.x + w), cvRound(centre.y + l)), col, cv::FILLED, aa);
        break;
    }
    case Shape::Count:
        break;
    }
}

} // namespace stipple::core::shapes
