#include "ui/widgets/StrokeTool.h"

#include "ui/widgets/MaskEditCommand.h"
#include "ui/widgets/MaskToolHost.h"

#include <QUndoStack>

#include <algorithm>
#include <cmath>

namespace stipple::ui {

StrokeTool::StrokeTool(MaskToolHost *host, QObject *parent) : QObject(parent), m_host(host) {}

void StrokeTool::setSize(int diameter)
{
    diameter = std::clamp(diameter, kMinSize, kMaxSize);
    if (diameter == m_size)
        return;
    m_size = diameter;
    Q_EMIT sizeChanged(m_size);
}

void StrokeTool::decreaseSize()
{
    setSize(m_size - std::max(1, int(std::lround(m_size * 0.1))));
}

void StrokeTool::increaseSize()
{
    setSize(m_size + std::max(1, int(std::lround(m_size * 0.1))));
}

void StrokeTool::setHardness(qreal hardness)
{
    hardness = std::clamp<qreal>(hardness, 0.0, 1.0);
    if (qFuzzyCompare(hardness + 1, m_hardness + 1))
        return;
    m_hardness = hardness;
    Q_EMIT hardnessChanged(m_hardness);
}

qreal StrokeTool::radiusFor(qreal pressure) const
{
    const qreal p = m_pressureEnabled ? std::clamp<qreal>(pressure, 0.05, 1.0) : 1.0;
    return m_size * 0.5 * p;
}

void StrokeTool::begin(const QPointF &pos, qreal pressure)
{
    MaskLayer *layer = m_host->maskLayer();
    if (!layer || layer->isNull())
        return;
    if (m_stroking)
        end();
    m_stroking = true;
    m_before = layer->image().copy();
    m_dirty = QRect();
    m_last = BrushDab{pos, radiusFor(pressure)};
    m_dirty |= drawSegment(*layer, m_last, m_last); // a click paints a dab
}

void StrokeTool::moveTo(const QPointF &pos, qreal pressure)
{
    if (!m_stroking)
        return;
    MaskLayer *layer = m_host->maskLayer();
    const BrushDab next{pos, radiusFor(pressure)};
    // The segment from the previous event fills whatever the pointer skipped.
    m_dirty |= drawSegment(*layer, m_last, next);
    m_last = next;
}

void StrokeTool::end()
{
    if (!m_stroking)
        return;
    m_stroking = false;
    MaskLayer *layer = m_host->maskLayer();
    if (!m_dirty.isEmpty() && layer && layer->size() == m_before.size()) {
        m_host->undoStack()->push(
            new MaskEditCommand(layer, m_dirty, m_before.copy(m_dirty), strokeText()));
    }
    m_before = QImage();
    m_dirty = QRect();
}

} // namespace stipple::ui
