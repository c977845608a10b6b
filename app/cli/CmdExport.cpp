// Placeholder until the 'export' command lands.
#include "app/cli/Commands.h"

namespace stipple::cli {

void registerExportCommand(CLI::App &app, CommandRunner &runner)
{
    (void)app;
    (void)runner;
}

} // namespace stipple::cli
