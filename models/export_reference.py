#!/usr/bin/python3
"""Exports embedrt's reference models to ONNX with seeded random weights, plus input and output
.npy fixtures and a meta.json per case: the converter's and engine's ground truth.

usage: /usr/bin/python3 models/export_reference.py [--size small|full] [--out DIR] [--only NAMES]

Every case goes to DIR/<case>/: model.onnx (opset 13, static shapes, eval mode, constant
folding), input_<name>.npy and output_<name>.npy (float32, C order, named like the graph's
inputs and outputs; outputs are PyTorch's) and meta.json. Weights are random but seeded, and
scaled layer by layer (in forward order, on a calibration batch) so that every conv/FC output
has unit standard deviation: activations stay O(1) through 50-layer trunks. BatchNorm layers
get random statistics and affine parameters, so BN folding is exercised for real.
Running the script twice gives byte-identical files (it runs PyTorch on one thread).
"""

import argparse
import copy
import importlib.util
import json
import os
import re
import time
import warnings
import zlib
from collections import Counter

import numpy as np
import onnx
import torch
from torch import nn

HERE = os.path.dirname(os.path.abspath(__file__))
OPSET = 13


def _load(family):
    path = os.path.join(HERE, family, "reference", family + ".py")
    spec = importlib.util.spec_from_file_location("embedrt_ref_" + family, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


grasp2vec = _load("grasp2vec")
tcn = _load("tcn")
mftcn = _load("mftcn")
rig = _load("rig")
ccvae = _load("ccvae")

# Per size: width multipliers and input sides. Small keeps every architecture but shrinks
# channels (and image sides where the architecture allows) so all fixtures stay a few MB.
SIZES = {
    "full": dict(g2v_width=1.0, g2v_sides=(224, 472), tcn_width=1.0, tcn_side=299,
                 mf_width=1.0, mf_side=224, cc_width=1.0, calib_side=128),
    "small": dict(g2v_width=1 / 8, g2v_sides=(64,), tcn_width=1 / 8, tcn_side=99,
                  mf_width=1 / 8, mf_side=64, cc_width=1 / 2, calib_side=64),
}

PREPROCESS_01 = "x/255 per RGB channel, NCHW, no mean/std: range [0, 1]"
PREPROCESS_11 = "(x/255 - 0.5) * 2 per RGB channel, NCHW: range [-1, 1]"

WEIGHT_LAYERS = (nn.Conv1d, nn.Conv2d, nn.Conv3d, nn.ConvTranspose2d, nn.Linear)
BN_LAYERS = (nn.BatchNorm1d, nn.BatchNorm2d, nn.BatchNorm3d)


def seed_of(text):
    return zlib.crc32(text.encode())


# ---------------------------------------------------------------------------------------------
# Inputs: 8-bit-like images (smooth background, a few flat "objects", sensor noise), quantised
# to k/255 so they are exactly what a decoded camera frame gives after scaling.

def make_images(seed, n, side, shift=(0, 0)):
    rng = np.random.RandomState(seed)
    yy, xx = np.mgrid[0:side, 0:side].astype(np.float64) / side
    imgs = np.empty((n, 3, side, side), np.float64)
    for i in range(n):
        for c in range(3):
            base = 0.5 + 0.15 * rng.uniform(-1, 1)
            for _ in range(3):
                fy, fx = rng.uniform(0.3, 3.0, size=2)
                base = base + 0.12 * np.sin(2 * np.pi * (fy * yy + fx * xx) + rng.uniform(0, 2 * np.pi))
            imgs[i, c] = base
        for _ in range(4):
            h, w = rng.randint(side // 8 + 1, side // 3 + 2, size=2)
            y, x = rng.randint(0, side - h + 1), rng.randint(0, side - w + 1)
            imgs[i, :, y:y + h, x:x + w] = rng.uniform(0, 1, size=(3, 1, 1))
        imgs[i] += rng.normal(0, 0.02, size=(3, side, side))
    imgs = np.roll(imgs, shift, axis=(2, 3))
    return np.round(np.clip(imgs, 0, 1) * 255) / 255


def image01(seed, n, side, shift=(0, 0)):
    return make_images(seed, n, side, shift).astype(np.float32)


def image11(seed, n, side, shift=(0, 0)):
    return ((make_images(seed, n, side, shift) - 0.5) * 2).astype(np.float32)


# ---------------------------------------------------------------------------------------------
# Weights.

def randomize(model, seed):
    """Random weights and BN statistics from one seeded generator, in module order."""
    g = torch.Generator().manual_seed(seed)

    def normal(t, std):
        t.copy_(torch.randn(t.shape, generator=g) * std)

    def uniform(t, lo, hi):
        t.copy_(lo + (hi - lo) * torch.rand(t.shape, generator=g))

    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, WEIGHT_LAYERS):
                out_dim = 1 if isinstance(m, nn.ConvTranspose2d) else 0
                fan_in = m.weight.numel() // m.weight.shape[out_dim]
                normal(m.weight, (2.0 / fan_in) ** 0.5)
                if m.bias is not None:
                    normal(m.bias, 0.1)
            elif isinstance(m, BN_LAYERS):
                normal(m.running_mean, 0.1)
                uniform(m.running_var, 0.5, 1.5)
                uniform(m.weight, 0.5, 1.5)
                normal(m.bias, 0.1)
            elif isinstance(m, tcn.SpatialSoftArgmax):
                uniform(m.temperature, 0.5, 1.0)


class _Captured(Exception):
    pass


def calibrate(model, inputs):
    """Scales each conv/FC (in forward order) so its output has unit std on `inputs`.

    The scale is rounded to 3 significant digits so tiny float differences between machines
    do not change the weights.
    """
    order = []
    hooks = [m.register_forward_hook(lambda m, i, o: order.append(m) if m not in order else None)
             for m in model.modules() if isinstance(m, WEIGHT_LAYERS)]
    with torch.no_grad():
        model(*inputs)
    for h in hooks:
        h.remove()
    for layer in order:
        box = {}

        def grab(m, i, o):
            box["out"] = o
            raise _Captured()

        h = layer.register_forward_hook(grab)
        try:
            with torch.no_grad():
                model(*inputs)
        except _Captured:
            pass
        finally:
            h.remove()
        std = float(box["out"].std())
        scale = float(f"{1.0 / max(std, 1e-12):.3g}")
        with torch.no_grad():
            layer.weight.mul_(scale)
            if layer.bias is not None:
                layer.bias.mul_(scale)


def count_macs(model, inputs):
    """Multiply-accumulates of conv, deconv and FC layers for one call on `inputs`."""
    total = [0]

    def hook(m, i, o):
        if isinstance(m, nn.Linear):
            total[0] += o.numel() * m.in_features
        elif isinstance(m, nn.ConvTranspose2d):
            total[0] += i[0].numel() * (m.out_channels // m.groups) * int(np.prod(m.kernel_size))
        else:
            total[0] += o.numel() * (m.in_channels // m.groups) * int(np.prod(m.kernel_size))

    hooks = [m.register_forward_hook(hook) for m in model.modules() if isinstance(m, WEIGHT_LAYERS)]
    with torch.no_grad():
        model(*inputs)
    for h in hooks:
        h.remove()
    return total[0]


def count_params(model):
    return sum(p.numel() for p in model.parameters())


# ---------------------------------------------------------------------------------------------
# Cases.

class Case:
    """One exported graph: a model, named inputs (numpy) and output names."""

    def __init__(self, name, family, model, inputs, outputs, notes):
        self.name, self.family, self.model = name, family, model
        self.inputs, self.outputs, self.notes = inputs, outputs, notes


def build_cases(size, wanted):
    """Yields the cases of `size` whose name or family is in `wanted` (all when empty)."""
    cfg = SIZES[size]
    cal = cfg["calib_side"]

    def want(name, family):
        return not wanted or name in wanted or family in wanted

    def prepared(model, seed_key, calib_inputs):
        randomize(model, seed_of(f"{seed_key}/{size}"))
        model.eval()
        calibrate(model, calib_inputs)
        return model

    # grasp2vec: one tower, exported at every input side (same weights).
    names = [f"grasp2vec_{s}" for s in cfg["g2v_sides"]]
    if any(want(n, "grasp2vec") for n in names):
        tower = prepared(grasp2vec.Grasp2VecTower(cfg["g2v_width"]), "grasp2vec",
                         [torch.from_numpy(image01(1, 2, cal))])
        for side, name in zip(cfg["g2v_sides"], names):
            if want(name, "grasp2vec"):
                yield Case(name, "grasp2vec", tower,
                           {"image": image01(seed_of(name), 1, side)}, ["vector", "spatial"],
                           {"width": cfg["g2v_width"], "preprocess": PREPROCESS_01,
                            "spatial_side": grasp2vec.feature_size(side),
                            "role": "phi_s or phi_o tower (same shape, separate weights)"})

    # TCN: the soft-argmax grid fixes the input side, so calibrate at that side.
    side = cfg["tcn_side"]
    name, name_l2 = f"tcn_{side}", f"tcn_l2_{side}"
    if want(name, "tcn") or want(name_l2, "tcn"):
        model = prepared(tcn.TCNEmbedder(cfg["tcn_width"], side), "tcn",
                         [torch.from_numpy(image11(2, 2, side))])
        notes = {"width": cfg["tcn_width"], "preprocess": PREPROCESS_11,
                 "mixed5d_side": tcn.feature_size(side),
                 "temperature": float(model.softargmax.temperature)}
        image = {"image": image11(seed_of(name), 1, side)}
        if want(name, "tcn"):
            yield Case(name, "tcn", model, image, ["embedding"], dict(notes, normalize=False))
        if want(name_l2, "tcn"):
            l2 = copy.deepcopy(model)
            l2.normalize = True
            yield Case(name_l2, "tcn", l2, image, ["embedding"], dict(notes, normalize=True))

    # mfTCN: trunk case on the newest frame; head case on the stacked trunk maps of the
    # window (older frame first), so the two fixtures chain exactly.
    side = cfg["mf_side"]
    trunk_name, head_name = f"mftcn_trunk_{side}", f"mftcn_head_n{mftcn.N_FRAMES}"
    if want(trunk_name, "mftcn") or want(head_name, "mftcn"):
        trunk = prepared(mftcn.MfTCNTrunk(cfg["mf_width"]), "mftcn_trunk",
                         [torch.from_numpy(image11(3, 2, cal))])
        with torch.no_grad():
            calib_maps = [trunk(torch.from_numpy(image11(4, 2, cal, (0, 4 * k))))
                          for k in range(mftcn.N_FRAMES)]
        head = prepared(mftcn.MfTCNHead(trunk.out_channels, cfg["mf_width"]), "mftcn_head",
                        [mftcn.stack_frames(calib_maps)])
        frames = [image11(seed_of(trunk_name), 1, side, (0, 3 * k)) for k in range(mftcn.N_FRAMES)]
        notes = {"width": cfg["mf_width"], "n_frames": mftcn.N_FRAMES, "frame_stride": mftcn.FRAME_STRIDE,
                 "window": "frames t-(n-1)s .. t, clamped at the episode start, oldest first"}
        if want(trunk_name, "mftcn"):
            yield Case(trunk_name, "mftcn", trunk, {"image": frames[-1]}, ["features"],
                       dict(notes, graph="trunk", preprocess=PREPROCESS_11,
                            chains_to=f"{head_name}: output_features == input_features[:, :, -1]"))
        if want(head_name, "mftcn"):
            with torch.no_grad():
                maps = [trunk(torch.from_numpy(f)) for f in frames]
            features = mftcn.stack_frames(maps).numpy()
            yield Case(head_name, "mftcn", head, {"features": features}, ["embedding"],
                       dict(notes, graph="head", input_side=side,
                            input_from=f"trunk maps of {mftcn.N_FRAMES} frames shifted by 3 px"))

    # RIG: full architecture at every size (48 px is fixed; the model is small).
    if want("rig_encoder", "rig") or want("rig_decoder", "rig"):
        enc = prepared(rig.RIGEncoder(4), "rig_encoder", [torch.from_numpy(image01(5, 8, 48))])
        if want("rig_encoder", "rig"):
            yield Case("rig_encoder", "rig", enc, {"image": image01(seed_of("rig_encoder"), 1, 48)},
                       ["mu", "logvar"], {"latent_dim": 4, "preprocess": PREPROCESS_01,
                                          "logvar": "log(1e-3) + |fc(h)|"})
        if want("rig_decoder", "rig"):
            g = torch.Generator().manual_seed(6)
            dec = prepared(rig.RIGDecoder(4), "rig_decoder", [torch.randn(8, 4, generator=g)])
            latent = np.random.RandomState(seed_of("rig_decoder")).normal(size=(1, 4)).astype(np.float32)
            yield Case("rig_decoder", "rig", dec, {"latent": latent}, ["image"],
                       {"latent_dim": 4, "output": "48x48 RGB in (0, 1), sigmoid"})

    # CC-VAE: the full encoder with both inputs, and the context path alone.
    if want("ccvae", "ccvae") or want("ccvae_context", "ccvae") or want("ccvae_state", "ccvae"):
        w = cfg["cc_width"]
        enc = prepared(ccvae.CCVAEEncoder(w), "ccvae",
                       [torch.from_numpy(image01(7, 4, 48)), torch.from_numpy(image01(8, 4, 48))])
        x_t, x_0 = image01(seed_of("ccvae/x_t"), 1, 48), image01(seed_of("ccvae/x_0"), 1, 48)
        notes = {"width": w, "preprocess": PREPROCESS_01}
        if want("ccvae", "ccvae"):
            yield Case("ccvae", "ccvae", enc, {"x_t": x_t, "x_0": x_0}, ["mu", "c", "latent"],
                       dict(notes, latent="concat(mu 6, c 4)"))
        if want("ccvae_context", "ccvae"):
            yield Case("ccvae_context", "ccvae", ccvae.CCVAEContext(enc), {"x_0": x_0}, ["c"],
                       dict(notes, graph="context path of ccvae (same weights): c once per episode"))
        if want("ccvae_state", "ccvae"):
            with torch.no_grad():
                c = ccvae.CCVAEContext(enc)(torch.from_numpy(x_0)).numpy()
            yield Case("ccvae_state", "ccvae", ccvae.CCVAEState(enc), {"x_t": x_t, "c": c}, ["mu", "latent"],
                       dict(notes, graph="state path of ccvae (same weights) with c as an input"))


ALL_CASE_NAMES = {
    size: [f"grasp2vec_{s}" for s in cfg["g2v_sides"]]
    + [f"tcn_{cfg['tcn_side']}", f"tcn_l2_{cfg['tcn_side']}", f"mftcn_trunk_{cfg['mf_side']}",
       f"mftcn_head_n{mftcn.N_FRAMES}", "rig_encoder", "rig_decoder", "ccvae", "ccvae_context", "ccvae_state"]
    for size, cfg in SIZES.items()
}


# ---------------------------------------------------------------------------------------------
# Export.

def op_histogram(model_proto):
    return dict(sorted(Counter(n.op_type for n in model_proto.graph.node).items()))


def check_outputs(name, outputs):
    """Random weights can silently produce dead or exploding graphs; refuse those."""
    for oname, arr in outputs.items():
        if not np.all(np.isfinite(arr)):
            raise SystemExit(f"export: {name}/{oname}: non-finite values")
        peak = float(np.abs(arr).max())
        if peak == 0.0 or float(arr.std()) < 1e-4 or peak > 1e3 or np.count_nonzero(arr) < 0.01 * arr.size:
            raise SystemExit(f"export: {name}/{oname}: degenerate output (max |x| {peak:.3g}, "
                             f"std {float(arr.std()):.3g}, {np.count_nonzero(arr)}/{arr.size} non-zero)")


def export_case(case, size, out_dir):
    case_dir = os.path.join(out_dir, case.name)
    os.makedirs(case_dir, exist_ok=True)
    for stale in os.listdir(case_dir):
        if stale.endswith((".npy", ".onnx", ".json")):
            os.remove(os.path.join(case_dir, stale))
    model = case.model.eval()
    args = tuple(torch.from_numpy(a) for a in case.inputs.values())
    with torch.no_grad():
        result = model(*args)
    result = result if isinstance(result, tuple) else (result,)
    outputs = {n: t.detach().numpy().astype(np.float32) for n, t in zip(case.outputs, result)}
    check_outputs(case.name, outputs)

    onnx_path = os.path.join(case_dir, "model.onnx")
    torch.onnx.export(model, args, onnx_path, opset_version=OPSET, do_constant_folding=True,
                      input_names=list(case.inputs), output_names=case.outputs,
                      training=torch.onnx.TrainingMode.EVAL, export_params=True)
    proto = onnx.load(onnx_path)
    onnx.checker.check_model(proto)
    graph_inputs = [i.name for i in proto.graph.input]
    graph_outputs = [o.name for o in proto.graph.output]
    if graph_inputs != list(case.inputs) or graph_outputs != case.outputs:
        raise SystemExit(f"export: {case.name}: graph names {graph_inputs} -> {graph_outputs} "
                         f"differ from {list(case.inputs)} -> {case.outputs}")

    for n, a in case.inputs.items():
        np.save(os.path.join(case_dir, f"input_{n}.npy"), np.ascontiguousarray(a, np.float32))
    for n, a in outputs.items():
        np.save(os.path.join(case_dir, f"output_{n}.npy"), np.ascontiguousarray(a))
    ops = op_histogram(proto)
    meta = {
        "case": case.name,
        "family": case.family,
        "size": size,
        "opset": OPSET,
        "inputs": [{"name": n, "shape": list(a.shape), "dtype": "float32",
                    "range": [round(float(a.min()), 6), round(float(a.max()), 6)]}
                   for n, a in case.inputs.items()],
        "outputs": [{"name": n, "shape": list(a.shape), "dtype": "float32"} for n, a in outputs.items()],
        "macs": count_macs(model, args),
        "params": count_params(model),
        "ops": ops,
        "notes": case.notes,
        "exported_by": f"models/export_reference.py (torch {torch.__version__}, onnx {onnx.__version__})",
    }
    text = json.dumps(meta, indent=1)
    # Keep shapes and ranges on one line each.
    text = re.sub(r"\[\s+([-+\d.e,\s]+?)\s+\]",
                  lambda m: "[" + ", ".join(v.strip() for v in m.group(1).split(",")) + "]", text)
    with open(os.path.join(case_dir, "meta.json"), "w") as f:
        f.write(text + "\n")
    return meta, outputs


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--size", choices=sorted(SIZES), default="small")
    ap.add_argument("--out", default=None, help="output folder (default: tests/fixtures/models for "
                    "small, build/bench/models for full)")
    ap.add_argument("--only", default="", help="comma-separated case or family names "
                    "(cases: " + ", ".join(ALL_CASE_NAMES["small"]) + " / " +
                    ", ".join(ALL_CASE_NAMES["full"]) + ")")
    ap.add_argument("--threads", type=int, default=1, help="PyTorch threads (1 keeps files reproducible)")
    ap.add_argument("--quiet", action="store_true")
    args = ap.parse_args(argv)

    torch.set_num_threads(args.threads)
    # torch 1.13 warns about the omitted optional input of Clip (L2 normalisation); harmless.
    warnings.filterwarnings("ignore", message="The shape inference of prim::Constant type is missing")
    root = os.path.dirname(HERE)
    out = args.out or os.path.join(root, "tests/fixtures/models" if args.size == "small" else "build/bench/models")
    wanted = {w.strip() for w in args.only.split(",") if w.strip()}
    known = set(ALL_CASE_NAMES[args.size]) | {"grasp2vec", "tcn", "mftcn", "rig", "ccvae"}
    unknown = wanted - known
    if unknown:
        raise SystemExit(f"export: unknown case or family {sorted(unknown)} for --size {args.size} "
                         f"(known: {', '.join(sorted(known))})")
    os.makedirs(out, exist_ok=True)
    t_all = time.time()
    t_case = time.time()
    done = 0
    for case in build_cases(args.size, wanted):
        meta, outputs = export_case(case, args.size, out)
        done += 1
        if not args.quiet:
            stats = "; ".join(f"{n} {list(a.shape)} [{a.min():.3g}, {a.max():.3g}] std {a.std():.3g}"
                              for n, a in outputs.items())
            ops = ", ".join(f"{k} {v}" for k, v in meta["ops"].items())
            print(f"{case.name}: {meta['macs'] / 1e6:.1f} MMAC, {meta['params'] / 1e6:.3f} M params, "
                  f"{time.time() - t_case:.1f} s\n  outputs: {stats}\n  ops: {ops}", flush=True)
        t_case = time.time()
    if done == 0:
        raise SystemExit("export: nothing selected")
    print(f"exported {done} case(s) to {out} in {time.time() - t_all:.1f} s")


if __name__ == "__main__":
    main()
