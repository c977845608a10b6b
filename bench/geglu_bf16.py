#!/usr/bin/env python3
"""bfloat16 GEGLU (a * gelu(g)) in torch 1.13 against the same through float32
(what core/models/unet/Transformer2D's FeedForward does for bf16), on one
row chunk of SD 1.5's projection output per level (FeedForward processes
~16 MiB of float32 rows at a time: 1638 x 2560, 819 x 5120, 409 x 10240):
time per call and largest error against float64. Run with Debian's python3-torch:

    ATEN_CPU_CAPABILITY=avx512 /usr/bin/python3 bench/geglu_bf16.py
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


gelu = torch.nn.functional.gelu
# glibc hands the first large temporaries fresh (slow, page-faulting) memory
# until its mmap threshold adapts; Stipple's caching allocator reuses blocks.
# One untimed pass over every shape stands in for that.
for shape in [(1638, 2560), (819, 5120), (409, 10240)]:
    a, g = torch.randn(*shape).bfloat16().chunk(2, -1)
    for _ in range(5):
        (a.float() * gelu(g.float())).bfloat16()
for shape in [(1638, 2560), (819, 5120), (409, 10240)]:
    h = torch.randn(*shape).bfloat16()
    a, g = h.chunk(2, -1)
    in_bf16 = lambda: a * gelu(g)
    via_f32 = lambda: (a.float() * gelu(g.float())).bfloat16()
    exact = a.double() * gelu(g.double())
    err = lambda y: (y.double() - exact).abs().max().item()
    print(f"{shape}: bf16 {per_call(in_bf16) * 1e3:.2f} ms (error {err(in_bf16()):.3g}), "
          f"through float32 {per_call(via_f32) * 1e3:.2f} ms (error {err(via_f32()):.3g})")
