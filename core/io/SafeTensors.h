// Reader for the safetensors format (8-byte little-endian header length,
// JSON header, raw little-endian data): https://github.com/huggingface/safetensors
// The file is memory-mapped; tensors whose stored dtype is the one asked for
// are created without copying and keep the mapping alive. Every violation of
// the format is returned as an Error naming the file and the tensor.
// Thread-safety: a SafeTensorsFile is immutable after open(); concurrent
// tensor() calls are safe.
#pragma once

#include "core/common/Result.h"
#include "core/io/SafeTensorsHeader.h"
#include "core/io/StateDict.h"

#include <c10/core/ScalarType.h>

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace stipple::core {

// SafeTensorInfo is declared in SafeTensorsHeader.h (torch-free header parser).

class SafeTensorsFile {
public:
    // Opens and validates: header length bound, valid JSON, known dtypes,
    // offsets inside the file, no overlaps, byte size = numel x itemsize.
    static Result<SafeTensorsFile> open(const std::string &path);

    const std::string &path() const;
    const std::vector<std::string> &names() const;   // sorted
    bool contains(const std::string &name) const;
    const SafeTensorInfo *info(const std::string &name) const;
    const std::map<std::string, std::string> &metadata() const; // "__metadata__"

    // The tensor as stored (dtype = nullopt) or converted to `dtype`
    // (F32/F16/BF16 floats and I64/I32 integers). Zero-copy when no
    // conversion is needed.
    Result<at::Tensor> tensor(const std::string &name,
                              std::optional<c10::ScalarType> dtype = std::nullopt) const;

    // All tensors (optionally only names starting with `prefix`, which is
    // stripped), converted to `dtype` for floating tensors.
    Result<StateDict> loadAll(std::optional<c10::ScalarType> floatDtype = std::nullopt,
                              const std::string &prefix = {}) const;

    struct Mapping; // shared mmap region (implementation detail)

private:
    std::shared_ptr<const Mapping> m_map;
    std::string m_path;
    std::vector<std::string> m_names;
    std::map<std::string, SafeTensorInfo> m_infos;
    std::map<std::string, std::string> m_metadata;
};

// A set of SafeTensorsFile mappings, held weakly (copyable): the files stay
// mapped only while some tensor views them. Pages released here come back
// from the page cache at the next access (the mappings are private and
// unwritten).
// Thread-safety: const; madvise on a range another thread reads only makes
// that thread re-read the page cache.
class MappedFiles {
public:
    // MADV_DONTNEED on every mapping still alive.
    void releaseResidentPages() const;
    // Drops the whole pages under `t`'s bytes when they lie in one of these
    // mappings; anything else (heap memory, other files) is left alone.
    void releasePagesOf(const at::Tensor &t) const;
    // Copies `bytes` of `t`'s bytes from `offset` into `dst` with pread(),
    // when `t` (contiguous) lies in one of these mappings; false otherwise,
    // or when the read fails (the caller then reads the view). Why: reading
    // through a mapping faults its page-cache pages in one at a time. 1.7 GB
    // of an SD 1.5 file took 1.1-1.3 s that way on this project's VM, and
    // 0.30-0.35 s with pread into a reused 16 MiB buffer.
    bool readBytesOf(const at::Tensor &t, std::size_t offset, std::size_t bytes, void *dst) const;

private:
    friend class SafeTensorsFile;
    std::shared_ptr<const SafeTensorsFile::Mapping> mappingOf(const at::Tensor &t) const;
    std::vector<std::weak_ptr<const SafeTensorsFile::Mapping>> m_mappings;
};

// Collects the mappings that SafeTensorsFile::open makes on this thread
// while the scope lives, including those made inside nested scopes.
// releaseResidentPages() then drops their pages from the process's resident
// set (MADV_DONTNEED): the mappings are private and unwritten, so any later
// access re-reads the file from the page cache. openCheckpoint uses it once
// every tensor has been converted into its own memory, which takes the 2 GB
// of an SD 1.5 file off the peak RSS; the conversion itself calls
// releasePagesOf() per tensor, so the file and its converted copy are never
// resident together (peak = converted size). A caller that converts some
// views later (OpenOptions::deferUnetConvWeights) holds its own scope around
// the open and the conversion, and releases each view as it goes.
// Thread-safety: thread-local; one scope per thread at a time (they nest).
class MappedFilesScope {
public:
    MappedFilesScope();
    ~MappedFilesScope();
    MappedFilesScope(const MappedFilesScope &) = delete;
    MappedFilesScope &operator=(const MappedFilesScope &) = delete;

    void releaseResidentPages() { m_files.releaseResidentPages(); }
    void releasePagesOf(const at::Tensor &t) const { m_files.releasePagesOf(t); }
    // The mappings collected so far, for a model that keeps views of them
    // beyond this scope and releases their pages later (DeferredPacking).
    const MappedFiles &files() const { return m_files; }
    // The innermost scope on this thread, or nullptr.
    static MappedFilesScope *current();

private:
    friend class SafeTensorsFile;
    MappedFilesScope *m_outer;
    MappedFiles m_files;
};

// Writes tensors (contiguous CPU copies are made as needed) with optional
// metadata. Used by export tools and tests. Writes atomically (temp + rename).
Status writeSafeTensors(const std::string &path, const StateDict &tensors,
                        const std::map<std::string, std::string> &metadata = {});

} // namespace stipple::core
