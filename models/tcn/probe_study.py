#!/usr/bin/python3
"""Chooses the velocity-sign probe's L2 on validation seed 7 only, with the probe protocol of
tools/eval/eval_tcn.py (trained on seed PROBE_SEED's demonstrations, tested on every recording
of the validation seed; view 0, frames t >= stride; the same probe code).

usage: /usr/bin/python3 models/tcn/probe_study.py --embeddings build/probe_s7.npz
       /usr/bin/python3 models/tcn/probe_study.py --mftcn build/mftcn.pt[,build/other.pt] --stride 15 [--tcn build/tcn.pt]

--embeddings: the probe inputs that `tools/eval/eval_tcn.py --seed 7 --save-probe FILE.npz`
wrote (embeddings through embedrtd, every blob kind). --mftcn/--tcn: PyTorch embeddings of
checkpoints (train.py --checkpoint) on `simworld demo --seed 7 --episodes 10 --attempts 4`
and `simworld demo --seed PROBE_SEED --episodes 30 --attempts 0` (rendered into --work if
missing). Prints test / train / balanced accuracy per L2 and the majority-class ("still")
score.
"""

import argparse
import importlib.util
import os
import sys

import numpy as np
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, HERE)
import tcn_data  # noqa: E402


def load_module(path, name):
    spec = importlib.util.spec_from_file_location(name, path)
    m = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(m)
    return m


def checkpoint_inputs(args, ev):
    """{name: embeddings[keep]}, labels[keep], train_mask from PyTorch checkpoints."""
    torch.set_num_threads(1)
    val_dir = os.path.join(args.work, f"demo_s{tcn_data.VAL_SEED}_10_a4")
    probe_dir = os.path.join(args.work, f"demo_s{ev.PROBE_SEED}_{args.probe_episodes}_a0")
    tcn_data.render_demo(args.simworld, val_dir, tcn_data.VAL_SEED, 10, attempts=4)
    tcn_data.render_demo(args.simworld, probe_dir, ev.PROBE_SEED, args.probe_episodes, attempts=0)
    seqs = tcn_data.load(probe_dir, views=(0,)) + tcn_data.load(val_dir, views=(0,))
    n_probe = len(tcn_data.load(probe_dir, with_frames=False))
    T = tcn_data.FRAMES
    labels = np.concatenate([tcn_data.velocity_sign(s) for s in seqs])
    keep = np.tile(np.arange(T), len(seqs)) >= args.stride
    train_mask = (np.arange(len(labels)) < n_probe * T)[keep]
    emb = {}
    if args.tcn:
        tt = load_module(os.path.join(HERE, "train.py"), "embedrt_tcn_train")
        tcn = tt.load_reference().TCNEmbedder(tt.WIDTH, tcn_data.SIDE)
        tcn.load_state_dict(torch.load(args.tcn))
        emb["tcn"] = np.concatenate([tt.embed(tcn, s.views[0]) for s in seqs])[keep]
    mt = load_module(os.path.join(ROOT, "models", "mftcn", "train.py"), "embedrt_mftcn_train")
    for path in args.mftcn.split(","):
        mf = mt.MfTCN()
        mf.load_state_dict(torch.load(path))
        emb[os.path.basename(path)] = np.concatenate([mt.embed_sequence(mf, s.views[0], args.stride) for s in seqs])[keep]
    return emb, labels[keep], train_mask


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--embeddings", help="probe inputs from eval_tcn.py --seed 7 --save-probe")
    ap.add_argument("--tcn", help="TCN checkpoint")
    ap.add_argument("--mftcn", help="mfTCN checkpoints, comma-separated")
    ap.add_argument("--stride", type=int, default=15, help="the mfTCN checkpoints' window stride")
    ap.add_argument("--probe-episodes", type=int, default=30)
    ap.add_argument("--work", default=os.path.join(ROOT, "build", "tcn-data"))
    ap.add_argument("--simworld", default=os.path.join(ROOT, "build", "tools", "simworld", "simworld"))
    ap.add_argument("--l2", default="1e-3,1e-2,1e-1,1,10", help="L2 values to try (eval_tcn.py uses the one with the best mean test accuracy of both probes)")
    args = ap.parse_args()
    ev = load_module(os.path.join(ROOT, "tools", "eval", "eval_tcn.py"), "embedrt_eval_tcn")
    if args.embeddings:
        z = np.load(args.embeddings)
        if int(z["seed"]) != tcn_data.VAL_SEED:
            raise SystemExit(f"{args.embeddings}: seed {int(z['seed'])}: the L2 is chosen on validation seed {tcn_data.VAL_SEED} only")
        emb = {k[4:]: z[k] for k in z.files if k.startswith("emb_")}
        y, train_mask = z["labels"], z["train_mask"]
    elif args.mftcn:
        emb, y, train_mask = checkpoint_inputs(args, ev)
    else:
        ap.error("give --embeddings or --mftcn")
    print(f"seed {tcn_data.VAL_SEED}: {int(train_mask.sum())} train (seed {ev.PROBE_SEED}) / {int((~train_mask).sum())} test frames; "
          f"classes (-, still, +) test {np.bincount(y[~train_mask], minlength=3).tolist()} train "
          f"{np.bincount(y[train_mask], minlength=3).tolist()}; always 'still': test {np.mean(y[~train_mask] == 1):.3f} "
          f"(balanced 0.333)")
    for l2 in [float(v) for v in args.l2.split(",")]:
        line = [f"L2 {l2:g}:"]
        for k, x in emb.items():
            r = ev.probe_accuracy(x, y, train_mask, l2=l2, detail=True)
            line.append(f"{k} test {r['test']:.3f} train {r['train']:.3f} bal {r['balanced']:.3f}")
        print("  ".join(line), flush=True)


if __name__ == "__main__":
    main()
