#include "core/train/TrainingData.h"

#include "core/synth/SyntheticShapes.h"
#include "core/train/InpaintingExamples.h"

#include <ATen/ATen.h>

#include <cstdlib>
#include <fstream>
#include <random>
#include <sys/wait.h>

namespace stipple::core {

TrainingData::TrainingData(std::uint64_t seed, int imageSize, std::shared_ptr<const Tokenizer> tokenizer,
                           float contextObjects, bool inpainting)
    // Mostly single objects on plain backgrounds: what prompts usually ask for and what the
    // evaluator scores; two objects and gradients stay in the mix so captions with them work.
    // A quarter of the captions leave some attributes out, for short prompts. Inpainting
    // data has more two-object pictures: one object masked, the other one left as context.
    : m_shapes(seed, shapes::DatasetOptions{imageSize, inpainting ? 0.35f : 0.1f, 0.12f, 0.25f, contextObjects}),
      m_imageSize(imageSize), m_seed(seed), m_inpainting(inpainting), m_tokenizer(std::move(tokenizer))
{
}

at::Tensor TrainingData::tokenize(const std::vector<std::string> &captions) const
{
    const int n = int(captions.size());
    at::Tensor ids = at::empty({n, 77}, at::kLong);
    auto acc = ids.accessor<std::int64_t, 2>();
    const int bos = m_tokenizer->bosId(), eos = m_tokenizer->eosId();
    const int pad = m_tokenizer->padId() >= 0 ? m_tokenizer->padId() : eos;
    for (int i = 0; i < n; ++i) {
        std::vector<int> body = m_tokenizer->encode(captions[i]);
        if (body.size() > 75)
            body.resize(75);
        int k = 0;
        acc[i][k++] = bos;
        for (int id : body)
            acc[i][k++] = id;
        acc[i][k++] = eos;
        // The layout of PromptChunker's windows: [bos] body [eos] pad...
        while (k < 77)
            acc[i][k++] = pad;
    }
    return ids;
}

TrainingBatch TrainingData::batch(std::uint64_t index, int batchSize, float dropout) const
{
    TrainingBatch b;
    const int s = m_imageSize;
    b.images = at::empty({batchSize, 3, s, s}, at::kFloat);
    std::mt19937_64 rng(m_seed * 1000003ULL + index);
    std::uniform_real_distribution<float> u(0.f, 1.f);
    if (m_inpainting)
        b.masks = at::empty({batchSize, 1, s, s}, at::kFloat);
    for (int i = 0; i < batchSize; ++i) {
        const std::uint64_t sampleIndex = index * std::uint64_t(batchSize) + i;
        const auto sample = m_shapes.generate(sampleIndex);
        // HWC uint8 -> CHW [-1,1]
        at::Tensor hwc = at::from_blob(const_cast<std::uint8_t *>(sample.image.pixels.data()), {s, s, 3}, at::kByte);
        b.images[i].copy_(hwc.permute({2, 0, 1}).to(at::kFloat).div(127.5).sub(1.0));
        std::string caption = sample.caption;
        if (m_inpainting) {
            const InpaintingExample ex = inpaintingExample(sample, s, m_seed ^ (sampleIndex * 0x2545f4914f6cdd1dULL));
            at::Tensor m = at::from_blob(const_cast<std::uint8_t *>(ex.mask.pixels.data()), {1, s, s}, at::kByte);
            b.masks[i].copy_(m.to(at::kFloat).div(255.0));
            caption = ex.caption;
        }
        b.captions.push_back(u(rng) < dropout ? std::string() : caption);
    }
    b.ids = tokenize(b.captions);
    return b;
}

Status writeCaptionCorpus(const std::string &path, std::uint64_t seed, int count)
{
    std::ofstream out(path);
    if (!out)
        return makeError(ErrorCode::IoError, "cannot write " + path);
    shapes::SyntheticShapes ds(seed);
    for (int i = 0; i < count; ++i)
        out << shapes::SyntheticShapes::caption(ds.scene(i)) << '\n';
    for (const auto &w : shapes::SyntheticShapes::vocabularyWords())
        out << w << '\n';
    if (!out)
        return makeError(ErrorCode::IoError, "cannot write " + path);
    return {};
}

Status trainSentencePiece(const std::string &corpusPath, const std::string &prefix)
{
    // Word-level model: the caption language is a closed set of words, so
    // one piece per word. Ids: unk 0, bos 1, eos 2, pad 3.
    const std::string cmd = "spm_train --input='" + corpusPath + "' --model_prefix='" + prefix +
                            "' --model_type=word --vocab_size=64 --hard_vocab_limit=false"
                            " --character_coverage=1.0 --unk_id=0 --bos_id=1 --eos_id=2 --pad_id=3"
                            " --minloglevel=2 >'" + prefix + ".log' 2>&1";
    const int rc = std::system(cmd.c_str());
    if (rc != 0)
        return makeError(ErrorCode::Internal, "spm_train failed (is the 'sentencepiece' package installed?), "
                                              "see " + prefix + ".log");
    return {};
}

} // namespace stipple::core
