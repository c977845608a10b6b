#include "ui/widgets/MaskToolsPanel.h"

#include "ui/widgets/BrushTool.h"
#include "ui/widgets/Canvas.h"
#include "ui/widgets/MaskEditCommand.h"
#include "ui/widgets/MaskLayer.h"

#include <QAction>
#include <QButtonGroup>
#include <QColorDialog>
#include <QDir>
#include <QFileDialog>
#include <QFileInfo>
#include <QHBoxLayout>
#include <QImageReader>
#include <QLabel>
#include <QSignalBlocker>
#include <QSlider>
#include <QSpinBox>
#include <QToolButton>
#include <QUndoStack>
#include <QVBoxLayout>

#include <cmath>

namespace stipple::ui {

namespace {
QIcon colorIcon(const QColor &c)
{
    QPixmap pm(16, 16);
    pm.fill(c);
    return QIcon(pm);
}
} // namespace

MaskToolsPanel::MaskToolsPanel(Canvas *canvas, QWidget *parent) : QWidget(parent), m_canvas(canvas)
{
    // Two rows so the strip fits next to the docks: tools, then actions.
    auto *rows = new QVBoxLayout(this);
    rows->setContentsMargins(4, 2, 4, 2);
    rows->setSpacing(2);
    auto *row = new QHBoxLayout;
    auto *actions = new QHBoxLayout;
    rows->addLayout(row);
    rows->addLayout(actions);
    BrushTool *brush = canvas->brush();

    m_brushButton = new QToolButton(this);
    m_brushButton->setObjectName(QStringLiteral("maskBrush"));
    m_brushButton->setText(tr("Brush"));
    m_brushButton->setCheckable(true);
    m_brushButton->setToolTip(tr("Paint the area to regenerate (E toggles brush/eraser)"));
    m_eraserButton = new QToolButton(this);
    m_eraserButton->setObjectName(QStringLiteral("maskEraser"));
    m_eraserButton->setText(tr("Eraser"));
    m_eraserButton->setCheckable(true);
    m_eraserButton->setToolTip(tr("Erase the mask (E toggles brush/eraser)"));
    auto *group = new QButtonGroup(this);
    group->setExclusive(true);
    group->addButton(m_brushButton);
    group->addButton(m_eraserButton);
    row->addWidget(m_brushButton);
    row->addWidget(m_eraserButton);
    connect(m_brushButton, &QToolButton::clicked, this, [brush] { brush->setMode(BrushTool::Mode::Paint); });
    connect(m_eraserButton, &QToolButton::clicked, this, [brush] { brush->setMode(BrushTool::Mode::Erase); });

    row->addWidget(new QLabel(tr("Size:"), this));
    m_size = new QSpinBox(this);
    m_size->setObjectName(QStringLiteral("maskBrushSize"));
    m_size->setRange(StrokeTool::kMinSize, StrokeTool::kMaxSize);
    m_size->setSuffix(QStringLiteral(" px"));
    m_size->setToolTip(tr("Brush diameter in image pixels ([ and ] change it)"));
    row->addWidget(m_size);
    connect(m_size, &QSpinBox::valueChanged, brush, &StrokeTool::setSize);

    row->addWidget(new QLabel(tr("Hardness:"), this));
    m_hardness = new QSlider(Qt::Horizontal, this);
    m_hardness->setObjectName(QStringLiteral("maskHardness"));
    m_hardness->setRange(0, 100);
    m_hardness->setMinimumWidth(80);
    m_hardness->setMaximumWidth(120);
    m_hardness->setToolTip(tr("Hard edge (right) or soft, feathered edge (left)"));
    row->addWidget(m_hardness);
    connect(m_hardness, &QSlider::valueChanged, brush, [brush](int v) { brush->setHardness(v / 100.0); });

    m_color = new QToolButton(this);
    m_color->setToolTip(tr("Mask overlay colour"));
    m_color->setIcon(colorIcon(canvas->overlayColor()));
    row->addWidget(m_color);
    connect(m_color, &QToolButton::clicked, this, &MaskToolsPanel::chooseColor);
    m_opacity = new QSlider(Qt::Horizontal, this);
    m_opacity->setRange(5, 100);
    m_opacity->setMinimumWidth(60);
    m_opacity->setMaximumWidth(100);
    m_opacity->setValue(int(std::lround(canvas->overlayOpacity() * 100)));
    m_opacity->setToolTip(tr("Mask overlay opacity"));
    row->addWidget(m_opacity);
    connect(m_opacity, &QSlider::valueChanged, this, [this](int v) {
        m_canvas->setOverlayOpacity(v / 100.0);
        Q_EMIT overlayOpacityChanged(v / 100.0);
    });

    row->addStretch(1);
    auto addButton = [this, actions](const QString &text, const QString &tip, auto slot) {
        auto *b = new QToolButton(this);
        b->setText(text);
        b->setToolTip(tip);
        actions->addWidget(b);
        connect(b, &QToolButton::clicked, this, slot);
        return b;
    };
    addButton(tr("Clear"), tr("Clear the mask"), [this] { clearMask(); });
    addButton(tr("Invert"), tr("Invert the mask"), [this] { invertMask(); });
    addButton(tr("Fill"), tr("Mask the whole picture"), [this] { fillMask(); });
    addButton(tr("Import…"), tr("Load a mask from a PNG (white = repaint)"), [this] {
        const QString path = QFileDialog::getOpenFileName(this, tr("Import mask"), QString(),
                                                          tr("Images (*.png *.jpg *.jpeg *.webp *.bmp)"));
        if (path.isEmpty())
            return;
        const QString error = importMask(path);
        Q_EMIT statusMessage(error.isEmpty() ? tr("Mask imported from %1.").arg(QFileInfo(path).fileName()) : error);
    });
    addButton(tr("Export…"), tr("Save the mask as a PNG (white = repaint)"), [this] {
        const QString path = QFileDialog::getSaveFileName(this, tr("Export mask"), QStringLiteral("mask.png"),
                                                          tr("PNG images (*.png)"));
        if (path.isEmpty())
            return;
        const QString error = exportMask(path);
        Q_EMIT statusMessage(error.isEmpty() ? tr("Mask saved to %1.").arg(QDir::toNativeSeparators(path)) : error);
    });

    QUndoStack *undo = canvas->undoStack();
    m_undo = undo->createUndoAction(this, tr("Undo"));
    m_redo = undo->createRedoAction(this, tr("Redo"));
    // Short button labels; the actions' texts ("Undo Paint mask") go to menus and tooltips.
    auto *undoButton = new QToolButton(this);
    undoButton->setText(tr("Undo"));
    undoButton->setEnabled(undo->canUndo());
    connect(undoButton, &QToolButton::clicked, undo, &QUndoStack::undo);
    connect(undo, &QUndoStack::canUndoChanged, undoButton, &QToolButton::setEnabled);
    connect(undo, &QUndoStack::undoTextChanged, undoButton, &QToolButton::setToolTip);
    auto *redoButton = new QToolButton(this);
    redoButton->setText(tr("Redo"));
    redoButton->setEnabled(undo->canRedo());
    connect(redoButton, &QToolButton::clicked, undo, &QUndoStack::redo);
    connect(undo, &QUndoStack::canRedoChanged, redoButton, &QToolButton::setEnabled);
    connect(undo, &QUndoStack::redoTextChanged, redoButton, &QToolButton::setToolTip);
    actions->addSpacing(8);
    actions->addWidget(undoButton);
    actions->addWidget(redoButton);
    actions->addStretch(1);

    connect(brush, &StrokeTool::sizeChanged, this, &MaskToolsPanel::syncFromBrush);
    connect(brush, &StrokeTool::hardnessChanged, this, &MaskToolsPanel::syncFromBrush);
    connect(brush, &BrushTool::modeChanged, this, &MaskToolsPanel::syncFromBrush);
    syncFromBrush();
}

void MaskToolsPanel::syncFromBrush()
{
    BrushTool *brush = m_canvas->brush();
    const QSignalBlocker b1(m_size), b2(m_hardness);
    m_size->setValue(brush->size());
    m_hardness->setValue(int(std::lround(brush->hardness() * 100)));
    m_brushButton->setChecked(brush->mode() == BrushTool::Mode::Paint);
    m_eraserButton->setChecked(brush->mode() == BrushTool::Mode::Erase);
}

void MaskToolsPanel::chooseColor()
{
    const QColor c = QColorDialog::getColor(m_canvas->overlayColor(), this, tr("Mask overlay colour"));
    if (!c.isValid())
        return;
    m_canvas->setOverlayColor(c);
    m_color->setIcon(colorIcon(c));
    Q_EMIT overlayColorChanged(c);
}

void MaskToolsPanel::clearMask()
{
    MaskEditCommand::apply(m_canvas->undoStack(), m_canvas->maskLayer(), tr("Clear mask"),
                           [](MaskLayer &m) { m.clear(); });
}

void MaskToolsPanel::invertMask()
{
    MaskEditCommand::apply(m_canvas->undoStack(), m_canvas->maskLayer(), tr("Invert mask"),
                           [](MaskLayer &m) { m.invert(); });
}

void MaskToolsPanel::fillMask()
{
    MaskEditCommand::apply(m_canvas->undoStack(), m_canvas->maskLayer(), tr("Fill mask"),
                           [](MaskLayer &m) { m.fill(); });
}

QString MaskToolsPanel::importMask(const QString &path)
{
    if (m_canvas->maskLayer()->isNull())
        return tr("Open an image first: the mask belongs to the init image.");
    QImageReader reader(path);
    const QImage image = reader.read();
    if (image.isNull())
        return tr("“%1” is not an image Stipple can read: %2").arg(QFileInfo(path).fileName(), reader.errorString());
    MaskEditCommand::apply(m_canvas->undoStack(), m_canvas->maskLayer(), tr("Import mask"),
                           [&image](MaskLayer &m) { m.setFromImage(image); });
    return {};
}

QString MaskToolsPanel::exportMask(const QString &path) const
{
    const QImage &mask = m_canvas->maskLayer()->image();
    if (mask.isNull())
        return tr("There is no mask to export.");
    if (!mask.save(path, "PNG"))
        return tr("Could not write %1.").arg(QDir::toNativeSeparators(path));
    return {};
}

} // namespace stipple::ui
