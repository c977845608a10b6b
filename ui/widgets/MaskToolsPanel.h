// MaskToolsPanel: the inpaint tool strip above the canvas. Brush/eraser
// (E), size ([ and ]), hardness, overlay colour and opacity, and the mask
// actions: clear, invert, fill, import and export PNG, undo and redo. Each
// action is one undo step (MaskEditCommand). It works on the canvas's mask
// layer, brush and undo stack, nothing else.
// Thread-safety: GUI thread only.
#pragma once

#include <QWidget>

class QAction;
class QSlider;
class QSpinBox;
class QToolButton;

namespace stipple::ui {

class Canvas;

class MaskToolsPanel : public QWidget {
    Q_OBJECT
public:
    explicit MaskToolsPanel(Canvas *canvas, QWidget *parent = nullptr);

    // Mask actions (also used by the window's Mask menu).
    void clearMask();
    void invertMask();
    void fillMask();
    // Return a translated error, empty on success.
    QString importMask(const QString &path);
    QString exportMask(const QString &path) const;

    QAction *undoAction() const { return m_undo; }
    QAction *redoAction() const { return m_redo; }

Q_SIGNALS:
    void overlayColorChanged(const QColor &color);
    void overlayOpacityChanged(qreal opacity);
    void statusMessage(const QString &message);

private:
    void chooseColor();
    void syncFromBrush();

    Canvas *m_canvas;
    QToolButton *m_brushButton;
    QToolButton *m_eraserButton;
    QSpinBox *m_size;
    QSlider *m_hardness;
    QToolButton *m_color;
    QSlider *m_opacity;
    QAction *m_undo;
    QAction *m_redo;
};

} // namespace stipple::ui
