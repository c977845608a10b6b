// stipple: the desktop studio. Prepares the process (BLAS core type, threads)
// before Qt starts, loads the German translation on German systems, restores
// the last session and opens the main window. The model loads in the
// background; the window opens at once, with or without one.
#include "core/common/Log.h"
#include "core/common/Paths.h"
#include "core/common/Runtime.h"
#include "ui/bridge/Settings.h"
#include "ui/widgets/MainWindow.h"

#include <QApplication>
#include <QDir>
#include <QFileInfo>
#include <QLibraryInfo>
#include <QLocale>
#include <QLoggingCategory>
#include <QTranslator>

#ifndef STIPPLE_VERSION
#define STIPPLE_VERSION "0.1.0" // app/CMakeLists.txt may pass PROJECT_VERSION
#endif

namespace {

Q_LOGGING_CATEGORY(lcApp, "stipple.app")

// Loads Stipple's and Qt's own German strings when the system locale is German.
void installTranslations(QApplication &app)
{
    const QLocale locale = QLocale::system();
    if (locale.language() != QLocale::German)
        return;
    auto *qtTranslator = new QTranslator(&app);
    if (qtTranslator->load(locale, QStringLiteral("qtbase"), QStringLiteral("_"),
                           QLibraryInfo::path(QLibraryInfo::TranslationsPath)))
        QApplication::installTranslator(qtTranslator);
    auto *translator = new QTranslator(&app);
    // Next to the binary (build tree: bin/translations), then the installed share folder.
    const QString appDir = QApplication::applicationDirPath();
    const QStringList dirs = {appDir + QStringLiteral("/translations"),
                              appDir + QStringLiteral("/../share/stipple/translations")};
    for (const QString &dir : dirs) {
        if (translator->load(locale, QStringLiteral("stipple"), QStringLiteral("_"), dir)) {
            QApplication::installTranslator(translator);
            qCInfo(lcApp) << "translation loaded from" << dir;
            return;
        }
    }
    qCWarning(lcApp) << "no German translation found in" << dirs;
}

} // namespace

int main(int argc, char **argv)
{
    // Must run before anything loads BLAS (it may re-execute the binary).
    stipple::core::prepareProcessEnvironment(argc, argv);

    QApplication app(argc, argv);
    QApplication::setOrganizationName(QStringLiteral("Stipple"));
    QApplication::setApplicationName(QStringLiteral("stipple"));
    QApplication::setApplicationDisplayName(QStringLiteral("Stipple"));
    QApplication::setApplicationVersion(QStringLiteral(STIPPLE_VERSION));
    installTranslations(app);

    stipple::ui::Settings settings;
    stipple::core::RuntimeOptions options;
    options.threads = settings.threads();
    const stipple::core::RuntimeInfo runtime = stipple::core::configureRuntime(options);
    const std::string line = stipple::core::describeRuntime(runtime);
    stipple::core::logInfo(line);
    qCInfo(lcApp).noquote() << QString::fromStdString(line);

    stipple::ui::MainWindow window(&settings);
    window.show();
    // Reopen the last model in the background (the window stays usable).
    // Without one, the built-in model (resources/builtin-model) so a fresh
    // install generates at once.
    const QString lastModel = settings.lastModel();
    if (!lastModel.isEmpty() && QFileInfo::exists(lastModel)) {
        window.loadModel(lastModel);
    } else {
        const QString builtin = QString::fromStdString(stipple::core::builtinModelPath());
        if (!builtin.isEmpty())
            window.loadModel(builtin);
    }
    return app.exec();
}
