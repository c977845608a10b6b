#!/usr/bin/env python3
"""bfloat16 LayerNorm in torch 1.13 against LayerNorm through float32 (what
core/models/common/Normalization's layerNormStable does), on SD 1.5's three
transformer widths at 512² with CFG: time per call and largest error against
float64. Run with Debian's python3-torch:

    ATEN_CPU_CAPABILITY=avx512 /usr/bin/python3 bench/layernorm_bf16.py
"""
import time

import torch

torch.set_num_threads(2)


def per_call(fn, reps=20):
    for _ in range(3):
        fn()
    start = time.perf_counter()
    for _ in range(reps):
        fn()
    return (time.perf_counter() - start) / reps


for shape in [(2, 4096, 320), (2, 1024, 640), (2, 256, 1280)]:
    width = shape[-1]
    x = torch.randn(*shape).bfloat16()
    w, b = torch.randn(width).bfloat16(), torch.randn(width).bfloat16()
    ln = torch.nn.functional.layer_norm
    in_bf16 = lambda: ln(x, (width,), w, b, 1e-5)
    via_f32 = lambda: ln(x.float(), (width,), w.float(), b.float(), 1e-5).bfloat16()
    exact = ln(x.double(), (width,), w.double(), b.double(), 1e-5)
    err = lambda y: (y.double() - exact).abs().max().item()
    print(f"{shape}: bf16 {per_call(in_bf16) * 1e3:.2f} ms (error {err(in_bf16()):.3g}), "
          f"through float32 {per_call(via_f32) * 1e3:.2f} ms (error {err(via_f32()):.3g})")
