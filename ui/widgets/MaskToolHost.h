// MaskToolHost: the narrow environment a mask tool sees (kolourpaint's
// kpToolEnvironment idea): the layer it paints and the undo stack that takes
// its commands. Tools never see the canvas or the main window.
// Thread-safety: GUI thread only.
#pragma once

class QUndoStack;

namespace stipple::ui {

class MaskLayer;

class MaskToolHost {
public:
    virtual ~MaskToolHost() = default;
    virtual MaskLayer *maskLayer() = 0;
    virtual QUndoStack *undoStack() = 0;
};

} // namespace stipple::ui
