#include "core/text/SentencePieceTokenizer.h"

#include "core/common/Paths.h"

#include "core/text/spm/SpmShim.h"

#include <dlfcn.h>

#include <cstdlib>
#include <filesystem>
#include <mutex>

namespace stipple::core {

namespace fs = std::filesystem;

struct SpmApi {
    decltype(&stipple_spm_abi_version) abiVersion = nullptr;
    decltype(&stipple_spm_load) load = nullptr;
    decltype(&stipple_spm_free) free = nullptr;
    decltype(&stipple_spm_encode) encode = nullptr;
    decltype(&stipple_spm_decode) decode = nullptr;
    decltype(&stipple_spm_vocab_size) vocabSize = nullptr;
    decltype(&stipple_spm_piece_to_id) pieceToId = nullptr;
    decltype(&stipple_spm_id_to_piece) idToPiece = nullptr;
    decltype(&stipple_spm_bos_id) bosId = nullptr;
    decltype(&stipple_spm_eos_id) eosId = nullptr;
    decltype(&stipple_spm_pad_id) padId = nullptr;
    decltype(&stipple_spm_unk_id) unkId = nullptr;
};

namespace {

constexpr const char *kModuleName = "libstipple_spm.so";

template <typename F>
bool resolve(void *lib, const char *name, F *fn)
{
    *fn = reinterpret_cast<F>(dlsym(lib, name));
    return *fn != nullptr;
}

// Loads the module once; later calls return the same table (or the same error).
Result<const SpmApi *> loadModule()
{
    static std::mutex mutex;
    static bool tried = false;
    static SpmApi api;
    static Error failure;
    std::lock_guard lock(mutex);
    if (tried)
        return failure.code == ErrorCode::Ok ? Result<const SpmApi *>(&api) : Result<const SpmApi *>(failure);
    tried = true;

    auto path = SentencePieceTokenizer::findModule();
    if (!path) {
        failure = path.error();
        return failure;
    }
    // RTLD_DEEPBIND: the module resolves sentencepiece's protobuf symbols
    // against its own dependencies, not libtorch's already loaded protobuf.
    void *lib = dlopen(path.value().c_str(), RTLD_NOW | RTLD_LOCAL | RTLD_DEEPBIND);
    if (!lib) {
        const char *msg = dlerror();
        failure = makeError(ErrorCode::Internal, "cannot load " + path.value() + ": " + (msg ? msg : "dlopen failed"));
        return failure;
    }
    const bool ok = resolve(lib, "stipple_spm_abi_version", &api.abiVersion) &&
                    resolve(lib, "stipple_spm_load", &api.load) && resolve(lib, "stipple_spm_free", &api.free) &&
                    resolve(lib, "stipple_spm_encode", &api.encode) &&
                    resolve(lib, "stipple_spm_decode", &api.decode) &&
                    resolve(lib, "stipple_spm_vocab_size", &api.vocabSize) &&
                    resolve(lib, "stipple_spm_piece_to_id", &api.pieceToId) &&
                    resolve(lib, "stipple_spm_id_to_piece", &api.idToPiece) &&
                    resolve(lib, "stipple_spm_bos_id", &api.bosId) &&
                    resolve(lib, "stipple_spm_eos_id", &api.eosId) &&
                    resolve(lib, "stipple_spm_pad_id", &api.padId) &&
                    resolve(lib, "stipple_spm_unk_id", &api.unkId);
    if (!ok || api.abiVersion() != STIPPLE_SPM_ABI_VERSION) {
        failure = makeError(ErrorCode::Internal, path.value() + " is not a compatible stipple_spm module");
        return failure; // the library stays loaded; it is never used
    }
    failure = Error{ErrorCode::Ok, {}};
    return &api;
}

} // namespace

Result<std::string> SentencePieceTokenizer::findModule()
{
    std::error_code ec;
    std::string tried;
    if (const char *env = std::getenv("STIPPLE_SPM_MODULE"); env && env[0] != '\0') {
        if (fs::is_regular_file(env, ec))
            return fs::absolute(env, ec).string();
        tried += std::string(" ") + env + " ($STIPPLE_SPM_MODULE);";
    }
    const std::string exeDir = executableDir();
    if (!exeDir.empty()) {
        for (const char *rel : {".", "../lib", "../lib/stipple", "../../lib"}) {
            const fs::path p = (fs::path(exeDir) / rel / kModuleName).lexically_normal();
            if (fs::is_regular_file(p, ec))
                return p.string();
            tried += " " + p.string() + ";";
        }
    }
    return makeError(ErrorCode::FileNotFound,
                     std::string("sentencepiece module ") + kModuleName + " not found; tried:" + tried);
}

SentencePieceTokenizer::SentencePieceTokenizer(const SpmApi *api, void *handle)
    : m_api(api), m_handle(handle)
{
}

SentencePieceTokenizer::~SentencePieceTokenizer()
{
    if (m_handle)
        m_api->free(static_cast<StippleSpm *>(m_handle));
}

Result<std::shared_ptr<SentencePieceTokenizer>> SentencePieceTokenizer::load(const std::string &modelPath)
{
    std::error_code ec;
    if (!fs::is_regular_file(modelPath, ec))
        return makeError(ErrorCode::MissingVocabulary, "sentencepiece model not found: " + modelPath);
    auto api = loadModule();
    if (!api)
        return api.error();
    char err[512] = {0};
    StippleSpm *handle = api.value()->load(modelPath.c_str(), err, sizeof err);
    if (!handle)
        return makeError(ErrorCode::CorruptFile, modelPath + ": not a sentencepiece model (" + err + ")");
    return std::shared_ptr<SentencePieceTokenizer>(new SentencePieceTokenizer(api.value(), handle));
}

std::vector<int> SentencePieceTokenizer::encode(const std::string &utf8) const
{
    auto *h = static_cast<const StippleSpm *>(m_handle);
    std::vector<int> ids(utf8.size() + 16);
    long n = m_api->encode(h, utf8.data(), utf8.size(), ids.data(), static_cast<long>(ids.size()));
    if (n > static_cast<long>(ids.size())) {
        ids.resize(static_cast<size_t>(n));
        n = m_api->encode(h, utf8.data(), utf8.size(), ids.data(), static_cast<long>(ids.size()));
    }
    ids.resize(n < 0 ? 0 : static_cast<size_t>(n));
    return ids;
}

std::string SentencePieceTokenizer::decode(const std::vector<int> &ids) const
{
    auto *h = static_cast<const StippleSpm *>(m_handle);
    std::vector<int> valid;
    valid.reserve(ids.size());
    const int size = vocabSize();
    for (int id : ids)
        if (id >= 0 && id < size)
            valid.push_back(id);
    std::string out(valid.size() * 8 + 16, '\0');
    long n = m_api->decode(h, valid.data(), static_cast<long>(valid.size()), out.data(), static_cast<long>(out.size()));
    if (n >= static_cast<long>(out.size())) {
        out.assign(static_cast<size_t>(n) + 1, '\0');
        n = m_api->decode(h, valid.data(), static_cast<long>(valid.size()), out.data(), static_cast<long>(out.size()));
    }
    out.resize(n < 0 ? 0 : static_cast<size_t>(n));
    return out;
}

int SentencePieceTokenizer::bosId() const { return m_api->bosId(static_cast<const StippleSpm *>(m_handle)); }
int SentencePieceTokenizer::eosId() const { return m_api->eosId(static_cast<const StippleSpm *>(m_handle)); }
int SentencePieceTokenizer::padId() const { return m_api->padId(static_cast<const StippleSpm *>(m_handle)); }
int SentencePieceTokenizer::unkId() const { return m_api->unkId(static_cast<const StippleSpm *>(m_handle)); }
int SentencePieceTokenizer::vocabSize() const { return m_api->vocabSize(static_cast<const StippleSpm *>(m_handle)); }

int SentencePieceTokenizer::pieceToId(const std::string &piece) const
{
    return m_api->pieceToId(static_cast<const StippleSpm *>(m_handle), piece.c_str());
}

std::string SentencePieceTokenizer::idToPiece(int id) const
{
    auto *h = static_cast<const StippleSpm *>(m_handle);
    char buf[256];
    const long n = m_api->idToPiece(h, id, buf, sizeof buf);
    if (n < 0)
        return {};
    if (n < static_cast<long>(sizeof buf))
        return std::string(buf, static_cast<size_t>(n));
    std::string big(static_cast<size_t>(n) + 1, '\0');
    m_api->idToPiece(h, id, big.data(), static_cast<long>(big.size()));
    big.resize(static_cast<size_t>(n));
    return big;
}

} // namespace stipple::core
