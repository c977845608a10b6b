// VocabularyLocator: where the CLIP BPE vocabulary comes from when a model has
// no tokenizer folder (single-file .safetensors checkpoints carry none).
// Search order: (1) a user-set path (the file itself, or a folder holding it),
// (2) the app's data folder ($XDG_DATA_HOME/stipple/, else ~/.local/share/stipple/).
// When neither has it, an ErrorCode::MissingVocabulary error says which file to
// put where (and where to download it). Downloading itself is the GUI's job;
// verifyClipBpe() checks a file against openai's published file.
// Thread-safety: reentrant static functions (reads the environment).
#pragma once

#include "core/common/Result.h"

#include <string>

namespace stipple::core {

class VocabularyLocator {
public:
    // openai/CLIP's byte-level BPE merges (used by SD1's and SD2's text encoders).
    static constexpr const char *kClipBpeFileName = "bpe_simple_vocab_16e6.txt.gz";
    static constexpr const char *kClipBpeUrl =
        "https://raw.githubusercontent.com/openai/CLIP/main/clip/bpe_simple_vocab_16e6.txt.gz";
    static constexpr const char *kClipBpeSha256 =
        "924691ac288e54409236115652ad4aa250f48203de50a9e4722a6ecd48d6804a";
    static constexpr long long kClipBpeSize = 1356917;

    // $XDG_DATA_HOME/stipple, else $HOME/.local/share/stipple (no trailing '/';
    // empty when neither variable is set). Not created here.
    static std::string appDataDir();
    // appDataDir() + "/" + kClipBpeFileName (empty when appDataDir() is).
    static std::string defaultClipBpePath();

    // The first existing candidate; userPath may be empty, a file, or a folder.
    // Errors: MissingVocabulary with a message naming the file and the folder.
    static Result<std::string> locateClipBpe(const std::string &userPath = {});

    // The file's SHA-256 equals kClipBpeSha256. Errors: FileNotFound/IoError,
    // CorruptFile ("checksum mismatch", with both hashes).
    static Status verifyClipBpe(const std::string &path);
};

} // namespace stipple::core
