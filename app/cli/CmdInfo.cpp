// Placeholder until the 'info' command lands.
#include "app/cli/Commands.h"

namespace stipple::cli {

void registerInfoCommand(CLI::App &app, CommandRunner &runner)
{
    (void)app;
    (void)runner;
}

} // namespace stipple::cli
