// The geometry of the data set's six shapes, drawn with OpenCV. One place, so
// that the training images and the evaluator's shape prototypes are the same
// outlines. Thread-safety: pure functions.
#pragma once

#include "core/synth/ShapesVocabulary.h"

#include <opencv2/core.hpp>

namespace stipple::core::shapes {

// Draws `shape` of nominal `radius` (half the object's size) around `centre`
// onto an 8-bit image of any channel count. lineType: cv::LINE_AA for the
// data set's images, cv::LINE_8 for hard masks.
void drawShape(cv::Mat &img, Shape shape, cv::Point2f centre, float radius, const cv::Scalar &colour,
               int lineType);

} // namespace stipple::core::shapes
