// Implementation of the sentencepiece shim (see SpmShim.h). Built as a MODULE
// library that alone links libsentencepiece.
#include "core/text/spm/SpmShim.h"

#include <sentencepiece_processor.h>

#include <algorithm>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#define STIPPLE_SPM_EXPORT extern "C" __attribute__((visibility("default")))

struct StippleSpm {
    sentencepiece::SentencePieceProcessor processor;
};

namespace {

void writeMessage(const std::string &msg, char *out, size_t size)
{
    if (!out || size == 0)
        return;
    const size_t n = std::min(msg.size(), size - 1);
    std::memcpy(out, msg.data(), n);
    out[n] = '\0';
}

long copyText(const std::string &text, char *out, long capacity)
{
    if (out && capacity > 0) {
        const size_t n = std::min(text.size(), static_cast<size_t>(capacity - 1));
        std::memcpy(out, text.data(), n);
        out[n] = '\0';
    }
    return static_cast<long>(text.size());
}

} // namespace

STIPPLE_SPM_EXPORT int stipple_spm_abi_version(void) { return STIPPLE_SPM_ABI_VERSION; }

STIPPLE_SPM_EXPORT StippleSpm *stipple_spm_load(const char *path, char *err, size_t errSize)
{
    if (!path) {
        writeMessage("no model path given", err, errSize);
        return nullptr;
    }
    try {
        auto spm = std::make_unique<StippleSpm>();
        const auto status = spm->processor.Load(path);
        if (!status.ok()) {
            writeMessage(status.ToString(), err, errSize);
            return nullptr;
        }
        return spm.release();
    } catch (const std::exception &e) {
        writeMessage(e.what(), err, errSize);
        return nullptr;
    }
}

STIPPLE_SPM_EXPORT void stipple_spm_free(StippleSpm *spm) { delete spm; }

STIPPLE_SPM_EXPORT long stipple_spm_encode(const StippleSpm *spm, const char *text, size_t textLen,
                                           int *ids, long capacity)
{
    if (!spm || (!text && textLen > 0))
        return -1;
    try {
        std::vector<int> out;
        const auto status = spm->processor.Encode(std::string(text ? text : "", textLen), &out);
        if (!status.ok())
            return -1;
        if (ids && capacity > 0)
            std::copy_n(out.begin(), std::min<long>(capacity, static_cast<long>(out.size())), ids);
        return static_cast<long>(out.size());
    } catch (...) {
        return -1;
    }
}

STIPPLE_SPM_EXPORT long stipple_spm_decode(const StippleSpm *spm, const int *ids, long count,
                                           char *out, long capacity)
{
    if (!spm || count < 0 || (!ids && count > 0))
        return -1;
    try {
        std::vector<int> v(ids, ids + count);
        std::string text;
        const auto status = spm->processor.Decode(v, &text);
        if (!status.ok())
            return -1;
        return copyText(text, out, capacity);
    } catch (...) {
        return -1;
    }
}

STIPPLE_SPM_EXPORT int stipple_spm_vocab_size(const StippleSpm *spm)
{
    return spm ? spm->processor.GetPieceSize() : -1;
}

STIPPLE_SPM_EXPORT int stipple_spm_piece_to_id(const StippleSpm *spm, const char *piece)
{
    if (!spm || !piece)
        return -1;
    return spm->processor.PieceToId(piece);
}

STIPPLE_SPM_EXPORT long stipple_spm_id_to_piece(const StippleSpm *spm, int id, char *out,
                                                long capacity)
{
    if (!spm || id < 0 || id >= spm->processor.GetPieceSize())
        return -1;
    return copyText(spm->processor.IdToPiece(id), out, capacity);
}

STIPPLE_SPM_EXPORT int stipple_spm_bos_id(const StippleSpm *spm) { return spm ? spm->processor.bos_id() : -1; }
STIPPLE_SPM_EXPORT int stipple_spm_eos_id(const StippleSpm *spm) { return spm ? spm->processor.eos_id() : -1; }
STIPPLE_SPM_EXPORT int stipple_spm_pad_id(const StippleSpm *spm) { return spm ? spm->processor.pad_id() : -1; }
STIPPLE_SPM_EXPORT int stipple_spm_unk_id(const StippleSpm *spm) { return spm ? spm->processor.unk_id() : -1; }
