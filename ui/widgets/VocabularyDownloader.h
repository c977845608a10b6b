// VocabularyDownloader: fetches the CLIP BPE vocabulary that single-file
// checkpoints lack (openai's bpe_simple_vocab_16e6.txt.gz), verifies its
// SHA-256 against core::VocabularyLocator::kClipBpeSha256 while it is still
// in memory, and only then writes it atomically (QSaveFile) to the app data
// folder where the core looks for it. A file with the wrong hash is never
// written. Also installs a file the user already has (same verification).
// Thread-safety: GUI thread only (QNetworkAccessManager).
#pragma once

#include <QByteArray>
#include <QObject>
#include <QPointer>
#include <QString>
#include <QUrl>

class QNetworkAccessManager;
class QNetworkReply;

namespace stipple::ui {

class VocabularyDownloader : public QObject {
    Q_OBJECT
public:
    explicit VocabularyDownloader(QObject *parent = nullptr);
    ~VocabularyDownloader() override;

    // Defaults from core/text/VocabularyLocator.h; overridable for tests.
    static QUrl defaultUrl();
    static QString expectedSha256();
    static QString defaultTargetPath(); // <app data>/bpe_simple_vocab_16e6.txt.gz

    // Starts the download to `target` (default: defaultTargetPath()).
    void start(const QUrl &url = defaultUrl(), const QString &target = {});
    void abort();
    bool isRunning() const { return !m_reply.isNull(); }

    // Verifies `data` and writes it to `target`. Returns a translated error,
    // empty on success.
    static QString verifyAndSave(const QByteArray &data, const QString &target,
                                 const QString &expectedSha = expectedSha256());
    // Installs a local copy (verified) to `target`. Returns a translated error.
    static QString installFile(const QString &source, const QString &target = {});

    // What to put where, for the offline case (translated, multi-line).
    static QString offlineInstructions();

Q_SIGNALS:
    void progress(qint64 received, qint64 total);
    void finished(const QString &path);
    void failed(const QString &message);

private:
    void onFinished();

    QNetworkAccessManager *m_network;
    QPointer<QNetworkReply> m_reply;
    QString m_target;
};

} // namespace stipple::ui
