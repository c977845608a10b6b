#include "ui/widgets/MaskLayer.h"

#include <QPainter>

#include <algorithm>
#include <cmath>

namespace stipple::ui {

MaskLayer::MaskLayer(QObject *parent) : QObject(parent) {}

void MaskLayer::resize(const QSize &size)
{
    m_mask = QImage(size, QImage::Format_Grayscale8);
    m_mask.fill(0);
    Q_EMIT resized(size);
    Q_EMIT changed(m_mask.rect());
}

quint8 MaskLayer::valueAt(int x, int y) const
{
    if (!m_mask.valid(x, y))
        return 0;
    return m_mask.constScanLine(y)[x];
}

QRect MaskLayer::paintSegment(const BrushDab &from, const BrushDab &to, qreal hardness, bool erase)
{
    if (m_mask.isNull())
        return {};
    const qreal r0 = std::max<qreal>(from.radius, 0.5);
    const qreal r1 = std::max<qreal>(to.radius, 0.5);
    const qreal rMax = std::max(r0, r1);
    const QPointF a = from.position;
    const QPointF b = to.position;
    const QRect bounds = QRectF(QPointF(std::min(a.x(), b.x()) - rMax - 1, std::min(a.y(), b.y()) - rMax - 1),
                                QPointF(std::max(a.x(), b.x()) + rMax + 1, std::max(a.y(), b.y()) + rMax + 1))
                             .toAlignedRect()
                             .intersected(m_mask.rect());
    if (bounds.isEmpty())
        return {};

    const qreal h = std::clamp<qreal>(hardness, 0.0, 1.0);
    const QPointF ab = b - a;
    const qreal len2 = QPointF::dotProduct(ab, ab);
    QRect dirty;
    for (int y = bounds.top(); y <= bounds.bottom(); ++y) {
        uchar *line = m_mask.scanLine(y);
        for (int x = bounds.left(); x <= bounds.right(); ++x) {
            const QPointF p(x + 0.5, y + 0.5);
            // Closest point on the segment; the radius follows the same t.
            qreal t = len2 > 0 ? QPointF::dotProduct(p - a, ab) / len2 : 0.0;
            t = std::clamp<qreal>(t, 0.0, 1.0);
            const QPointF c = a + t * ab;
            const qreal r = r0 + t * (r1 - r0);
            const QPointF d = p - c;
            const qreal dist = std::sqrt(QPointF::dotProduct(d, d));
            if (dist >= r)
                continue;
            // Feather: at least one pixel of anti-aliased edge.
            const qreal feather = std::max<qreal>(r * (1.0 - h), std::min<qreal>(1.0, r));
            const qreal inner = r - feather;
            const qreal coverage = dist <= inner ? 1.0 : (r - dist) / feather;
            const int v = int(std::lround(coverage * 255.0));
            const uchar old = line[x];
            const uchar next = erase ? uchar(std::min<int>(old, 255 - v)) : uchar(std::max<int>(old, v));
            if (next != old) {
                line[x] = next;
                dirty |= QRect(x, y, 1, 1);
            }
        }
    }
    if (!dirty.isEmpty())
        Q_EMIT changed(dirty);
    return dirty;
}

void MaskLayer::clear()
{
    if (m_mask.isNull())
        return;
    m_mask.fill(0);
    Q_EMIT changed(m_mask.rect());
}

void MaskLayer::fill()
{
    if (m_mask.isNull())
        return;
    m_mask.fill(255);
    Q_EMIT changed(m_mask.rect());
}

void MaskLayer::invert()
{
    if (m_mask.isNull())
        return;
    for (int y = 0; y < m_mask.height(); ++y) {
        uchar *line = m_mask.scanLine(y);
        for (int x = 0; x < m_mask.width(); ++x)
            line[x] = uchar(255 - line[x]);
    }
    Q_EMIT changed(m_mask.rect());
}

bool MaskLayer::setFromImage(const QImage &image)
{
    if (image.isNull())
        return false;
    QImage src = image;
    if (!m_mask.isNull() && src.size() != m_mask.size())
        src = src.scaled(m_mask.size(), Qt::IgnoreAspectRatio, Qt::SmoothTransformation);
    QImage grey(src.size(), QImage::Format_Grayscale8);
    if (src.hasAlphaChannel()) {
        const QImage argb = src.convertToFormat(QImage::Format_ARGB32);
        for (int y = 0; y < argb.height(); ++y) {
            const QRgb *in = reinterpret_cast<const QRgb *>(argb.constScanLine(y));
            uchar *out = grey.scanLine(y);
            for (int x = 0; x < argb.width(); ++x)
                out[x] = uchar(qAlpha(in[x]));
        }
    } else {
        grey = src.convertToFormat(QImage::Format_Grayscale8);
    }
    const bool sizeChanged = grey.size() != m_mask.size();
    m_mask = grey;
    if (sizeChanged)
        Q_EMIT resized(m_mask.size());
    Q_EMIT changed(m_mask.rect());
    return true;
}

void MaskLayer::setImage(const QImage &grey)
{
    const bool sizeChanged = grey.size() != m_mask.size();
    m_mask = grey.convertToFormat(QImage::Format_Grayscale8);
    if (sizeChanged)
        Q_EMIT resized(m_mask.size());
    Q_EMIT changed(m_mask.rect());
}

QImage MaskLayer::copyRect(const QRect &rect) const
{
    return m_mask.copy(rect.intersected(m_mask.rect()));
}

void MaskLayer::restoreRect(const QRect &rect, const QImage &patch)
{
    const QRect r = rect.intersected(m_mask.rect());
    if (r.isEmpty() || patch.size() != r.size())
        return;
    for (int y = 0; y < r.height(); ++y)
        std::copy_n(patch.constScanLine(y), r.width(), m_mask.scanLine(r.top() + y) + r.left());
    Q_EMIT changed(r);
}

QRect MaskLayer::boundingRect() const
{
    int x1 = m_mask.width(), y1 = m_mask.height(), x2 = -1, y2 = -1;
    for (int y = 0; y < m_mask.height(); ++y) {
        const uchar *line = m_mask.constScanLine(y);
        for (int x = 0; x < m_mask.width(); ++x) {
            if (line[x]) {
                x1 = std::min(x1, x);
                x2 = std::max(x2, x);
                y1 = std::min(y1, y);
                y2 = std::max(y2, y);
            }
        }
    }
    if (x2 < 0)
        return {};
    return QRect(QPoint(x1, y1), QPoint(x2, y2));
}

QRect onlyMaskedRegion(const QRect &maskBounds, int padding, const QSize &imageSize,
                       const QSize &targetSize)
{
    if (maskBounds.isEmpty() || imageSize.isEmpty())
        return {};
    // Half-open coordinates [x1, x2) x [y1, y2).
    int x1 = std::max(0, maskBounds.left() - padding);
    int y1 = std::max(0, maskBounds.top() - padding);
    int x2 = std::min(imageSize.width(), maskBounds.right() + 1 + padding);
    int y2 = std::min(imageSize.height(), maskBounds.bottom() + 1 + padding);
    if (targetSize.isEmpty())
        return QRect(x1, y1, x2 - x1, y2 - y1);

    // Grow the short side so the crop has the target's aspect ratio, keeping
    // it centred and shifting it back inside the image when it overflows.
    auto grow = [](int &lo, int &hi, int desired, int limit) {
        const int diff = desired - (hi - lo);
        if (diff <= 0)
            return;
        lo -= diff / 2;
        hi += diff - diff / 2;
        if (hi > limit) { lo -= hi - limit; hi = limit; }
        if (lo < 0) { hi -= lo; lo = 0; }
        hi = std::min(hi, limit);
    };
    const double cropRatio = double(x2 - x1) / double(y2 - y1);
    const double targetRatio = double(targetSize.width()) / double(targetSize.height());
    if (cropRatio > targetRatio)
        grow(y1, y2, int((x2 - x1) / targetRatio), imageSize.height());
    else
        grow(x1, x2, int((y2 - y1) * targetRatio), imageSize.width());
    return QRect(x1, y1, x2 - x1, y2 - y1);
}

} // namespace stipple::ui
