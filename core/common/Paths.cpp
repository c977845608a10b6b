#include "core/common/Paths.h"

#include <cstdlib>
#include <filesystem>
#include <system_error>
#include <vector>

namespace fs = std::filesystem;

namespace stipple::core {

std::string executableDir()
{
    std::error_code ec;
    const fs::path exe = fs::read_symlink("/proc/self/exe", ec);
    return ec ? std::string() : exe.parent_path().string();
}

std::string builtinModelPath()
{
    std::vector<fs::path> candidates;
    if (const char *env = std::getenv("STIPPLE_BUILTIN_MODEL"))
        candidates.emplace_back(env);
    const std::string exeDir = executableDir();
    if (!exeDir.empty()) {
        const fs::path d(exeDir);
        candidates.push_back(d / "../share/stipple/builtin-model");
        candidates.push_back(d / "../resources/builtin-model");
        candidates.push_back(d / "../../resources/builtin-model");
        candidates.push_back(d / "../../../resources/builtin-model");
    }
#ifdef STIPPLE_SOURCE_ROOT
    candidates.push_back(fs::path(STIPPLE_SOURCE_ROOT) / "resources/builtin-model");
#endif
    for (const auto &c : candidates) {
        std::error_code ec;
        if (fs::exists(c / "model_index.json", ec))
            return fs::weakly_canonical(c, ec).string();
    }
    return {};
}

} // namespace stipple::core
