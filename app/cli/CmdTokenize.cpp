// stipple-cli tokenize -m PATH -p TEXT [--raw] [--json] [--vocab PATH]
// Shows what the text encoder is fed for a prompt:
//  * default (A1111 syntax): the parsed weighted runs, then every 77-token
//    window (bos + 75 + eos, A1111 chunking with comma backtracking and BREAK)
//    with each token's weight;
//  * --raw: the literal text (no syntax) as the single truncated window
//    diffusers uses.
// The tokenizer is the model's: a diffusers folder's tokenizer/ (or PATH
// itself when it holds vocab.json), else openai's BPE file located by
// VocabularyLocator (--vocab PATH: the file or its folder), with SD2's
// padding when the checkpoint is SD2.
#include "app/cli/Commands.h"

#include "core/io/Checkpoint.h"
#include "core/text/ClipTokenizer.h"
#include "core/text/PromptChunker.h"
#include "core/text/PromptParser.h"
#include "core/text/TextConditioner.h"

#include <fmt/core.h>
#include <nlohmann/json.hpp>

#include <cstdio>
#include <filesystem>
#include <memory>

namespace stipple::cli {

namespace {

struct TokenizeArgs {
    std::string model;
    std::string prompt;
    std::string vocab;
    bool raw = false;
    bool json = false;
};

int fail(const core::Error &e, bool json)
{
    if (json)
        std::printf("%s\n", nlohmann::json{{"error", core::errorCodeName(e.code)},
                                           {"message", e.message}}.dump(2).c_str());
    std::fprintf(stderr, "error (%s): %s\n", core::errorCodeName(e.code), e.message.c_str());
    return 1;
}

core::Result<std::shared_ptr<const core::Tokenizer>> openTokenizer(const TokenizeArgs &a)
{
    using namespace stipple::core;
    namespace fs = std::filesystem;
    std::error_code ec;
    if (fs::is_directory(a.model, ec)) {
        if (fs::exists(fs::path(a.model) / "vocab.json", ec))
            return TextConditioner::tokenizerFor(a.model, ModelFamily::Unknown);
        const auto dir = fs::path(a.model) / "tokenizer";
        if (fs::exists(dir / "vocab.json", ec))
            return TextConditioner::tokenizerFor(dir.string(), ModelFamily::Unknown);
    }
    // Weights are memory-mapped as stored, so opening only reads headers and
    // maps the file; the family decides SD2's padding.
    auto ckpt = openCheckpoint(a.model);
    if (!ckpt.ok())
        return ckpt.error();
    return TextConditioner::tokenizerFor(ckpt->tokenizerDir, ckpt->info.family, a.vocab);
}

std::string tokenText(const core::Tokenizer &tok, int id)
{
    if (const auto *clip = dynamic_cast<const core::ClipTokenizer *>(&tok))
        return clip->idToToken(id);
    return tok.decode({id});
}

std::string weightText(double w) { return fmt::format("{:.6g}", w); }

int runTokenize(const TokenizeArgs &a)
{
    using namespace stipple::core;
    auto tok = openTokenizer(a);
    if (!tok.ok())
        return fail(tok.error(), a.json);
    const Tokenizer &tokenizer = **tok;
    const PromptChunker chunker(tokenizer);

    std::vector<PromptRun> runs;
    std::vector<PromptChunk> windows;
    int tokenCount = 0;
    bool truncated = false;
    if (a.raw) {
        const auto body = tokenizer.encode(a.prompt);
        tokenCount = static_cast<int>(body.size());
        truncated = tokenCount > PromptChunker::kChunkLength;
        windows.push_back(chunker.literalWindow(a.prompt));
    } else {
        runs = parsePromptAttention(a.prompt);
        auto chunked = chunker.chunkRuns(runs);
        tokenCount = chunked.tokenCount;
        windows = std::move(chunked.chunks);
    }

    if (a.json) {
        nlohmann::json j{{"syntax", a.raw ? "diffusers" : "a1111"},
                         {"prompt", a.prompt},
                         {"token_count", tokenCount},
                         {"bos_id", tokenizer.bosId()},
                         {"eos_id", tokenizer.eosId()},
                         {"pad_id", tokenizer.padId()},
                         {"windows", nlohmann::json::array()}};
        if (a.raw) {
            j["truncated"] = truncated;
        } else {
            j["runs"] = nlohmann::json::array();
            for (const auto &r : runs) {
                if (r.isBreak)
                    j["runs"].push_back({{"break", true}});
                else
                    j["runs"].push_back({{"text", r.text}, {"weight", r.weight}});
            }
        }
        for (const auto &w : windows) {
            nlohmann::json tokens = nlohmann::json::array();
            for (int id : w.ids)
                tokens.push_back(tokenText(tokenizer, id));
            j["windows"].push_back({{"ids", w.ids}, {"weights", w.weights}, {"tokens", tokens}});
        }
        std::printf("%s\n", j.dump(2, ' ', false, nlohmann::json::error_handler_t::replace).c_str());
        return 0;
    }

    if (a.raw) {
        fmt::print("syntax:  diffusers (literal, one window)\n");
        fmt::print("tokens:  {}{}\n", tokenCount,
                   truncated ? fmt::format(" (truncated to {})", PromptChunker::kChunkLength) : "");
    } else {
        fmt::print("syntax:  A1111\n");
        fmt::print("runs:    {}\n", describePromptRuns(runs));
        fmt::print("tokens:  {} in {} window(s) of {}\n", tokenCount, windows.size(),
                   PromptChunker::kWindow);
    }
    for (size_t i = 0; i < windows.size(); ++i) {
        const auto &w = windows[i];
        fmt::print("window {}:\n  ids:", i);
        for (int id : w.ids)
            fmt::print(" {}", id);
        fmt::print("\n");
        if (!a.raw) {
            fmt::print("  weights:");
            for (float x : w.weights)
                fmt::print(" {}", weightText(x));
            fmt::print("\n");
        }
        // The body tokens (up to the first eos after bos).
        for (size_t k = 1; k + 1 < w.ids.size() && w.ids[k] != tokenizer.eosId(); ++k)
            fmt::print("  {:>3} {:>6} {:<24} {}\n", k, w.ids[k], tokenText(tokenizer, w.ids[k]),
                       weightText(w.weights[k]));
    }
    return 0;
}

} // namespace

void registerTokenizeCommand(CLI::App &app, CommandRunner &runner)
{
    auto args = std::make_shared<TokenizeArgs>();
    CLI::App *cmd = app.add_subcommand(
        "tokenize", "Show the 77-token windows and per-token weights a prompt becomes");
    cmd->add_option("-m,--model", args->model,
                    "diffusers folder, tokenizer folder or single .safetensors file")
        ->required();
    cmd->add_option("-p,--prompt", args->prompt, "prompt text")->required();
    cmd->add_option("--vocab", args->vocab,
                    "bpe_simple_vocab_16e6.txt.gz (or its folder) for single-file models");
    cmd->add_flag("--raw", args->raw, "literal text, the single truncated window diffusers uses");
    cmd->add_flag("--json", args->json, "machine-readable output");
    cmd->callback([args, &runner] { runner = [args] { return runTokenize(*args); }; });
}

} // namespace stipple::cli
