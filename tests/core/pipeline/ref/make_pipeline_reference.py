#!/usr/bin/env python3
"""Reference images for pipeline cases the shared fixtures do not contain
(other seeds, prompts, sizes, step counts, samplers, strengths, masks),
computed with Hugging Face diffusers 0.25.0 + transformers 4.30.2 on CPU.

Used by tests/core/pipeline/TestUnseenCases.cpp, which runs every case
through `stipple-cli generate --no-composite --prompt-syntax diffusers`
from both checkpoint layouts and compares the PNGs (max <= 2/255,
mean <= 0.25/255 per pixel channel).

Procedure (the one ../shared/fixtures/README.md sections 5-7 describes):
  pipe = <Pipeline>.from_pretrained(<shared>/fixtures/models/<model>)
  pipe.scheduler = <SchedulerClass>.from_config(pipe.scheduler.config, **overrides)
  out = pipe(..., generator=torch.Generator("cpu").manual_seed(seed), output_type="np")
  PNG = round(out.images[k] * 255) as uint8 (diffusers numpy_to_pil)
with torch.set_num_threads(2), fp32, the diffusers-folder layout (the shared
README records the single-file layout as bit-identical).

Environment: Debian 12 /usr/bin/python3 with python3-torch 1.13.1,
python3-numpy, python3-pil, python3-scipy, python3-regex, python3-yaml,
python3-requests, python3-tqdm, python3-filelock, python3-packaging,
python3-importlib-metadata, python3-fsspec; on PYTHONPATH the sources of
diffusers v0.25.0 (src/), huggingface_hub v0.19.4 (src/) and transformers
v4.30.2 (src/, release commit 66fd3a8d626a32989f4569260db32785c6cbf42a).
Optional: python-ftfy 6.1.1 (needs python3-wcwidth). Without ftfy,
transformers' CLIPTokenizer falls back to BasicTokenizer, which tokenizes
the plain-ASCII prompts below identically (no accents, no runs of two
punctuation characters; checked by `check_prompt`).

The Rust-built `safetensors` and `tokenizers` packages are not available:
this script installs a small pure-Python `safetensors` module (format: u64
little-endian header length, JSON header, raw little-endian data) into a
temporary folder, and gives transformers' fallback `AddedToken` a
`__str__` returning its content (otherwise CLIP's special tokens get new ids).

Before generating, the script replays three shared fixture cases
(SELF_CHECK_IDS) and stops unless their stored images come back within 1e-4
(it records the worst difference, 3.9e-6 here, in the manifest).

Run from anywhere:
  PYTHONPATH=<diffusers>/src:<huggingface_hub>/src:<transformers>/src \
      /usr/bin/python3 make_pipeline_reference.py [--shared <dir>] [--only ID...] [--no-self-check]
Writes <id>.png (<id>_2.png for a batch's second image), inputs
(init*/mask*.png) and manifest.json next to this script.
"""
import argparse
import hashlib
import json
import os
import re
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))

# ---------------------------------------------------------------------------
# Pure-Python safetensors, written to a temporary package (with dist-info,
# because diffusers and transformers check importlib.metadata for it).
SAFETENSORS_INIT = r'''
import json, struct
import numpy as np

_NP = {"F64": "<f8", "F32": "<f4", "F16": "<f2", "I64": "<i8", "I32": "<i4",
       "I16": "<i2", "I8": "i1", "U8": "u1", "BOOL": "?"}

def _read(path):
    with open(path, "rb") as f:
        n = struct.unpack("<Q", f.read(8))[0]
        header = json.loads(f.read(n).decode("utf-8"))
        data = f.read()
    return header, data

class safe_open:
    def __init__(self, path, framework="pt", device="cpu"):
        self._header, self._data = _read(path)
        self._meta = self._header.pop("__metadata__", None)
    def __enter__(self):
        return self
    def __exit__(self, *exc):
        return False
    def metadata(self):
        return self._meta
    def keys(self):
        return list(self._header.keys())
    def get_tensor(self, name):
        import torch
        info = self._header[name]
        b, e = info["data_offsets"]
        if info["dtype"] == "BF16":
            raw = np.frombuffer(self._data[b:e], dtype="<u2").astype(np.int32) << 16
            arr = raw.view(np.float32).reshape(info["shape"])
            return torch.from_numpy(arr.copy())
        arr = np.frombuffer(self._data[b:e], dtype=_NP[info["dtype"]]).reshape(info["shape"])
        return torch.from_numpy(arr.copy())
'''

SAFETENSORS_TORCH = r'''
import json, struct
from . import safe_open

def load_file(filename, device="cpu"):
    with safe_open(filename) as f:
        return {k: f.get_tensor(k) for k in f.keys()}

def load(data):
    raise NotImplementedError("safetensors.torch.load (bytes) is not needed here")

def save_file(tensors, filename, metadata=None):
    raise NotImplementedError("saving is not needed here")

# transformers.pytorch_utils imports these (tied-weight bookkeeping).
def storage_ptr(tensor):
    return tensor.untyped_storage().data_ptr() if hasattr(tensor, "untyped_storage") \
        else tensor.storage().data_ptr()

def storage_size(tensor):
    return tensor.untyped_storage().nbytes() if hasattr(tensor, "untyped_storage") \
        else tensor.storage().size() * tensor.element_size()
'''


def install_safetensors_shim():
    root = tempfile.mkdtemp(prefix="st-shim-")
    pkg = os.path.join(root, "safetensors")
    os.makedirs(pkg)
    with open(os.path.join(pkg, "__init__.py"), "w") as f:
        f.write(SAFETENSORS_INIT)
    with open(os.path.join(pkg, "torch.py"), "w") as f:
        f.write(SAFETENSORS_TORCH)
    # Sources on PYTHONPATH carry no dist-info; diffusers asks importlib.metadata
    # for transformers' version before it uses it.
    import importlib
    import importlib.metadata as md

    def add_dist(name, version):
        dist = os.path.join(root, "%s-%s.dist-info" % (name, version))
        os.makedirs(dist)
        with open(os.path.join(dist, "METADATA"), "w") as f:
            f.write("Metadata-Version: 2.1\nName: %s\nVersion: %s\n" % (name, version))
        importlib.invalidate_caches()

    add_dist("safetensors", "0.4.1")
    sys.path.insert(0, root)
    try:
        md.version("transformers")
    except md.PackageNotFoundError:
        import transformers  # after the safetensors shim: it checks for it on import
        add_dist("transformers", transformers.__version__)
    # Offline, and no writes to the user's Hugging Face cache.
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("HF_HOME", os.path.join(root, "hf-home"))


install_safetensors_shim()

import numpy as np  # noqa: E402
import torch  # noqa: E402
from PIL import Image  # noqa: E402

torch.set_num_threads(2)

import transformers  # noqa: E402
import transformers.tokenization_utils_base as tub  # noqa: E402

if not tub.is_tokenizers_available():
    tub.AddedToken.__str__ = lambda self: self.content

import diffusers  # noqa: E402
from diffusers import (DDIMScheduler, DPMSolverMultistepScheduler,  # noqa: E402
                       EulerAncestralDiscreteScheduler, EulerDiscreteScheduler,
                       HeunDiscreteScheduler, LMSDiscreteScheduler, PNDMScheduler,
                       StableDiffusionImg2ImgPipeline, StableDiffusionInpaintPipeline,
                       StableDiffusionInpaintPipelineLegacy, StableDiffusionPipeline,
                       UniPCMultistepScheduler)

try:
    import ftfy  # noqa: F401
    HAVE_FTFY = True
except ImportError:
    HAVE_FTFY = False

# A1111 sampler name (what stipple-cli gets) -> diffusers class + overrides,
# applied with Class.from_config(model scheduler config, **overrides); the
# model configs say timestep_spacing "leading", so every class inherits it.
SAMPLERS = {
    "Euler a": (EulerAncestralDiscreteScheduler, {}),
    "Euler": (EulerDiscreteScheduler, {}),
    "LMS": (LMSDiscreteScheduler, {}),
    "LMS Karras": (LMSDiscreteScheduler, {"use_karras_sigmas": True}),
    "Heun": (HeunDiscreteScheduler, {}),
    "DPM++ 2M": (DPMSolverMultistepScheduler, {"algorithm_type": "dpmsolver++", "solver_order": 2}),
    "DPM++ 2M Karras": (DPMSolverMultistepScheduler,
                        {"algorithm_type": "dpmsolver++", "solver_order": 2, "use_karras_sigmas": True}),
    "DDIM": (DDIMScheduler, {}),
    "PLMS": (PNDMScheduler, {}),
    "UniPC": (UniPCMultistepScheduler, {}),
}

PIPELINES = {
    "txt2img": StableDiffusionPipeline,
    "img2img": StableDiffusionImg2ImgPipeline,
    "inpaint": StableDiffusionInpaintPipeline,
    "inpaint_legacy": StableDiffusionInpaintPipelineLegacy,
}

# Prompts new to the fixtures (tokenizer.json and manifest.json).
CASES = [
    dict(id="t2i-sd1-euler_a-7-w72h56", kind="txt2img", model="tiny-sd1", sampler="Euler a",
         prompt="a lonely robot watering a garden at dawn", negative_prompt=None,
         seed=1234, steps=7, cfg=9.0, width=72, height=56),
    dict(id="t2i-sd1-dpmpp_2m_karras-15-w128h64", kind="txt2img", model="tiny-sd1", sampler="DPM++ 2M Karras",
         prompt="Snowy mountain village, warm lights in the windows",
         negative_prompt="ugly, deformed, oversaturated", seed=987654321, steps=15, cfg=7.0, width=128, height=64),
    dict(id="t2i-sd1-unipc-7-w96h64-g1", kind="txt2img", model="tiny-sd1", sampler="UniPC",
         prompt="an isometric drawing of a tiny island with a windmill", negative_prompt="text, signature",
         seed=2024, steps=7, cfg=1.0, width=96, height=64),
    dict(id="t2i-sd1-heun-7-w80h48", kind="txt2img", model="tiny-sd1", sampler="Heun",
         prompt="macro photo of a dew drop on a green leaf", negative_prompt="grainy",
         seed=31337, steps=7, cfg=5.5, width=80, height=48),
    dict(id="t2i-sd1-lms-15", kind="txt2img", model="tiny-sd1", sampler="LMS",
         prompt="portrait of a cat wearing a tiny hat, oil painting", negative_prompt=None,
         seed=777, steps=15, cfg=9.0, width=64, height=64),
    dict(id="t2i-sd1-ddim-3-w48h80", kind="txt2img", model="tiny-sd1", sampler="DDIM",
         prompt="Old map of an imaginary continent", negative_prompt="modern",
         seed=4242, steps=3, cfg=9.0, width=48, height=80),
    dict(id="t2i-sd1-plms-7-w128h64", kind="txt2img", model="tiny-sd1", sampler="PLMS",
         prompt="a bowl of ramen, studio lighting, 35mm", negative_prompt=None,
         seed=123456, steps=7, cfg=6.0, width=128, height=64),
    dict(id="t2i-sd1-euler_a-3-batch2", kind="txt2img", model="tiny-sd1", sampler="Euler a",
         prompt="two ships passing in the night", negative_prompt="daylight",
         seed=5, steps=3, cfg=9.0, width=64, height=64, batch_size=2),
    dict(id="t2i-sd2-unipc-7-w64h80", kind="txt2img", model="tiny-sd2", sampler="UniPC",
         prompt="a neon sign that says open! in a rainy alley", negative_prompt="blurry",
         seed=99, steps=7, cfg=6.0, width=64, height=80),
    dict(id="t2i-sd2-euler_a-15-g1", kind="txt2img", model="tiny-sd2", sampler="Euler a",
         prompt="desert dunes under a purple sky", negative_prompt=None,
         seed=314159, steps=15, cfg=1.0, width=64, height=64),
    dict(id="t2i-sd2-lms_karras-7-w80h64", kind="txt2img", model="tiny-sd2", sampler="LMS Karras",
         prompt="a castle made of glass on a frozen lake", negative_prompt="fog",
         seed=2468, steps=7, cfg=8.0, width=80, height=64),
    dict(id="t2i-sd1-euler-12-long-w56h72", kind="txt2img", model="tiny-sd1", sampler="Euler",
         prompt=("a very long prompt about a bustling market street in an old harbour town at golden hour, "
                 "with fishermen selling their catch, children chasing seagulls, colourful awnings, "
                 "lanterns hanging between the houses, cobblestones wet from the morning rain, "
                 "a cathedral tower in the distance, sailing ships in the bay, and a cat sleeping "
                 "on a barrel next to a flower stall with tulips and roses, painted in the style of a "
                 "detailed watercolour illustration"),
         negative_prompt="lowres, bad anatomy, extra fingers, cropped, worst quality, jpeg artifacts",
         seed=1618, steps=12, cfg=7.5, width=56, height=72),
    dict(id="i2i-sd2-ddim-7-s0.85-w72h56", kind="img2img", model="tiny-sd2", sampler="DDIM",
         prompt="the same scene at night", negative_prompt=None,
         seed=13, steps=7, cfg=7.5, strength=0.85, init_image="init1_w72h56.png"),
    dict(id="i2i-sd1-dpmpp_2m_karras-15-s0.85-w72h56", kind="img2img", model="tiny-sd1", sampler="DPM++ 2M Karras",
         prompt="a stained glass window", negative_prompt="photo",
         seed=8080, steps=15, cfg=9.0, strength=0.85, init_image="init1_w72h56.png"),
    dict(id="i2i-sd1-heun-7-s0.3", kind="img2img", model="tiny-sd1", sampler="Heun",
         prompt="pencil sketch of a harbour", negative_prompt=None,
         seed=65535, steps=7, cfg=7.5, strength=0.3, init_image="init2_w64h64.png"),
    dict(id="i2i-sd1-lms-7-s0.3", kind="img2img", model="tiny-sd1", sampler="LMS",
         prompt="pencil sketch of a harbour", negative_prompt="color",
         seed=1, steps=7, cfg=3.0, strength=0.3, init_image="init2_w64h64.png"),
    dict(id="inp-sd1-euler_a-7-s0.85-w72h56", kind="inpaint", model="tiny-sd1-inpaint", sampler="Euler a",
         prompt="a golden retriever sitting on a bench", negative_prompt="cartoon",
         seed=606, steps=7, cfg=9.0, strength=0.85, width=72, height=56,
         init_image="init1_w72h56.png", mask_image="mask1_w72h56.png"),
    dict(id="inp-sd1-unipc-15", kind="inpaint", model="tiny-sd1-inpaint", sampler="UniPC",
         prompt="a vase of sunflowers", negative_prompt=None,
         seed=2718, steps=15, cfg=7.0, strength=1.0, width=64, height=64,
         init_image="init2_w64h64.png", mask_image="mask2_w64h64.png"),
    dict(id="inpl-sd1-dpmpp_2m-10-s0.5", kind="inpaint_legacy", model="tiny-sd1", sampler="DPM++ 2M",
         prompt="a vase of sunflowers", negative_prompt="wilted",
         seed=4711, steps=10, cfg=7.5, strength=0.5,
         init_image="init2_w64h64.png", mask_image="mask2_w64h64.png"),
]


def check_prompt(p):
    """Without ftfy, BasicTokenizer must see the same pre-tokens ftfy+CLIP would."""
    if p is None or HAVE_FTFY:
        return
    assert all(32 <= ord(ch) < 127 for ch in p), p
    assert not re.search(r"[^\sA-Za-z0-9]{2,}", p), p


# ---------------------------------------------------------------------------
# New inputs: deterministic, smooth, PNG-friendly (small files).
def make_inputs():
    def init_image(w, h, phase):
        y, x = np.mgrid[0:h, 0:w].astype(np.float32)
        r = 127.5 + 100 * np.sin(x / 9.0 + phase) * np.cos(y / 13.0)
        g = 255 * (x + y) / (w + h)
        b = 127.5 + 120 * np.cos(np.hypot(x - w * 0.6, y - h * 0.4) / 6.0 + phase)
        # a hard-edged disc so the VAE sees an edge
        disc = np.hypot(x - w * 0.3, y - h * 0.65) < min(w, h) * 0.18
        r[disc], g[disc], b[disc] = 230, 40, 30
        img = np.stack([r, g, b], -1)
        return Image.fromarray(np.clip(np.rint(img), 0, 255).astype(np.uint8), "RGB")

    def mask_image(w, h, x0, y0, x1, y1, soft):
        """255 inside [x0,x1)x[y0,y1), a linear ramp `soft` pixels wide outside it."""
        y, x = np.mgrid[0:h, 0:w].astype(np.float32)
        dx = np.maximum(np.maximum(x0 - x, x - (x1 - 1)), 0)
        dy = np.maximum(np.maximum(y0 - y, y - (y1 - 1)), 0)
        d = np.maximum(dx, dy)
        m = np.clip(1.0 - d / soft, 0.0, 1.0) if soft > 0 else (d == 0).astype(np.float32)
        return Image.fromarray(np.rint(m * 255).astype(np.uint8), "L")

    files = {
        "init1_w72h56.png": init_image(72, 56, 0.7),
        "init2_w64h64.png": init_image(64, 64, 2.1),
        # hard-edged, not aligned to the 8-pixel latent grid
        "mask1_w72h56.png": mask_image(72, 56, 21, 13, 58, 43, 0),
        # soft edge: grey values (legacy inpaint keeps them, 9-ch binarises)
        "mask2_w64h64.png": mask_image(64, 64, 18, 10, 46, 40, 14),
    }
    for name, img in files.items():
        img.save(os.path.join(HERE, name), optimize=True)


def md5(path):
    with open(path, "rb") as f:
        return hashlib.md5(f.read()).hexdigest()


def load_pipe(kind, model, shared, pipes):
    key = (kind, model)
    if key not in pipes:
        model_dir = os.path.join(shared, "fixtures", "models", model)
        extra = {}
        if kind == "inpaint_legacy":  # its signature still lists the safety components
            extra = dict(safety_checker=None, feature_extractor=None, requires_safety_checker=False)
        pipe = PIPELINES[kind].from_pretrained(model_dir, torch_dtype=torch.float32, **extra)
        pipe.set_progress_bar_config(disable=True)
        # The model's own scheduler config (PNDM, "leading"), kept apart so that
        # one case's overrides never leak into the next case's scheduler.
        pipe.model_scheduler_config = dict(pipe.scheduler.config)
        pipes[key] = pipe
    return pipes[key]


def run_pipe(c, shared, pipes):
    """Runs one case; returns (pipe, images [N,H,W,3] in [0,1], seconds).
    Paths of init/mask images are relative to this folder (or absolute)."""
    pipe = load_pipe(c["kind"], c["model"], shared, pipes)
    cls, overrides = SAMPLERS[c["sampler"]]
    pipe.scheduler = cls.from_config(pipe.model_scheduler_config, **overrides)
    check_prompt(c["prompt"])
    check_prompt(c.get("negative_prompt"))
    call = dict(prompt=c["prompt"], negative_prompt=c.get("negative_prompt"),
                num_inference_steps=c["steps"], guidance_scale=c["cfg"],
                num_images_per_prompt=c.get("batch_size", 1), eta=0.0,
                generator=torch.Generator("cpu").manual_seed(c["seed"]), output_type="np")
    if c["kind"] in ("txt2img", "inpaint") and c.get("height"):
        call.update(height=c["height"], width=c["width"])
    if c["kind"] != "txt2img":
        init = Image.open(os.path.join(HERE, c["init_image"])).convert("RGB")
        call.update(image=init, strength=c["strength"])
    if c["kind"] in ("inpaint", "inpaint_legacy"):
        call.update(mask_image=Image.open(os.path.join(HERE, c["mask_image"])).convert("L"))
    t0 = time.time()
    with torch.no_grad():
        images = pipe(**call).images
    return pipe, images, time.time() - t0


def json_safe(v):
    """Non-finite floats as strings ("-inf"), as the shared manifest stores them."""
    if isinstance(v, float) and not np.isfinite(v):
        return "nan" if np.isnan(v) else ("inf" if v > 0 else "-inf")
    if isinstance(v, dict):
        return {k: json_safe(x) for k, x in v.items()}
    if isinstance(v, (list, tuple)):
        return [json_safe(x) for x in v]
    return v


def run_case(c, shared, pipes):
    pipe, images, seconds = run_pipe(c, shared, pipes)
    pngs = []
    for k, img in enumerate(images):
        name = c["id"] + ("" if k == 0 else "_%d" % (k + 1)) + ".png"
        Image.fromarray((img * 255).round().astype("uint8")).save(os.path.join(HERE, name), optimize=True)
        pngs.append(name)
    out = dict(c)
    if c["kind"] != "txt2img":
        out["width"], out["height"] = Image.open(os.path.join(HERE, c["init_image"])).size
    for k in ("init_image", "mask_image", "strength", "negative_prompt"):
        out.setdefault(k, None)
    out.update(pipeline=type(pipe).__name__, model_dir="models/" + c["model"],
               batch_size=c.get("batch_size", 1), pngs=pngs,
               scheduler={"class": type(pipe.scheduler).__name__, "overrides": SAMPLERS[c["sampler"]][1],
                          "config": {k: v for k, v in pipe.scheduler.config.items() if not k.startswith("_")}},
               scheduler_timesteps_all=[float(t) for t in pipe.scheduler.timesteps],
               do_classifier_free_guidance=c["cfg"] > 1.0, wall_time_s=round(seconds, 3))
    return out


RECIPE_TO_SAMPLER = {"pndm": "PLMS", "ddim": "DDIM", "euler": "Euler", "euler_a": "Euler a", "lms": "LMS",
                     "dpmpp_2m": "DPM++ 2M", "dpmpp_2m_karras": "DPM++ 2M Karras"}


def self_check(shared, ids):
    """Replays shared fixture cases with this environment; their stored
    `image` must come back to float noise (README section 6)."""
    from safetensors import safe_open
    fixtures = os.path.join(shared, "fixtures")
    with open(os.path.join(fixtures, "manifest.json")) as f:
        cases = {c["id"]: c for c in json.load(f)["cases"]}
    pipes, worst = {}, 0.0
    for cid in ids:
        f = cases[cid]
        c = dict(id=cid, kind=f["kind"], model=f["model"], sampler=RECIPE_TO_SAMPLER[f["scheduler_recipe"]],
                 prompt=f["prompt"], negative_prompt=f["negative_prompt"], seed=f["seed"],
                 steps=f["num_inference_steps"], cfg=f["guidance_scale"], width=f["width"], height=f["height"],
                 batch_size=f["num_images_per_prompt"])
        if f["init_image"]:
            c.update(init_image=os.path.join(fixtures, f["init_image"]), strength=f["strength"] or 1.0)
        if f["mask_image"]:
            c["mask_image"] = os.path.join(fixtures, f["mask_image"])
        _, images, _ = run_pipe(c, shared, pipes)
        with safe_open(os.path.join(fixtures, f["file"])) as st:
            ref = st.get_tensor("image").numpy()
        d = float(np.abs(images - ref).max())
        worst = max(worst, d)
        print("self-check %-32s max |image - fixture| = %.3g" % (cid, d), flush=True)
    assert worst < 1e-4, "this environment does not reproduce the shared fixtures"
    return {"cases": ids, "max_abs_image_diff": worst}


SELF_CHECK_IDS = ["t2i-sd1-euler_a-8-batch2", "t2i-sd2-ddim-20-g1", "inpl-sd1-ddim-20-s0.75"]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--shared", default=os.path.normpath(os.path.join(HERE, "../../../../../shared")))
    ap.add_argument("--only", nargs="*")
    ap.add_argument("--no-self-check", action="store_true")
    args = ap.parse_args()

    check = None if (args.only or args.no_self_check) else self_check(args.shared, SELF_CHECK_IDS)
    make_inputs()
    pipes, results = {}, []
    t0 = time.time()
    for c in CASES:
        if args.only and c["id"] not in args.only:
            continue
        r = run_case(dict(c), args.shared, pipes)
        print("%-44s %5.1fs  %s" % (r["id"], r["wall_time_s"], ", ".join(r["pngs"])), flush=True)
        results.append(r)
    if args.only:
        return

    models_json = os.path.join(args.shared, "fixtures", "models", "models.json")
    manifest = {
        "format": "stipple/pipeline-reference/v1",
        "generator": {
            "script": "tests/core/pipeline/ref/make_pipeline_reference.py",
            "versions": {"python": sys.version.split()[0], "torch": torch.__version__,
                         "numpy": np.__version__, "diffusers": diffusers.__version__,
                         "transformers": transformers.__version__, "ftfy": HAVE_FTFY},
            "torch_num_threads": torch.get_num_threads(),
            "seconds": round(time.time() - t0, 1),
            "models_json_md5": md5(models_json) if os.path.exists(models_json) else None,
            "self_check": check,
        },
        "conventions": {
            "paths": "png/init/mask names are relative to this manifest; model_dir is relative to "
                     "<shared>/fixtures",
            "png": "round(image * 255) of diffusers' output_type='np' images; a batch writes <id>.png, <id>_2.png",
            "sampler": "A1111 name given to stipple-cli; scheduler = Class.from_config(model scheduler config, "
                       "**overrides)",
            "generator": "one torch.Generator('cpu').manual_seed(seed) per pipeline call",
            "inputs": {n: md5(os.path.join(HERE, n)) for n in
                       ("init1_w72h56.png", "init2_w64h64.png", "mask1_w72h56.png", "mask2_w64h64.png")},
        },
        "cases": results,
    }
    with open(os.path.join(HERE, "manifest.json"), "w") as f:
        json.dump(json_safe(manifest), f, indent=1, allow_nan=False)
        f.write("\n")


if __name__ == "__main__":
    main()
