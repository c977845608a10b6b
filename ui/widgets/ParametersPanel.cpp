#include "ui/widgets/ParametersPanel.h"

#include <QComboBox>
#include <QDoubleSpinBox>
#include <QFormLayout>
#include <QGroupBox>
#include <QHBoxLayout>
#include <QLabel>
#include <QLineEdit>
#include <QRegularExpressionValidator>
#include <QSignalBlocker>
#include <QSlider>
#include <QSpinBox>
#include <QToolButton>
#include <QVBoxLayout>

#include <cmath>

namespace stipple::ui {

namespace {

constexpr int kMinSide = 64;
constexpr int kMaxSide = 2048;

QSpinBox *makeSideSpin(QWidget *parent)
{
    auto *spin = new QSpinBox(parent);
    spin->setRange(kMinSide, kMaxSide);
    spin->setSingleStep(8);
    spin->setSuffix(QStringLiteral(" px"));
    // Sizes must be multiples of 8 (the VAE downsamples by 8).
    spin->setStepType(QAbstractSpinBox::DefaultStepType);
    QObject::connect(spin, &QSpinBox::editingFinished, spin, [spin] {
        const int v = int(std::lround(spin->value() / 8.0)) * 8;
        if (v != spin->value())
            spin->setValue(std::clamp(v, kMinSide, kMaxSide));
    });
    return spin;
}

struct SizePreset {
    int width, height;
};
const SizePreset kPresets[] = {{512, 512}, {512, 768}, {768, 512}, {768, 768},
                               {640, 448}, {448, 640}, {1024, 1024}, {256, 256}};

} // namespace

QStringList ParametersPanel::samplerNames()
{
    return {QStringLiteral("Euler"),           QStringLiteral("Euler a"),
            QStringLiteral("LMS"),             QStringLiteral("LMS Karras"),
            QStringLiteral("Heun"),            QStringLiteral("DPM++ 2M"),
            QStringLiteral("DPM++ 2M Karras"), QStringLiteral("DPM++ SDE Karras"),
            QStringLiteral("DDIM"),            QStringLiteral("PLMS"),
            QStringLiteral("DDPM"),            QStringLiteral("UniPC")};
}

ParametersPanel::ParametersPanel(QWidget *parent) : QWidget(parent)
{
    auto *outer = new QVBoxLayout(this);
    outer->setContentsMargins(0, 0, 0, 0);

    auto *form = new QFormLayout;
    form->setFieldGrowthPolicy(QFormLayout::AllNonFixedFieldsGrow);

    m_sampler = new QComboBox(this);
    m_sampler->setObjectName(QStringLiteral("sampler"));
    m_sampler->addItems(samplerNames());
    m_sampler->setCurrentText(QStringLiteral("Euler a"));
    form->addRow(tr("Sampler:"), m_sampler);

    m_steps = new QSpinBox(this);
    m_steps->setObjectName(QStringLiteral("steps"));
    m_steps->setRange(1, 150);
    m_steps->setValue(20);
    form->addRow(tr("Steps:"), m_steps);

    m_cfg = new QDoubleSpinBox(this);
    m_cfg->setObjectName(QStringLiteral("cfgScale"));
    m_cfg->setRange(1.0, 30.0);
    m_cfg->setSingleStep(0.5);
    m_cfg->setDecimals(1);
    m_cfg->setValue(7.0);
    m_cfg->setToolTip(tr("Classifier-free guidance: how strictly the image follows the prompt."));
    form->addRow(tr("CFG scale:"), m_cfg);

    // Seed: -1 means a new random seed for every generation.
    auto *seedRow = new QHBoxLayout;
    m_seed = new QLineEdit(this);
    m_seed->setObjectName(QStringLiteral("seed"));
    m_seed->setValidator(new QRegularExpressionValidator(QRegularExpression(QStringLiteral("-1|\\d{0,18}")), m_seed));
    m_seed->setText(QStringLiteral("-1"));
    m_seed->setPlaceholderText(tr("random"));
    m_seed->setToolTip(tr("-1 picks a random seed for each image; any other number repeats a result."));
    m_dice = new QToolButton(this);
    m_dice->setObjectName(QStringLiteral("randomSeed"));
    m_dice->setText(QStringLiteral("⚄")); // a die (DejaVu has it; emoji fonts are rare)
    m_dice->setToolTip(tr("Random seed (-1)"));
    m_reuseSeed = new QToolButton(this);
    m_reuseSeed->setObjectName(QStringLiteral("reuseSeed"));
    m_reuseSeed->setText(QStringLiteral("♻"));
    m_reuseSeed->setToolTip(tr("Reuse the seed of the last image"));
    m_reuseSeed->setEnabled(false);
    seedRow->addWidget(m_seed, 1);
    seedRow->addWidget(m_dice);
    seedRow->addWidget(m_reuseSeed);
    form->addRow(tr("Seed:"), seedRow);
    connect(m_dice, &QToolButton::clicked, this, [this] { m_seed->setText(QStringLiteral("-1")); emitChanged(); });
    connect(m_reuseSeed, &QToolButton::clicked, this, [this] {
        if (m_lastSeed >= 0)
            m_seed->setText(QString::number(m_lastSeed));
        emitChanged();
    });

    // Size with presets and a swap button.
    auto *sizeRow = new QHBoxLayout;
    m_width = makeSideSpin(this);
    m_width->setObjectName(QStringLiteral("width"));
    m_width->setValue(512);
    m_height = makeSideSpin(this);
    m_height->setObjectName(QStringLiteral("height"));
    m_height->setValue(512);
    m_swap = new QToolButton(this);
    m_swap->setObjectName(QStringLiteral("swapSize"));
    m_swap->setText(QStringLiteral("⇄"));
    m_swap->setToolTip(tr("Swap width and height"));
    sizeRow->addWidget(m_width, 1);
    sizeRow->addWidget(new QLabel(QStringLiteral("×"), this));
    sizeRow->addWidget(m_height, 1);
    sizeRow->addWidget(m_swap);
    form->addRow(tr("Size:"), sizeRow);
    connect(m_swap, &QToolButton::clicked, this, [this] {
        const int w = m_width->value();
        m_width->setValue(m_height->value());
        m_height->setValue(w);
    });

    m_sizePresets = new QComboBox(this);
    m_sizePresets->setObjectName(QStringLiteral("sizePresets"));
    m_sizePresets->addItem(tr("Presets…"));
    for (const SizePreset &p : kPresets)
        m_sizePresets->addItem(QStringLiteral("%1 × %2").arg(p.width).arg(p.height), QSize(p.width, p.height));
    form->addRow(QString(), m_sizePresets);
    connect(m_sizePresets, &QComboBox::activated, this, [this](int index) {
        const QSize s = m_sizePresets->itemData(index).toSize();
        if (s.isValid()) {
            m_width->setValue(s.width());
            m_height->setValue(s.height());
        }
        m_sizePresets->setCurrentIndex(0);
    });

    m_batchCount = new QSpinBox(this);
    m_batchCount->setObjectName(QStringLiteral("batchCount"));
    m_batchCount->setRange(1, 100);
    m_batchCount->setToolTip(tr("How many images to make one after another (seed + 1 each)."));
    form->addRow(tr("Batch count:"), m_batchCount);
    outer->addLayout(form);

    // img2img / inpaint: strength and resize mode.
    m_imageGroup = new QGroupBox(tr("Init image"), this);
    auto *imageForm = new QFormLayout(m_imageGroup);
    auto *strengthRow = new QHBoxLayout;
    m_strength = new QSlider(Qt::Horizontal, this);
    m_strength->setObjectName(QStringLiteral("strength"));
    m_strength->setRange(0, 100);
    m_strength->setValue(75);
    m_strengthLabel = new QLabel(this);
    m_strengthLabel->setMinimumWidth(QFontMetrics(font()).horizontalAdvance(QStringLiteral("0.000")));
    strengthRow->addWidget(m_strength, 1);
    strengthRow->addWidget(m_strengthLabel);
    imageForm->addRow(tr("Denoising strength:"), strengthRow);
    m_strength->setToolTip(tr("0 keeps the init image, 1 replaces it completely."));
    m_resizeMode = new QComboBox(this);
    m_resizeMode->setObjectName(QStringLiteral("resizeMode"));
    m_resizeMode->addItem(tr("Just resize"), int(core::ResizeMode::JustResize));
    m_resizeMode->addItem(tr("Crop and resize"), int(core::ResizeMode::CropAndResize));
    m_resizeMode->addItem(tr("Resize and fill"), int(core::ResizeMode::ResizeAndFill));
    imageForm->addRow(tr("Resize mode:"), m_resizeMode);
    outer->addWidget(m_imageGroup);
    auto updateStrengthLabel = [this] {
        m_strengthLabel->setText(QString::number(m_strength->value() / 100.0, 'f', 2));
    };
    updateStrengthLabel();
    connect(m_strength, &QSlider::valueChanged, this, updateStrengthLabel);

    // Inpaint options (A1111 names).
    m_inpaintGroup = new QGroupBox(tr("Inpaint"), this);
    auto *inpaintForm = new QFormLayout(m_inpaintGroup);
    m_maskBlur = new QSpinBox(this);
    m_maskBlur->setObjectName(QStringLiteral("maskBlur"));
    m_maskBlur->setRange(0, 64);
    m_maskBlur->setValue(4);
    m_maskBlur->setSuffix(QStringLiteral(" px"));
    inpaintForm->addRow(tr("Mask blur:"), m_maskBlur);
    m_maskedContent = new QComboBox(this);
    m_maskedContent->setObjectName(QStringLiteral("maskedContent"));
    m_maskedContent->addItem(tr("Original"), int(core::MaskedContent::Original));
    m_maskedContent->addItem(tr("Fill"), int(core::MaskedContent::Fill));
    m_maskedContent->addItem(tr("Latent noise"), int(core::MaskedContent::LatentNoise));
    m_maskedContent->addItem(tr("Latent nothing"), int(core::MaskedContent::LatentNothing));
    inpaintForm->addRow(tr("Masked content:"), m_maskedContent);
    m_inpaintArea = new QComboBox(this);
    m_inpaintArea->setObjectName(QStringLiteral("inpaintArea"));
    m_inpaintArea->addItem(tr("Whole picture"));
    m_inpaintArea->addItem(tr("Only masked"));
    inpaintForm->addRow(tr("Inpaint area:"), m_inpaintArea);
    m_padding = new QSpinBox(this);
    m_padding->setObjectName(QStringLiteral("onlyMaskedPadding"));
    m_padding->setRange(0, 256);
    m_padding->setValue(32);
    m_padding->setSuffix(QStringLiteral(" px"));
    inpaintForm->addRow(tr("Only masked padding:"), m_padding);
    outer->addWidget(m_inpaintGroup);
    outer->addStretch(1);

    auto onAreaChanged = [this] {
        m_padding->setEnabled(m_inpaintArea->currentIndex() == 1);
        Q_EMIT inpaintAreaChanged();
    };
    connect(m_inpaintArea, &QComboBox::currentIndexChanged, this, onAreaChanged);
    connect(m_padding, &QSpinBox::valueChanged, this, [this] { Q_EMIT inpaintAreaChanged(); });
    connect(m_width, &QSpinBox::valueChanged, this, [this] { Q_EMIT inpaintAreaChanged(); });
    connect(m_height, &QSpinBox::valueChanged, this, [this] { Q_EMIT inpaintAreaChanged(); });
    m_padding->setEnabled(false);

    // Any edit -> parametersChanged.
    for (QComboBox *c : {m_sampler, m_resizeMode, m_maskedContent, m_inpaintArea})
        connect(c, &QComboBox::currentIndexChanged, this, &ParametersPanel::emitChanged);
    for (QSpinBox *s : {m_steps, m_width, m_height, m_batchCount, m_maskBlur, m_padding})
        connect(s, &QSpinBox::valueChanged, this, &ParametersPanel::emitChanged);
    connect(m_cfg, &QDoubleSpinBox::valueChanged, this, &ParametersPanel::emitChanged);
    connect(m_strength, &QSlider::valueChanged, this, &ParametersPanel::emitChanged);
    connect(m_seed, &QLineEdit::editingFinished, this, &ParametersPanel::emitChanged);

    setMode(GenerationMode::TextToImage);
}

void ParametersPanel::emitChanged()
{
    Q_EMIT parametersChanged();
}

void ParametersPanel::setMode(GenerationMode mode)
{
    m_mode = mode;
    m_imageGroup->setVisible(mode != GenerationMode::TextToImage);
    m_inpaintGroup->setVisible(mode == GenerationMode::Inpaint);
    Q_EMIT inpaintAreaChanged();
}

void ParametersPanel::setLastSeed(qint64 seed)
{
    m_lastSeed = seed;
    m_reuseSeed->setEnabled(seed >= 0);
    m_reuseSeed->setToolTip(seed >= 0 ? tr("Reuse the seed of the last image (%1)").arg(seed)
                                      : tr("Reuse the seed of the last image"));
}

void ParametersPanel::setImageSize(int width, int height)
{
    m_width->setValue(width);
    m_height->setValue(height);
}

int ParametersPanel::imageWidth() const { return m_width->value(); }
int ParametersPanel::imageHeight() const { return m_height->value(); }
bool ParametersPanel::inpaintOnlyMasked() const { return m_inpaintArea->currentIndex() == 1; }
int ParametersPanel::onlyMaskedPadding() const { return m_padding->value(); }

void ParametersPanel::setRequest(const core::GenerationRequest &r)
{
    {
        const QSignalBlocker blockers[] = {
            QSignalBlocker(m_sampler),    QSignalBlocker(m_steps),        QSignalBlocker(m_cfg),
            QSignalBlocker(m_seed),       QSignalBlocker(m_width),        QSignalBlocker(m_height),
            QSignalBlocker(m_batchCount), QSignalBlocker(m_strength),     QSignalBlocker(m_resizeMode),
            QSignalBlocker(m_maskBlur),   QSignalBlocker(m_maskedContent), QSignalBlocker(m_inpaintArea),
            QSignalBlocker(m_padding)};
        QString sampler = QString::fromStdString(r.sampler);
        if (QString::fromStdString(r.scheduleType).compare(QStringLiteral("karras"), Qt::CaseInsensitive) == 0
            && !sampler.endsWith(QStringLiteral(" Karras")))
            sampler += QStringLiteral(" Karras");
        int index = m_sampler->findText(sampler, Qt::MatchFixedString);
        if (index < 0) // e.g. "DPM++ SDE" without Karras: keep the name usable
            index = m_sampler->findText(QString::fromStdString(r.sampler), Qt::MatchFixedString);
        if (index >= 0)
            m_sampler->setCurrentIndex(index);
        m_steps->setValue(r.steps);
        m_cfg->setValue(r.cfgScale);
        m_seed->setText(QString::number(r.seed < 0 ? -1 : r.seed));
        m_width->setValue(r.width);
        m_height->setValue(r.height);
        m_batchCount->setValue(r.batchCount);
        m_strength->setValue(int(std::lround(r.strength * 100)));
        m_resizeMode->setCurrentIndex(m_resizeMode->findData(int(r.resizeMode)));
        m_maskBlur->setValue(r.maskBlur);
        m_maskedContent->setCurrentIndex(m_maskedContent->findData(int(r.maskedContent)));
        m_inpaintArea->setCurrentIndex(r.inpaintOnlyMasked ? 1 : 0);
        m_padding->setValue(r.onlyMaskedPadding);
    }
    m_padding->setEnabled(r.inpaintOnlyMasked);
    m_strengthLabel->setText(QString::number(m_strength->value() / 100.0, 'f', 2));
    Q_EMIT inpaintAreaChanged();
    Q_EMIT parametersChanged();
}

void ParametersPanel::applyTo(core::GenerationRequest &r) const
{
    // "X Karras" is sampler X with the Karras schedule (A1111 1.9 splits them too).
    QString sampler = m_sampler->currentText();
    r.scheduleType.clear();
    if (sampler.endsWith(QStringLiteral(" Karras"))) {
        sampler.chop(7);
        r.scheduleType = "karras";
    }
    r.sampler = sampler.toStdString();
    r.steps = m_steps->value();
    r.cfgScale = float(m_cfg->value());
    bool ok = false;
    const qint64 seed = m_seed->text().toLongLong(&ok);
    r.seed = ok ? seed : -1;
    r.width = m_width->value() / 8 * 8;
    r.height = m_height->value() / 8 * 8;
    r.batchCount = m_batchCount->value();
    r.strength = float(m_strength->value() / 100.0);
    r.resizeMode = core::ResizeMode(m_resizeMode->currentData().toInt());
    r.maskBlur = m_maskBlur->value();
    r.maskedContent = core::MaskedContent(m_maskedContent->currentData().toInt());
    r.inpaintOnlyMasked = m_inpaintArea->currentIndex() == 1;
    r.onlyMaskedPadding = m_padding->value();
}

} // namespace stipple::ui
