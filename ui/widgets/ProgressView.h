// ProgressView: the generation progress bar. Shows the stage, step i/N,
// iterations per second and the remaining time, e.g.
// "Denoising 12/20 · 1.8 it/s · ETA 0:04". The numbers come from the bridge
// (GenerationProgress), which derives it/s and ETA from the stage time.
// Thread-safety: GUI thread only.
#pragma once

#include "ui/bridge/BridgeTypes.h"

#include <QProgressBar>

namespace stipple::ui {

class ProgressView : public QProgressBar {
    Q_OBJECT
public:
    explicit ProgressView(QWidget *parent = nullptr);

    void showProgress(const GenerationProgress &progress);
    // Idle state with an optional message ("Ready", "Cancelled").
    void showIdle(const QString &message = {});
    // Busy without step counts (e.g. waiting in the queue).
    void showBusy(const QString &message);

    // "0:04", "1:02:03"
    static QString formatDuration(double seconds);
    // The text shown for a progress report (also used by tests).
    static QString describe(const GenerationProgress &progress);
};

} // namespace stipple::ui
