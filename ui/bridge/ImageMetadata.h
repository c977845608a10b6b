// Generation parameters stored in PNG text chunks, in the three formats users
// bring: AUTOMATIC1111's "parameters" infotext, ComfyUI's "prompt" graph JSON
// and InvokeAI's "invokeai_metadata" JSON. Parsing, formatting (A1111) and
// restoring into a core::GenerationRequest.
//
// A1111 infotext layout (modules/processing.py create_infotext, read back by
// modules/infotext_utils.py parse_generation_parameters):
//   <prompt, may span lines>
//   Negative prompt: <negative, may span lines>
//   Steps: 20, Sampler: Euler a, CFG scale: 7, Seed: 1, Size: 512x512, Model: x, ...
// The last line holds "Key: value" pairs separated by ", "; a value containing
// ',' ':' or '"' is written as a JSON string in double quotes.
//
// Thread-safety: free functions and plain values, reentrant.
#pragma once

#include "core/pipeline/Request.h"

#include <QList>
#include <QPair>
#include <QString>
#include <QStringList>

namespace stipple::ui {

enum class MetadataSource { None, A1111, ComfyUI, InvokeAI };

struct ImageMetadata {
    MetadataSource source = MetadataSource::None;
    QString prompt;
    QString negativePrompt;
    QString sampler;          // A1111 name ("Euler a", "DPM++ 2M", ...)
    QString scheduleType;     // "" or "karras", "exponential", ...
    int steps = 0;            // 0 = not given
    double cfgScale = 0;      // 0 = not given
    qint64 seed = -1;         // -1 = not given
    int width = 0, height = 0;// 0 = not given
    QString model;            // model name
    QString modelHash;
    double denoisingStrength = -1; // < 0 = not given (txt2img)
    int clipSkip = 0;              // 0 = not given
    double eta = -1;               // < 0 = not given
    int batchSize = 0;             // 0 = not given
    // Every other "Key: value" pair, in order (e.g. "Version", "Mask blur").
    QList<QPair<QString, QString>> extra;
    // Order of the parameter keys as read; formatInfotext keeps it, then adds
    // the other known keys in A1111 order, then the remaining extras.
    QStringList keyOrder;
    QString raw;              // the chunk text the metadata came from

    bool isEmpty() const { return source == MetadataSource::None; }
    // Value of a known or extra key by its A1111 name, empty when absent.
    QString value(const QString &key) const;
};

// Result of reading a file: metadata, or a translated reason why there is none
// ("This image has no generation parameters.", "Not a PNG image.", ...).
struct MetadataReadResult {
    ImageMetadata metadata;
    QString error;            // empty on success
    bool ok() const { return error.isEmpty(); }
};

// Parses A1111 infotext. Text without a parameter line is taken as a bare
// prompt (source A1111, steps etc. not given). Empty text -> source None.
ImageMetadata parseInfotext(const QString &text);

// Formats A1111 infotext; parseInfotext(formatInfotext(m)) restores m's fields.
// Both delegate the text layout to core/pipeline/Infotext.h (the writer used
// for every generated image), so parse and format are exact inverses of it.
QString formatInfotext(const ImageMetadata &metadata);

// Parses ComfyUI's "prompt" chunk (API graph: {"id": {"class_type", "inputs"}}).
// Follows KSampler / KSamplerAdvanced positive/negative links to CLIPTextEncode
// text, the latent link to EmptyLatentImage for the size, and the model link
// to a checkpoint loader for the name. Returns source None when not found.
ImageMetadata parseComfyPrompt(const QString &json);

// Parses InvokeAI's "invokeai_metadata" chunk.
ImageMetadata parseInvokeMetadata(const QString &json);

// Picks the best of the known chunks in PNG text (keys as in QImage::textKeys()):
// "parameters" (A1111), then "invokeai_metadata", then "prompt" (ComfyUI).
ImageMetadata metadataFromTextChunks(const QList<QPair<QString, QString>> &chunks);

// Reads a PNG's text chunks (header only, pixels are not decoded).
MetadataReadResult readImageMetadata(const QString &path);

// All tEXt / zTXt / iTXt chunks of a PNG, in file order, values verbatim (for a
// "PNG info" view). Note: QImageReader::text() must not be used for infotext,
// it collapses newlines (QString::simplified). error: translated, empty on success.
QList<QPair<QString, QString>> readPngTextChunks(const QString &path, QString *error = nullptr);

// Metadata <-> request. toMetadata describes what a request produced (used when
// the core gave no infotext). applyToRequest overwrites only the fields the
// metadata gives; the sampler name is mapped to A1111 spelling.
ImageMetadata toMetadata(const core::GenerationRequest &request, qint64 seed,
                         const QString &modelName = {});
void applyToRequest(const ImageMetadata &metadata, core::GenerationRequest &request);

// Maps ComfyUI/InvokeAI/diffusers sampler names to A1111 names
// ("euler_ancestral" -> "Euler a"); returns the input when unknown.
QString a1111SamplerName(const QString &name, QString *scheduleType = nullptr);

} // namespace stipple::ui
