// Diffusers folder helpers (see DiffusersFolder.h).
#include "core/models/common/DiffusersFolder.h"

#include "core/io/SafeTensors.h"

#include <filesystem>
#include <fstream>

namespace stipple::core {

Result<nlohmann::json> readJsonFile(const std::string &path)
{
    std::ifstream in(path);
    if (!in)
        return makeError(ErrorCode::FileNotFound, "cannot open " + path);
    try {
        return nlohmann::json::parse(in);
    } catch (const nlohmann::json::exception &e) {
        return makeError(ErrorCode::CorruptFile, path + ": " + e.what());
    }
}

Result<StateDict> readSafeTensorsFloat(const std::string &path)
{
    auto file = SafeTensorsFile::open(path);
    if (!file)
        return file.error();
    return file->loadAll(at::kFloat);
}

Result<std::string> findDiffusersWeights(const std::string &dir)
{
    namespace fs = std::filesystem;
    for (const char *name : {"diffusion_pytorch_model.safetensors", "model.safetensors"}) {
        const fs::path p = fs::path(dir) / name;
        std::error_code ec;
        if (fs::exists(p, ec))
            return p.string();
    }
    return makeError(ErrorCode::FileNotFound,
                     "no diffusion_pytorch_model.safetensors in " + dir +
                         " (only safetensors weights are supported)");
}

} // namespace stipple::core
