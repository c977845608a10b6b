// Stage 1: prompt -> UNet context (see Stages.h).
#include "core/pipeline/Stages.h"

#include "core/text/TextConditioner.h"

#include <ATen/ATen.h>

namespace stipple::core {

Result<PromptConditioning> encodePrompts(const StageModels &models, const GenerationRequest &request,
                                         int batchSize)
{
    PromptConditioning out;
    // diffusers: do_classifier_free_guidance = guidance_scale > 1.
    out.cfg = request.cfgScale > 1.0f;
    auto cond = models.text->encode(request.prompt, request.promptSyntax, request.clipSkip);
    if (!cond)
        return cond.error();
    at::Tensor c = *cond;
    if (!out.cfg) {
        out.context = c.expand({batchSize, c.size(1), c.size(2)}).contiguous();
        return out;
    }
    // The unconditional prompt is the negative prompt, or "" when none.
    // diffusers 0.25 (StableDiffusionPipeline.encode_prompt) applies clip_skip
    // to the prompt only and encodes the negative prompt with the last layer;
    // A1111 applies CLIP skip to both. Each syntax keeps its reference's rule.
    const int uncondClipSkip = request.promptSyntax == PromptSyntax::Diffusers ? 1 : request.clipSkip;
    auto uncond = models.text->encode(request.negativePrompt, request.promptSyntax, uncondClipSkip);
    if (!uncond)
        return uncond.error();
    at::Tensor u = *uncond;
    if (u.size(1) != c.size(1)) {
        // A1111 chunks: pad the shorter with empty-prompt windows (new tensors,
        // the cached ones are never modified).
        c = c.clone();
        u = u.clone();
        auto st = models.text->padToSameLength(c, u, request.clipSkip);
        if (!st)
            return st.error();
    }
    // diffusers repeats each prompt per image: [u, u, ..., c, c, ...].
    out.context = at::cat({u.expand({batchSize, u.size(1), u.size(2)}),
                           c.expand({batchSize, c.size(1), c.size(2)})}, 0).contiguous();
    return out;
}

} // namespace stipple::core
