#include "ui/widgets/MainWindow.h"

#include "ui/bridge/ErrorText.h"
#include "ui/bridge/GalleryModel.h"
#include "ui/bridge/GenerationController.h"
#include "ui/bridge/ImageConvert.h"
#include "ui/bridge/ImageMetadata.h"
#include "ui/bridge/Settings.h"
#include "ui/widgets/BrushTool.h"
#include "ui/widgets/Canvas.h"
#include "ui/widgets/GalleryView.h"
#include "ui/widgets/ImageDrop.h"
#include "ui/widgets/MaskLayer.h"
#include "ui/widgets/MaskToolsPanel.h"
#include "ui/widgets/ModelPicker.h"
#include "ui/widgets/ProgressView.h"
#include "ui/widgets/PromptEdit.h"
#include "ui/widgets/VocabularyDownloader.h"

#include "core/common/Error.h"

#include <QAction>
#include <QApplication>
#include <QClipboard>
#include <QCloseEvent>
#include <QDir>
#include <QDockWidget>
#include <QDragEnterEvent>
#include <QDropEvent>
#include <QFileDialog>
#include <QFileInfo>
#include <QLabel>
#include <QMessageBox>
#include <QMimeData>
#include <QProgressDialog>
#include <QPushButton>
#include <QScrollArea>
#include <QStatusBar>
#include <QTabBar>
#include <QUndoStack>
#include <QVBoxLayout>

namespace stipple::ui {

MainWindow::MainWindow(Settings *settings, QWidget *parent)
    : QMainWindow(parent), m_settings(settings), m_controller(new GenerationController(this)),
      m_galleryModel(new GalleryModel(this))
{
    setObjectName(QStringLiteral("MainWindow"));
    setWindowTitle(tr("Stipple"));
    setAcceptDrops(true);
    buildUi();
    buildMenus();
    connectController();
    restoreSettings();
    updatePlaceholder();
    updateActions();
}

MainWindow::~MainWindow() = default;

// ---- construction -------------------------------------------------------------

void MainWindow::buildUi()
{
    // Left: model, prompts, mode, parameters (scrollable).
    auto *left = new QWidget;
    auto *leftLayout = new QVBoxLayout(left);
    m_modelPicker = new ModelPicker(left);
    leftLayout->addWidget(new QLabel(tr("<b>Model</b>"), left));
    leftLayout->addWidget(m_modelPicker);

    m_modeTabs = new QTabBar(left);
    m_modeTabs->setObjectName(QStringLiteral("modeTabs"));
    m_modeTabs->addTab(tr("Text to image"));
    m_modeTabs->addTab(tr("Image to image"));
    m_modeTabs->addTab(tr("Inpaint"));
    m_modeTabs->setExpanding(true);
    leftLayout->addWidget(m_modeTabs);

    auto *promptLabel = new QLabel(tr("<b>Prompt</b>"), left);
    m_prompt = new PromptEdit(left);
    m_prompt->setObjectName(QStringLiteral("prompt"));
    m_prompt->setPlaceholderText(tr("Describe the picture… (word:1.2) stresses, [word] softens, BREAK starts a new chunk. Ctrl+↑/↓ changes the weight."));
    m_prompt->setMinimumHeight(90);
    m_prompt->setMaximumHeight(170);
    promptLabel->setBuddy(m_prompt);
    leftLayout->addWidget(promptLabel);
    leftLayout->addWidget(m_prompt, 1);
    auto *negativeLabel = new QLabel(tr("<b>Negative prompt</b>"), left);
    m_negative = new PromptEdit(left);
    m_negative->setObjectName(QStringLiteral("negativePrompt"));
    m_negative->setPlaceholderText(tr("What to avoid…"));
    m_negative->setMinimumHeight(60);
    m_negative->setMaximumHeight(110);
    negativeLabel->setBuddy(m_negative);
    leftLayout->addWidget(negativeLabel);
    leftLayout->addWidget(m_negative);

    auto *buttons = new QHBoxLayout;
    m_generateButton = new QPushButton(tr("Generate"), left);
    m_generateButton->setObjectName(QStringLiteral("generate"));
    m_generateButton->setToolTip(tr("Generate (Ctrl+Enter)"));
    m_generateButton->setDefault(true);
    QFont bold = m_generateButton->font();
    bold.setBold(true);
    m_generateButton->setFont(bold);
    m_generateButton->setMinimumHeight(34);
    m_cancelButton = new QPushButton(tr("Cancel"), left);
    m_cancelButton->setObjectName(QStringLiteral("cancel"));
    m_cancelButton->setToolTip(tr("Cancel (Esc)"));
    m_cancelButton->setMinimumHeight(34);
    buttons->addWidget(m_generateButton, 2);
    buttons->addWidget(m_cancelButton, 1);
    leftLayout->addLayout(buttons);

    m_params = new ParametersPanel(left);
    leftLayout->addWidget(m_params);

    auto *scroll = new QScrollArea;
    scroll->setWidget(left);
    scroll->setWidgetResizable(true);
    scroll->setHorizontalScrollBarPolicy(Qt::ScrollBarAlwaysOff);
    auto *leftDock = new QDockWidget(tr("Parameters"), this);
    leftDock->setObjectName(QStringLiteral("parametersDock"));
    leftDock->setWidget(scroll);
    leftDock->setFeatures(QDockWidget::DockWidgetMovable | QDockWidget::DockWidgetFloatable);
    leftDock->setMinimumWidth(400);
    addDockWidget(Qt::LeftDockWidgetArea, leftDock);

    // Centre: message bar, mask tools, canvas.
    auto *centre = new QWidget(this);
    auto *centreLayout = new QVBoxLayout(centre);
    centreLayout->setContentsMargins(0, 0, 0, 0);
    centreLayout->setSpacing(0);
    m_messageBar = new QLabel(centre);
    m_messageBar->setObjectName(QStringLiteral("messageBar"));
    m_messageBar->setWordWrap(true);
    m_messageBar->setTextInteractionFlags(Qt::TextSelectableByMouse);
    m_messageBar->setMargin(6);
    m_messageBar->hide();
    centreLayout->addWidget(m_messageBar);
    m_canvas = new Canvas(centre);
    m_canvas->setObjectName(QStringLiteral("canvas"));
    m_maskTools = new MaskToolsPanel(m_canvas, centre);
    m_maskTools->hide();
    centreLayout->addWidget(m_maskTools);
    centreLayout->addWidget(m_canvas, 1);
    setCentralWidget(centre);

    // Right: gallery.
    m_gallery = new GalleryView(m_galleryModel, this);
    auto *galleryDock = new QDockWidget(tr("Gallery"), this);
    galleryDock->setObjectName(QStringLiteral("galleryDock"));
    galleryDock->setWidget(m_gallery);
    galleryDock->setMinimumWidth(300);
    addDockWidget(Qt::RightDockWidgetArea, galleryDock);

    // Status bar: progress.
    m_progress = new ProgressView(this);
    m_progress->setObjectName(QStringLiteral("progress"));
    statusBar()->addPermanentWidget(m_progress);

    // Wiring of the widgets among themselves.
    connect(m_modeTabs, &QTabBar::currentChanged, this, [this](int index) { setMode(GenerationMode(index)); });
    connect(m_generateButton, &QPushButton::clicked, this, [this] { generate(); });
    connect(m_cancelButton, &QPushButton::clicked, this, &MainWindow::cancelGeneration);
    connect(m_prompt, &PromptEdit::submitRequested, this, [this] { generate(); });
    connect(m_negative, &PromptEdit::submitRequested, this, [this] { generate(); });
    connect(m_modelPicker, &ModelPicker::loadRequested, this, &MainWindow::loadModel);
    connect(m_modelPicker, &ModelPicker::modelsFolderChanged, this, [this](const QString &folder) {
        m_settings->setValue(Settings::Key::ModelsFolder, folder);
        updatePlaceholder();
    });
    connect(m_params, &ParametersPanel::inpaintAreaChanged, this, &MainWindow::updateOnlyMaskedOutline);
    connect(m_canvas, &Canvas::imageDropped, this, [this](const QImage &image, const QString &path) {
        setInitImage(image, path);
    });
    connect(m_canvas, &Canvas::dropRejected, this, [this](const QString &message) { showMessage(message, true); });
    connect(m_maskTools, &MaskToolsPanel::statusMessage, this, [this](const QString &m) { showMessage(m); });
    connect(m_maskTools, &MaskToolsPanel::overlayColorChanged, this,
            [this](const QColor &c) { m_settings->setValue(Settings::Key::MaskOverlayColor, c); });
    connect(m_maskTools, &MaskToolsPanel::overlayOpacityChanged, this,
            [this](qreal o) { m_settings->setValue(Settings::Key::MaskOverlayOpacity, o); });

    // Gallery actions.
    connect(m_gallery, &GalleryView::statusMessage, this, [this](const QString &m) { showMessage(m); });
    connect(m_gallery, &GalleryView::viewRequested, this, [this](const QString &path) {
        const DroppedImage loaded = loadImageFile(path);
        if (!loaded.ok()) {
            showMessage(loaded.error, true);
            return;
        }
        setMode(GenerationMode::TextToImage);
        showResult(loaded.image);
    });
    auto sendTo = [this](const QString &path, GenerationMode mode) {
        const DroppedImage loaded = loadImageFile(path);
        if (!loaded.ok()) {
            showMessage(loaded.error, true);
            return;
        }
        setMode(mode);
        setInitImage(loaded.image, path);
    };
    connect(m_gallery, &GalleryView::sendToImageToImage, this,
            [sendTo](const QString &path) { sendTo(path, GenerationMode::ImageToImage); });
    connect(m_gallery, &GalleryView::sendToInpaint, this,
            [sendTo](const QString &path) { sendTo(path, GenerationMode::Inpaint); });
    connect(m_gallery, &GalleryView::reuseParameters, this,
            [this](const QString &path, bool promptOnly) { restoreParametersFrom(path, promptOnly); });
}

void MainWindow::connectController()
{
    connect(m_controller, &GenerationController::modelLoading, this, [this](const QString &path) {
        m_modelPicker->setLoading(path);
    });
    connect(m_controller, &GenerationController::modelLoaded, this, &MainWindow::onModelLoaded);
    connect(m_controller, &GenerationController::modelLoadFailed, this, &MainWindow::onModelLoadFailed);
    connect(m_controller, &GenerationController::progress, this, &MainWindow::onProgress);
    connect(m_controller, &GenerationController::preview, this, &MainWindow::onPreview);
    connect(m_controller, &GenerationController::resultReady, this, &MainWindow::onResult);
    connect(m_controller, &GenerationController::finished, this, &MainWindow::onFinished);
    connect(m_controller, &GenerationController::cancelled, this, &MainWindow::onCancelled);
    connect(m_controller, &GenerationController::failed, this, &MainWindow::onFailed);
    connect(m_controller, &GenerationController::busyChanged, this, &MainWindow::updateActions);
}

// ---- settings -------------------------------------------------------------------

void MainWindow::restoreSettings()
{
    const QByteArray geometry = m_settings->value(Settings::Key::WindowGeometry).toByteArray();
    if (!geometry.isEmpty())
        restoreGeometry(geometry);
    else
        resize(1280, 800);
    const QByteArray state = m_settings->value(Settings::Key::WindowState).toByteArray();
    if (!state.isEmpty())
        restoreState(state);

    const core::GenerationRequest last = m_settings->lastRequest();
    m_prompt->setPlainText(QString::fromStdString(last.prompt));
    m_negative->setPlainText(QString::fromStdString(last.negativePrompt));
    m_params->setRequest(last);

    m_canvas->setOverlayColor(m_settings->maskOverlayColor());
    m_canvas->setOverlayOpacity(m_settings->maskOverlayOpacity());
    m_modelPicker->setModelsFolder(m_settings->modelsFolder());

    const QString gallery = m_settings->galleryFolder();
    QDir().mkpath(gallery);
    m_galleryModel->setFolder(gallery);
    m_controller->setAutoSaveFolder(m_settings->value(Settings::Key::AutoSave).toBool() ? gallery : QString());
}

void MainWindow::saveSettings()
{
    m_settings->setValue(Settings::Key::WindowGeometry, saveGeometry());
    m_settings->setValue(Settings::Key::WindowState, saveState());
    core::GenerationRequest r = currentRequest();
    r.initImage.reset();
    r.mask.reset();
    m_settings->setLastRequest(r);
    m_settings->sync();
}

void MainWindow::closeEvent(QCloseEvent *event)
{
    saveSettings();
    m_controller->cancel();
    QMainWindow::closeEvent(event);
}

// ---- state --------------------------------------------------------------------------

void MainWindow::showMessage(const QString &message, bool error)
{
    m_lastMessage = message;
    if (error) {
        m_messageBar->setText(message);
        m_messageBar->setStyleSheet(QStringLiteral("background:#fdecea; color:#8a1c13; border-bottom:1px solid #e0b4b0;"));
        m_messageBar->show();
    } else {
        clearMessage();
    }
    statusBar()->showMessage(message, error ? 0 : 8000);
    Q_EMIT messageShown(message, error);
}

void MainWindow::clearMessage()
{
    m_messageBar->hide();
    m_messageBar->clear();
}

void MainWindow::updatePlaceholder()
{
    if (!m_controller->isModelLoaded() && m_pendingModel.isEmpty()) {
        const QString folder = QDir::toNativeSeparators(m_settings->modelsFolder());
        m_canvas->setPlaceholderText(
            tr("No model is loaded yet.\n\n"
               "Pick one in the Model list on the left, or use File → Open model file… for a "
               ".safetensors checkpoint (SD 1.x / 2.x) or File → Open diffusers folder… for a folder "
               "with model_index.json.\n\n"
               "Models you put into %1 are listed automatically.")
                .arg(folder));
        return;
    }
    switch (mode()) {
    case GenerationMode::TextToImage:
        m_canvas->setPlaceholderText(tr("Write a prompt and press Generate (Ctrl+Enter)."));
        break;
    case GenerationMode::ImageToImage:
    case GenerationMode::Inpaint:
        m_canvas->setPlaceholderText(
            tr("Drop an image here, paste one (Ctrl+Shift+V) or drag one from the gallery."));
        break;
    }
}

void MainWindow::updateActions()
{
    const bool busy = m_controller->isBusy();
    m_cancelButton->setEnabled(busy);
    if (m_cancelAction)
        m_cancelAction->setEnabled(busy);
}

void MainWindow::updateOnlyMaskedOutline()
{
    if (mode() == GenerationMode::Inpaint && m_params->inpaintOnlyMasked())
        m_canvas->setOnlyMaskedOutline(m_params->onlyMaskedPadding(),
                                       QSize(m_params->imageWidth(), m_params->imageHeight()));
    else
        m_canvas->setOnlyMaskedOutline(-1, {});
}

GenerationMode MainWindow::mode() const
{
    return m_params->mode();
}

void MainWindow::setMode(GenerationMode mode)
{
    if (m_modeTabs->currentIndex() != int(mode)) {
        m_modeTabs->setCurrentIndex(int(mode)); // re-enters through currentChanged
        return;
    }
    // Leaving inpaint: keep the mask, the canvas may show another picture.
    if (m_params->mode() == GenerationMode::Inpaint && mode != GenerationMode::Inpaint
        && !m_canvas->maskLayer()->isNull())
        m_savedMask = m_canvas->maskLayer()->image().copy();
    m_params->setMode(mode);
    // Generate, then switch to Image to image or Inpaint: rework the picture
    // on the canvas (what "Use result as input" does) rather than open on an
    // empty canvas. An init image the user chose is kept.
    if (mode != GenerationMode::TextToImage && m_initImage.isNull() && !m_lastResult.isNull())
        setInitImage(m_lastResult, tr("last result"));
    const bool inpaint = mode == GenerationMode::Inpaint;
    m_maskTools->setVisible(inpaint);
    m_canvas->setMaskEditing(inpaint);
    if (mode == GenerationMode::TextToImage) {
        m_canvas->setImage(m_lastResult);
    } else {
        m_canvas->setImage(m_initImage);
        if (inpaint && !m_savedMask.isNull() && m_savedMask.size() == m_initImage.size()
            && m_canvas->maskLayer()->isEmpty())
            m_canvas->maskLayer()->setImage(m_savedMask);
    }
    updateOnlyMaskedOutline();
    updatePlaceholder();
}

void MainWindow::setInitImage(const QImage &image, const QString &source)
{
    if (image.isNull())
        return;
    m_savedMask = QImage(); // a new picture starts with an empty mask
    m_initImage = image.convertToFormat(image.hasAlphaChannel() ? QImage::Format_RGBA8888 : QImage::Format_RGB888);
    if (mode() == GenerationMode::TextToImage)
        setMode(GenerationMode::ImageToImage); // shows the init image
    else
        m_canvas->setImage(m_initImage);
    clearMessage();
    statusBar()->showMessage(source.isEmpty() ? tr("Init image set (%1 × %2).").arg(image.width()).arg(image.height())
                                              : tr("Init image: %1 (%2 × %3).")
                                                    .arg(QFileInfo(source).fileName())
                                                    .arg(image.width())
                                                    .arg(image.height()),
                             8000);
}

void MainWindow::showResult(const QImage &image)
{
    if (mode() == GenerationMode::TextToImage) {
        m_canvas->setImage(image);
    } else {
        // Keep the init image and its mask under the result: the result is
        // shown like a preview; clicking the canvas returns to the mask.
        m_canvas->setPreview(image, m_initImage.size());
    }
}

core::GenerationRequest MainWindow::currentRequest() const
{
    core::GenerationRequest r = m_settings->lastRequest();
    r.prompt = m_prompt->toPlainText().toStdString();
    r.negativePrompt = m_negative->toPlainText().toStdString();
    m_params->applyTo(r);
    r.initImage.reset();
    r.mask.reset();
    if (mode() != GenerationMode::TextToImage && !m_initImage.isNull())
        r.initImage = toCoreImage(m_initImage, 3);
    if (mode() == GenerationMode::Inpaint && !m_canvas->maskLayer()->isNull())
        r.mask = maskToCoreImage(m_canvas->maskLayer()->image());
    return r;
}

// ---- actions ----------------------------------------------------------------------

void MainWindow::loadModel(const QString &path)
{
    if (path.isEmpty())
        return;
    core::LoadOptions options = m_settings->loadOptions();
    options.modelPath = QDir::toNativeSeparators(path).toStdString();
    m_pendingModel = path;
    m_lastRequestedModel = path;
    clearMessage();
    m_modelPicker->setLoading(path);
    m_progress->showBusy(tr("Loading %1…").arg(QFileInfo(path).fileName()));
    m_controller->loadModel(options);
    updatePlaceholder();
    updateActions();
}

quint64 MainWindow::generate()
{
    if (!m_controller->isModelLoaded()) {
        showMessage(m_pendingModel.isEmpty()
                        ? tr("Load a model first: pick one in the Model list or use File → Open model file…")
                        : tr("The model is still loading; try again when it is ready."),
                    true);
        return 0;
    }
    if (m_controller->isBusy()) {
        showMessage(tr("A generation is already running. Cancel it (Esc) or wait for it to finish."), true);
        return 0;
    }
    const GenerationMode m = mode();
    if (m != GenerationMode::TextToImage && m_initImage.isNull()) {
        showMessage(tr("This mode needs an init image: drop one on the canvas, paste one or send one from the gallery."),
                    true);
        return 0;
    }
    if (m == GenerationMode::Inpaint && m_canvas->maskLayer()->isEmpty()) {
        showMessage(tr("Paint the area to regenerate on the canvas first (or use Mask → Fill mask)."), true);
        return 0;
    }
    const core::GenerationRequest request = currentRequest();
    core::GenerationRequest toStore = request;
    toStore.initImage.reset();
    toStore.mask.reset();
    m_settings->setLastRequest(toStore);
    clearMessage();
    m_requestSize = QSize(request.width, request.height);
    m_progress->showBusy(tr("Starting…"));
    m_currentJob = m_controller->generate(request);
    updateActions();
    return m_currentJob;
}

void MainWindow::cancelGeneration()
{
    if (m_controller->cancel())
        m_progress->showBusy(tr("Cancelling…"));
}

bool MainWindow::restoreParametersFrom(const QString &path, bool promptOnly)
{
    const MetadataReadResult read = readImageMetadata(path);
    if (!read.ok()) {
        showMessage(tr("%1: %2").arg(QFileInfo(path).fileName(), read.error), true);
        return false;
    }
    const ImageMetadata &meta = read.metadata;
    if (promptOnly) {
        m_prompt->setPlainText(meta.prompt);
        m_negative->setPlainText(meta.negativePrompt);
    } else {
        core::GenerationRequest r = currentRequest();
        applyToRequest(meta, r);
        m_prompt->setPlainText(QString::fromStdString(r.prompt));
        m_negative->setPlainText(QString::fromStdString(r.negativePrompt));
        m_params->setRequest(r);
    }
    QString note = promptOnly ? tr("Prompt restored from %1.").arg(QFileInfo(path).fileName())
                              : tr("Parameters restored from %1.").arg(QFileInfo(path).fileName());
    const QString loadedName = m_controller->model().displayName;
    if (!promptOnly && !meta.model.isEmpty() && !loadedName.isEmpty()
        && !loadedName.startsWith(meta.model, Qt::CaseInsensitive))
        note += QLatin1Char(' ') + tr("It was made with the model “%1”.").arg(meta.model);
    showMessage(note);
    return true;
}

void MainWindow::pasteImage()
{
    const DroppedImage pasted = decodeDroppedImage(QApplication::clipboard()->mimeData());
    if (!pasted.ok()) {
        showMessage(pasted.error, true);
        return;
    }
    setInitImage(pasted.image, pasted.path);
}

void MainWindow::openInitImage()
{
    const QString path = QFileDialog::getOpenFileName(this, tr("Open init image"), QString(),
                                                      tr("Images (*.png *.jpg *.jpeg *.webp *.bmp)"));
    if (path.isEmpty())
        return;
    const DroppedImage loaded = loadImageFile(path);
    if (!loaded.ok()) {
        showMessage(loaded.error, true);
        return;
    }
    setInitImage(loaded.image, path);
}

void MainWindow::openPngInfo()
{
    const QString path = QFileDialog::getOpenFileName(this, tr("Restore parameters from an image"), QString(),
                                                      tr("PNG images (*.png)"));
    if (!path.isEmpty())
        restoreParametersFrom(path);
}

// ---- drops on the window: PNG Info -----------------------------------------------------

void MainWindow::dragEnterEvent(QDragEnterEvent *event)
{
    if (!firstLocalFile(event->mimeData()).isEmpty())
        event->acceptProposedAction();
}

void MainWindow::dropEvent(QDropEvent *event)
{
    const QString path = firstLocalFile(event->mimeData());
    if (path.isEmpty())
        return;
    event->acceptProposedAction();
    restoreParametersFrom(path);
}

// ---- controller signals -----------------------------------------------------------------

void MainWindow::onModelLoaded(const ModelSummary &model)
{
    m_pendingModel.clear();
    m_modelPicker->setLoaded(model);
    m_settings->setValue(Settings::Key::LastModel, model.path);
    m_progress->showIdle(tr("Model loaded"));
    showMessage(tr("Loaded %1 (%2).").arg(model.displayName, model.describe()));
    // A 9-channel model also draws whole pictures (the engine masks all of it,
    // as AUTOMATIC1111 does); the built-in model is one and is meant for every mode.
    if (mode() != GenerationMode::Inpaint && model.inpaint && !model.builtin)
        statusBar()->showMessage(tr("This is an inpainting model: it paints best in the Inpaint mode."), 8000);
    // The size follows the model's training resolution unless the user chose
    // another: the 128-pixel built-in model asked for 512 pixels repeats
    // shapes across the canvas, an SD 1.x model asked for 128 draws mush.
    if (model.nativeResolution > 0 && model.nativeResolution != m_modelNativeSize) {
        if (m_params->imageWidth() == m_modelNativeSize && m_params->imageHeight() == m_modelNativeSize)
            m_params->setImageSize(model.nativeResolution, model.nativeResolution);
        m_modelNativeSize = model.nativeResolution;
    }
    // The built-in model knows only its caption language: start from an example
    // that uses every part of it (size, colour, shape, position, background).
    if (model.builtin && m_prompt->toPlainText().trimmed().isEmpty())
        m_prompt->setPlainText(QStringLiteral("a large red star in the top left on a blue background"));
    updatePlaceholder();
    updateActions();
}

void MainWindow::onModelLoadFailed(const QString &message, int errorCode, const QString &details)
{
    m_pendingModel.clear();
    m_modelPicker->setFailed(message);
    m_progress->showIdle(tr("Model not loaded"));
    showMessage(details.isEmpty() ? message : tr("%1\n%2").arg(message, details), true);
    updatePlaceholder();
    updateActions();
    if (core::ErrorCode(errorCode) == core::ErrorCode::MissingVocabulary)
        offerVocabularyDownload();
}

void MainWindow::onProgress(const GenerationProgress &progress)
{
    if (progress.jobId == 0 && progress.stage == GenerationStage::Load)
        m_modelPicker->setLoadProgress(progress.step, progress.total);
    m_progress->showProgress(progress);
}

void MainWindow::onPreview(quint64 jobId, const QImage &image, int step, int total)
{
    Q_UNUSED(step)
    Q_UNUSED(total)
    if (jobId != m_currentJob || image.isNull())
        return;
    const QSize target = mode() == GenerationMode::TextToImage ? m_requestSize : m_initImage.size();
    m_canvas->setPreview(image, target);
}

void MainWindow::onResult(quint64 jobId, const GeneratedResult &result)
{
    Q_UNUSED(jobId)
    m_lastResult = result.image;
    m_params->setLastSeed(result.seed);
    showResult(result.image);
    if (!result.savedPath.isEmpty())
        m_galleryModel->addImage(result.savedPath);
    else if (!result.saveError.isEmpty())
        showMessage(tr("The image was not saved to the gallery: %1").arg(result.saveError), true);
}

void MainWindow::onFinished(quint64 jobId, double seconds)
{
    if (jobId == m_currentJob)
        m_currentJob = 0;
    m_progress->showIdle(tr("Done in %1 s").arg(seconds, 0, 'f', 1));
    updateActions();
}

void MainWindow::onCancelled(quint64 jobId, const QImage &lastPreview)
{
    if (jobId == m_currentJob)
        m_currentJob = 0;
    m_progress->showIdle(tr("Cancelled"));
    showMessage(tr("Generation cancelled."));
    if (!lastPreview.isNull())
        m_canvas->setPreview(lastPreview, mode() == GenerationMode::TextToImage ? m_requestSize : m_initImage.size());
    updateActions();
}

void MainWindow::onFailed(quint64 jobId, const QString &message, int errorCode, const QString &details)
{
    if (jobId == m_currentJob)
        m_currentJob = 0;
    m_progress->showIdle(tr("Failed"));
    m_canvas->clearPreview();
    QString text = message;
    if (core::ErrorCode(errorCode) == core::ErrorCode::OutOfMemory)
        text += QLatin1Char(' ') + tr("Try a smaller size, fewer images per batch, or bfloat16.");
    if (!details.isEmpty())
        text += QLatin1Char('\n') + details;
    showMessage(text, true);
    updateActions();
}

// ---- CLIP vocabulary ---------------------------------------------------------------------

void MainWindow::offerVocabularyDownload()
{
    QMessageBox box(QMessageBox::Question, tr("CLIP vocabulary needed"),
                    tr("This checkpoint is a single file without the CLIP tokenizer vocabulary. "
                       "Stipple can download it once (1.3 MB from openai/CLIP, checked by SHA-256) "
                       "and keep it for all single-file models."),
                    QMessageBox::Cancel, this);
    box.setDetailedText(VocabularyDownloader::offlineInstructions());
    QPushButton *download = box.addButton(tr("Download"), QMessageBox::AcceptRole);
    QPushButton *choose = box.addButton(tr("Choose file…"), QMessageBox::ActionRole);
    box.exec();
    auto retry = [this](const QString &vocabPath) {
        m_settings->setValue(Settings::Key::VocabPath, vocabPath);
        showMessage(tr("CLIP vocabulary installed at %1.").arg(QDir::toNativeSeparators(vocabPath)));
        if (!m_lastRequestedModel.isEmpty() && !m_controller->isModelLoaded())
            loadModel(m_lastRequestedModel);
    };
    if (box.clickedButton() == choose) {
        const QString path = QFileDialog::getOpenFileName(this, tr("CLIP vocabulary"), QString(),
                                                          tr("CLIP vocabulary (bpe_simple_vocab_16e6.txt.gz)"));
        if (path.isEmpty())
            return;
        const QString error = VocabularyDownloader::installFile(path);
        if (!error.isEmpty()) {
            showMessage(error, true);
            return;
        }
        retry(VocabularyDownloader::defaultTargetPath());
    } else if (box.clickedButton() == download) {
        // One downloader per attempt: its connections die with it.
        auto *downloader = new VocabularyDownloader(this);
        auto *dialog = new QProgressDialog(tr("Downloading the CLIP vocabulary…"), tr("Cancel"), 0, 0, this);
        dialog->setAttribute(Qt::WA_DeleteOnClose);
        dialog->setMinimumDuration(0);
        connect(dialog, &QProgressDialog::canceled, downloader, [downloader] {
            downloader->abort();
            downloader->deleteLater();
        });
        connect(downloader, &VocabularyDownloader::progress, dialog, [dialog](qint64 received, qint64 total) {
            if (total > 0) {
                dialog->setMaximum(int(total));
                dialog->setValue(int(received));
            }
        });
        connect(downloader, &VocabularyDownloader::finished, this, [dialog, downloader, retry](const QString &path) {
            dialog->close();
            downloader->deleteLater();
            retry(path);
        });
        connect(downloader, &VocabularyDownloader::failed, this, [this, dialog, downloader](const QString &message) {
            dialog->close();
            downloader->deleteLater();
            showMessage(message, true);
        });
        downloader->start();
        dialog->show();
    }
}

} // namespace stipple::ui
