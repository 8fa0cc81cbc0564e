#!/usr/bin/python3
"""Trains the grasp2vec demo towers on simworld grasp episodes and exports them to ONNX.

usage: /usr/bin/python3 models/grasp2vec/train.py --simworld build/tools/simworld/simworld
           [--out models/grasp2vec/demo] [--episodes 2000] [--steps 900] [--seed 0]
           [--scene-stride 16|8]
The shipped demo model: --episodes 3000 --steps 1400 --scene-stride 8 (models/grasp2vec/demo/README.md).

Data: `simworld grasp --seed 1 --size 128x128 --episodes N` (training seed 1 only; the
evaluation uses seeds 101+, see tools/eval/eval_grasp2vec.py), rendered into a temporary
folder (or --data DIR if already rendered with those options).
Model: the reference tower (models/grasp2vec/reference/grasp2vec.py, ResNet-50 v2 cut after
the third group) at width 1/8 (C = 128); phi_s on 128x128 scenes (8x8 spatial map, or 16x16
with --scene-stride 8: third group at stride 1), phi_o on 64x64 object images (the outcome
frame resized, as the blob's recipe does).
Loss (Jang et al. 2018): n-pairs in both directions between phi_s(pre) - phi_s(post) and
phi_o(outcome) over the batch (raw dot products as logits), plus an L2 penalty on both
embeddings. Self-supervised: no object ids, boxes or goal images are used in training.
Writes OUT/scene.onnx (image -> vector [1,128], spatial [1,128,S,S]), OUT/object.onnx
(image -> vector [1,128]), OUT/train_log.json (loss curve, time, command).
Deterministic for a seed: one PyTorch thread, fixed data order.
"""

import argparse
import importlib.util
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time

import numpy as np
import torch
import torch.nn.functional as F

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import g2v_data  # noqa: E402

WIDTH = 1 / 8
L2 = 2e-3
TRAIN_SEED = 1  # simworld seed of the training episodes; evaluation never uses it
# Output stride of the scene tower -> the reference's block_strides. 16 is the paper's tower
# (8x8 map at 128 px); 8 runs the third group at stride 1 (16x16 map, same parameters).
SCENE_STRIDES = {16: (1, 2, 2), 8: (1, 2, 1)}


def load_reference():
    path = os.path.join(HERE, "reference", "grasp2vec.py")
    spec = importlib.util.spec_from_file_location("embedrt_ref_grasp2vec", path)
    m = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(m)
    return m


def render(simworld, out, seed, episodes, first=0):
    cmd = [simworld, "grasp", "--seed", str(seed), "--out", out, "--episodes", str(episodes),
           "--first-episode", str(first), "--size", g2v_data.SIMWORLD_SIZE, "--threads", "1"]
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
    return cmd


def load_training_set(directory, episodes):
    """pre/post uint8 [N,128,128,3] x 2, outcome float32 [N,3,64,64]."""
    n = episodes
    s = g2v_data.SCENE_SIDE
    pre = np.empty((n, s, s, 3), np.uint8)
    post = np.empty_like(pre)
    outcome = np.empty((n, 3, g2v_data.OBJECT_SIDE, g2v_data.OBJECT_SIDE), np.float32)
    for e in range(n):
        scene, out_path, _ = g2v_data.episode_files(directory, e)
        sc = g2v_data.read_y4m(scene)
        if sc.shape[1:3] != (s, s):
            raise SystemExit(f"{scene}: frames are {sc.shape[2]}x{sc.shape[1]}, training wants {s}x{s}")
        pre[e], post[e] = sc[0], sc[1]
        outcome[e] = g2v_data.resize_bilinear(g2v_data.read_y4m(out_path)[0], g2v_data.OBJECT_SIDE)
    return pre, post, outcome


def to_tensor(u8):
    return torch.from_numpy(u8).permute(0, 3, 1, 2).float().mul_(1 / 255.0)


def npairs_loss(anchor, positive, tau=0.0):
    """n-pairs softmax over the batch, both directions; logits are raw dot products, or with
    tau > 0 cosines / tau (a variant that learns faster from small scene differences)."""
    if tau > 0:
        logits = F.normalize(anchor, dim=1) @ F.normalize(positive, dim=1).t() / tau
    else:
        logits = anchor @ positive.t()
    target = torch.arange(anchor.shape[0])
    ce = 0.5 * (F.cross_entropy(logits, target) + F.cross_entropy(logits.t(), target))
    # The L2 penalty keeps raw-dot logits bounded; cosine logits need none.
    reg = (L2 if tau <= 0 else 0.0) * 0.5 * (anchor.pow(2).sum(1).mean() + positive.pow(2).sum(1).mean())
    return ce, reg, (logits.argmax(1) == target).float().mean()


def change_target(x_pre, x_post, h, w):
    """Self-supervised 'where did the scene change' distribution over the h x w cells, from the
    two images only: squared pixel difference pooled over the 16x16 block centred on each
    cell's receptive-field centre (cell k of the stride-16 map sits on input pixel 16 k)."""
    stride = x_pre.shape[-1] // w
    d = (x_pre - x_post).abs().mean(1, keepdim=True).pow(2)
    half = stride // 2
    pooled = F.avg_pool2d(F.pad(d, (half, half, half, half)), stride, stride)[:, 0, :h, :w]
    flat = pooled.flatten(1)
    return flat / flat.sum(1, keepdim=True).clamp_min(1e-12)


def localisation_loss(spatial_pre, positive, target, scale=0.0):
    """Cross-entropy between the change distribution and the softmax of the heatmap
    heat[i, j] = spatial_pre[:, i, j] . phi_o(outcome) (the runtime's heatmap). scale 0: the
    raw heat (temperature 1), which also pulls the heat's magnitude, and with it the n-pairs
    logits, down; scale > 0: the heat standardised per scene by its own (detached) spread,
    times scale, so the term shapes where the heat peaks, not how large it is."""
    heat = torch.einsum("bchw,bc->bhw", spatial_pre, positive).flatten(1)
    if scale > 0:
        heat = scale * (heat - heat.mean(1, keepdim=True)) / heat.std(1, keepdim=True).detach().clamp_min(1e-6)
    return -(target * F.log_softmax(heat, 1)).sum(1).mean()


class SceneExport(torch.nn.Module):
    def __init__(self, tower):
        super().__init__()
        self.tower = tower

    def forward(self, image):
        return self.tower(image)


class ObjectExport(torch.nn.Module):
    def __init__(self, tower):
        super().__init__()
        self.tower = tower

    def forward(self, image):
        return self.tower(image)[0]


def export(scene, obj, out):
    scene.eval()
    obj.eval()
    s, o = g2v_data.SCENE_SIDE, g2v_data.OBJECT_SIDE
    torch.onnx.export(SceneExport(scene), (torch.rand(1, 3, s, s),), os.path.join(out, "scene.onnx"),
                      opset_version=13, do_constant_folding=True, input_names=["image"],
                      output_names=["vector", "spatial"], training=torch.onnx.TrainingMode.EVAL)
    torch.onnx.export(ObjectExport(obj), (torch.rand(1, 3, o, o),), os.path.join(out, "object.onnx"),
                      opset_version=13, do_constant_folding=True, input_names=["image"],
                      output_names=["vector"], training=torch.onnx.TrainingMode.EVAL)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--simworld", help="the simworld binary (renders the training episodes)")
    ap.add_argument("--data", help="an already rendered training folder (simworld grasp --seed 1 --size 128x128)")
    ap.add_argument("--out", default=os.path.join(HERE, "demo"))
    ap.add_argument("--episodes", type=int, default=2000)
    ap.add_argument("--steps", type=int, default=900)
    ap.add_argument("--batch", type=int, default=32)
    ap.add_argument("--lr", type=float, default=2e-3)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--loc-weight", type=float, default=0.0,
                    help="weight of the self-supervised localisation term (0, the default and the shipped model: the paper's loss only; 1 made it worse)")
    ap.add_argument("--scene-stride", type=int, default=16, choices=sorted(SCENE_STRIDES),
                    help="output stride of the scene tower: 16 (the paper's, 8x8 map at 128 px) or 8 "
                         "(third group at stride 1: 16x16 map)")
    ap.add_argument("--loc-scale", type=float, default=0.0,
                    help="0: the localisation term on the raw heat; > 0: on the heat standardised per scene "
                         "(detached spread) times this")
    ap.add_argument("--checkpoint", help="also save the PyTorch state dicts here (not shipped)")
    ap.add_argument("--tau", type=float, default=0.0,
                    help="0: raw dot-product logits (the paper); > 0: cosine / tau logits")
    args = ap.parse_args()
    if not args.simworld and not args.data:
        ap.error("give --simworld BINARY (to render the data) or --data DIR")
    torch.set_num_threads(1)
    torch.manual_seed(args.seed)
    rng = np.random.RandomState(args.seed)
    os.makedirs(args.out, exist_ok=True)
    t0, cpu0 = time.time(), time.process_time()
    tmp = None
    data_cmd = None
    if args.data:
        data = args.data
    else:
        tmp = data = tempfile.mkdtemp(prefix="g2v-train-")
        data_cmd = render(args.simworld, data, TRAIN_SEED, args.episodes)
    pre, post, outcome = load_training_set(data, args.episodes)
    if tmp:
        shutil.rmtree(tmp)
    print(f"data: {args.episodes} episodes in {time.time() - t0:.1f} s", flush=True)

    ref = load_reference()
    scene = ref.Grasp2VecTower(WIDTH, block_strides=SCENE_STRIDES[args.scene_stride])
    obj = ref.Grasp2VecTower(WIDTH)
    params = list(scene.parameters()) + list(obj.parameters())
    opt = torch.optim.Adam(params, lr=args.lr)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=args.lr, total_steps=args.steps, pct_start=0.1)
    n, b = args.episodes, args.batch
    order = rng.permutation(n)
    cursor = 0
    log = []
    t_train, cpu_train = time.time(), time.process_time()
    run_loss = run_acc = None
    for step in range(args.steps):
        if cursor + b > n:
            order, cursor = rng.permutation(n), 0
        idx = np.sort(order[cursor:cursor + b])
        cursor += b
        scene.train()
        obj.train()
        x_pre, x_post = to_tensor(pre[idx]), to_tensor(post[idx])
        v, sp = scene(torch.cat([x_pre, x_post]))
        anchor = v[:b] - v[b:]
        positive, _ = obj(torch.from_numpy(outcome[idx]))
        ce, reg, acc = npairs_loss(anchor, positive, args.tau)
        loss = ce + reg
        if args.loc_weight > 0:
            target = change_target(x_pre, x_post, sp.shape[2], sp.shape[3])
            loc = localisation_loss(sp[:b], positive, target, args.loc_scale)
            loss = loss + args.loc_weight * loc
        opt.zero_grad()
        loss.backward()
        opt.step()
        sched.step()
        loc_v = loc.item() if args.loc_weight > 0 else 0.0
        run_loss = loss.item() if run_loss is None else 0.95 * run_loss + 0.05 * loss.item()
        run_acc = acc.item() if run_acc is None else 0.95 * run_acc + 0.05 * acc.item()
        if step % 25 == 0 or step == args.steps - 1:
            el = time.time() - t_train
            log.append({"step": step, "loss": round(loss.item(), 4), "ce": round(ce.item(), 4), "loc": round(loc_v, 4),
                        "smoothed_loss": round(run_loss, 4), "batch_top1": round(run_acc, 3),
                        "seconds": round(el, 1)})
            print(f"step {step:5d}  loss {loss.item():.4f} (ce {ce.item():.4f}, loc {loc_v:.4f}, smoothed {run_loss:.4f})  "
                  f"in-batch top-1 {run_acc:.2f}  {el:.0f} s", flush=True)
    train_s, train_cpu = time.time() - t_train, time.process_time() - cpu_train
    if args.checkpoint:
        torch.save({"scene": scene.state_dict(), "object": obj.state_dict()}, args.checkpoint)
    export(scene, obj, args.out)
    info = {"command": " ".join([os.path.relpath(sys.argv[0])] + sys.argv[1:]),
            "data_command": " ".join(data_cmd) if data_cmd else f"(given) {args.data}",
            "torch": torch.__version__, "threads": 1, "seed": args.seed, "width": WIDTH,
            "scene_stride": args.scene_stride,
            "episodes": n, "steps": args.steps, "tau": args.tau, "loc_weight": args.loc_weight,
            "loc_scale": args.loc_scale, "batch": b, "lr": args.lr,
            "train_seconds": round(train_s, 1), "train_cpu_seconds": round(train_cpu, 1),
            "total_seconds": round(time.time() - t0, 1),
            # this process plus the simworld render it waited for (children)
            "total_cpu_seconds": round(time.process_time() - cpu0 + sum(os.times()[2:4]), 1),
            "final_loss": log[-1]["loss"], "final_smoothed_loss": round(run_loss, 4), "log": log}
    with open(os.path.join(args.out, "train_log.json"), "w") as f:
        json.dump(info, f, indent=1)
    print(f"trained {args.steps} steps in {train_s:.0f} s ({train_cpu:.0f} s CPU), smoothed loss {run_loss:.4f}; "
          f"wrote {args.out}/scene.onnx, object.onnx, train_log.json")


if __name__ == "__main__":
    main()
