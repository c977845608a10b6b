#include "core/io/SafeTensors.h"

#include "core/common/MemoryPages.h"

#include <ATen/ATen.h>
#include <c10/util/Exception.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <random>

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <nlohmann/json.hpp>

namespace stipple::core {

static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__,
              "safetensors data is little-endian; big-endian hosts need byte swapping");

// The whole file, mapped privately and copy-on-write (PROT_WRITE so that an
// accidental in-place op on a zero-copy tensor neither crashes nor changes
// the file). Unmapped when the last SafeTensorsFile or tensor referencing it
// goes away.
struct SafeTensorsFile::Mapping {
    void *addr = nullptr;
    std::size_t size = 0;
    int fd = -1; // kept open for MappedFiles::readBytesOf
    ~Mapping()
    {
        if (addr && addr != MAP_FAILED)
            ::munmap(addr, size);
        if (fd >= 0)
            ::close(fd);
    }
};

namespace {

thread_local MappedFilesScope *t_mappedFilesScope = nullptr;

std::string errnoText() { return std::strerror(errno); }

std::optional<c10::ScalarType> scalarTypeOf(const std::string &dtype)
{
    if (dtype == "F64") return at::kDouble;
    if (dtype == "F32") return at::kFloat;
    if (dtype == "F16") return at::kHalf;
    if (dtype == "BF16") return at::kBFloat16;
    if (dtype == "I64") return at::kLong;
    if (dtype == "I32") return at::kInt;
    if (dtype == "I16") return at::kShort;
    if (dtype == "I8") return at::kChar;
    if (dtype == "U8") return at::kByte;
    if (dtype == "BOOL") return at::kBool;
    return std::nullopt;
}

const char *dtypeNameOf(c10::ScalarType t)
{
    switch (t) {
    case at::kDouble: return "F64";
    case at::kFloat: return "F32";
    case at::kHalf: return "F16";
    case at::kBFloat16: return "BF16";
    case at::kLong: return "I64";
    case at::kInt: return "I32";
    case at::kShort: return "I16";
    case at::kChar: return "I8";
    case at::kByte: return "U8";
    case at::kBool: return "BOOL";
    default: return nullptr;
    }
}

bool isFloat(c10::ScalarType t)
{
    return t == at::kDouble || t == at::kFloat || t == at::kHalf || t == at::kBFloat16;
}

bool isInt(c10::ScalarType t)
{
    return t == at::kLong || t == at::kInt || t == at::kShort || t == at::kChar || t == at::kByte;
}

} // namespace

Result<SafeTensorsFile> SafeTensorsFile::open(const std::string &path)
{
    const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        const ErrorCode code = (errno == ENOENT || errno == ENOTDIR) ? ErrorCode::FileNotFound
                                                                     : ErrorCode::IoError;
        return makeError(code, "'" + path + "': cannot open: " + errnoText());
    }
    struct stat st {};
    if (::fstat(fd, &st) != 0) {
        const std::string why = errnoText();
        ::close(fd);
        return makeError(ErrorCode::IoError, "'" + path + "': cannot stat: " + why);
    }
    if (!S_ISREG(st.st_mode)) {
        ::close(fd);
        return makeError(ErrorCode::IoError, "'" + path + "': not a regular file");
    }
    const auto fileSize = static_cast<std::uint64_t>(st.st_size);
    if (fileSize < 8) {
        ::close(fd);
        return makeError(ErrorCode::CorruptFile, "'" + path + "': file too small to be safetensors ("
                                                     + std::to_string(fileSize) + " bytes; truncated?)");
    }
    auto map = std::make_shared<Mapping>();
    map->size = static_cast<std::size_t>(fileSize);
    map->addr = ::mmap(nullptr, map->size, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
    const int mapErrno = errno;
    map->fd = fd;
    if (map->addr == MAP_FAILED) {
        map->addr = nullptr;
        return makeError(ErrorCode::IoError, "'" + path + "': mmap failed: " + std::strerror(mapErrno));
    }

    // Every enclosing scope learns of the mapping, so that a caller's scope
    // can release views that an inner one (openCheckpoint's) left mapped.
    for (MappedFilesScope *scope = t_mappedFilesScope; scope; scope = scope->m_outer)
        scope->m_files.m_mappings.push_back(map);

    auto header = parseSafeTensorsPrefix(static_cast<const std::uint8_t *>(map->addr), map->size,
                                         fileSize, path);
    if (!header)
        return header.error();

    SafeTensorsFile file;
    file.m_path = path;
    file.m_metadata = std::move(header->metadata);
    for (auto &t : header->tensors) {
        // Offsets are made absolute within the mapping.
        t.begin += header->dataOffset;
        t.end += header->dataOffset;
        file.m_names.push_back(t.name);
        std::string name = t.name;
        file.m_infos.emplace(std::move(name), std::move(t));
    }
    file.m_map = std::move(map);
    return file;
}

const std::string &SafeTensorsFile::path() const { return m_path; }
const std::vector<std::string> &SafeTensorsFile::names() const { return m_names; }
bool SafeTensorsFile::contains(const std::string &name) const { return m_infos.count(name) != 0; }

const SafeTensorInfo *SafeTensorsFile::info(const std::string &name) const
{
    const auto it = m_infos.find(name);
    return it == m_infos.end() ? nullptr : &it->second;
}

const std::map<std::string, std::string> &SafeTensorsFile::metadata() const { return m_metadata; }

Result<at::Tensor> SafeTensorsFile::tensor(const std::string &name,
                                           std::optional<c10::ScalarType> dtype) const
{
    const auto it = m_infos.find(name);
    if (it == m_infos.end() || !m_map)
        return makeError(ErrorCode::MissingKeys, "'" + m_path + "': no tensor '" + name + "'");
    const SafeTensorInfo &info = it->second;
    const auto stored = scalarTypeOf(info.dtype);
    if (!stored) // cannot happen: validated at open
        return makeError(ErrorCode::CorruptFile, "'" + m_path + "': tensor '" + name + "': bad dtype");
    if (dtype && *dtype != *stored) {
        const bool ok = (isFloat(*stored) && isFloat(*dtype)) || (isInt(*stored) && isInt(*dtype));
        if (!ok)
            return makeError(ErrorCode::InvalidArgument,
                             "'" + m_path + "': tensor '" + name + "': cannot convert " + info.dtype
                                 + " to " + c10::toString(*dtype));
    }
    try {
        auto options = at::TensorOptions().dtype(*stored).device(at::kCPU);
        char *base = static_cast<char *>(m_map->addr) + info.begin;
        const std::size_t itemSize = safeTensorsItemSize(info.dtype);
        at::Tensor t;
        if (info.end == info.begin) {
            t = at::empty(info.shape, options);
        } else if (reinterpret_cast<std::uintptr_t>(base) % itemSize != 0) {
            // Misaligned data (odd header length): copy instead of aliasing.
            t = at::empty(info.shape, options);
            std::memcpy(t.data_ptr(), base, info.end - info.begin);
        } else {
            std::shared_ptr<const Mapping> keep = m_map;
            t = at::from_blob(
                base, info.shape, [keep](void *) mutable { keep.reset(); }, options);
        }
        if (dtype && *dtype != *stored)
            t = t.to(*dtype);
        return t;
    } catch (const c10::Error &e) {
        return makeError(ErrorCode::Internal, "'" + m_path + "': tensor '" + name
                                                  + "': " + e.what_without_backtrace());
    } catch (const std::bad_alloc &) {
        return makeError(ErrorCode::OutOfMemory, "'" + m_path + "': tensor '" + name + "': out of memory");
    }
}

MappedFilesScope::MappedFilesScope() : m_outer(t_mappedFilesScope) { t_mappedFilesScope = this; }

MappedFilesScope::~MappedFilesScope() { t_mappedFilesScope = m_outer; }

void MappedFiles::releaseResidentPages() const
{
    for (const auto &weak : m_mappings)
        if (const auto map = weak.lock(); map && map->addr)
            ::madvise(map->addr, map->size, MADV_DONTNEED);
}

MappedFilesScope *MappedFilesScope::current() { return t_mappedFilesScope; }

std::shared_ptr<const SafeTensorsFile::Mapping> MappedFiles::mappingOf(const at::Tensor &t) const
{
    if (!t.defined() || !t.has_storage() || t.nbytes() == 0)
        return nullptr;
    const auto begin = reinterpret_cast<std::uintptr_t>(t.data_ptr());
    const auto end = begin + t.nbytes();
    for (const auto &weak : m_mappings) {
        auto map = weak.lock();
        if (!map || !map->addr)
            continue;
        const auto mapBegin = reinterpret_cast<std::uintptr_t>(map->addr);
        if (begin >= mapBegin && end <= mapBegin + map->size)
            return map;
    }
    return nullptr;
}

void MappedFiles::releasePagesOf(const at::Tensor &t) const
{
    if (mappingOf(t))
        releaseWholePages(t.data_ptr(), t.nbytes());
}

bool MappedFiles::readBytesOf(const at::Tensor &t, std::size_t offset, std::size_t bytes, void *dst) const
{
    const auto map = mappingOf(t);
    if (!map || map->fd < 0 || !t.is_contiguous() || offset + bytes > t.nbytes())
        return false;
    auto fileOffset = static_cast<off_t>(static_cast<const char *>(t.data_ptr()) -
                                         static_cast<const char *>(map->addr) + offset);
    auto *out = static_cast<char *>(dst);
    while (bytes > 0) {
        const ssize_t got = ::pread(map->fd, out, bytes, fileOffset);
        if (got < 0 && errno == EINTR)
            continue;
        if (got <= 0)
            return false; // the caller reads the view instead
        out += got;
        fileOffset += got;
        bytes -= static_cast<std::size_t>(got);
    }
    return true;
}

Result<StateDict> SafeTensorsFile::loadAll(std::optional<c10::ScalarType> floatDtype,
                                           const std::string &prefix) const
{
    StateDict out;
    for (const auto &name : m_names) {
        if (name.compare(0, prefix.size(), prefix) != 0)
            continue;
        const auto stored = scalarTypeOf(m_infos.at(name).dtype);
        std::optional<c10::ScalarType> want;
        if (floatDtype && stored && isFloat(*stored))
            want = floatDtype;
        auto t = tensor(name, want);
        if (!t)
            return t.error();
        out.emplace(name.substr(prefix.size()), std::move(t).value());
    }
    return out;
}

Status writeSafeTensors(const std::string &path, const StateDict &tensors,
                        const std::map<std::string, std::string> &metadata)
{
    try {
        nlohmann::json header = nlohmann::json::object();
        if (!metadata.empty()) {
            nlohmann::json meta = nlohmann::json::object();
            for (const auto &[k, v] : metadata)
                meta[k] = v;
            header["__metadata__"] = meta;
        }
        std::uint64_t offset = 0;
        for (const auto &[name, t] : tensors) {
            if (!t.defined())
                return makeError(ErrorCode::InvalidArgument, "'" + path + "': tensor '" + name + "' is undefined");
            const char *dt = dtypeNameOf(t.scalar_type());
            if (!dt)
                return makeError(ErrorCode::InvalidArgument, "'" + path + "': tensor '" + name
                                                                 + "': dtype " + c10::toString(t.scalar_type())
                                                                 + " has no safetensors name");
            const std::uint64_t bytes = static_cast<std::uint64_t>(t.numel()) * t.element_size();
            header[name] = {{"dtype", dt}, {"shape", t.sizes().vec()}, {"data_offsets", {offset, offset + bytes}}};
            offset += bytes;
        }
        std::string json = header.dump();
        while ((json.size() + 8) % 8 != 0) // keep the data section 8-byte aligned
            json.push_back(' ');

        std::random_device rd;
        const std::string tmp = path + ".tmp-" + std::to_string(::getpid()) + "-" + std::to_string(rd());
        std::FILE *f = std::fopen(tmp.c_str(), "wb");
        if (!f)
            return makeError(ErrorCode::IoError, "'" + path + "': cannot create '" + tmp + "': " + errnoText());
        auto fail = [&](const std::string &what) -> Status {
            const std::string why = errnoText();
            std::fclose(f);
            std::remove(tmp.c_str());
            return makeError(ErrorCode::IoError, "'" + path + "': " + what + ": " + why);
        };
        std::uint8_t len[8];
        std::uint64_t n = json.size();
        for (int i = 0; i < 8; ++i)
            len[i] = static_cast<std::uint8_t>(n >> (8 * i));
        if (std::fwrite(len, 1, 8, f) != 8 || std::fwrite(json.data(), 1, json.size(), f) != json.size())
            return fail("write failed");
        for (const auto &[name, t] : tensors) {
            const at::Tensor c = t.to(at::kCPU).contiguous();
            const std::size_t bytes = static_cast<std::size_t>(c.numel()) * c.element_size();
            if (bytes && std::fwrite(c.data_ptr(), 1, bytes, f) != bytes)
                return fail("write failed (tensor '" + name + "')");
        }
        if (std::fflush(f) != 0 || ::fsync(::fileno(f)) != 0)
            return fail("flush failed");
        if (std::fclose(f) != 0) {
            std::remove(tmp.c_str());
            return makeError(ErrorCode::IoError, "'" + path + "': close failed: " + errnoText());
        }
        if (std::rename(tmp.c_str(), path.c_str()) != 0) {
            const std::string why = errnoText();
            std::remove(tmp.c_str());
            return makeError(ErrorCode::IoError, "'" + path + "': rename failed: " + why);
        }
        return {};
    } catch (const c10::Error &e) {
        return makeError(ErrorCode::Internal, "'" + path + "': " + e.what_without_backtrace());
    } catch (const std::exception &e) {
        return makeError(ErrorCode::IoError, "'" + path + "': " + e.what());
    }
}

} // namespace stipple::core
