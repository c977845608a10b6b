#include "ui/widgets/Canvas.h"

#include "ui/widgets/BrushTool.h"
#include "ui/widgets/ImageDrop.h"
#include "ui/widgets/MaskLayer.h"

#include <QDragEnterEvent>
#include <QDropEvent>
#include <QMimeData>
#include <QPainter>
#include <QPainterPath>
#include <QTabletEvent>
#include <QUndoStack>
#include <QWheelEvent>

#include <algorithm>
#include <cmath>

namespace stipple::ui {

namespace {
constexpr qreal kMinZoom = 0.05;
constexpr qreal kMaxZoom = 32.0;
} // namespace

Canvas::Canvas(QWidget *parent)
    : QWidget(parent), m_mask(new MaskLayer(this)), m_undo(new QUndoStack(this)),
      m_brush(new BrushTool(this, this))
{
    setFocusPolicy(Qt::StrongFocus);
    setMouseTracking(true);
    setAcceptDrops(true);
    setAttribute(Qt::WA_TabletTracking);
    setAutoFillBackground(false);
    setMinimumSize(200, 200);
    connect(m_mask, &MaskLayer::changed, this, &Canvas::onMaskChanged);
    connect(m_mask, &MaskLayer::resized, this, [this](const QSize &) {
        m_overlay = QImage();
        rebuildOverlay(m_mask->image().rect());
    });
    auto repaintCursor = [this] { update(); };
    connect(m_brush, &StrokeTool::sizeChanged, this, repaintCursor);
    connect(m_brush, &BrushTool::modeChanged, this, repaintCursor);
}

Canvas::~Canvas() = default;

QSize Canvas::contentSize() const
{
    if (!m_image.isNull())
        return m_image.size();
    if (!m_previewTarget.isEmpty())
        return m_previewTarget;
    return m_preview.size();
}

void Canvas::setImage(const QImage &image)
{
    const bool sizeChanged = image.size() != m_image.size();
    m_image = image;
    m_preview = QImage();
    if (sizeChanged) {
        m_undo->clear();
        if (m_image.isNull())
            m_mask->resize(QSize());
        else
            m_mask->resize(m_image.size());
        m_viewInitialised = false;
    }
    if (!m_viewInitialised && !m_image.isNull()) {
        fitToView();
        m_viewInitialised = true;
    }
    update();
}

void Canvas::setPreview(const QImage &preview, const QSize &targetSize)
{
    const QSize before = contentSize();
    m_preview = preview;
    m_previewTarget = targetSize;
    if (contentSize() != before || !m_viewInitialised) {
        fitToView();
        m_viewInitialised = !contentSize().isEmpty();
    }
    update();
}

void Canvas::clearPreview()
{
    m_preview = QImage();
    m_previewTarget = QSize();
    update();
}

void Canvas::setPlaceholderText(const QString &text)
{
    m_placeholder = text;
    update();
}

void Canvas::setMaskEditing(bool on)
{
    if (m_maskEditing == on)
        return;
    if (!on)
        m_brush->end();
    m_maskEditing = on;
    updateCursorShape();
    update();
}

void Canvas::setOverlayColor(const QColor &color)
{
    m_overlayColor = color;
    rebuildOverlay(m_mask->image().rect());
    update();
}

void Canvas::setOverlayOpacity(qreal opacity)
{
    m_overlayOpacity = std::clamp<qreal>(opacity, 0.0, 1.0);
    rebuildOverlay(m_mask->image().rect());
    update();
}

void Canvas::setOnlyMaskedOutline(int padding, const QSize &targetSize)
{
    m_onlyMaskedPadding = padding;
    m_onlyMaskedTarget = targetSize;
    update();
}

void Canvas::onMaskChanged(const QRect &rect)
{
    rebuildOverlay(rect);
    // Repaint only the widget area covering the changed pixels.
    const QRectF r(imageToWidget(rect.topLeft()), imageToWidget(rect.bottomRight() + QPoint(1, 1)));
    update(r.toAlignedRect().adjusted(-2, -2, 2, 2));
    if (m_onlyMaskedPadding >= 0)
        update();
    Q_EMIT maskChanged();
}

void Canvas::rebuildOverlay(const QRect &rect)
{
    const QImage &mask = m_mask->image();
    if (mask.isNull()) {
        m_overlay = QImage();
        return;
    }
    if (m_overlay.size() != mask.size()) {
        m_overlay = QImage(mask.size(), QImage::Format_ARGB32_Premultiplied);
        m_overlay.fill(Qt::transparent);
    }
    const QRect r = rect.intersected(mask.rect());
    const int cr = m_overlayColor.red(), cg = m_overlayColor.green(), cb = m_overlayColor.blue();
    const int opacity = int(std::lround(m_overlayOpacity * 255));
    for (int y = r.top(); y <= r.bottom(); ++y) {
        const uchar *in = mask.constScanLine(y);
        QRgb *out = reinterpret_cast<QRgb *>(m_overlay.scanLine(y));
        for (int x = r.left(); x <= r.right(); ++x) {
            const int a = in[x] * opacity / 255;
            out[x] = qRgba(cr * a / 255, cg * a / 255, cb * a / 255, a); // premultiplied
        }
    }
}

// ---- view ------------------------------------------------------------------

QPointF Canvas::widgetToImage(const QPointF &p) const
{
    return (p - m_offset) / m_zoom;
}

QPointF Canvas::imageToWidget(const QPointF &p) const
{
    return p * m_zoom + m_offset;
}

QRectF Canvas::imageRectInWidget() const
{
    const QSize s = contentSize();
    return QRectF(m_offset, QSizeF(s.width() * m_zoom, s.height() * m_zoom));
}

void Canvas::setZoom(qreal zoom, const QPointF &anchor)
{
    zoom = std::clamp(zoom, kMinZoom, kMaxZoom);
    // Keep the image point under `anchor` fixed.
    const QPointF imagePoint = widgetToImage(anchor);
    m_zoom = zoom;
    m_offset = anchor - imagePoint * m_zoom;
    update();
    Q_EMIT zoomChanged(m_zoom);
}

void Canvas::fitToView()
{
    const QSize s = contentSize();
    if (s.isEmpty())
        return;
    const qreal margin = 16;
    const qreal zx = (width() - 2 * margin) / s.width();
    const qreal zy = (height() - 2 * margin) / s.height();
    m_zoom = std::clamp(std::min(zx, zy), kMinZoom, kMaxZoom);
    m_offset = QPointF((width() - s.width() * m_zoom) / 2, (height() - s.height() * m_zoom) / 2);
    update();
    Q_EMIT zoomChanged(m_zoom);
}

void Canvas::actualSize()
{
    const QSize s = contentSize();
    setZoom(1.0, rect().center());
    if (!s.isEmpty()) {
        m_offset = QPointF((width() - s.width()) / 2.0, (height() - s.height()) / 2.0);
        update();
    }
}

void Canvas::resizeEvent(QResizeEvent *event)
{
    QWidget::resizeEvent(event);
    if (!contentSize().isEmpty() && !m_viewInitialised)
        fitToView();
}

// ---- painting ----------------------------------------------------------------

void Canvas::paintEvent(QPaintEvent *event)
{
    QPainter p(this);
    p.fillRect(event->rect(), palette().color(QPalette::Window).darker(115));

    const QSize s = contentSize();
    if (s.isEmpty()) {
        if (!m_placeholder.isEmpty()) {
            p.setPen(palette().color(QPalette::WindowText));
            QFont f = font();
            f.setPointSizeF(f.pointSizeF() * 1.15);
            p.setFont(f);
            p.drawText(rect().adjusted(40, 40, -40, -40), Qt::AlignCenter | Qt::TextWordWrap,
                       m_placeholder);
        }
        return;
    }

    const QRectF target = imageRectInWidget();
    // Nearest neighbour when zoomed in (pixels stay crisp), smooth otherwise.
    p.setRenderHint(QPainter::SmoothPixmapTransform, m_zoom < 2.0);
    // Checkerboard behind transparent pictures.
    p.fillRect(target, QBrush(palette().color(QPalette::Base)));
    if (!m_preview.isNull())
        p.drawImage(target, m_preview);
    else if (!m_image.isNull())
        p.drawImage(target, m_image);

    if (m_maskEditing && !m_overlay.isNull() && m_preview.isNull())
        p.drawImage(target, m_overlay);

    // "Only masked": the rectangle that will be generated.
    if (m_maskEditing && m_onlyMaskedPadding >= 0 && !m_mask->isNull()) {
        const QRect region = onlyMaskedRegion(m_mask->boundingRect(), m_onlyMaskedPadding,
                                              m_mask->size(), m_onlyMaskedTarget);
        if (!region.isEmpty()) {
            const QRectF r(imageToWidget(region.topLeft()),
                           imageToWidget(region.topLeft() + QPointF(region.width(), region.height())));
            p.setRenderHint(QPainter::Antialiasing, false);
            p.setPen(QPen(Qt::white, 1, Qt::SolidLine));
            p.drawRect(r);
            p.setPen(QPen(Qt::black, 1, Qt::DashLine));
            p.drawRect(r);
        }
    }

    // Brush cursor: a circle of the brush's true size at this zoom.
    if (m_maskEditing && m_cursorPos.x() >= 0 && !m_panning) {
        const qreal r = m_brush->radiusFor(1.0) * m_zoom;
        p.setRenderHint(QPainter::Antialiasing, true);
        p.setBrush(Qt::NoBrush);
        p.setPen(QPen(QColor(0, 0, 0, 200), 1.5));
        p.drawEllipse(m_cursorPos, r + 1, r + 1);
        p.setPen(QPen(m_brush->mode() == BrushTool::Mode::Erase ? QColor(120, 200, 255) : QColor(Qt::white), 1.5,
                      m_brush->mode() == BrushTool::Mode::Erase ? Qt::DashLine : Qt::SolidLine));
        p.drawEllipse(m_cursorPos, r, r);
    }
}

// ---- input -------------------------------------------------------------------

void Canvas::wheelEvent(QWheelEvent *event)
{
    if (contentSize().isEmpty())
        return;
    const qreal steps = event->angleDelta().y() / 120.0;
    if (steps == 0)
        return;
    setZoom(m_zoom * std::pow(1.15, steps), event->position());
    event->accept();
}

void Canvas::updateCursorShape()
{
    if (m_panning)
        setCursor(Qt::ClosedHandCursor);
    else if (m_spaceHeld)
        setCursor(Qt::OpenHandCursor);
    else if (m_maskEditing)
        setCursor(Qt::BlankCursor); // the brush circle is the cursor
    else
        unsetCursor();
}

void Canvas::updateBrushCursor(const QPointF &widgetPos)
{
    if (!m_maskEditing)
        return;
    const qreal r = m_brush->radiusFor(1.0) * m_zoom + 4;
    update(QRectF(m_cursorPos - QPointF(r, r), QSizeF(2 * r, 2 * r)).toAlignedRect());
    m_cursorPos = widgetPos;
    update(QRectF(m_cursorPos - QPointF(r, r), QSizeF(2 * r, 2 * r)).toAlignedRect());
}

void Canvas::mousePressEvent(QMouseEvent *event)
{
    setFocus(Qt::MouseFocusReason);
    if (event->button() == Qt::MiddleButton
        || (event->button() == Qt::LeftButton && m_spaceHeld)) {
        m_panning = true;
        m_panStart = event->position();
        m_offsetAtPanStart = m_offset;
        updateCursorShape();
        event->accept();
        return;
    }
    if (event->button() == Qt::LeftButton && m_maskEditing && !m_tabletStroke) {
        // A result shown over the init image steps aside for painting.
        if (!m_preview.isNull())
            clearPreview();
        m_mouseStroke = true;
        m_brush->begin(widgetToImage(event->position()), 1.0);
        event->accept();
        return;
    }
    QWidget::mousePressEvent(event);
}

void Canvas::mouseMoveEvent(QMouseEvent *event)
{
    if (m_panning) {
        m_offset = m_offsetAtPanStart + (event->position() - m_panStart);
        update();
        return;
    }
    updateBrushCursor(event->position());
    if (m_mouseStroke)
        m_brush->moveTo(widgetToImage(event->position()), 1.0);
}

void Canvas::mouseReleaseEvent(QMouseEvent *event)
{
    if (m_panning && (event->button() == Qt::MiddleButton || event->button() == Qt::LeftButton)) {
        m_panning = false;
        updateCursorShape();
        update();
        return;
    }
    if (m_mouseStroke && event->button() == Qt::LeftButton) {
        m_brush->moveTo(widgetToImage(event->position()), 1.0);
        m_brush->end();
        m_mouseStroke = false;
    }
}

void Canvas::tabletEvent(QTabletEvent *event)
{
    if (!m_maskEditing || m_spaceHeld) {
        event->ignore(); // let Qt synthesise mouse events (panning etc.)
        return;
    }
    if (event->type() == QEvent::TabletPress && !m_preview.isNull())
        clearPreview();
    const QPointF pos = widgetToImage(event->position());
    const qreal pressure = event->pressure();
    switch (event->type()) {
    case QEvent::TabletPress:
        m_tabletStroke = true;
        m_brush->begin(pos, pressure);
        break;
    case QEvent::TabletMove:
        updateBrushCursor(event->position());
        if (m_tabletStroke)
            m_brush->moveTo(pos, pressure);
        break;
    case QEvent::TabletRelease:
        if (m_tabletStroke) {
            m_brush->moveTo(pos, pressure);
            m_brush->end();
        }
        m_tabletStroke = false;
        break;
    default:
        break;
    }
    event->accept();
}

void Canvas::keyPressEvent(QKeyEvent *event)
{
    switch (event->key()) {
    case Qt::Key_Space:
        if (!event->isAutoRepeat()) {
            m_spaceHeld = true;
            updateCursorShape();
        }
        event->accept();
        return;
    case Qt::Key_E:
        if (m_maskEditing && event->modifiers() == Qt::NoModifier) {
            m_brush->toggleMode();
            event->accept();
            return;
        }
        break;
    case Qt::Key_BracketLeft:
        if (m_maskEditing) {
            m_brush->decreaseSize();
            event->accept();
            return;
        }
        break;
    case Qt::Key_BracketRight:
        if (m_maskEditing) {
            m_brush->increaseSize();
            event->accept();
            return;
        }
        break;
    default:
        break;
    }
    QWidget::keyPressEvent(event);
}

void Canvas::keyReleaseEvent(QKeyEvent *event)
{
    if (event->key() == Qt::Key_Space && !event->isAutoRepeat()) {
        m_spaceHeld = false;
        updateCursorShape();
        event->accept();
        return;
    }
    QWidget::keyReleaseEvent(event);
}

void Canvas::leaveEvent(QEvent *event)
{
    updateBrushCursor(QPointF(-1000, -1000));
    m_cursorPos = QPointF(-1, -1);
    update();
    QWidget::leaveEvent(event);
}

// ---- drag and drop -------------------------------------------------------------

void Canvas::dragEnterEvent(QDragEnterEvent *event)
{
    // Accept anything with a file or image: a wrong file gets a message on
    // drop rather than a silent "no entry" cursor.
    if (mightContainImage(event->mimeData()) || event->mimeData()->hasText())
        event->acceptProposedAction();
}

void Canvas::dragMoveEvent(QDragMoveEvent *event)
{
    event->acceptProposedAction();
}

void Canvas::dropEvent(QDropEvent *event)
{
    const DroppedImage dropped = decodeDroppedImage(event->mimeData());
    event->acceptProposedAction();
    if (dropped.ok())
        Q_EMIT imageDropped(dropped.image, dropped.path);
    else
        Q_EMIT dropRejected(dropped.error);
}

} // namespace stipple::ui
