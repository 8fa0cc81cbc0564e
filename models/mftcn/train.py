#!/usr/bin/python3
"""Trains the mfTCN demo model (n = 2 frames) on simworld two-view demonstrations and exports
its two graphs to ONNX.

usage: /usr/bin/python3 models/mftcn/train.py [--simworld build/tools/simworld/simworld]
           [--out models/mftcn/demo] [--episodes 150] [--steps 900] [--stride 4] [--reverse-negatives] [--seed 0]
           [--shared-frames OFFSETS [--rev-weight W] [--aot-weight A]]

Data: the TCN demo model's (models/tcn/tcn_data.py): `simworld demo --seed 1 --size 96x96
--attempts 2 --episodes N`, both views of the demonstration and of each attempt.
Model: the reference (models/mftcn/reference/mftcn.py): per-frame trunk = ReLU(ResNet-50 v2 to
the third block group) and the 3-D conv head, at width 1/8 (C = 128, 6x6 maps at 96 px), window
n = 2 frames spaced --stride apart (clamped at the episode start), embedding 128.
Loss: the TCN's multi-view n-pairs (models/tcn/train.py) on window embeddings: anchor = the
window ending at time t in one view, positive = the window ending at t in the other view,
negatives = the batch's other windows (other times of the same recording and other
recordings); raw dot products, both directions, L2 penalty on the embeddings.
--reverse-negatives: every positive's time-reversed window is an extra negative.
--shared-frames K (the demo model's recipe): per recording K time offsets o, frames o, o + s,
o + 2s, ... and a window on each pair of consecutive frames, so the trunk runs once per unique
frame (not twice per window) and the time-reversed windows are the cached maps swapped (no
trunk run at all). In both directions the other view's reversed windows are negatives, each
counted --rev-weight times; --aot-weight adds an arrow-of-time term: a linear classifier on
the embedding (trained with it, not exported) tells forward from reversed windows (BCE).
Self-supervised: only time indices and the view pairing are used, no ground truth.
Writes OUT/trunk.onnx (image [1,3,96,96] -> features [1,128,6,6]), OUT/head.onnx (features
[1,128,2,6,6] -> embedding [1,128]) and OUT/train_log.json.
"""

import argparse
import importlib.util
import json
import os
import sys
import time

import numpy as np
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(ROOT, "models", "tcn"))
import tcn_data  # noqa: E402

WIDTH = 1 / 8
N_FRAMES = 2


def load_module(path, name):
    spec = importlib.util.spec_from_file_location(name, path)
    m = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(m)
    return m


ref = load_module(os.path.join(HERE, "reference", "mftcn.py"), "embedrt_ref_mftcn")
tcn_train = load_module(os.path.join(ROOT, "models", "tcn", "train.py"), "embedrt_tcn_train")


class MfTCN(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.trunk = ref.MfTCNTrunk(WIDTH)
        self.head = ref.MfTCNHead(self.trunk.out_channels, WIDTH)

    def forward(self, windows):
        """windows [B, n, 3, H, W] (oldest first) -> [B, 128]."""
        b, n = windows.shape[:2]
        maps = self.trunk(windows.flatten(0, 1))
        maps = maps.reshape(b, n, *maps.shape[1:])
        return self.head(ref.stack_frames([maps[:, k] for k in range(n)]))


def window_frames(video, ts, stride):
    """video [T, H, W, 3] -> [len(ts), n, H, W, 3]: the causal windows ending at ts."""
    idx = np.array([ref.window_indices(int(t), N_FRAMES, stride) for t in ts])
    return video[idx]


def embed_sequence(model, video, stride, batch=30):
    model.eval()
    out = []
    with torch.no_grad():
        for i in range(0, len(video), batch):
            w = window_frames(video, range(i, min(i + batch, len(video))), stride)
            out.append(model(torch.from_numpy(tcn_data.to_input(w))).numpy())
    return np.concatenate(out)


def npairs_reversed(anchor, positive, reversed_pos, l2):
    """The multi-view n-pairs loss with every positive's time-reversed window as an extra
    negative for every anchor (view A -> B direction; the B -> A direction is the plain n-pairs)."""
    import torch.nn.functional as F
    target = torch.arange(anchor.shape[0])
    logits = anchor @ torch.cat([positive, reversed_pos]).t()
    ce = 0.5 * (F.cross_entropy(logits, target) + F.cross_entropy((anchor @ positive.t()).t(), target))
    reg = l2 * 0.5 * (anchor.pow(2).sum(1).mean() + positive.pow(2).sum(1).mean())
    return ce, reg, (logits.argmax(1) == target).float().mean()


def shared_windows(rng, T, stride, offsets):
    """Times that share frames: per offset o (offsets drawn in [0, stride), at least stride/3
    apart), the frames o, o + s, o + 2s, ... < T; a window joins each pair of consecutive frames.
    Returns the unique frames and, per window, the indices (older, newer) into them."""
    first = rng.randint(stride)
    os_ = [first]
    gap = max(1, stride // 3)
    while len(os_) < offsets:
        os_.append((os_[-1] + gap + rng.randint(max(1, stride - 2 * gap + 1))) % stride)
    frames, pairs = [], []
    for o in os_:
        f = list(range(o, T, stride))
        base = len(frames)
        frames += f
        pairs += [(base + j - 1, base + j) for j in range(1, len(f))]
    return np.array(frames), pairs


def npairs_weighted(anchor, positive, rev_anchor, rev_positive, l2, rev_weight):
    """Multi-view n-pairs in both directions; in each direction the other view's time-reversed
    windows are extra negatives, each counted rev_weight times (log-weight on its logits)."""
    import torch.nn.functional as F
    target = torch.arange(anchor.shape[0])
    lw = float(np.log(rev_weight))
    ab = torch.cat([anchor @ positive.t(), anchor @ rev_positive.t() + lw], 1)
    ba = torch.cat([positive @ anchor.t(), positive @ rev_anchor.t() + lw], 1)
    ce = 0.5 * (F.cross_entropy(ab, target) + F.cross_entropy(ba, target))
    reg = l2 * 0.5 * (anchor.pow(2).sum(1).mean() + positive.pow(2).sum(1).mean())
    return ce, reg, (ab.argmax(1) == target).float().mean()


def validate(model, seqs, stride):
    return float(np.mean([tcn_train.alignment(embed_sequence(model, s.views[0], stride),
                                              embed_sequence(model, s.views[1], stride)) for s in seqs]))


def shared_step(model, aot, frames, recs, rng, args):
    """One batch with shared frames: trunk once per unique (recording, view, frame), forward and
    reversed windows from the cached maps; returns (ce, reg, in-batch top-1)."""
    import torch.nn.functional as F
    T = frames.shape[2]
    imgs, a_old, a_new, p_old, p_new = [], [], [], [], []
    n_img = 0
    for r in recs:
        f, pairs = shared_windows(rng, T, args.stride, args.shared_frames)
        va = rng.randint(2)
        for v, (old, new) in ((va, (a_old, a_new)), (1 - va, (p_old, p_new))):
            imgs.append(frames[r, v, f])
            old += [n_img + i for i, _ in pairs]
            new += [n_img + j for _, j in pairs]
            n_img += len(f)
    model.train()
    maps = model.trunk(torch.from_numpy(tcn_data.to_input(np.concatenate(imgs))))
    idx = [torch.tensor(x) for x in (a_old, a_new, p_old, p_new)]
    fwd = [ref.stack_frames([maps[idx[0]], maps[idx[1]]]), ref.stack_frames([maps[idx[2]], maps[idx[3]]])]
    rev = [ref.stack_frames([maps[idx[1]], maps[idx[0]]]), ref.stack_frames([maps[idx[3]], maps[idx[2]]])]
    e = model.head(torch.cat(fwd + rev))
    n = len(a_old)
    ea, ep, ra, rp = e[:n], e[n:2 * n], e[2 * n:3 * n], e[3 * n:]
    ce, reg, acc = npairs_weighted(ea, ep, ra, rp, args.l2, args.rev_weight)
    if args.aot_weight > 0:
        logit = aot(e).squeeze(1)
        label = torch.cat([torch.ones(2 * n), torch.zeros(2 * n)])
        ce = ce + args.aot_weight * F.binary_cross_entropy_with_logits(logit, label)
    return ce, reg, acc


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    tcn_train.add_common_args(ap, os.path.join(HERE, "demo"), 8)
    ap.add_argument("--stride", type=int, default=4, help="frames s between the window's two frames")
    ap.add_argument("--reverse-negatives", action="store_true",
                    help="also use the positives' time-reversed windows as negatives (forces the embedding to see motion)")
    ap.add_argument("--shared-frames", type=int, default=0, metavar="OFFSETS",
                    help="sample OFFSETS time offsets per recording whose windows share frames: the trunk runs "
                         "once per unique frame, reversed windows swap the cached maps (replaces --times)")
    ap.add_argument("--rev-weight", type=float, default=1.0,
                    help="with --shared-frames: each reversed window counts as this many negatives")
    ap.add_argument("--aot-weight", type=float, default=0.0,
                    help="with --shared-frames: weight of an arrow-of-time term (a linear classifier on the "
                         "embedding tells forward from reversed windows; not exported)")
    args = ap.parse_args()
    rng, t0, data_cmd, seqs, val, frames = tcn_train.start(args)

    model = MfTCN()
    if args.init:
        model.load_state_dict(torch.load(args.init))
    n_params = sum(p.numel() for p in model.parameters())
    aot = torch.nn.Linear(ref.EMBEDDING_DIM, 1)
    params = list(model.parameters()) + (list(aot.parameters()) if args.aot_weight > 0 else [])
    opt = torch.optim.Adam(params, lr=args.lr)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=args.lr, total_steps=args.steps, pct_start=0.1)
    R, T = frames.shape[0], frames.shape[2]
    steps = tcn_train.StepLog(opt, sched, args.steps)
    for step in range(args.steps):
        recs = rng.choice(R, args.recordings, replace=False)
        if args.shared_frames:
            ce, reg, acc = shared_step(model, aot, frames, recs, rng, args)
            steps.step(step, ce, reg, acc)
            if step % 300 == 299:
                print(f"  validation (seed {tcn_data.VAL_SEED}): view alignment within 3 frames "
                      f"{validate(model, val, args.stride):.3f}", flush=True)
            continue
        a_win, p_win = [], []
        for r in recs:
            ts = tcn_train.sample_times(rng, T, args.times)
            va = rng.randint(2)
            a_win.append(window_frames(frames[r, va], ts, args.stride))
            p_win.append(window_frames(frames[r, 1 - va], ts, args.stride))
        parts = a_win + p_win
        if args.reverse_negatives:
            parts = parts + [w[:, ::-1] for w in p_win]
        x = torch.from_numpy(tcn_data.to_input(np.concatenate(parts)))
        model.train()
        e = model(x)
        n = sum(len(w) for w in a_win)
        if args.reverse_negatives:
            ce, reg, acc = npairs_reversed(e[:n], e[n:2 * n], e[2 * n:], args.l2)
        else:
            ce, reg, acc = tcn_train.npairs(e[:n], e[n:], args.l2)
        steps.step(step, ce, reg, acc)
        if step % 300 == 299:
            print(f"  validation (seed {tcn_data.VAL_SEED}): view alignment within 3 frames "
                  f"{validate(model, val, args.stride):.3f}", flush=True)
    train_s, cpu_s = steps.times()
    val_align = validate(model, val, args.stride)
    print(f"validation view alignment {val_align:.3f}", flush=True)
    if args.checkpoint:
        torch.save(model.state_dict(), args.checkpoint)
    model.eval()
    side = tcn_data.SIDE
    torch.onnx.export(model.trunk, (torch.zeros(1, 3, side, side),), os.path.join(args.out, "trunk.onnx"),
                      opset_version=13, do_constant_folding=True, input_names=["image"], output_names=["features"],
                      training=torch.onnx.TrainingMode.EVAL)
    h = side // 16
    torch.onnx.export(model.head, (torch.zeros(1, model.trunk.out_channels, N_FRAMES, h, h),),
                      os.path.join(args.out, "head.onnx"), opset_version=13, do_constant_folding=True,
                      input_names=["features"], output_names=["embedding"], training=torch.onnx.TrainingMode.EVAL)
    info = {"command": " ".join([os.path.relpath(sys.argv[0])] + sys.argv[1:]),
            "data_command": " ".join(os.path.relpath(c, ROOT) if c.startswith(ROOT) else c for c in data_cmd),
            "torch": torch.__version__, "threads": args.threads, "seed": args.seed, "width": WIDTH, "side": side,
            "window": N_FRAMES, "stride": args.stride, "reverse_negatives": args.reverse_negatives,
            "shared_frames": args.shared_frames, "rev_weight": args.rev_weight, "aot_weight": args.aot_weight, "parameters": n_params, "recordings": R,
            "steps": args.steps,
            "batch": [args.recordings, args.times if not args.shared_frames else
                      args.shared_frames * (len(range(0, T, args.stride)) - 1)], "lr": args.lr, "l2": args.l2,
            "train_seconds": round(train_s, 1), "train_cpu_seconds": round(cpu_s, 1), "init": args.init, "total_seconds": round(time.time() - t0, 1),
            "final_loss": steps.rows[-1]["loss"], "final_smoothed_loss": round(steps.loss, 4),
            "val_alignment_3": round(val_align, 4), "log": steps.rows}
    with open(os.path.join(args.out, "train_log.json"), "w") as f:
        json.dump(info, f, indent=1)
    print(f"trained {args.steps} steps in {train_s:.0f} s, smoothed loss {steps.loss:.4f}; "
          f"wrote {args.out}/trunk.onnx, head.onnx")


if __name__ == "__main__":
    main()
