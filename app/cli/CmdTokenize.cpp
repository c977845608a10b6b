// Placeholder until the 'tokenize' command lands.
#include "app/cli/Commands.h"

namespace stipple::cli {

void registerTokenizeCommand(CLI::App &app, CommandRunner &runner)
{
    (void)app;
    (void)runner;
}

} // namespace stipple::cli
