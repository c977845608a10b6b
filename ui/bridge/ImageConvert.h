// QImage <-> core::Image conversion (deep copies; the results own their pixels).
// Thread-safety: reentrant, usable from any thread.
#pragma once

#include "core/image/Image.h"

#include <QImage>

namespace stipple::ui {

// core::Image -> QImage: 1 channel -> Format_Grayscale8, 3 -> Format_RGB888,
// 4 -> Format_RGBA8888 (non-premultiplied). A null/invalid image gives QImage().
QImage toQImage(const core::Image &image);

// QImage -> core::Image with `channels` = 1 (grey; for masks: luminance), 3 (RGB,
// alpha dropped) or 4 (RGBA, non-premultiplied). Any QImage format is accepted.
// A null QImage or another channel count gives an empty core::Image.
core::Image toCoreImage(const QImage &image, int channels = 3);

// Mask helper: a painted overlay (alpha = coverage) or a grey mask -> 1 channel,
// white = repaint. Uses alpha when the image has an alpha channel, else luminance.
core::Image maskToCoreImage(const QImage &mask);

} // namespace stipple::ui
