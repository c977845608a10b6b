#include "core/io/SafeTensorsHeader.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <exception>
#include <limits>

namespace stipple::core {

namespace {

Error corrupt(const std::string &label, const std::string &what)
{
    return makeError(ErrorCode::CorruptFile, "'" + label + "': " + what);
}

Error corruptTensor(const std::string &label, const std::string &tensor, const std::string &what)
{
    return makeError(ErrorCode::CorruptFile, "'" + label + "': tensor '" + tensor + "': " + what);
}

// Names from hostile files end up in messages: keep them printable and short.
std::string printable(const std::string &s)
{
    std::string out;
    for (unsigned char c : s) {
        if (out.size() >= 120) {
            out += "...";
            break;
        }
        if (c >= 0x20 && c < 0x7f)
            out += static_cast<char>(c);
        else
            out += '?';
    }
    return out;
}

// A JSON number that is a non-negative integer fitting in `limit`.
bool readUnsigned(const nlohmann::json &j, std::uint64_t limit, std::uint64_t &out)
{
    if (j.is_number_unsigned()) {
        out = j.get<std::uint64_t>();
        return out <= limit;
    }
    if (j.is_number_integer()) {
        const std::int64_t v = j.get<std::int64_t>();
        if (v < 0)
            return false;
        out = static_cast<std::uint64_t>(v);
        return out <= limit;
    }
    return false;
}

} // namespace

std::size_t safeTensorsItemSize(std::string_view dtype)
{
    if (dtype == "F64" || dtype == "I64")
        return 8;
    if (dtype == "F32" || dtype == "I32")
        return 4;
    if (dtype == "F16" || dtype == "BF16" || dtype == "I16")
        return 2;
    if (dtype == "I8" || dtype == "U8" || dtype == "BOOL")
        return 1;
    return 0;
}

Result<SafeTensorsHeader> parseSafeTensorsHeader(std::string_view json, std::uint64_t dataSize,
                                                 const std::string &label)
{
    try {
        const nlohmann::json root = nlohmann::json::parse(json.begin(), json.end(), nullptr,
                                                          /*allow_exceptions=*/false);
        if (root.is_discarded())
            return corrupt(label, "the header is not valid JSON");
        if (!root.is_object())
            return corrupt(label, "the header is not a JSON object");

        SafeTensorsHeader header;
        header.dataSize = dataSize;
        header.tensors.reserve(root.size());
        for (auto it = root.begin(); it != root.end(); ++it) {
            const std::string &key = it.key();
            const nlohmann::json &value = it.value();
            if (key == "__metadata__") {
                if (!value.is_object())
                    return corrupt(label, "__metadata__ is not a JSON object");
                for (auto m = value.begin(); m != value.end(); ++m) {
                    if (!m.value().is_string())
                        return corrupt(label, "__metadata__ entry '" + printable(m.key())
                                                  + "' is not a string");
                    header.metadata[m.key()] = m.value().get<std::string>();
                }
                continue;
            }
            const std::string name = printable(key);
            if (!value.is_object())
                return corruptTensor(label, name, "entry is not a JSON object");
            const auto dtypeIt = value.find("dtype");
            const auto shapeIt = value.find("shape");
            const auto offIt = value.find("data_offsets");
            if (dtypeIt == value.end() || !dtypeIt->is_string())
                return corruptTensor(label, name, "missing or non-string 'dtype'");
            if (shapeIt == value.end() || !shapeIt->is_array())
                return corruptTensor(label, name, "missing or non-array 'shape'");
            if (offIt == value.end() || !offIt->is_array() || offIt->size() != 2)
                return corruptTensor(label, name, "'data_offsets' must be an array of two integers");

            SafeTensorInfo info;
            info.name = key;
            info.dtype = dtypeIt->get<std::string>();
            const std::size_t itemSize = safeTensorsItemSize(info.dtype);
            if (itemSize == 0)
                return corruptTensor(label, name,
                                     "unsupported dtype '" + printable(info.dtype)
                                         + "' (known: F64 F32 F16 BF16 I64 I32 I16 I8 U8 BOOL)");

            // numel x itemsize, refusing overflow at every step.
            std::uint64_t bytes = itemSize;
            info.shape.reserve(shapeIt->size());
            for (const auto &dim : *shapeIt) {
                std::uint64_t d = 0;
                if (!readUnsigned(dim, static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max()), d))
                    return corruptTensor(label, name, "shape entries must be non-negative integers");
                info.shape.push_back(static_cast<std::int64_t>(d));
                if (__builtin_mul_overflow(bytes, d, &bytes))
                    return corruptTensor(label, name, "shape is too large (byte size overflows)");
            }
            if (info.shape.size() > 64)
                return corruptTensor(label, name, "too many dimensions");

            std::uint64_t begin = 0;
            std::uint64_t end = 0;
            if (!readUnsigned((*offIt)[0], std::numeric_limits<std::uint64_t>::max(), begin)
                || !readUnsigned((*offIt)[1], std::numeric_limits<std::uint64_t>::max(), end))
                return corruptTensor(label, name, "'data_offsets' must be non-negative integers");
            if (begin > end)
                return corruptTensor(label, name,
                                     "data_offsets begin " + std::to_string(begin) + " > end "
                                         + std::to_string(end));
            if (end > dataSize)
                return corruptTensor(label, name,
                                     "data_offsets [" + std::to_string(begin) + ", "
                                         + std::to_string(end) + ") outside the data section ("
                                         + std::to_string(dataSize) + " bytes; file truncated?)");
            if (end - begin != bytes)
                return corruptTensor(label, name,
                                     "size mismatch: " + info.dtype + " shape needs "
                                         + std::to_string(bytes) + " bytes, data_offsets span "
                                         + std::to_string(end - begin));
            info.begin = begin;
            info.end = end;
            header.tensors.push_back(std::move(info));
        }

        // Overlap check: sort by begin; empty tensors occupy no bytes.
        std::vector<const SafeTensorInfo *> byOffset;
        byOffset.reserve(header.tensors.size());
        for (const auto &t : header.tensors)
            if (t.end > t.begin)
                byOffset.push_back(&t);
        std::sort(byOffset.begin(), byOffset.end(), [](const auto *a, const auto *b) {
            return a->begin != b->begin ? a->begin < b->begin : a->name < b->name;
        });
        for (std::size_t i = 1; i < byOffset.size(); ++i) {
            if (byOffset[i]->begin < byOffset[i - 1]->end)
                return corruptTensor(label, printable(byOffset[i]->name),
                                     "data overlaps tensor '" + printable(byOffset[i - 1]->name) + "'");
        }

        std::sort(header.tensors.begin(), header.tensors.end(),
                  [](const SafeTensorInfo &a, const SafeTensorInfo &b) { return a.name < b.name; });
        return header;
    } catch (const std::exception &e) {
        // nlohmann type/out-of-range errors or bad_alloc: never escape.
        return corrupt(label, std::string("malformed header: ") + e.what());
    }
}

Result<SafeTensorsHeader> parseSafeTensorsPrefix(const std::uint8_t *data, std::size_t available,
                                                 std::uint64_t fileSize, const std::string &label)
{
    if (fileSize < 8 || available < 8)
        return corrupt(label, "file too small to be safetensors (" + std::to_string(fileSize)
                                  + " bytes; truncated?)");
    std::uint64_t n = 0;
    for (int i = 7; i >= 0; --i)
        n = (n << 8) | data[i];
    if (n > kMaxSafeTensorsHeaderBytes)
        return corrupt(label, "header length " + std::to_string(n) + " exceeds the limit of "
                                  + std::to_string(kMaxSafeTensorsHeaderBytes)
                                  + " bytes (not a safetensors file?)");
    if (n > fileSize - 8)
        return corrupt(label, "header length " + std::to_string(n) + " exceeds the file size ("
                                  + std::to_string(fileSize) + " bytes; truncated?)");
    if (n < 2)
        return corrupt(label, "header length " + std::to_string(n) + " is too small");
    if (available < 8 + n)
        return corrupt(label, "header not fully available");
    if (data[8] != '{')
        return corrupt(label, "the header does not start with '{' (not a safetensors file?)");
    auto header = parseSafeTensorsHeader(
        std::string_view(reinterpret_cast<const char *>(data + 8), static_cast<std::size_t>(n)),
        fileSize - 8 - n, label);
    if (header.ok())
        header->dataOffset = 8 + n;
    return header;
}

} // namespace stipple::core
