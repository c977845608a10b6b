#include "ui/widgets/ModelPicker.h"

#include <QComboBox>
#include <QDir>
#include <QFileDialog>
#include <QFileInfo>
#include <QHBoxLayout>
#include <QLabel>
#include <QMenu>
#include <QProgressBar>
#include <QSignalBlocker>
#include <QToolButton>
#include <QVBoxLayout>

#include <algorithm>

namespace stipple::ui {

QList<ModelEntry> ModelPicker::scanFolder(const QString &folder)
{
    QList<ModelEntry> out;
    const QDir dir(folder);
    if (folder.isEmpty() || !dir.exists())
        return out;
    const auto entries = dir.entryInfoList(QDir::Dirs | QDir::Files | QDir::NoDotAndDotDot | QDir::Readable,
                                           QDir::Name | QDir::IgnoreCase);
    for (const QFileInfo &info : entries) {
        if (info.isDir()) {
            if (QFileInfo::exists(info.absoluteFilePath() + QStringLiteral("/model_index.json"))) {
                out.append({info.absoluteFilePath(), info.fileName(), true});
                continue;
            }
            // One level down: "Stable-diffusion/foo.safetensors" (A1111 layout).
            const QDir sub(info.absoluteFilePath());
            for (const QFileInfo &f : sub.entryInfoList({QStringLiteral("*.safetensors")}, QDir::Files, QDir::Name))
                out.append({f.absoluteFilePath(), info.fileName() + QLatin1Char('/') + f.fileName(), false});
        } else if (info.suffix().compare(QStringLiteral("safetensors"), Qt::CaseInsensitive) == 0) {
            out.append({info.absoluteFilePath(), info.fileName(), false});
        }
    }
    std::stable_sort(out.begin(), out.end(), [](const ModelEntry &a, const ModelEntry &b) {
        return a.name.compare(b.name, Qt::CaseInsensitive) < 0;
    });
    return out;
}

ModelPicker::ModelPicker(QWidget *parent) : QWidget(parent)
{
    auto *layout = new QVBoxLayout(this);
    layout->setContentsMargins(0, 0, 0, 0);
    auto *row = new QHBoxLayout;
    m_combo = new QComboBox(this);
    m_combo->setObjectName(QStringLiteral("modelCombo"));
    m_combo->setSizeAdjustPolicy(QComboBox::AdjustToMinimumContentsLengthWithIcon);
    m_combo->setMinimumContentsLength(8);
    m_combo->setToolTip(tr("Models found in the models folder"));
    row->addWidget(m_combo, 1);

    m_open = new QToolButton(this);
    m_open->setObjectName(QStringLiteral("openModel"));
    m_open->setText(tr("Open…"));
    m_open->setPopupMode(QToolButton::InstantPopup);
    auto *openMenu = new QMenu(m_open);
    openMenu->addAction(tr("Checkpoint file (.safetensors)…"), this, [this] {
        const QString path = QFileDialog::getOpenFileName(this, tr("Open checkpoint"), m_folder,
                                                          tr("Safetensors checkpoints (*.safetensors)"));
        if (!path.isEmpty())
            Q_EMIT loadRequested(path);
    });
    openMenu->addAction(tr("Diffusers folder…"), this, [this] {
        const QString path = QFileDialog::getExistingDirectory(this, tr("Open diffusers model folder"), m_folder);
        if (!path.isEmpty())
            Q_EMIT loadRequested(path);
    });
    m_open->setMenu(openMenu);
    row->addWidget(m_open);

    m_folderButton = new QToolButton(this);
    m_folderButton->setText(tr("Folder…"));
    m_folderButton->setToolTip(tr("Choose the folder that holds your models"));
    row->addWidget(m_folderButton);
    m_rescan = new QToolButton(this);
    m_rescan->setText(QStringLiteral("⟳"));
    m_rescan->setToolTip(tr("Scan the models folder again"));
    row->addWidget(m_rescan);
    layout->addLayout(row);

    m_info = new QLabel(this);
    m_info->setObjectName(QStringLiteral("modelInfo"));
    m_info->setWordWrap(true);
    m_info->setTextInteractionFlags(Qt::TextSelectableByMouse);
    layout->addWidget(m_info);

    m_progress = new QProgressBar(this);
    m_progress->setTextVisible(true);
    m_progress->hide();
    layout->addWidget(m_progress);

    connect(m_combo, &QComboBox::activated, this, [this](int index) {
        const QString path = m_combo->itemData(index).toString();
        if (!path.isEmpty() && path != m_loadedPath)
            Q_EMIT loadRequested(path);
    });
    connect(m_folderButton, &QToolButton::clicked, this, [this] {
        const QString folder = QFileDialog::getExistingDirectory(this, tr("Models folder"), m_folder);
        if (!folder.isEmpty()) {
            setModelsFolder(folder);
            Q_EMIT modelsFolderChanged(folder);
        }
    });
    connect(m_rescan, &QToolButton::clicked, this, &ModelPicker::rescan);
    m_info->setText(tr("No model loaded."));
}

void ModelPicker::setModelsFolder(const QString &folder)
{
    m_folder = folder;
    rescan();
}

void ModelPicker::rescan()
{
    m_entries = scanFolder(m_folder);
    const QSignalBlocker block(m_combo);
    m_combo->clear();
    if (m_entries.isEmpty()) {
        m_combo->addItem(tr("No models in %1").arg(QDir::toNativeSeparators(m_folder)));
    } else {
        m_combo->addItem(tr("Choose a model…"));
        for (const ModelEntry &e : m_entries)
            m_combo->addItem(e.diffusersFolder ? tr("%1 (diffusers)").arg(e.name) : e.name, e.path);
    }
    selectPath(m_loadedPath);
}

void ModelPicker::selectPath(const QString &path)
{
    const QSignalBlocker block(m_combo);
    int index = path.isEmpty() ? -1 : m_combo->findData(path);
    if (index < 0 && !path.isEmpty()) { // loaded from elsewhere ("Open…")
        m_combo->addItem(QFileInfo(path).fileName(), path);
        index = m_combo->count() - 1;
    }
    m_combo->setCurrentIndex(std::max(index, 0));
}

void ModelPicker::setLoading(const QString &path)
{
    selectPath(path);
    m_combo->setEnabled(false);
    m_open->setEnabled(false);
    m_info->setText(tr("Loading %1…").arg(QFileInfo(path).fileName()));
    m_progress->setRange(0, 0);
    m_progress->setFormat(tr("Loading…"));
    m_progress->show();
}

void ModelPicker::setLoadProgress(int step, int total)
{
    if (total > 0) {
        m_progress->setRange(0, total);
        m_progress->setValue(step);
        m_progress->setFormat(tr("Loading %1/%2").arg(step).arg(total));
    }
}

void ModelPicker::setLoaded(const ModelSummary &model)
{
    m_loadedPath = model.path;
    selectPath(model.path);
    m_combo->setEnabled(true);
    m_open->setEnabled(true);
    m_progress->hide();
    QStringList facts;
    facts << (model.family.isEmpty() ? tr("unknown family") : model.family);
    if (model.inpaint)
        facts << tr("inpaint");
    else if (model.depth)
        facts << tr("depth");
    facts << (model.vPrediction ? tr("v-prediction") : tr("epsilon"));
    facts << (model.singleFile ? tr("single file") : tr("diffusers folder"));
    m_info->setText(tr("<b>%1</b><br>%2").arg(model.displayName.toHtmlEscaped(), facts.join(QStringLiteral(" · "))));
    m_info->setToolTip(tr("Prediction type from: %1\nLoaded in %2 s")
                           .arg(model.predictionSource)
                           .arg(model.loadSeconds + model.openSeconds, 0, 'f', 1));
}

void ModelPicker::setFailed(const QString &message)
{
    m_combo->setEnabled(true);
    m_open->setEnabled(true);
    m_progress->hide();
    selectPath(m_loadedPath);
    m_info->setText(QStringLiteral("<span style='color:#c0392b'>%1</span>").arg(message.toHtmlEscaped()));
}

} // namespace stipple::ui
