#include "ui/widgets/ProgressView.h"

#include <cmath>

namespace stipple::ui {

ProgressView::ProgressView(QWidget *parent) : QProgressBar(parent)
{
    setTextVisible(true);
    setMinimumWidth(260);
    showIdle();
}

QString ProgressView::formatDuration(double seconds)
{
    const qint64 s = qint64(std::ceil(std::max(0.0, seconds)));
    if (s >= 3600)
        return QStringLiteral("%1:%2:%3").arg(s / 3600).arg((s / 60) % 60, 2, 10, QLatin1Char('0')).arg(s % 60, 2, 10, QLatin1Char('0'));
    return QStringLiteral("%1:%2").arg(s / 60).arg(s % 60, 2, 10, QLatin1Char('0'));
}

QString ProgressView::describe(const GenerationProgress &p)
{
    QString text = stageText(p.stage);
    if (p.total > 0)
        text += QStringLiteral(" %1/%2").arg(p.step).arg(p.total);
    if (p.itPerSec > 0) {
        // Slow CPUs: show s/it below one iteration per second, as A1111 does.
        if (p.itPerSec >= 1.0)
            text += QStringLiteral(" · ") + tr("%1 it/s").arg(p.itPerSec, 0, 'f', 2);
        else
            text += QStringLiteral(" · ") + tr("%1 s/it").arg(1.0 / p.itPerSec, 0, 'f', 2);
        if (p.step < p.total)
            text += QStringLiteral(" · ") + tr("ETA %1").arg(formatDuration(p.etaSec));
    }
    return text;
}

void ProgressView::showProgress(const GenerationProgress &p)
{
    setRange(0, std::max(1, p.total));
    setValue(std::clamp(p.step, 0, std::max(1, p.total)));
    setFormat(describe(p));
}

void ProgressView::showIdle(const QString &message)
{
    setRange(0, 1);
    setValue(0);
    setFormat(message.isEmpty() ? tr("Ready") : message);
}

void ProgressView::showBusy(const QString &message)
{
    setRange(0, 0); // indeterminate
    setFormat(message);
}

} // namespace stipple::ui
