// Infotext: the "parameters" text AUTOMATIC1111 stores in its PNGs, and its
// inverse for "PNG Info". Format (stable-diffusion-webui modules/processing.py
// create_infotext, modules/infotext_utils.py parse_generation_parameters):
//
//   <prompt, possibly several lines>
//   Negative prompt: <negative prompt, possibly several lines>
//   Steps: 20, Sampler: Euler a, CFG scale: 7, Seed: 123, Size: 512x512, ...
//
// The last line holds "Key: value" pairs separated by ", "; a value that
// contains ',', ':' or a newline is written as a JSON string ("quote").
// The negative prompt line is omitted when empty.
// Thread-safety: pure functions.
#pragma once

#include "core/pipeline/Request.h"

#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace stipple::core {

struct Infotext {
    std::string prompt;
    std::string negativePrompt;
    std::vector<std::pair<std::string, std::string>> params; // in order

    // Value of `key`, or nullopt.
    std::optional<std::string> get(const std::string &key) const;
    void set(const std::string &key, const std::string &value); // replaces or appends
};

// What the infotext says about the model and the image it belongs to.
struct InfotextContext {
    std::int64_t seed = 0;        // the seed of this image
    int width = 0, height = 0;    // output size
    std::string modelName;        // e.g. "v1-5-pruned-emaonly"
    std::string modelHash;        // first 10 hex digits of the file's SHA-256 (A1111 "Model hash")
    std::string vaeName;          // standalone VAE, if any
    int batchPos = 0;             // index inside the batch (written when batchSize > 1)
    std::string version;          // e.g. "stipple 0.1.0"
};

// A1111 quote(): JSON string when the value contains ',', ':' or '\n'.
std::string quoteInfotextValue(const std::string &value);

// The infotext of one image of `request`.
Infotext makeInfotext(const GenerationRequest &request, const InfotextContext &context);

// Text form (A1111 layout, see above).
std::string formatInfotext(const Infotext &info);

// Parses the text form. The last line is the parameter line only when it
// holds at least 3 "Key: value" pairs (as A1111 decides); otherwise it is
// part of the prompt.
Infotext parseInfotext(const std::string &text);

// Fills the fields of `request` that the infotext names (prompt, negative
// prompt, steps, sampler, schedule type, CFG scale, seed, size, clip skip,
// denoising strength, mask blur, eta). Unknown keys are ignored; values that
// do not parse leave the field unchanged.
void applyInfotext(const Infotext &info, GenerationRequest &request);

} // namespace stipple::core
