#include "ui/widgets/GalleryView.h"

#include "ui/bridge/GalleryModel.h"

#include <QApplication>
#include <QCheckBox>
#include <QClipboard>
#include <QDateEdit>
#include <QDesktopServices>
#include <QDrag>
#include <QFileInfo>
#include <QGridLayout>
#include <QImageReader>
#include <QLabel>
#include <QLineEdit>
#include <QListView>
#include <QMenu>
#include <QMessageBox>
#include <QMimeData>
#include <QRegularExpressionValidator>
#include <QTimer>
#include <QUrl>
#include <QVBoxLayout>

namespace stipple::ui {

namespace {

// A list view whose drags carry file URLs (so the canvas, other apps and the
// file manager understand them) and a thumbnail as the drag pixmap.
class GalleryListView : public QListView {
public:
    using QListView::QListView;

protected:
    void startDrag(Qt::DropActions) override
    {
        const QModelIndex index = currentIndex();
        const QString path = index.data(GalleryModel::PathRole).toString();
        if (path.isEmpty())
            return;
        auto *mime = new QMimeData;
        mime->setUrls({QUrl::fromLocalFile(path)});
        auto *drag = new QDrag(this);
        drag->setMimeData(mime);
        const QImage thumb = index.data(GalleryModel::ThumbnailRole).value<QImage>();
        if (!thumb.isNull())
            drag->setPixmap(QPixmap::fromImage(thumb.scaled(96, 96, Qt::KeepAspectRatio, Qt::SmoothTransformation)));
        drag->exec(Qt::CopyAction);
    }
};

} // namespace

GalleryView::GalleryView(GalleryModel *model, QWidget *parent)
    : QWidget(parent), m_model(model)
{
    auto *layout = new QVBoxLayout(this);
    layout->setContentsMargins(4, 4, 4, 4);

    auto *filters = new QGridLayout;
    m_text = new QLineEdit(this);
    m_text->setObjectName(QStringLiteral("galleryTextFilter"));
    m_text->setPlaceholderText(tr("Search prompts…"));
    m_text->setClearButtonEnabled(true);
    m_seed = new QLineEdit(this);
    m_seed->setObjectName(QStringLiteral("gallerySeedFilter"));
    m_seed->setPlaceholderText(tr("Seed"));
    m_seed->setValidator(new QRegularExpressionValidator(QRegularExpression(QStringLiteral("\\d{0,19}")), m_seed));
    m_seed->setClearButtonEnabled(true);
    m_modelFilter = new QLineEdit(this);
    m_modelFilter->setObjectName(QStringLiteral("galleryModelFilter"));
    m_modelFilter->setPlaceholderText(tr("Model"));
    m_modelFilter->setClearButtonEnabled(true);
    m_useDates = new QCheckBox(tr("From"), this);
    m_from = new QDateEdit(QDate::currentDate().addDays(-7), this);
    m_from->setCalendarPopup(true);
    m_to = new QDateEdit(QDate::currentDate(), this);
    m_to->setCalendarPopup(true);
    m_from->setEnabled(false);
    m_to->setEnabled(false);
    filters->addWidget(m_text, 0, 0, 1, 4);
    filters->addWidget(m_seed, 1, 0);
    filters->addWidget(m_modelFilter, 1, 1, 1, 3);
    filters->addWidget(m_useDates, 2, 0);
    filters->addWidget(m_from, 2, 1);
    filters->addWidget(new QLabel(tr("to"), this), 2, 2);
    filters->addWidget(m_to, 2, 3);
    layout->addLayout(filters);

    m_list = new GalleryListView(this);
    m_list->setObjectName(QStringLiteral("galleryList"));
    m_list->setViewMode(QListView::IconMode);
    m_list->setResizeMode(QListView::Adjust);
    m_list->setMovement(QListView::Static);
    m_list->setUniformItemSizes(true);
    m_list->setIconSize(QSize(128, 128));
    m_list->setGridSize(QSize(146, 168)); // icon + one elided line of prompt
    m_list->setSpacing(6);
    m_list->setWordWrap(false);
    m_list->setTextElideMode(Qt::ElideRight);
    m_list->setSelectionMode(QAbstractItemView::SingleSelection);
    m_list->setDragEnabled(true);
    m_list->setDragDropMode(QAbstractItemView::DragOnly);
    m_list->setContextMenuPolicy(Qt::CustomContextMenu);
    m_list->setModel(m_model);
    // The delegate draws a QImage decoration at its own size: ask the model
    // for thumbnails that fit the icon grid.
    m_model->setThumbnailSize(m_list->iconSize());
    layout->addWidget(m_list, 1);

    m_count = new QLabel(this);
    layout->addWidget(m_count);

    m_filterTimer = new QTimer(this);
    m_filterTimer->setSingleShot(true);
    m_filterTimer->setInterval(250); // filter after typing pauses
    connect(m_filterTimer, &QTimer::timeout, this, &GalleryView::applyFilter);
    for (QLineEdit *e : {m_text, m_seed, m_modelFilter})
        connect(e, &QLineEdit::textChanged, m_filterTimer, qOverload<>(&QTimer::start));
    connect(m_useDates, &QCheckBox::toggled, this, [this](bool on) {
        m_from->setEnabled(on);
        m_to->setEnabled(on);
        applyFilter();
    });
    connect(m_from, &QDateEdit::dateChanged, this, &GalleryView::applyFilter);
    connect(m_to, &QDateEdit::dateChanged, this, &GalleryView::applyFilter);

    connect(m_list, &QListView::doubleClicked, this, [this] { viewCurrent(); });
    connect(m_list, &QListView::customContextMenuRequested, this, &GalleryView::showContextMenu);
    connect(m_model, &GalleryModel::loaded, this, &GalleryView::updateCount);
    connect(m_model, &QAbstractItemModel::rowsInserted, this, &GalleryView::updateCount);
    connect(m_model, &QAbstractItemModel::rowsRemoved, this, &GalleryView::updateCount);
    connect(m_model, &GalleryModel::errorOccurred, this, &GalleryView::statusMessage);
    updateCount();
}

QString GalleryView::currentPath() const
{
    return m_list->currentIndex().data(GalleryModel::PathRole).toString();
}

void GalleryView::applyFilter()
{
    GalleryFilter filter;
    filter.text = m_text->text().trimmed();
    bool ok = false;
    const qint64 seed = m_seed->text().toLongLong(&ok);
    filter.seed = ok ? seed : -1;
    filter.model = m_modelFilter->text().trimmed();
    if (m_useDates->isChecked()) {
        filter.from = m_from->date().startOfDay();
        filter.to = m_to->date().endOfDay();
    }
    m_model->setFilter(filter);
}

void GalleryView::updateCount()
{
    const int n = m_model->rowCount();
    m_count->setText(m_model->filter().isEmpty() ? tr("%n image(s)", nullptr, n)
                                                 : tr("%n image(s) match", nullptr, n));
}

void GalleryView::viewCurrent()
{
    const QString path = currentPath();
    if (!path.isEmpty())
        Q_EMIT viewRequested(path);
}

void GalleryView::copyCurrent()
{
    const QString path = currentPath();
    if (path.isEmpty())
        return;
    QImageReader reader(path);
    const QImage image = reader.read();
    if (image.isNull()) {
        Q_EMIT statusMessage(tr("Could not read %1: %2").arg(QFileInfo(path).fileName(), reader.errorString()));
        return;
    }
    auto *mime = new QMimeData;
    mime->setImageData(image);
    mime->setUrls({QUrl::fromLocalFile(path)});
    QApplication::clipboard()->setMimeData(mime);
    Q_EMIT statusMessage(tr("Copied %1 to the clipboard.").arg(QFileInfo(path).fileName()));
}

void GalleryView::revealCurrent()
{
    const QString path = currentPath();
    const QString folder = path.isEmpty() ? m_model->folder() : QFileInfo(path).absolutePath();
    if (!folder.isEmpty() && !QDesktopServices::openUrl(QUrl::fromLocalFile(folder)))
        Q_EMIT statusMessage(tr("No file manager could open %1.").arg(folder));
}

bool GalleryView::deleteCurrent(bool confirm)
{
    const QString path = currentPath();
    if (path.isEmpty())
        return false;
    if (confirm
        && QMessageBox::question(this, tr("Move to trash"),
                                 tr("Move “%1” to the trash?").arg(QFileInfo(path).fileName()),
                                 QMessageBox::Yes | QMessageBox::Cancel, QMessageBox::Cancel)
               != QMessageBox::Yes)
        return false;
    const QString error = m_model->moveToTrash(path);
    if (!error.isEmpty()) {
        QMessageBox::warning(this, tr("Move to trash"), error);
        return false;
    }
    Q_EMIT statusMessage(tr("Moved %1 to the trash.").arg(QFileInfo(path).fileName()));
    return true;
}

void GalleryView::showContextMenu(const QPoint &pos)
{
    const QModelIndex index = m_list->indexAt(pos);
    if (!index.isValid())
        return;
    m_list->setCurrentIndex(index);
    const QString path = currentPath();
    QMenu menu(this);
    menu.addAction(tr("View"), this, &GalleryView::viewCurrent);
    menu.addSeparator();
    menu.addAction(tr("Send to image to image"), this, [this, path] { Q_EMIT sendToImageToImage(path); });
    menu.addAction(tr("Send to inpaint"), this, [this, path] { Q_EMIT sendToInpaint(path); });
    menu.addSeparator();
    menu.addAction(tr("Reuse all parameters"), this, [this, path] { Q_EMIT reuseParameters(path, false); });
    menu.addAction(tr("Reuse prompt only"), this, [this, path] { Q_EMIT reuseParameters(path, true); });
    menu.addSeparator();
    menu.addAction(tr("Copy image"), this, &GalleryView::copyCurrent);
    menu.addAction(tr("Show in file manager"), this, &GalleryView::revealCurrent);
    menu.addSeparator();
    menu.addAction(tr("Move to trash…"), this, [this] { deleteCurrent(true); });
    menu.exec(m_list->viewport()->mapToGlobal(pos));
}

} // namespace stipple::ui
