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
python3-numpy, python3-scipy; diffusers v0.25.0 and huggingface_hub v0.19.4
sources on PYTHONPATH. Run with /usr/bin/python3 from this folder:
  PYTHONPATH=<diffusers>/src:<huggingface_hub>/src /usr/bin/python3 make_reference.py

DPM++ SDE: diffusers draws its noise from a torchsde Brownian tree. torchsde
is not available here, so a stand-in `torchsde` module is installed that
samples the same Brownian motion the C++ sampler simulates (one standard
normal per query, drawn from a generator seeded `noise_sampler_seed`, stage 2
reusing stage 1's increment). The reference therefore checks diffusers'
DPM++ SDE arithmetic exactly, with that noise source instead of torchsde's.
"""
import importlib.machinery
import json
import math
import os
import struct
import sys
import types

import torch

torch.set_num_threads(2)

SD_CONFIG = {
    "num_train_timesteps": 1000, "beta_start": 0.00085, "beta_end": 0.012,
    "beta_schedule": "scaled_linear", "trained_betas": None, "skip_prk_steps": True,
    "set_alpha_to_one": False, "prediction_type": "epsilon", "timestep_spacing": "leading",
    "steps_offset": 1, "clip_sample": False,
}


class _BrownianStandIn:
    """torchsde.BrownianTree stand-in: W(hi) - W(lo) for the two queries of a
    DPM++ SDE step, (sigma_mid, sigma) then (sigma_next, sigma)."""

    def __init__(self, t0, w0, t1, entropy=None, **kwargs):
        self.gen = torch.Generator().manual_seed(int(entropy))
        self.shape = w0.shape
        self.pending = None  # (sigma, sigma_mid, z1)

    def __call__(self, lo, hi):
        lo_f, hi_f = float(lo), float(hi)
        z = torch.randn(self.shape, generator=self.gen, dtype=torch.float32)
        if self.pending is None or self.pending[0] != hi_f:
            self.pending = (hi_f, lo_f, z)
            return -(z * math.sqrt(abs(hi_f - lo_f)))
        sigma, mid, z1 = self.pending
        self.pending = None
        span1 = abs(sigma - mid)
        rest = max(abs(sigma - lo_f) - span1, 0.0)
        return -(z1 * math.sqrt(span1) + z * math.sqrt(rest))


torchsde = types.ModuleType("torchsde")
torchsde.__spec__ = importlib.machinery.ModuleSpec("torchsde", None)
torchsde.BrownianTree = _BrownianStandIn
sys.modules["torchsde"] = torchsde

from diffusers import (DDIMScheduler, DDPMScheduler, DPMSolverMultistepScheduler,  # noqa: E402
                       EulerDiscreteScheduler, HeunDiscreteScheduler, LMSDiscreteScheduler,
                       UniPCMultistepScheduler)
from diffusers.schedulers.scheduling_dpmsolver_sde import DPMSolverSDEScheduler  # noqa: E402

CASES = [
    # id, class, overrides, steps, stochastic
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


def run_case(case_id, cls, overrides, steps, stochastic, seed):
    kwargs = dict(overrides)
    if cls is DPMSolverSDEScheduler:
        kwargs["noise_sampler_seed"] = seed + 2
    s = cls.from_config(SD_CONFIG, **kwargs)
    s.set_timesteps(steps)
    x = torch.randn((1, 4, 8, 8), generator=torch.manual_seed(seed)) * s.init_noise_sigma
    initial = x.clone()
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
    return entry, tensors


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    import diffusers
    manifest = {"format": "stipple/scheduler-ref/v1",
                "generator": {"script": "make_reference.py", "torch": torch.__version__,
                              "diffusers": diffusers.__version__, "torch_num_threads": 2},
                "cases": []}
    for k, (case_id, cls, overrides, steps, stochastic) in enumerate(CASES):
        entry, tensors = run_case(case_id, cls, overrides, steps, stochastic, 500 + 3 * k)
        write_safetensors(os.path.join(here, entry["file"]), tensors,
                          {"case": entry["id"], "format": "stipple/scheduler-ref/v1"})
        manifest["cases"].append(entry)
        print(entry["id"], tuple(tensors["timesteps"].shape), tensors["timesteps"].dtype)
    with open(os.path.join(here, "manifest.json"), "w") as f:
        json.dump(manifest, f, indent=1)


if __name__ == "__main__":
    main()
