#include "core/train/LossPlot.h"

#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include <algorithm>
#include <cmath>

namespace stipple::core {

Status writeLossPlot(const std::string &path, const std::vector<LossSeries> &series, int width, int height)
{
    cv::Mat img(height, width, CV_8UC3, cv::Scalar(255, 255, 255));
    const int left = 60, right = 20, top = 20, bottom = 40;
    const cv::Scalar colours[] = {{200, 60, 30}, {30, 120, 220}, {40, 160, 40}, {150, 40, 150}};
    double lo = 1e30, hi = -1e30;
    for (const auto &s : series)
        for (float v : s.values)
            if (v > 0 && std::isfinite(v)) {
                lo = std::min(lo, std::log10(double(v)));
                hi = std::max(hi, std::log10(double(v)));
            }
    if (lo > hi) {
        lo = -3;
        hi = 0;
    }
    if (hi - lo < 0.5)
        hi = lo + 0.5;
    cv::rectangle(img, {left, top}, {width - right, height - bottom}, cv::Scalar(0, 0, 0));
    for (int d = int(std::floor(lo)); d <= int(std::ceil(hi)); ++d) {
        const int y = height - bottom - int((d - lo) / (hi - lo) * (height - top - bottom));
        if (y < top || y > height - bottom)
            continue;
        cv::line(img, {left, y}, {width - right, y}, cv::Scalar(220, 220, 220));
        cv::putText(img, "1e" + std::to_string(d), {5, y + 4}, cv::FONT_HERSHEY_SIMPLEX, 0.4, cv::Scalar(0, 0, 0));
    }
    for (size_t k = 0; k < series.size(); ++k) {
        const auto &vals = series[k].values;
        if (vals.size() < 2)
            continue;
        // Exponential moving average so the trend is visible through batch noise.
        std::vector<cv::Point> pts;
        double ema = vals.front();
        for (size_t i = 0; i < vals.size(); ++i) {
            ema = 0.95 * ema + 0.05 * vals[i];
            if (!(ema > 0))
                continue;
            const int x = left + int(double(i) / double(vals.size() - 1) * (width - left - right));
            const int y = height - bottom - int((std::log10(ema) - lo) / (hi - lo) * (height - top - bottom));
            pts.emplace_back(x, std::clamp(y, top, height - bottom));
        }
        const cv::Scalar c = colours[k % 4];
        cv::polylines(img, pts, false, c, 2, cv::LINE_AA);
        cv::putText(img, series[k].name + " (" + std::to_string(vals.size()) + " steps)",
                    {left + 10, top + 18 + int(k) * 18}, cv::FONT_HERSHEY_SIMPLEX, 0.5, c, 1, cv::LINE_AA);
    }
    cv::putText(img, "step", {width / 2, height - 10}, cv::FONT_HERSHEY_SIMPLEX, 0.5, cv::Scalar(0, 0, 0));
    try {
        if (!cv::imwrite(path, img))
            return makeError(ErrorCode::IoError, "cannot write loss plot " + path);
    } catch (const cv::Exception &e) {
        return makeError(ErrorCode::IoError, "cannot write loss plot " + path + ": " + e.what());
    }
    return {};
}

} // namespace stipple::core
