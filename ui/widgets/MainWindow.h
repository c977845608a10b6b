// MainWindow: the studio. Prompt and negative prompt (PromptEdit), the model
// picker, the shared parameters (ParametersPanel) and the three modes (text
// to image, image to image, inpaint) on the left; the canvas with the mask
// tools in the middle; the gallery on the right; progress and messages in the
// status bar. Generation runs through the bridge's GenerationController; the
// window never blocks and never lets an error escape: failures are shown in
// the message bar above the canvas (and as a dialog for model loading).
//
// Window geometry and the last parameters persist through the bridge's
// Settings. Dropping a PNG with parameters anywhere but the canvas restores
// them (PNG Info); dropping an image on the canvas makes it the init image.
// Thread-safety: GUI thread only.
#pragma once

#include "core/pipeline/Request.h"
#include "ui/widgets/ParametersPanel.h"

#include <QImage>
#include <QMainWindow>

class QAction;
class QLabel;
class QTabBar;
class QToolButton;
class QPushButton;

namespace stipple::ui {

class Canvas;
class GalleryModel;
class GalleryView;
class GenerationController;
class MaskToolsPanel;
class ModelPicker;
class ProgressView;
class PromptEdit;
class Settings;
class VocabularyDownloader;
struct GeneratedResult;
struct GenerationProgress;
struct ModelSummary;

class MainWindow : public QMainWindow {
    Q_OBJECT
public:
    // `settings` must outlive the window.
    explicit MainWindow(Settings *settings, QWidget *parent = nullptr);
    ~MainWindow() override;

    // --- actions (public for menus, tests and scripting) ---
    void loadModel(const QString &path);
    // Starts a generation with the current parameters; returns the job id,
    // 0 when it could not start (the reason is shown in the message bar).
    quint64 generate();
    void cancelGeneration();
    void setMode(GenerationMode mode);
    GenerationMode mode() const;
    // Makes `image` the init image (switching text-to-image to image-to-image).
    void setInitImage(const QImage &image, const QString &source = {});
    QImage initImage() const { return m_initImage; }
    // Restores parameters from a PNG's metadata; returns false (with a
    // message) when the file has none.
    bool restoreParametersFrom(const QString &path, bool promptOnly = false);
    void pasteImage();

    // The request the Generate button would send (images included).
    core::GenerationRequest currentRequest() const;

    // Widgets, for tests.
    Canvas *canvas() const { return m_canvas; }
    PromptEdit *promptEdit() const { return m_prompt; }
    PromptEdit *negativePromptEdit() const { return m_negative; }
    ParametersPanel *parametersPanel() const { return m_params; }
    GalleryModel *galleryModel() const { return m_galleryModel; }
    GalleryView *galleryView() const { return m_gallery; }
    GenerationController *controller() const { return m_controller; }
    ModelPicker *modelPicker() const { return m_modelPicker; }
    MaskToolsPanel *maskTools() const { return m_maskTools; }
    QString lastMessage() const { return m_lastMessage; }

Q_SIGNALS:
    // A message was shown (error = true for failures).
    void messageShown(const QString &message, bool error);

protected:
    void closeEvent(QCloseEvent *event) override;
    void dragEnterEvent(QDragEnterEvent *event) override;
    void dropEvent(QDropEvent *event) override;

private:
    void buildUi();
    void buildMenus();
    void connectController();
    void restoreSettings();
    void saveSettings();
    void updatePlaceholder();
    void updateActions();
    void updateOnlyMaskedOutline();
    void showMessage(const QString &message, bool error = false);
    void clearMessage();

    void onModelLoaded(const ModelSummary &model);
    void onModelLoadFailed(const QString &message, int errorCode, const QString &details);
    void onProgress(const GenerationProgress &progress);
    void onPreview(quint64 jobId, const QImage &image, int step, int total);
    void onResult(quint64 jobId, const GeneratedResult &result);
    void onFinished(quint64 jobId, double seconds);
    void onCancelled(quint64 jobId, const QImage &lastPreview);
    void onFailed(quint64 jobId, const QString &message, int errorCode, const QString &details);
    void offerVocabularyDownload();
    void showResult(const QImage &image);
    void openPngInfo();
    void openInitImage();

    Settings *m_settings;
    GenerationController *m_controller;
    GalleryModel *m_galleryModel;

    QTabBar *m_modeTabs = nullptr;
    PromptEdit *m_prompt = nullptr;
    PromptEdit *m_negative = nullptr;
    ModelPicker *m_modelPicker = nullptr;
    ParametersPanel *m_params = nullptr;
    Canvas *m_canvas = nullptr;
    MaskToolsPanel *m_maskTools = nullptr;
    GalleryView *m_gallery = nullptr;
    ProgressView *m_progress = nullptr;
    QLabel *m_messageBar = nullptr;
    QPushButton *m_generateButton = nullptr;
    QPushButton *m_cancelButton = nullptr;

    QAction *m_generateAction = nullptr;
    QAction *m_cancelAction = nullptr;

    QImage m_initImage;
    QImage m_lastResult;
    QImage m_savedMask;       // the inpaint mask while another mode is shown
    quint64 m_currentJob = 0;
    QString m_pendingModel;   // path being loaded
    QString m_lastRequestedModel; // reloaded after the vocabulary is installed
    int m_modelNativeSize = 512;  // the loaded model's training resolution (size follows it)
    QString m_lastMessage;
    QSize m_requestSize;      // size of the running request (previews are scaled to it)
};

} // namespace stipple::ui
