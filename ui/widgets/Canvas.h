// Canvas: the picture in the middle of the window. Shows the current image
// (the init image, each step's preview, then the result), zooms to the cursor
// with the wheel, pans with space+drag or the middle button, and in mask mode
// lets the user paint the inpaint mask with the BrushTool: the mask is drawn
// as a semi-transparent coloured overlay, the cursor is a circle at the
// brush's true (zoomed) size, and for "Inpaint area: only masked" the area
// that will be generated is outlined.
//
// Drops and pastes are decoded here (ImageDrop) and reported as signals; the
// canvas never changes its picture on its own, the window decides.
// Keys (canvas focused): E toggles brush/eraser, [ and ] change the size.
// Thread-safety: GUI thread only.
#pragma once

#include "ui/widgets/MaskToolHost.h"

#include <QColor>
#include <QImage>
#include <QPointF>
#include <QWidget>

class QUndoStack;

namespace stipple::ui {

class BrushTool;
class MaskLayer;

class Canvas : public QWidget, public MaskToolHost {
    Q_OBJECT
public:
    explicit Canvas(QWidget *parent = nullptr);
    ~Canvas() override;

    // The picture. A size change resets the view (fit) and the mask.
    void setImage(const QImage &image);
    QImage image() const { return m_image; }
    // A preview shown over the picture's area (scaled to targetSize, or to
    // its own size when the canvas is empty). Cleared by setImage/clearPreview.
    void setPreview(const QImage &preview, const QSize &targetSize = {});
    void clearPreview();
    bool hasPreview() const { return !m_preview.isNull(); }

    // Text drawn when there is no picture (e.g. how to load a model).
    void setPlaceholderText(const QString &text);
    QString placeholderText() const { return m_placeholder; }

    // Mask mode: overlay visible, brush active, brush cursor.
    void setMaskEditing(bool on);
    bool maskEditing() const { return m_maskEditing; }
    void setOverlayColor(const QColor &color);
    QColor overlayColor() const { return m_overlayColor; }
    void setOverlayOpacity(qreal opacity); // 0..1
    qreal overlayOpacity() const { return m_overlayOpacity; }
    // Outline of the "only masked" area; padding < 0 hides it.
    void setOnlyMaskedOutline(int padding, const QSize &targetSize);

    BrushTool *brush() const { return m_brush; }

    // MaskToolHost
    MaskLayer *maskLayer() override { return m_mask; }
    QUndoStack *undoStack() override { return m_undo; }

    // View. zoom 1 = 100%.
    qreal zoom() const { return m_zoom; }
    void setZoom(qreal zoom, const QPointF &anchor); // anchor in widget coordinates
    void fitToView();
    void actualSize();
    QPointF widgetToImage(const QPointF &p) const;
    QPointF imageToWidget(const QPointF &p) const;
    QRectF imageRectInWidget() const;

    QSize sizeHint() const override { return {640, 640}; }

Q_SIGNALS:
    void imageDropped(const QImage &image, const QString &path);
    void dropRejected(const QString &message);
    void zoomChanged(qreal zoom);
    void maskChanged();

protected:
    void paintEvent(QPaintEvent *event) override;
    void resizeEvent(QResizeEvent *event) override;
    void wheelEvent(QWheelEvent *event) override;
    void mousePressEvent(QMouseEvent *event) override;
    void mouseMoveEvent(QMouseEvent *event) override;
    void mouseReleaseEvent(QMouseEvent *event) override;
    void tabletEvent(QTabletEvent *event) override;
    void keyPressEvent(QKeyEvent *event) override;
    void keyReleaseEvent(QKeyEvent *event) override;
    void leaveEvent(QEvent *event) override;
    void dragEnterEvent(QDragEnterEvent *event) override;
    void dragMoveEvent(QDragMoveEvent *event) override;
    void dropEvent(QDropEvent *event) override;

private:
    void onMaskChanged(const QRect &rect);
    void rebuildOverlay(const QRect &rect);
    void updateCursorShape();
    void updateBrushCursor(const QPointF &widgetPos);
    QSize contentSize() const; // picture size, or the preview's when empty

    QImage m_image;
    QImage m_preview;
    QSize m_previewTarget;
    QString m_placeholder;

    MaskLayer *m_mask;
    QUndoStack *m_undo;
    BrushTool *m_brush;
    QImage m_overlay; // ARGB32_Premultiplied, same size as the mask
    QColor m_overlayColor{255, 60, 60};
    qreal m_overlayOpacity = 0.5;
    bool m_maskEditing = false;
    int m_onlyMaskedPadding = -1;
    QSize m_onlyMaskedTarget;

    qreal m_zoom = 1.0;
    QPointF m_offset;          // widget position of the image origin
    bool m_viewInitialised = false;
    bool m_spaceHeld = false;
    bool m_panning = false;
    QPointF m_panStart;
    QPointF m_offsetAtPanStart;
    bool m_mouseStroke = false;
    bool m_tabletStroke = false;
    QPointF m_cursorPos{-1, -1}; // widget coordinates, < 0 when outside
};

} // namespace stipple::ui
