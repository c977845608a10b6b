// A1111 prompt chunking (see PromptChunker.h).
#include "core/text/PromptChunker.h"

#include <algorithm>
#include <utility>

namespace stipple::core {

PromptChunker::PromptChunker(const Tokenizer &tokenizer, int commaBacktrack)
    : m_tokenizer(tokenizer), m_commaBacktrack(commaBacktrack)
{
    const auto comma = m_tokenizer.encode(",");
    if (comma.size() == 1)
        m_commaId = comma.front();
}

PromptChunk PromptChunker::finish(std::vector<int> body, std::vector<float> weights) const
{
    const int eos = m_tokenizer.eosId();
    const int pad = m_tokenizer.padId() >= 0 ? m_tokenizer.padId() : eos;
    // Pad to 75 with eos (A1111 next_chunk), then wrap with bos/eos.
    while (static_cast<int>(body.size()) < kChunkLength) {
        body.push_back(eos);
        weights.push_back(1.0f);
    }
    PromptChunk c;
    c.ids.reserve(kWindow);
    c.weights.reserve(kWindow);
    c.ids.push_back(m_tokenizer.bosId());
    c.weights.push_back(1.0f);
    c.ids.insert(c.ids.end(), body.begin(), body.end());
    c.weights.insert(c.weights.end(), weights.begin(), weights.end());
    c.ids.push_back(eos);
    c.weights.push_back(1.0f);
    // A1111 process_tokens: everything after the first eos becomes the pad id.
    if (pad != eos) {
        const auto first = std::find(c.ids.begin(), c.ids.end(), eos);
        if (first != c.ids.end())
            std::fill(first + 1, c.ids.end(), pad);
    }
    return c;
}

ChunkedPrompt PromptChunker::chunk(const std::string &prompt) const
{
    return chunkRuns(parsePromptAttention(prompt));
}

ChunkedPrompt PromptChunker::chunkRuns(const std::vector<PromptRun> &runs) const
{
    ChunkedPrompt out;
    std::vector<int> tokens;
    std::vector<float> mults;
    int lastComma = -1;

    auto nextChunk = [&](bool isLast) {
        out.tokenCount += isLast ? static_cast<int>(tokens.size()) : kChunkLength;
        out.chunks.push_back(finish(std::move(tokens), std::move(mults)));
        tokens.clear();
        mults.clear();
        lastComma = -1;
    };

    for (const auto &run : runs) {
        if (run.isBreak) {
            nextChunk(false);
            continue;
        }
        if (run.text.empty())
            continue;
        const auto ids = m_tokenizer.encode(run.text);
        // A1111 stores the multiplier as a Python float and torch.asarray
        // makes it float32.
        const float weight = static_cast<float>(run.weight);
        for (int token : ids) {
            const int length = static_cast<int>(tokens.size());
            if (m_commaId >= 0 && token == m_commaId) {
                lastComma = length;
            } else if (m_commaBacktrack != 0 && length == kChunkLength && lastComma != -1 &&
                       length - lastComma <= m_commaBacktrack) {
                // Move everything after the last comma into the next chunk.
                const auto breakAt = static_cast<std::ptrdiff_t>(lastComma + 1);
                std::vector<int> relocTokens(tokens.begin() + breakAt, tokens.end());
                std::vector<float> relocMults(mults.begin() + breakAt, mults.end());
                tokens.resize(static_cast<size_t>(breakAt));
                mults.resize(static_cast<size_t>(breakAt));
                nextChunk(false);
                tokens = std::move(relocTokens);
                mults = std::move(relocMults);
            }
            if (static_cast<int>(tokens.size()) == kChunkLength)
                nextChunk(false);
            tokens.push_back(token);
            mults.push_back(weight);
        }
    }
    if (!tokens.empty() || out.chunks.empty())
        nextChunk(true);
    return out;
}

PromptChunk PromptChunker::emptyChunk() const
{
    return finish({}, {});
}

PromptChunk PromptChunker::literalWindow(const std::string &text) const
{
    auto ids = m_tokenizer.encode(text);
    if (static_cast<int>(ids.size()) > kChunkLength)
        ids.resize(kChunkLength);
    PromptChunk c;
    c.ids.reserve(kWindow);
    c.ids.push_back(m_tokenizer.bosId());
    c.ids.insert(c.ids.end(), ids.begin(), ids.end());
    c.ids.push_back(m_tokenizer.eosId());
    const int pad = m_tokenizer.padId() >= 0 ? m_tokenizer.padId() : m_tokenizer.eosId();
    while (static_cast<int>(c.ids.size()) < kWindow)
        c.ids.push_back(pad);
    c.weights.assign(kWindow, 1.0f);
    return c;
}

} // namespace stipple::core
