// ParametersPanel: the generation settings shared by the three modes (text to
// image, image to image, inpaint): sampler, steps, CFG, seed (random/fixed
// with a dice button), size in multiples of 8 with presets and a swap button,
// batch count; plus strength and resize mode (img2img, inpaint) and the
// inpaint options (mask blur, masked content, inpaint area, padding).
// It reads from and writes into a core::GenerationRequest (the prompts and
// images are the window's business).
// Thread-safety: GUI thread only.
#pragma once

#include "core/pipeline/Request.h"

#include <QWidget>

class QComboBox;
class QDoubleSpinBox;
class QGroupBox;
class QLabel;
class QLineEdit;
class QSlider;
class QSpinBox;
class QToolButton;

namespace stipple::ui {

enum class GenerationMode { TextToImage, ImageToImage, Inpaint };

class ParametersPanel : public QWidget {
    Q_OBJECT
public:
    explicit ParametersPanel(QWidget *parent = nullptr);

    // The A1111 sampler names offered.
    static QStringList samplerNames();

    void setMode(GenerationMode mode);
    GenerationMode mode() const { return m_mode; }

    // Fills the widgets from a request (prompts and images ignored).
    void setRequest(const core::GenerationRequest &request);
    // Writes the widget values into a request (prompts and images untouched).
    void applyTo(core::GenerationRequest &request) const;

    // The seed of the last image, offered by the "reuse seed" button.
    void setLastSeed(qint64 seed);

    void setImageSize(int width, int height);
    int imageWidth() const;
    int imageHeight() const;
    bool inpaintOnlyMasked() const;
    int onlyMaskedPadding() const;

Q_SIGNALS:
    void parametersChanged();
    // Size, inpaint area or padding changed (the canvas outline follows).
    void inpaintAreaChanged();

private:
    void emitChanged();

    GenerationMode m_mode = GenerationMode::TextToImage;
    qint64 m_lastSeed = -1;

    QComboBox *m_sampler;
    QSpinBox *m_steps;
    QDoubleSpinBox *m_cfg;
    QLineEdit *m_seed;
    QToolButton *m_dice;
    QToolButton *m_reuseSeed;
    QSpinBox *m_width;
    QSpinBox *m_height;
    QComboBox *m_sizePresets;
    QToolButton *m_swap;
    QSpinBox *m_batchCount;

    QGroupBox *m_imageGroup;
    QSlider *m_strength;
    QLabel *m_strengthLabel;
    QComboBox *m_resizeMode;

    QGroupBox *m_inpaintGroup;
    QSpinBox *m_maskBlur;
    QComboBox *m_maskedContent;
    QComboBox *m_inpaintArea;
    QSpinBox *m_padding;
};

} // namespace stipple::ui
