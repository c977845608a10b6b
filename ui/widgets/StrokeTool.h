// StrokeTool: base of the freehand mask tools (after kolourpaint's
// kpToolFlowBase). It turns press/move/release (with tablet pressure) into
// connected segments, so however far the pointer jumps between two events
// the stroke has no gaps: a subclass only draws one segment between two dabs
// and returns the rectangle it changed. The base collects the changed area
// and pushes exactly one MaskEditCommand per stroke.
//
// Size is the brush diameter in image pixels; with pressure enabled the dab
// radius is size/2 * pressure (pressure clamped to [0.05, 1]).
// Thread-safety: GUI thread only.
#pragma once

#include "ui/widgets/MaskLayer.h"

#include <QImage>
#include <QObject>
#include <QPointF>
#include <QRect>

namespace stipple::ui {

class MaskToolHost;

class StrokeTool : public QObject {
    Q_OBJECT
public:
    static constexpr int kMinSize = 1;
    static constexpr int kMaxSize = 1000;

    explicit StrokeTool(MaskToolHost *host, QObject *parent = nullptr);

    int size() const { return m_size; }
    void setSize(int diameter);
    // "[" and "]": about 10% smaller/larger, at least one pixel.
    void decreaseSize();
    void increaseSize();

    qreal hardness() const { return m_hardness; }
    void setHardness(qreal hardness); // 0..1
    bool pressureEnabled() const { return m_pressureEnabled; }
    void setPressureEnabled(bool on) { m_pressureEnabled = on; }

    // Dab radius for a pressure value (1 for mouse input).
    qreal radiusFor(qreal pressure) const;

    // Stroke events in image coordinates.
    void begin(const QPointF &pos, qreal pressure = 1.0);
    void moveTo(const QPointF &pos, qreal pressure = 1.0);
    void end();
    bool isStroking() const { return m_stroking; }
    QPointF lastPosition() const { return m_last.position; }

Q_SIGNALS:
    void sizeChanged(int diameter);
    void hardnessChanged(qreal hardness);

protected:
    // Draws one segment; returns the changed rectangle (empty if none).
    virtual QRect drawSegment(MaskLayer &layer, const BrushDab &from, const BrushDab &to) = 0;
    // Undo text for a finished stroke.
    virtual QString strokeText() const = 0;

private:
    MaskToolHost *m_host;
    int m_size = 48;
    qreal m_hardness = 0.8;
    bool m_pressureEnabled = true;
    bool m_stroking = false;
    BrushDab m_last;
    QImage m_before;   // mask at stroke start
    QRect m_dirty;
};

} // namespace stipple::ui
