// Placeholder until the 'eval-builtin' command lands.
#include "app/cli/Commands.h"

namespace stipple::cli {

void registerEvalBuiltinCommand(CLI::App &app, CommandRunner &runner)
{
    (void)app;
    (void)runner;
}

} // namespace stipple::cli
