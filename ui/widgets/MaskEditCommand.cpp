#include "ui/widgets/MaskEditCommand.h"

#include "ui/widgets/MaskLayer.h"

namespace stipple::ui {

MaskEditCommand::MaskEditCommand(MaskLayer *layer, const QRect &rect, const QImage &before,
                                 const QString &text)
    : QUndoCommand(text), m_layer(layer), m_rect(rect), m_before(before),
      m_after(layer->copyRect(rect))
{
}

void MaskEditCommand::undo()
{
    m_layer->restoreRect(m_rect, m_before);
}

void MaskEditCommand::redo()
{
    if (m_firstRedo) { // the layer already shows the edit
        m_firstRedo = false;
        return;
    }
    m_layer->restoreRect(m_rect, m_after);
}

} // namespace stipple::ui
