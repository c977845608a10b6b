#include "core/text/VocabularyLocator.h"

#include "core/text/Sha256.h"

#include <cstdlib>
#include <filesystem>

namespace stipple::core {

namespace fs = std::filesystem;

std::string VocabularyLocator::appDataDir()
{
    // XDG Base Directory Specification: $XDG_DATA_HOME must be absolute to count.
    const char *xdg = std::getenv("XDG_DATA_HOME");
    if (xdg && xdg[0] == '/')
        return (fs::path(xdg) / "stipple").string();
    const char *home = std::getenv("HOME");
    if (home && home[0] != '\0')
        return (fs::path(home) / ".local" / "share" / "stipple").string();
    return {};
}

std::string VocabularyLocator::defaultClipBpePath()
{
    const std::string dir = appDataDir();
    return dir.empty() ? std::string() : (fs::path(dir) / kClipBpeFileName).string();
}

Result<std::string> VocabularyLocator::locateClipBpe(const std::string &userPath)
{
    std::error_code ec;
    std::string tried;
    if (!userPath.empty()) {
        fs::path p(userPath);
        if (fs::is_directory(p, ec))
            p /= kClipBpeFileName;
        if (fs::is_regular_file(p, ec))
            return p.string();
        tried += " " + p.string() + " (user setting);";
    }
    const std::string def = defaultClipBpePath();
    if (!def.empty()) {
        if (fs::is_regular_file(def, ec))
            return def;
        tried += " " + def + ";";
    }
    std::string where = def.empty() ? std::string("~/.local/share/stipple/")
                                    : fs::path(def).parent_path().string() + "/";
    return makeError(ErrorCode::MissingVocabulary,
                     std::string("CLIP vocabulary not found (this checkpoint has no tokenizer folder). Put "
                                 "openai's ") +
                         kClipBpeFileName + " (" + std::to_string(kClipBpeSize) +
                         " bytes, sha256 " + kClipBpeSha256 + ") into " + where +
                         " or choose its path in the settings. Download: " + kClipBpeUrl +
                         ". Tried:" + tried);
}

Status VocabularyLocator::verifyClipBpe(const std::string &path)
{
    auto hash = Sha256::fileHex(path);
    if (!hash)
        return hash.error();
    if (hash.value() != kClipBpeSha256)
        return makeError(ErrorCode::CorruptFile, path + ": checksum mismatch (sha256 " + hash.value() +
                                                     ", expected " + kClipBpeSha256 + " for " +
                                                     kClipBpeFileName + ")");
    return {};
}

} // namespace stipple::core
