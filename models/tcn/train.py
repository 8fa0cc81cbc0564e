#!/usr/bin/python3
"""Trains the TCN demo embedder on simworld two-view demonstrations and exports it to ONNX.

usage: /usr/bin/python3 models/tcn/train.py [--simworld build/tools/simworld/simworld]
           [--out models/tcn/demo] [--episodes 150] [--steps 900] [--seed 0] [--work build/tcn-data]

Data: `simworld demo --seed 1 --size 96x96 --attempts 2 --episodes N` (training seed 1 only;
validation seed 7, evaluation seeds 1001 and 2002: models/tcn/tcn_data.py). Every recording (the
demonstration and both attempts) gives two synchronised views, 60 frames each.
Model: the reference embedder (models/tcn/reference/tcn.py: Inception v3 to Mixed_5d, two 3x3
convs, spatial soft-argmax, FC, FC 32) at width 1/4 on 96x96 inputs in [-1, 1] (9x9 map).
Loss (Sermanet et al. 2018, multi-view n-pairs): a batch holds K recordings x M times (one
random frame in each of M equal time bins); anchors are one view's frames, positives the
other view's frames at the same time, every other frame of the batch a negative (the other
times of the same recording are the hard ones). Cross-entropy over raw dot products in both
directions plus an L2 penalty on the embeddings (no normalisation, as for n-pairs). The
anchor view is drawn per recording. Self-supervised: only the time index is used.
Writes OUT/tcn.onnx (image [1,3,96,96] -> embedding [1,32]) and OUT/train_log.json.
Deterministic for a seed with one PyTorch thread (the default of --threads), fixed data order.
"""

import argparse
import importlib.util
import json
import os
import sys
import time

import numpy as np
import torch
import torch.nn.functional as F

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, HERE)
import tcn_data  # noqa: E402

WIDTH = 1 / 4


def load_reference():
    path = os.path.join(HERE, "reference", "tcn.py")
    spec = importlib.util.spec_from_file_location("embedrt_ref_tcn", path)
    m = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(m)
    return m


def npairs(anchor, positive, l2):
    logits = anchor @ positive.t()
    target = torch.arange(anchor.shape[0])
    ce = 0.5 * (F.cross_entropy(logits, target) + F.cross_entropy(logits.t(), target))
    reg = l2 * 0.5 * (anchor.pow(2).sum(1).mean() + positive.pow(2).sum(1).mean())
    return ce, reg, (logits.argmax(1) == target).float().mean()


def sample_times(rng, frames, m):
    """One random frame in each of m equal bins of [0, frames)."""
    edges = np.linspace(0, frames, m + 1)
    return np.array([rng.randint(int(np.ceil(edges[i])), max(int(np.ceil(edges[i])) + 1, int(np.ceil(edges[i + 1]))))
                     for i in range(m)])


def alignment(emb_a, emb_b, tol=3):
    """Share of view-A frames whose nearest view-B frame is within tol frames."""
    d = ((emb_a[:, None, :] - emb_b[None, :, :]) ** 2).sum(-1)
    nn = d.argmin(1)
    return float(np.mean(np.abs(nn - np.arange(len(emb_a))) <= tol))


def embed(model, frames, batch=120):
    model.eval()
    out = []
    with torch.no_grad():
        for i in range(0, len(frames), batch):
            out.append(model(torch.from_numpy(tcn_data.to_input(frames[i:i + batch]))).numpy())
    return np.concatenate(out)


def validate(model, seqs):
    return float(np.mean([alignment(embed(model, s.views[0]), embed(model, s.views[1])) for s in seqs]))


class StepLog:
    """One optimizer step per batch, the smoothed loss and in-batch top-1, and a log row
    (printed too) every 25 steps and at the last: TCN and mfTCN training."""

    def __init__(self, opt, sched, steps):
        self.opt, self.sched, self.steps = opt, sched, steps
        self.rows, self.loss, self.acc = [], None, None
        self.t0, self.cpu0 = time.time(), time.process_time()

    def step(self, step, ce, reg, acc):
        loss = ce + reg
        self.opt.zero_grad()
        loss.backward()
        self.opt.step()
        self.sched.step()
        self.loss = loss.item() if self.loss is None else 0.95 * self.loss + 0.05 * loss.item()
        self.acc = acc.item() if self.acc is None else 0.95 * self.acc + 0.05 * acc.item()
        if step % 25 == 0 or step == self.steps - 1:
            el = time.time() - self.t0
            self.rows.append({"step": step, "loss": round(loss.item(), 4), "ce": round(ce.item(), 4),
                              "smoothed_loss": round(self.loss, 4), "batch_top1": round(self.acc, 3),
                              "seconds": round(el, 1)})
            print(f"step {step:5d}  loss {loss.item():.4f} (ce {ce.item():.4f}, smoothed {self.loss:.4f})  "
                  f"in-batch top-1 {self.acc:.2f}  {el:.0f} s", flush=True)

    def times(self):
        """Wall and CPU seconds since the first step."""
        return time.time() - self.t0, time.process_time() - self.cpu0


def add_common_args(ap, out, times):
    """The options TCN and mfTCN training share (models/mftcn/train.py adds its own)."""
    ap.add_argument("--simworld", default=os.path.join(ROOT, "build", "tools", "simworld", "simworld"))
    ap.add_argument("--work", default=os.path.join(ROOT, "build", "tcn-data"), help="rendered episodes (kept)")
    ap.add_argument("--out", default=out)
    ap.add_argument("--episodes", type=int, default=150)
    ap.add_argument("--steps", type=int, default=900)
    ap.add_argument("--recordings", type=int, default=4, help="recordings per batch (K)")
    ap.add_argument("--times", type=int, default=times, help="times per recording (M)")
    ap.add_argument("--lr", type=float, default=2e-3)
    ap.add_argument("--l2", type=float, default=2e-3)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--checkpoint", help="also save the state dict here (not shipped)")
    ap.add_argument("--init", help="start from this saved state dict (--checkpoint of an earlier run)")
    ap.add_argument("--threads", type=int, default=1, choices=range(1, 65), metavar="N",
                    help="PyTorch threads (default 1: bit-for-bit repeatable; more threads may change "
                         "the last bits of sums, so a rerun can differ slightly)")


def load_training_data(args):
    """Renders (once, kept in --work) and loads the training seed's demonstrations and 10
    validation ones; returns the simworld command, the recordings, the validation ones and
    the frames [R, 2, T, H, W, 3]."""
    t0 = time.time()
    train_dir = os.path.join(args.work, f"demo_s{tcn_data.TRAIN_SEED}_{args.episodes}")
    data_cmd = tcn_data.render_demo(args.simworld, train_dir, tcn_data.TRAIN_SEED, args.episodes)
    val_dir = os.path.join(args.work, f"demo_s{tcn_data.VAL_SEED}_10")
    tcn_data.render_demo(args.simworld, val_dir, tcn_data.VAL_SEED, 10, attempts=0)
    seqs = tcn_data.load(train_dir)
    val = tcn_data.load(val_dir)
    frames = np.stack([s.views for s in seqs])
    print(f"data: {len(seqs)} recordings x 2 views x {frames.shape[2]} frames in {time.time() - t0:.1f} s", flush=True)
    return data_cmd, seqs, val, frames


def start(args):
    """--threads PyTorch threads, seeded torch and numpy, the output folder, the data: TCN and
    mfTCN training. Returns the numpy generator, the start time and load_training_data's results."""
    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    rng = np.random.RandomState(args.seed)
    os.makedirs(args.out, exist_ok=True)
    t0 = time.time()
    return (rng, t0) + load_training_data(args)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    add_common_args(ap, os.path.join(HERE, "demo"), 16)
    args = ap.parse_args()
    rng, t0, data_cmd, seqs, val, frames = start(args)

    ref = load_reference()
    model = ref.TCNEmbedder(WIDTH, tcn_data.SIDE)
    if args.init:
        model.load_state_dict(torch.load(args.init))
    n_params = sum(p.numel() for p in model.parameters())
    opt = torch.optim.Adam(model.parameters(), lr=args.lr)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=args.lr, total_steps=args.steps, pct_start=0.1)
    R, T = frames.shape[0], frames.shape[2]
    steps = StepLog(opt, sched, args.steps)
    for step in range(args.steps):
        recs = rng.choice(R, args.recordings, replace=False)
        a_img, p_img = [], []
        for r in recs:
            ts = sample_times(rng, T, args.times)
            va = rng.randint(2)
            a_img.append(frames[r, va, ts])
            p_img.append(frames[r, 1 - va, ts])
        x = torch.from_numpy(tcn_data.to_input(np.concatenate(a_img + p_img)))
        model.train()
        e = model(x)
        n = e.shape[0] // 2
        ce, reg, acc = npairs(e[:n], e[n:], args.l2)
        steps.step(step, ce, reg, acc)
        if step % 300 == 299:
            print(f"  validation (seed {tcn_data.VAL_SEED}, 10 demos): view alignment within 3 frames "
                  f"{validate(model, val):.3f}", flush=True)
    train_s, cpu_s = steps.times()
    val_align = validate(model, val)
    print(f"validation view alignment {val_align:.3f}", flush=True)
    if args.checkpoint:
        torch.save(model.state_dict(), args.checkpoint)
    model.eval()
    torch.onnx.export(model, (torch.zeros(1, 3, tcn_data.SIDE, tcn_data.SIDE),), os.path.join(args.out, "tcn.onnx"),
                      opset_version=13, do_constant_folding=True, input_names=["image"], output_names=["embedding"],
                      training=torch.onnx.TrainingMode.EVAL)
    info = {"command": " ".join([os.path.relpath(sys.argv[0])] + sys.argv[1:]),
            "data_command": " ".join(os.path.relpath(c, ROOT) if c.startswith(ROOT) else c for c in data_cmd),
            "torch": torch.__version__, "threads": args.threads, "seed": args.seed, "width": WIDTH, "side": tcn_data.SIDE,
            "parameters": n_params, "recordings": R, "steps": args.steps, "batch": [args.recordings, args.times],
            "lr": args.lr, "l2": args.l2, "train_seconds": round(train_s, 1), "train_cpu_seconds": round(cpu_s, 1), "init": args.init,
            "total_seconds": round(time.time() - t0, 1), "final_loss": steps.rows[-1]["loss"],
            "final_smoothed_loss": round(steps.loss, 4), "val_alignment_3": round(val_align, 4), "log": steps.rows}
    with open(os.path.join(args.out, "train_log.json"), "w") as f:
        json.dump(info, f, indent=1)
    print(f"trained {args.steps} steps in {train_s:.0f} s, smoothed loss {steps.loss:.4f}; wrote {args.out}/tcn.onnx")


if __name__ == "__main__":
    main()
