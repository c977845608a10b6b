// Placeholder until the 'generate' command lands.
#include "app/cli/Commands.h"

namespace stipple::cli {

void registerGenerateCommand(CLI::App &app, CommandRunner &runner)
{
    (void)app;
    (void)runner;
}

} // namespace stipple::cli
