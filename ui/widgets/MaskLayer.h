// MaskLayer: the inpaint mask being painted, an 8-bit grey raster the size of
// the init image (0 = keep, 255 = repaint, values between = soft edge).
// It paints brush segments ("capsules" whose radius may change along the
// segment, for pressure), and offers the whole-mask actions (clear, fill,
// invert, import/export) and patch snapshots for undo.
//
// The layer knows nothing about widgets or undo stacks: the brush tool and
// MaskEditCommand drive it, the canvas listens to changed().
// Thread-safety: GUI thread only (QObject).
#pragma once

#include <QImage>
#include <QObject>
#include <QPointF>
#include <QRect>

namespace stipple::ui {

struct BrushDab {
    QPointF position;  // image pixel coordinates (pixel centres at +0.5)
    qreal radius = 0;  // pixels
};

class MaskLayer : public QObject {
    Q_OBJECT
public:
    explicit MaskLayer(QObject *parent = nullptr);

    // Replaces the mask with an empty one of the given size.
    void resize(const QSize &size);
    QSize size() const { return m_mask.size(); }
    bool isNull() const { return m_mask.isNull(); }
    const QImage &image() const { return m_mask; } // Format_Grayscale8
    quint8 valueAt(int x, int y) const;

    // Paints (erase = false: raise to the brush value; erase = true: lower) a
    // segment between two dabs. hardness in [0,1]: 1 = hard edge, 0 = the
    // whole radius is a linear feather. Overlapping parts of one stroke do not
    // accumulate (max/min compositing). Returns the changed rectangle.
    QRect paintSegment(const BrushDab &from, const BrushDab &to, qreal hardness, bool erase);

    // Whole-mask edits (emit changed()).
    void clear();
    void fill();
    void invert();
    // Loads a mask from an image (alpha if it has one, else luminance), scaled
    // to size() when they differ. Returns false for a null image.
    bool setFromImage(const QImage &image);
    void setImage(const QImage &grey); // Format_Grayscale8 of the same size

    // Undo support: copy and restore a rectangle.
    QImage copyRect(const QRect &rect) const;
    void restoreRect(const QRect &rect, const QImage &patch);

    // Bounding box of the non-zero pixels (empty when the mask is empty).
    QRect boundingRect() const;
    bool isEmpty() const { return boundingRect().isEmpty(); }

Q_SIGNALS:
    void changed(const QRect &rect);
    void resized(const QSize &size);

private:
    QImage m_mask;
};

// The area A1111's "Inpaint area: Only masked" generates: the mask's bounding
// box grown by `padding`, then widened or heightened to the aspect ratio of
// the target size and clamped to the image (A1111 modules/masking.py
// get_crop_region + expand_crop_region). Empty when the mask is empty.
QRect onlyMaskedRegion(const QRect &maskBounds, int padding, const QSize &imageSize,
                       const QSize &targetSize);

} // namespace stipple::ui
