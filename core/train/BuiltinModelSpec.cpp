#include "core/train/BuiltinModelSpec.h"

namespace stipple::core::builtin {

nlohmann::json unetConfig()
{
    // Three levels on 16x16 latents (128 px images), text cross-attention at
    // every level. SD 1.x leaves its coarsest level (8x8 latents at 512 px)
    // without attention; here that layout (attention at 16x16 and 8x8 only)
    // learned colours and shapes but never positions: "in the top left" and
    // "in the bottom right" gave the same picture for a seed, 12.8% position
    // after 9,000 steps. With attention at 4x4 too, where one cell is a
    // quarter of the image, and the high-noise loss weight (TrainOptions),
    // positions were followed (96%) by 4,500 steps (README, "The built-in
    // model's vocabulary").
    return {
        {"_class_name", "UNet2DConditionModel"},
        {"_diffusers_version", "0.25.0"},
        {"act_fn", "silu"},
        {"attention_head_dim", 4},
        {"block_out_channels", {64, 128, 128}},
        {"center_input_sample", false},
        {"cross_attention_dim", 128},
        {"down_block_types", {"CrossAttnDownBlock2D", "CrossAttnDownBlock2D", "CrossAttnDownBlock2D"}},
        {"downsample_padding", 1},
        {"flip_sin_to_cos", true},
        {"freq_shift", 0},
        {"in_channels", 4},
        {"layers_per_block", 1},
        {"mid_block_scale_factor", 1},
        {"norm_eps", 1e-5},
        {"norm_num_groups", 32},
        {"out_channels", 4},
        {"sample_size", kImageSize / 8},
        {"up_block_types", {"CrossAttnUpBlock2D", "CrossAttnUpBlock2D", "CrossAttnUpBlock2D"}},
        {"upcast_attention", false},
        {"use_linear_projection", false},
    };
}

nlohmann::json vaeConfig(double scalingFactor)
{
    return {
        {"_class_name", "AutoencoderKL"},
        {"_diffusers_version", "0.25.0"},
        {"act_fn", "silu"},
        // Narrow first levels: the data set is flat colours and sharp edges,
        // and the 128x128 levels dominate the cost of training on a CPU.
        {"block_out_channels", {8, 16, 32, 64}},
        {"down_block_types", {"DownEncoderBlock2D", "DownEncoderBlock2D", "DownEncoderBlock2D", "DownEncoderBlock2D"}},
        {"in_channels", 3},
        {"latent_channels", 4},
        {"layers_per_block", 1},
        {"norm_num_groups", 2},
        {"out_channels", 3},
        {"sample_size", kImageSize},
        {"scaling_factor", scalingFactor},
        {"up_block_types", {"UpDecoderBlock2D", "UpDecoderBlock2D", "UpDecoderBlock2D", "UpDecoderBlock2D"}},
    };
}

nlohmann::json textEncoderConfig(int vocabSize)
{
    return {
        {"architectures", {"CLIPTextModel"}},
        {"attention_dropout", 0.0},
        {"hidden_act", "quick_gelu"},
        {"hidden_size", 128},
        {"intermediate_size", 256},
        {"layer_norm_eps", 1e-5},
        {"max_position_embeddings", kTextLength},
        {"model_type", "clip_text_model"},
        {"num_attention_heads", 4},
        {"num_hidden_layers", 2},
        {"projection_dim", 128},
        {"torch_dtype", "float16"},
        {"vocab_size", vocabSize},
    };
}

nlohmann::json schedulerConfig()
{
    return {
        {"_class_name", "PNDMScheduler"},
        {"_diffusers_version", "0.25.0"},
        {"beta_end", 0.012},
        {"beta_schedule", "scaled_linear"},
        {"beta_start", 0.00085},
        {"clip_sample", false},
        {"num_train_timesteps", 1000},
        {"prediction_type", "epsilon"},
        {"set_alpha_to_one", false},
        {"skip_prk_steps", true},
        {"steps_offset", 1},
        {"timestep_spacing", "leading"},
        {"trained_betas", nullptr},
    };
}

nlohmann::json modelIndex()
{
    return {
        {"_class_name", "StableDiffusionPipeline"},
        {"_diffusers_version", "0.25.0"},
        {"feature_extractor", {nullptr, nullptr}},
        {"requires_safety_checker", false},
        {"safety_checker", {nullptr, nullptr}},
        {"scheduler", {"diffusers", "PNDMScheduler"}},
        {"text_encoder", {"transformers", "CLIPTextModel"}},
        {"tokenizer", {"stipple", "SentencePieceTokenizer"}},
        {"unet", {"diffusers", "UNet2DConditionModel"}},
        {"vae", {"diffusers", "AutoencoderKL"}},
    };
}

} // namespace stipple::core::builtin
