// stipple-cli sub-commands. Each lives in its own file and registers itself
// on the CLI11 app; the returned callback runs after parsing.
#pragma once

#include <CLI/CLI.hpp>

#include <functional>

namespace stipple::cli {

// Every command returns the process exit code.
using CommandRunner = std::function<int()>;

void registerInfoCommand(CLI::App &app, CommandRunner &runner);
void registerTokenizeCommand(CLI::App &app, CommandRunner &runner);
void registerGenerateCommand(CLI::App &app, CommandRunner &runner);
void registerExportCommand(CLI::App &app, CommandRunner &runner);
void registerEvalBuiltinCommand(CLI::App &app, CommandRunner &runner);

} // namespace stipple::cli
