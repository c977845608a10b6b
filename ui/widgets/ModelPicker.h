// ModelPicker: chooses the model. Lists what a models folder holds (diffusers
// folders with a model_index.json, and *.safetensors files), offers "Open…"
// for anything elsewhere and "Folder…" to change the folder, and shows what
// the core detected once a model is loaded (family, inpaint, v-prediction).
// It only asks for a load (loadRequested); the window runs it through the
// bridge in the background and reports back (setLoading/setLoaded/setFailed).
// Thread-safety: GUI thread only.
#pragma once

#include "ui/bridge/BridgeTypes.h"

#include <QList>
#include <QWidget>

class QComboBox;
class QLabel;
class QProgressBar;
class QToolButton;

namespace stipple::ui {

struct ModelEntry {
    QString path;
    QString name;
    bool diffusersFolder = false;
};

class ModelPicker : public QWidget {
    Q_OBJECT
public:
    explicit ModelPicker(QWidget *parent = nullptr);

    // Models found directly in `folder` (and one level of sub-folders for
    // .safetensors files), sorted by name.
    static QList<ModelEntry> scanFolder(const QString &folder);

    void setModelsFolder(const QString &folder);
    QString modelsFolder() const { return m_folder; }
    QList<ModelEntry> entries() const { return m_entries; }

    void setLoading(const QString &path);
    void setLoadProgress(int step, int total);
    void setLoaded(const ModelSummary &model);
    void setFailed(const QString &message);

Q_SIGNALS:
    void loadRequested(const QString &path);
    void modelsFolderChanged(const QString &folder);

private:
    void rescan();
    void selectPath(const QString &path);

    QString m_folder;
    QList<ModelEntry> m_entries;
    QString m_loadedPath;
    QComboBox *m_combo;
    QToolButton *m_open;
    QToolButton *m_folderButton;
    QToolButton *m_rescan;
    QLabel *m_info;
    QProgressBar *m_progress;
};

} // namespace stipple::ui
