#!/usr/bin/env python3
"""Times one UNet step (classifier-free guidance, batch 2) of a random-weight
Stable Diffusion 1.5 UNet in Hugging Face diffusers, as the reference for
stipple-bench --compare.

The UNet is built from the SD 1.5 unet/config.json values (written out below)
with torch's default initialisation; weight values do not change the time.
Run it with the same torch the C++ side uses (Debian python3-torch 1.13) and
OPENBLAS_CORETYPE=SkylakeX in the environment (OpenBLAS reads it at load).

Prints "runs=a,b,c" and "median_s=x" on stdout.
"""
import argparse
import importlib.machinery
import statistics
import sys
import time
import types


def shim_safetensors():
    """diffusers imports safetensors at start-up; Debian has no package for
    it. Timing a randomly initialised model never reads a file, so a module
    that refuses every call is enough."""
    try:
        import safetensors  # noqa: F401
        return
    except ImportError:
        pass

    def refuse(*args, **kwargs):
        raise RuntimeError("safetensors is not installed")

    root = types.ModuleType("safetensors")
    sub = types.ModuleType("safetensors.torch")
    for name in ("load_file", "save_file", "load", "save"):
        setattr(sub, name, refuse)
    root.safe_open = refuse
    root.torch = sub
    root.__spec__ = importlib.machinery.ModuleSpec("safetensors", None, is_package=True)
    sub.__spec__ = importlib.machinery.ModuleSpec("safetensors.torch", None)
    sys.modules["safetensors"] = root
    sys.modules["safetensors.torch"] = sub


# runwayml/stable-diffusion-v1-5 unet/config.json (the fields that matter).
SD15_UNET = dict(
    sample_size=64,
    in_channels=4,
    out_channels=4,
    down_block_types=("CrossAttnDownBlock2D", "CrossAttnDownBlock2D", "CrossAttnDownBlock2D", "DownBlock2D"),
    up_block_types=("UpBlock2D", "CrossAttnUpBlock2D", "CrossAttnUpBlock2D", "CrossAttnUpBlock2D"),
    block_out_channels=(320, 640, 1280, 1280),
    layers_per_block=2,
    attention_head_dim=8,
    cross_attention_dim=768,
    norm_num_groups=32,
    norm_eps=1e-5,
    flip_sin_to_cos=True,
    freq_shift=0,
    downsample_padding=1,
)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--res", type=int, default=256)
    ap.add_argument("--dtype", choices=("fp32", "bf16"), default="fp32")
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--warmup", type=int, default=1)
    ap.add_argument("--threads", type=int, default=2)
    args = ap.parse_args()

    shim_safetensors()
    import torch
    from diffusers import UNet2DConditionModel

    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    dtype = torch.bfloat16 if args.dtype == "bf16" else torch.float32
    t0 = time.perf_counter()
    unet = UNet2DConditionModel(**SD15_UNET).eval().to(dtype)
    build = time.perf_counter() - t0
    h = args.res // 8
    sample = torch.randn(2, 4, h, h, dtype=dtype)
    context = torch.randn(2, 77, 768, dtype=dtype)
    t = torch.tensor([500, 500])
    runs = []
    with torch.inference_mode():
        for i in range(args.warmup + args.reps):
            a = time.perf_counter()
            unet(sample, t, encoder_hidden_states=context).sample
            if i >= args.warmup:
                runs.append(time.perf_counter() - a)
    print(f"torch {torch.__version__}, threads {torch.get_num_threads()}, build {build:.1f} s", file=sys.stderr)
    print("runs=" + ",".join(f"{r:.3f}" for r in runs))
    print(f"median_s={statistics.median(runs):.3f}")


if __name__ == "__main__":
    main()
