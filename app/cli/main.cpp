// stipple-cli: headless front end over core (no Qt).
#include "app/cli/Commands.h"

#include "core/common/Log.h"
#include "core/common/Runtime.h"

#include <cstdio>

int main(int argc, char **argv)
{
    stipple::core::prepareProcessEnvironment(argc, argv);

    CLI::App app{"stipple-cli: Stable Diffusion from the command line"};
    app.require_subcommand(1);
    int threads = 0;
    bool verbose = false;
    app.add_option("-t,--threads", threads, "torch threads (default: physical cores)");
    app.add_flag("-v,--verbose", verbose, "log runtime details to stderr");

    stipple::cli::CommandRunner runner;
    stipple::cli::registerInfoCommand(app, runner);
    stipple::cli::registerTokenizeCommand(app, runner);
    stipple::cli::registerGenerateCommand(app, runner);
    stipple::cli::registerExportCommand(app, runner);
    stipple::cli::registerEvalBuiltinCommand(app, runner);

    CLI11_PARSE(app, argc, argv);

    stipple::core::setLogSink([verbose](stipple::core::LogLevel level, const std::string &msg) {
        if (verbose || level >= stipple::core::LogLevel::Warning)
            std::fprintf(stderr, "stipple: %s\n", msg.c_str());
    });
    stipple::core::RuntimeOptions options;
    options.threads = threads;
    stipple::core::configureRuntime(options);
    return runner ? runner() : 2;
}
