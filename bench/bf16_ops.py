#!/usr/bin/env python3
"""torch 1.13's bfloat16 kernels against the same operation through float32,
as Stipple runs them for bf16: LayerNorm (core/models/common/Normalization's
layerNormStable) on SD 1.5's three transformer widths at 512² with CFG, and
GEGLU a * gelu(g) (core/models/unet/Transformer2D's FeedForward) on one row
chunk per level (FeedForward works on ~16 MiB of float32 rows at a time).
Prints the time per call and the largest error against float64. Run with
Debian's python3-torch:

    ATEN_CPU_CAPABILITY=avx512 /usr/bin/python3 bench/bf16_ops.py
"""
import time

import torch

torch.set_num_threads(2)
layer_norm = torch.nn.functional.layer_norm
gelu = torch.nn.functional.gelu


def per_call(fn, reps=20):
    for _ in range(3):
        fn()
    start = time.perf_counter()
    for _ in range(reps):
        fn()
    return (time.perf_counter() - start) / reps


def compare(label, in_bf16, via_f32, exact):
    err = lambda y: (y.double() - exact).abs().max().item()
    print(f"{label}: bf16 {per_call(in_bf16) * 1e3:.2f} ms (error {err(in_bf16()):.3g}), "
          f"through float32 {per_call(via_f32) * 1e3:.2f} ms (error {err(via_f32()):.3g})")


def layer_norms():
    for shape in [(2, 4096, 320), (2, 1024, 640), (2, 256, 1280)]:
        width = shape[-1]
        x = torch.randn(*shape).bfloat16()
        w, b = torch.randn(width).bfloat16(), torch.randn(width).bfloat16()
        compare(f"LayerNorm {shape}",
                lambda: layer_norm(x, (width,), w, b, 1e-5),
                lambda: layer_norm(x.float(), (width,), w.float(), b.float(), 1e-5).bfloat16(),
                layer_norm(x.double(), (width,), w.double(), b.double(), 1e-5))


GEGLU_CHUNKS = [(1638, 2560), (819, 5120), (409, 10240)]


def geglus():
    # glibc hands the first large temporaries fresh (page-faulting) memory
    # until its mmap threshold adapts, where Stipple's caching allocator
    # reuses blocks: one untimed pass over every shape stands in for that.
    for shape in GEGLU_CHUNKS:
        a, g = torch.randn(*shape).bfloat16().chunk(2, -1)
        for _ in range(5):
            (a.float() * gelu(g.float())).bfloat16()
    for shape in GEGLU_CHUNKS:
        a, g = torch.randn(*shape).bfloat16().chunk(2, -1)
        compare(f"GEGLU {shape}",
                lambda: a * gelu(g),
                lambda: (a.float() * gelu(g.float())).bfloat16(),
                a.double() * gelu(g.double()))


layer_norms()
geglus()
