// Where Stipple's own files are at run time, relative to the executable, so a
// build tree, an installed package and a relocated copy all work.
// Thread-safety: pure functions (read /proc and the environment).
#pragma once

#include <string>

namespace stipple::core {

// Folder of the running executable ("" if unknown).
std::string executableDir();

// The built-in model's diffusers folder, searched in order:
// $STIPPLE_BUILTIN_MODEL, <exe>/../share/stipple/builtin-model,
// <exe>/../resources/builtin-model, <exe>/../../resources/builtin-model
// (build tree), and the source tree the binary was built from.
// Returns "" when none has a model_index.json.
std::string builtinModelPath();

} // namespace stipple::core
