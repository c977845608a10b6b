// Opening a Stable Diffusion model: a diffusers folder (model_index.json +
// unet/ vae/ text_encoder/ tokenizer/ scheduler/) or an original single-file
// checkpoint (LDM key layout, .safetensors only). Weights are returned under
// diffusers names with a diffusers config.json for each component, so the
// modules in core/models can be built from the config alone and loaded
// strictly. Pickle checkpoints (.ckpt/.pt/.pth/.bin) are refused.
// Buffers that are not weights are never included: the CLIP
// `text_model.embeddings.position_ids` (arange(77)) is dropped in both layouts,
// as are OpenCLIP's text_projection / logit_scale and its unused last block.
// Thread-safety: openCheckpoint() is reentrant; a Checkpoint is a plain
// value whose tensors may alias a read-only file mapping (never mutate them
// in place).
#pragma once

#include "core/common/Result.h"
#include "core/io/ModelInfo.h"
#include "core/io/StateDict.h"

#include <c10/core/ScalarType.h>
#include <nlohmann/json.hpp>

#include <optional>
#include <string>

namespace stipple::core {

struct ComponentWeights {
    nlohmann::json config; // diffusers config.json content, synthesised for single files
    StateDict weights;     // diffusers names
    std::string source;    // file the weights came from
};

struct OpenOptions {
    std::string vaePath;                   // standalone VAE overriding the checkpoint's
    std::optional<c10::ScalarType> dtype;  // floats converted to this; nullopt = as stored
    std::optional<c10::ScalarType> vaeDtype; // the VAE's floats, when it runs in another dtype
    // The UNet's 4-D float weights (its convolutions) stay unconverted views
    // of the file, for a caller that converts each one while packing it
    // (loadUNetPackingLater during the first steps, loadUNetForInference as
    // it loads): their plain converted copy, 2.25 GB of fresh memory in
    // float32 for SD 1.5, is then never written. Hold a MappedFilesScope
    // around the open and the load; its mappings let each view's pages be
    // released once read.
    bool deferUnetConvWeights = false;
    // The same for the UNet's 2-D float weights (its linear layers): packed
    // in float32 (oneDNN's matmul, Linear.h; 1.2 GB of fresh memory for
    // SD 1.5), converted in other dtypes.
    bool deferUnetLinearWeights = false;
    // The text encoder's 2-D float weights (linear layers, embeddings) stay
    // views too, for a model that converts them at each use
    // (MatrixStorage::AsGiven, as TextConditioner::fromCheckpoint loads it):
    // 0.49 GB of fresh memory in float32 for SD 1.5, 1.4 GB for SD 2.x.
    bool deferTextEncoderMatrices = false;
    // The VAE's floats stay views (vaeDtype is then not applied), for
    // loadVaeForInference, which converts them at the VAE's first use: 0.33
    // GB of fresh memory for SD 1.5 that a load no longer writes.
    bool deferVaeWeights = false;
};

struct Checkpoint {
    ModelInfo info;
    ComponentWeights unet, vae, textEncoder;
    // diffusers scheduler_config.json; synthesised for single files
    // (SD1.5-style PNDM config with the detected prediction_type).
    nlohmann::json schedulerConfig;
    std::string tokenizerDir; // folder with vocab.json + merges.txt, empty for single files
};

// Tensors are zero-copy views of the mapped files when options.dtype is
// nullopt (or equals the stored dtype), and so are the UNet's 4-D (2-D)
// weights under deferUnetConvWeights (deferUnetLinearWeights), the text
// encoder's 2-D weights under deferTextEncoderMatrices and the VAE's under
// deferVaeWeights; converted tensors of a component share one
// huge-page-backed arena, freed when the last of them goes.
// A view keeps its file mapped while a module holds it (as every tensor of
// a float32 file computed in float32 always did): a file truncated in place
// meanwhile (`cp` over it; a rename over it is safe) faults at the next read,
// as any memory-mapped model does.
// Opens, detects, maps keys and loads all weights (ModelInfo::openSeconds =
// header parsing + mmap, loadSeconds = key mapping + conversion).
// Errors: FileNotFound, IoError, CorruptFile, UnsafeFormat (pickles),
// UnsupportedModel (SDXL, SD3, Flux), UnknownModel, MissingKeys.
Result<Checkpoint> openCheckpoint(const std::string &path, const OpenOptions &options = {});

// A regular file named *.safetensors (any case): the single-file layout,
// which carries no tokenizer (it needs CLIP's vocabulary file).
bool isSingleSafetensorsFile(const std::string &path);


} // namespace stipple::core
