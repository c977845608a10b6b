#!/usr/bin/env python3
"""Reference tensors for the samplers the shared fixtures do not cover
(Heun, LMS Karras, Euler Karras, UniPC, DPM++ SDE, DPM++ 2M linspace/trailing,
DDIM linspace, DDPM trailing), computed with diffusers 0.25.0 on CPU.

Same procedure and schema as ../shared/fixtures (section 5 of its README):
  s = Class.from_config(SD1.5 scheduler config, **overrides); s.set_timesteps(N)
  x = randn((1,4,8,8), manual_seed(seed)) * s.init_noise_sigma
  for t in s.timesteps:
      xin = s.scale_model_input(x, t)
      mo = 0.3 * xin + 0.7 * randn(shape, manual_seed(seed + 1) [one stream])
      x = s.step(mo, t, x [, generator=manual_seed(seed + 2)]).prev_sample

Environment (see ../shared/fixtures/README.md): Debian python3-torch 1.13.1,
python3-numpy, python3-scipy; diffusers v0.25.0, huggingface_hub v0.19.4 and
torchsde 0.2.6 sources on PYTHONPATH (torchsde needs the tiny `trampoline`
package, PyPI trampoline 0.1.2). Run with /usr/bin/python3 from this folder:
  PYTHONPATH=<diffusers>/src:<huggingface_hub>/src:<torchsde>:<trampoline> \
      /usr/bin/python3 make_reference.py [output folder]

DPM++ SDE (DPMSolverSDEScheduler) draws its noise from torchsde's Brownian
tree. It is run here with noise_sampler_seed unset, so diffusers seeds the
tree with torch.randint(0, 2**63 - 1, []) from torch's global generator at the
first step(); the global generator is seeded seed + 2 right before the loop,
which is what the C++ sampler does with the run's generator (seed + 2 in the
tests). Those cases draw their model outputs from a separate generator seeded
seed + 1 (the same numbers torch.manual_seed(seed + 1) gives), and some use
another latent shape. The "pipeline_rng" case instead leaves the entropy to
the generator of the initial sample, drawn right after it, as
StableDiffusionPipeline(generator=torch.manual_seed(seed)) does (manifest
"step_generator": "after_initial_sample"). The manifest's "brownian" section describes
ref-brownian_tree.safetensors: raw torchsde.BrownianTree increments (the
parameters diffusers uses: tol 1e-6, pool_size 24, halfway tree) for a few
entropies and query intervals, plus numpy SeedSequence states, for
tests/core/schedulers/TestBrownianTree.cpp.
"""
import json
import math
import os
import struct
import sys

import numpy as np
import torch
import torchsde  # the real torchsde 0.2.6 (see above); diffusers imports it too

torch.set_num_threads(2)

SD_CONFIG = {
    "num_train_timesteps": 1000, "beta_start": 0.00085, "beta_end": 0.012,
    "beta_schedule": "scaled_linear", "trained_betas": None, "skip_prk_steps": True,
    "set_alpha_to_one": False, "prediction_type": "epsilon", "timestep_spacing": "leading",
    "steps_offset": 1, "clip_sample": False,
}

from diffusers import (DDIMScheduler, DDPMScheduler, DPMSolverMultistepScheduler,  # noqa: E402
                       EulerDiscreteScheduler, HeunDiscreteScheduler, LMSDiscreteScheduler,
                       UniPCMultistepScheduler)
from diffusers.schedulers.scheduling_dpmsolver_sde import DPMSolverSDEScheduler  # noqa: E402

CASES = [
    # id, class, overrides, steps, stochastic[, latent shape (default (1, 4, 8, 8))[, pipeline rng]]
    # (new cases go at the end: the seed is 500 + 3 * index)
    ("heun-10", HeunDiscreteScheduler, {}, 10, False),
    ("heun-20", HeunDiscreteScheduler, {}, 20, False),
    ("heun_karras-10", HeunDiscreteScheduler, {"use_karras_sigmas": True}, 10, False),
    ("heun_linspace-10", HeunDiscreteScheduler, {"timestep_spacing": "linspace"}, 10, False),
    ("v-heun-10", HeunDiscreteScheduler, {"prediction_type": "v_prediction"}, 10, False),
    ("lms_karras-10", LMSDiscreteScheduler, {"use_karras_sigmas": True}, 10, False),
    ("lms_karras-20", LMSDiscreteScheduler, {"use_karras_sigmas": True}, 20, False),
    ("euler_karras-10", EulerDiscreteScheduler, {"use_karras_sigmas": True}, 10, False),
    ("unipc-04", UniPCMultistepScheduler, {}, 4, False),
    ("unipc-10", UniPCMultistepScheduler, {}, 10, False),
    ("unipc-20", UniPCMultistepScheduler, {}, 20, False),
    ("unipc_trailing-10", UniPCMultistepScheduler, {"timestep_spacing": "trailing"}, 10, False),
    ("unipc_karras-10", UniPCMultistepScheduler, {"use_karras_sigmas": True}, 10, False),
    ("v-unipc-20", UniPCMultistepScheduler, {"prediction_type": "v_prediction"}, 20, False),
    ("dpmpp_2m_linspace-10", DPMSolverMultistepScheduler,
     {"algorithm_type": "dpmsolver++", "solver_order": 2, "timestep_spacing": "linspace"}, 10, False),
    ("dpmpp_2m_trailing-10", DPMSolverMultistepScheduler,
     {"algorithm_type": "dpmsolver++", "solver_order": 2, "timestep_spacing": "trailing"}, 10, False),
    ("dpmpp_sde-10", DPMSolverSDEScheduler, {}, 10, True),
    ("dpmpp_sde_karras-10", DPMSolverSDEScheduler, {"use_karras_sigmas": True}, 10, True),
    ("ddim_linspace-10", DDIMScheduler, {"timestep_spacing": "linspace"}, 10, False),
    ("ddpm_trailing-10", DDPMScheduler, {"timestep_spacing": "trailing"}, 10, True),
    ("dpmpp_sde-20", DPMSolverSDEScheduler, {}, 20, True),
    ("dpmpp_sde_karras-20", DPMSolverSDEScheduler, {"use_karras_sigmas": True}, 20, True, (2, 4, 6, 10)),
    ("v-dpmpp_sde_karras-10", DPMSolverSDEScheduler,
     {"use_karras_sigmas": True, "prediction_type": "v_prediction"}, 10, True, (1, 4, 12, 8)),
    ("dpmpp_sde_karras_pipeline_rng-10", DPMSolverSDEScheduler, {"use_karras_sigmas": True}, 10, True,
     (1, 4, 8, 8), True),
]

DTYPES = {torch.float32: ("F32", 4), torch.float64: ("F64", 8), torch.int64: ("I64", 8)}


def write_safetensors(path, tensors, metadata):
    header, blobs, offset = {"__metadata__": metadata}, [], 0
    for name in sorted(tensors):
        t = tensors[name].contiguous()
        dtype, size = DTYPES[t.dtype]
        data = t.numpy().tobytes()
        assert len(data) == t.numel() * size
        header[name] = {"dtype": dtype, "shape": list(t.shape), "data_offsets": [offset, offset + len(data)]}
        blobs.append(data)
        offset += len(data)
    h = json.dumps(header, separators=(",", ":")).encode()
    h += b" " * ((8 - len(h) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(h)))
        f.write(h)
        for b in blobs:
            f.write(b)


def run_case(case_id, cls, overrides, steps, stochastic, seed, shape=(1, 4, 8, 8), pipeline_rng=False):
    s = cls.from_config(SD_CONFIG, **overrides)
    s.set_timesteps(steps)
    x = torch.randn(shape, generator=torch.manual_seed(seed)) * s.init_noise_sigma
    initial = x.clone()
    if cls is DPMSolverSDEScheduler:
        # The Brownian tree's entropy is torch.randint(0, 2**63 - 1, []) from
        # the global generator at the first step(): seed that one seed + 2 and
        # keep it for the scheduler alone. With pipeline_rng it is drawn from
        # the global generator right after the initial sample, as in
        # StableDiffusionPipeline(generator=torch.manual_seed(seed)).
        mo_gen = torch.Generator().manual_seed(seed + 1)
        if not pipeline_rng:
            torch.manual_seed(seed + 2)
    else:
        mo_gen = torch.manual_seed(seed + 1)
    step_gen = torch.Generator().manual_seed(seed + 2)
    scaled, outs, prevs, preds = [], [], [], []
    for t in s.timesteps:
        xin = s.scale_model_input(x, t)
        mo = 0.3 * xin + 0.7 * torch.randn(xin.shape, generator=mo_gen)
        if stochastic and cls is not DPMSolverSDEScheduler:
            out = s.step(mo, t, x, generator=step_gen)
        else:
            out = s.step(mo, t, x)
        scaled.append(xin.clone())
        outs.append(mo.clone())
        prevs.append(out.prev_sample.clone())
        pred = getattr(out, "pred_original_sample", None)
        if pred is not None:
            preds.append(pred.clone())
        x = out.prev_sample
    tensors = {
        "timesteps": s.timesteps.clone(),
        "betas": s.betas.clone(),
        "alphas_cumprod": s.alphas_cumprod.clone(),
        "initial_sample": initial,
        "scaled_inputs": torch.stack(scaled),
        "model_outputs": torch.stack(outs),
        "prev_samples": torch.stack(prevs),
    }
    if preds and len(preds) == len(prevs):
        tensors["pred_original_samples"] = torch.stack(preds)
    if cls not in (DDIMScheduler, DDPMScheduler):
        tensors["sigmas"] = s.sigmas.clone().to(torch.float32)
    config = {k: v for k, v in dict(s.config).items() if not k.startswith("_")}
    for k, v in config.items():
        if isinstance(v, float) and not math.isfinite(v):
            config[k] = str(v)
    fac = getattr(s, "final_alpha_cumprod", None)
    init = s.init_noise_sigma
    entry = {
        "id": "ref-" + case_id, "kind": "scheduler", "recipe": case_id,
        "scheduler": {"class": cls.__name__, "config": config},
        "num_inference_steps": steps, "order": s.order, "init_noise_sigma": float(init),
        "timesteps_dtype": str(s.timesteps.dtype),
        "final_alpha_cumprod": float(fac) if fac is not None else "nan",
        "seed": seed, "stochastic": stochastic,
        "file": "ref-" + case_id + ".safetensors",
    }
    if cls is DPMSolverSDEScheduler:
        # Where the tree's entropy came from ("after_initial_sample": the
        # generator of the initial sample, right after drawing it).
        g = torch.Generator().manual_seed(seed if pipeline_rng else seed + 2)
        if pipeline_rng:
            torch.randn(shape, generator=g)
            entry["step_generator"] = "after_initial_sample"
        entry["brownian_tree_entropy"] = torch.randint(0, 2**63 - 1, [], generator=g).item()
        assert s.noise_sampler.tree.trees[0]._interval.entropy == entry["brownian_tree_entropy"]
    return entry, tensors


# torchsde.BrownianTree checks: (entropy, t0, t1, shape, dtype, queries).
# t0/t1 of the first are SD 1.x's smallest and largest sigma (float32).
BROWNIAN_TREES = [
    (0, 0.029167532920837402, 14.614642143249512, (2, 3, 4), torch.float32,
     [(1.0, 2.0), (0.5, 1.3), (0.03, 14.6), (14.0, 14.614642143249512), (0.01, 0.02), (3.3, 3.3),
      (0.029167532920837402, 0.0291676), (7.25, 7.250002), (0.2, 12.0)]),
    (2**63 - 2, 0.1, 1.0, (5,), torch.float32, [(0.1, 1.0), (0.25, 0.75), (0.3333333, 0.6666667)]),
    (4294967301, 0.0, 1.0, (1, 2, 3, 3), torch.float64, [(0.125, 0.5), (0.0, 0.999999), (0.6, 0.61)]),
]
SEED_SEQUENCE_ENTROPIES = [0, 7, 2**32 + 5, 2**63 - 2]
SEED_SEQUENCE_SPAWN_KEYS = [[], [0, 0], [5, 3], [2**33 + 1, 40]]


def brownian_reference(here):
    tensors, trees = {}, []
    for i, (entropy, t0, t1, shape, dtype, queries) in enumerate(BROWNIAN_TREES):
        tree = torchsde.BrownianTree(t0, torch.zeros(shape, dtype=dtype), t1, entropy=entropy,
                                     tol=1e-6, pool_size=24)
        tensors["tree%d" % i] = torch.stack([tree(a, b) for a, b in queries])
        trees.append({"entropy": entropy, "t0": t0, "t1": t1, "shape": list(shape),
                      "dtype": str(dtype), "queries": [list(q) for q in queries], "tensor": "tree%d" % i})
    states = [[[int(v) for v in np.random.SeedSequence(e, spawn_key=k, pool_size=24).generate_state(4)]
               for k in SEED_SEQUENCE_SPAWN_KEYS] for e in SEED_SEQUENCE_ENTROPIES]
    tensors["seed_sequence_states"] = torch.tensor(states, dtype=torch.int64)
    write_safetensors(os.path.join(here, "ref-brownian_tree.safetensors"), tensors,
                      {"case": "ref-brownian_tree", "format": "stipple/scheduler-ref/v1"})
    return {"file": "ref-brownian_tree.safetensors", "torchsde": torchsde.__version__,
            "numpy": np.__version__, "trees": trees,
            "seed_sequence": {"pool_size": 24, "entropies": SEED_SEQUENCE_ENTROPIES,
                              "spawn_keys": SEED_SEQUENCE_SPAWN_KEYS, "tensor": "seed_sequence_states"}}


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    if len(sys.argv) > 1:
        here = sys.argv[1]
        os.makedirs(here, exist_ok=True)
    import diffusers
    manifest = {"format": "stipple/scheduler-ref/v1",
                "generator": {"script": "make_reference.py", "torch": torch.__version__,
                              "diffusers": diffusers.__version__, "torchsde": torchsde.__version__,
                              "torch_num_threads": 2},
                "cases": []}
    for k, (case_id, cls, overrides, steps, stochastic, *extra) in enumerate(CASES):
        entry, tensors = run_case(case_id, cls, overrides, steps, stochastic, 500 + 3 * k, *extra)
        write_safetensors(os.path.join(here, entry["file"]), tensors,
                          {"case": entry["id"], "format": "stipple/scheduler-ref/v1"})
        manifest["cases"].append(entry)
        print(entry["id"], tuple(tensors["timesteps"].shape), tensors["timesteps"].dtype)
    manifest["brownian"] = brownian_reference(here)
    with open(os.path.join(here, "manifest.json"), "w") as f:
        json.dump(manifest, f, indent=1)


if __name__ == "__main__":
    main()
