// stipple: the desktop studio (placeholder until ui/widgets lands).
#include "core/common/Runtime.h"

#include <QApplication>
#include <QLabel>

int main(int argc, char **argv)
{
    stipple::core::prepareProcessEnvironment(argc, argv);
    QApplication app(argc, argv);
    stipple::core::configureRuntime();
    QLabel label(QObject::tr("Stipple: open a model to begin."));
    label.show();
    return app.exec();
}
