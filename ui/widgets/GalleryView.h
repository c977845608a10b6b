// GalleryView: the gallery of generated PNGs, a QListView in icon mode over
// the bridge's GalleryModel, with filter fields (prompt text, seed, model,
// date range) and the per-image actions: view, send to img2img, send to
// inpaint, reuse parameters (all / prompt only), copy, reveal in the file
// manager, and move to the trash (after a confirmation). Items can be dragged
// onto the canvas (the drag carries the file URL).
// The view only asks; the window acts on the signals.
// Thread-safety: GUI thread only.
#pragma once

#include <QWidget>

class QCheckBox;
class QComboBox;
class QDateEdit;
class QLabel;
class QLineEdit;
class QListView;
class QMenu;
class QTimer;

namespace stipple::ui {

class GalleryModel;

class GalleryView : public QWidget {
    Q_OBJECT
public:
    explicit GalleryView(GalleryModel *model, QWidget *parent = nullptr);

    QListView *listView() const { return m_list; }
    GalleryModel *model() const { return m_model; }
    // Path of the current item ("" when none).
    QString currentPath() const;

    // Applies the filter fields now (they also apply by themselves after typing).
    void applyFilter();

    // Actions on the current item (public for menus, shortcuts and tests).
    void viewCurrent();
    void copyCurrent();
    void revealCurrent();
    // Asks for confirmation unless `confirm` is false; returns true if moved.
    bool deleteCurrent(bool confirm = true);

Q_SIGNALS:
    void viewRequested(const QString &path);
    void sendToImageToImage(const QString &path);
    void sendToInpaint(const QString &path);
    // promptOnly: restore only prompt and negative prompt.
    void reuseParameters(const QString &path, bool promptOnly);
    void statusMessage(const QString &message);

private:
    void showContextMenu(const QPoint &pos);
    void updateCount();

    GalleryModel *m_model;
    QListView *m_list;
    QLineEdit *m_text;
    QLineEdit *m_seed;
    QLineEdit *m_modelFilter;
    QCheckBox *m_useDates;
    QDateEdit *m_from;
    QDateEdit *m_to;
    QLabel *m_count;
    QTimer *m_filterTimer;
};

} // namespace stipple::ui
