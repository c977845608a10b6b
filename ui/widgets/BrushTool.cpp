#include "ui/widgets/BrushTool.h"

namespace stipple::ui {

BrushTool::BrushTool(MaskToolHost *host, QObject *parent) : StrokeTool(host, parent) {}

void BrushTool::setMode(Mode mode)
{
    if (mode == m_mode)
        return;
    m_mode = mode;
    Q_EMIT modeChanged(m_mode);
}

void BrushTool::toggleMode()
{
    setMode(m_mode == Mode::Paint ? Mode::Erase : Mode::Paint);
}

QRect BrushTool::drawSegment(MaskLayer &layer, const BrushDab &from, const BrushDab &to)
{
    return layer.paintSegment(from, to, hardness(), m_mode == Mode::Erase);
}

QString BrushTool::strokeText() const
{
    return m_mode == Mode::Erase ? tr("Erase mask") : tr("Paint mask");
}

} // namespace stipple::ui
