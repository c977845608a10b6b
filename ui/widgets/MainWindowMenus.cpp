// MainWindow's menus and tool bar (the rest of the window is in MainWindow.cpp;
// the menus live apart to keep each file to one part of the window).
#include "ui/widgets/MainWindow.h"

#include "ui/bridge/Settings.h"
#include "ui/widgets/BrushTool.h"
#include "ui/widgets/Canvas.h"
#include "ui/widgets/MaskToolsPanel.h"

#include <QAction>
#include <QApplication>
#include <QFileDialog>
#include <QKeySequence>
#include <QMenuBar>
#include <QMessageBox>
#include <QToolBar>

namespace stipple::ui {

void MainWindow::buildMenus()
{
    QMenu *file = menuBar()->addMenu(tr("&File"));
    QAction *openModel = file->addAction(tr("Open &model file…"), this, [this] {
        const QString path = QFileDialog::getOpenFileName(this, tr("Open checkpoint"), m_settings->modelsFolder(),
                                                          tr("Safetensors checkpoints (*.safetensors)"));
        if (!path.isEmpty())
            loadModel(path);
    });
    openModel->setShortcut(QKeySequence::Open);
    file->addAction(tr("Open &diffusers folder…"), this, [this] {
        const QString path = QFileDialog::getExistingDirectory(this, tr("Open diffusers model folder"),
                                                               m_settings->modelsFolder());
        if (!path.isEmpty())
            loadModel(path);
    });
    file->addAction(tr("Open &init image…"), this, &MainWindow::openInitImage);
    file->addAction(tr("PNG &Info…"), this, &MainWindow::openPngInfo);
    file->addSeparator();
    file->addAction(tr("CLIP &vocabulary…"), this, &MainWindow::offerVocabularyDownload);
    file->addSeparator();
    file->addAction(tr("&Quit"), this, &QWidget::close)->setShortcut(QKeySequence::Quit);

    QMenu *edit = menuBar()->addMenu(tr("&Edit"));
    edit->addAction(m_maskTools->undoAction());
    edit->addAction(m_maskTools->redoAction());
    m_maskTools->undoAction()->setShortcut(QKeySequence::Undo);
    m_maskTools->redoAction()->setShortcut(QKeySequence::Redo);
    edit->addSeparator();
    edit->addAction(tr("&Paste image"), this, &MainWindow::pasteImage)->setShortcut(QKeySequence(tr("Ctrl+Shift+V")));
    edit->addAction(tr("Use result as &input"), this, [this] {
        if (m_lastResult.isNull()) {
            showMessage(tr("There is no result yet."), true);
            return;
        }
        setInitImage(m_lastResult, tr("last result")); // leaves Text to image itself
    });

    QMenu *generateMenu = menuBar()->addMenu(tr("&Generate"));
    m_generateAction = generateMenu->addAction(tr("&Generate"), this, [this] { generate(); });
    m_generateAction->setShortcuts({QKeySequence(Qt::CTRL | Qt::Key_Return), QKeySequence(Qt::CTRL | Qt::Key_Enter)});
    m_generateAction->setShortcutContext(Qt::WindowShortcut);
    m_cancelAction = generateMenu->addAction(tr("&Cancel"), this, &MainWindow::cancelGeneration);
    m_cancelAction->setShortcut(QKeySequence(Qt::Key_Escape));
    m_cancelAction->setShortcutContext(Qt::WindowShortcut);

    QMenu *mask = menuBar()->addMenu(tr("&Mask"));
    mask->addAction(tr("Brush / eraser"), this, [this] { m_canvas->brush()->toggleMode(); });
    mask->addAction(tr("Smaller brush"), this, [this] { m_canvas->brush()->decreaseSize(); });
    mask->addAction(tr("Larger brush"), this, [this] { m_canvas->brush()->increaseSize(); });
    mask->addSeparator();
    mask->addAction(tr("Clear mask"), m_maskTools, &MaskToolsPanel::clearMask);
    mask->addAction(tr("Invert mask"), m_maskTools, &MaskToolsPanel::invertMask);
    mask->addAction(tr("Fill mask"), m_maskTools, &MaskToolsPanel::fillMask);

    QMenu *view = menuBar()->addMenu(tr("&View"));
    QAction *fit = view->addAction(tr("&Fit to window"), m_canvas, &Canvas::fitToView);
    fit->setShortcut(QKeySequence(tr("Ctrl+0")));
    QAction *actual = view->addAction(tr("&100%"), m_canvas, &Canvas::actualSize);
    actual->setShortcut(QKeySequence(tr("Ctrl+1")));

    QToolBar *bar = addToolBar(tr("View"));
    bar->setObjectName(QStringLiteral("viewToolBar"));
    bar->addAction(fit);
    bar->addAction(actual);

    QMenu *help = menuBar()->addMenu(tr("&Help"));
    help->addAction(tr("&About Stipple"), this, [this] {
        QMessageBox::about(this, tr("About Stipple"),
                           tr("<b>Stipple</b> %1<br>A native desktop studio for Stable Diffusion.")
                               .arg(QApplication::applicationVersion()));
    });
}

} // namespace stipple::ui
