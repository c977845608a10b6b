// BrushTool: the inpaint mask brush. Paint raises the mask (repaint area),
// erase lowers it; E toggles between them. It only draws one soft capsule per
// segment (MaskLayer::paintSegment); StrokeTool does the rest.
// Thread-safety: GUI thread only.
#pragma once

#include "ui/widgets/StrokeTool.h"

namespace stipple::ui {

class BrushTool : public StrokeTool {
    Q_OBJECT
public:
    enum class Mode { Paint, Erase };
    Q_ENUM(Mode)

    explicit BrushTool(MaskToolHost *host, QObject *parent = nullptr);

    Mode mode() const { return m_mode; }
    void setMode(Mode mode);
    void toggleMode();

Q_SIGNALS:
    void modeChanged(stipple::ui::BrushTool::Mode mode);

protected:
    QRect drawSegment(MaskLayer &layer, const BrushDab &from, const BrushDab &to) override;
    QString strokeText() const override;

private:
    Mode m_mode = Mode::Paint;
};

} // namespace stipple::ui
