#include "ui/widgets/VocabularyDownloader.h"

#include "core/text/VocabularyLocator.h"

#include <QCryptographicHash>
#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QNetworkAccessManager>
#include <QNetworkReply>
#include <QNetworkRequest>
#include <QSaveFile>

namespace stipple::ui {

using core::VocabularyLocator;

VocabularyDownloader::VocabularyDownloader(QObject *parent)
    : QObject(parent), m_network(new QNetworkAccessManager(this))
{
}

VocabularyDownloader::~VocabularyDownloader()
{
    abort();
}

QUrl VocabularyDownloader::defaultUrl()
{
    return QUrl(QString::fromLatin1(VocabularyLocator::kClipBpeUrl));
}

QString VocabularyDownloader::expectedSha256()
{
    return QString::fromLatin1(VocabularyLocator::kClipBpeSha256);
}

QString VocabularyDownloader::defaultTargetPath()
{
    return QString::fromStdString(VocabularyLocator::defaultClipBpePath());
}

QString VocabularyDownloader::offlineInstructions()
{
    const QString folder = QString::fromStdString(VocabularyLocator::appDataDir());
    return tr("Single-file checkpoints do not contain the CLIP vocabulary.\n"
              "Download %1\nfrom %2\nand put it into %3\n"
              "(or choose it with File → CLIP vocabulary…). Diffusers model folders do not need it.")
        .arg(QString::fromLatin1(VocabularyLocator::kClipBpeFileName),
             QString::fromLatin1(VocabularyLocator::kClipBpeUrl), QDir::toNativeSeparators(folder));
}

QString VocabularyDownloader::verifyAndSave(const QByteArray &data, const QString &target,
                                            const QString &expectedSha)
{
    const QString sha = QString::fromLatin1(QCryptographicHash::hash(data, QCryptographicHash::Sha256).toHex());
    if (sha.compare(expectedSha, Qt::CaseInsensitive) != 0)
        return tr("The downloaded vocabulary is not the expected file (SHA-256 %1, expected %2). "
                  "It was not saved.")
            .arg(sha, expectedSha);
    if (target.isEmpty())
        return tr("No folder to save the vocabulary to (neither XDG_DATA_HOME nor HOME is set).");
    QDir().mkpath(QFileInfo(target).absolutePath());
    QSaveFile file(target);
    if (!file.open(QIODevice::WriteOnly) || file.write(data) != data.size() || !file.commit())
        return tr("Could not save %1: %2").arg(QDir::toNativeSeparators(target), file.errorString());
    return {};
}

QString VocabularyDownloader::installFile(const QString &source, const QString &target)
{
    QFile in(source);
    if (!in.open(QIODevice::ReadOnly))
        return tr("Could not open %1: %2").arg(QDir::toNativeSeparators(source), in.errorString());
    return verifyAndSave(in.readAll(), target.isEmpty() ? defaultTargetPath() : target);
}

void VocabularyDownloader::start(const QUrl &url, const QString &target)
{
    abort();
    m_target = target.isEmpty() ? defaultTargetPath() : target;
    QNetworkRequest request(url);
    request.setAttribute(QNetworkRequest::RedirectPolicyAttribute, QNetworkRequest::NoLessSafeRedirectPolicy);
    request.setTransferTimeout(30000);
    m_reply = m_network->get(request);
    connect(m_reply, &QNetworkReply::downloadProgress, this, &VocabularyDownloader::progress);
    connect(m_reply, &QNetworkReply::finished, this, &VocabularyDownloader::onFinished);
}

void VocabularyDownloader::abort()
{
    if (m_reply) {
        QNetworkReply *reply = m_reply;
        m_reply = nullptr;
        reply->disconnect(this);
        reply->abort();
        reply->deleteLater();
    }
}

void VocabularyDownloader::onFinished()
{
    QNetworkReply *reply = m_reply;
    m_reply = nullptr;
    if (!reply)
        return;
    reply->deleteLater();
    if (reply->error() != QNetworkReply::NoError) {
        Q_EMIT failed(tr("The download failed: %1\n\n%2").arg(reply->errorString(), offlineInstructions()));
        return;
    }
    const QString error = verifyAndSave(reply->readAll(), m_target);
    if (!error.isEmpty()) {
        Q_EMIT failed(error);
        return;
    }
    Q_EMIT finished(m_target);
}

} // namespace stipple::ui
