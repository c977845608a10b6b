// MaskEditCommand: one undo step on a MaskLayer, storing the before/after
// pixels of the changed rectangle only. A whole brush stroke is one command
// (pushed by the brush tool when the stroke ends); the whole-mask actions
// (clear, invert, fill, import) are one command each.
// Thread-safety: GUI thread only.
#pragma once

#include <QImage>
#include <QRect>
#include <QUndoCommand>

namespace stipple::ui {

class MaskLayer;

class MaskEditCommand : public QUndoCommand {
public:
    // `before` is the patch of `rect` before the edit; the layer already holds
    // the result (so the first redo(), called by QUndoStack::push, is a no-op).
    MaskEditCommand(MaskLayer *layer, const QRect &rect, const QImage &before, const QString &text);

    void undo() override;
    void redo() override;

    QRect rect() const { return m_rect; }

    // Runs `edit` on the layer and pushes a command with its result when the
    // mask changed. Returns whether it changed.
    template <typename Edit>
    static bool apply(class QUndoStack *stack, MaskLayer *layer, const QString &text, Edit edit);

private:
    MaskLayer *m_layer;
    QRect m_rect;
    QImage m_before;
    QImage m_after;
    bool m_firstRedo = true;
};

} // namespace stipple::ui

#include "ui/widgets/MaskLayer.h"

#include <QUndoStack>

namespace stipple::ui {

template <typename Edit>
bool MaskEditCommand::apply(QUndoStack *stack, MaskLayer *layer, const QString &text, Edit edit)
{
    if (layer->isNull())
        return false;
    const QImage before = layer->image().copy();
    edit(*layer);
    if (layer->image().size() != before.size() || layer->image() == before)
        return false;
    stack->push(new MaskEditCommand(layer, before.rect(), before, text));
    return true;
}

} // namespace stipple::ui
