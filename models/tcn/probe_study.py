#!/usr/bin/python3
"""Chooses the velocity-sign probe's L2 on validation seed 7 only (PyTorch embeddings of the
checkpoints, the same probe code as tools/eval/eval_tcn.py).

usage: /usr/bin/python3 models/tcn/probe_study.py --tcn build/tcn.pt --mftcn build/mftcn.pt
           [--stride 15] [--data build/tcn-data/demo_s7_10_a4]

Data: `simworld demo --seed 7 --episodes 10 --attempts 4` (rendered by the command printed if
missing), view 0 of every recording; probe trained on even episodes, tested on odd ones,
frames t >= stride (as in eval_tcn.py). Prints test / train / balanced accuracy per L2 and
the majority-class ("still") score.
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


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--tcn", required=True)
    ap.add_argument("--mftcn", required=True)
    ap.add_argument("--stride", type=int, required=True, help="the mfTCN checkpoint's window stride")
    ap.add_argument("--data", default=os.path.join(ROOT, "build", "tcn-data", "demo_s7_10_a4"))
    ap.add_argument("--simworld", default=os.path.join(ROOT, "build", "tools", "simworld", "simworld"))
    ap.add_argument("--l2", default="1e-4,1e-3,1e-2,1e-1,1,10", help="L2 values to try (eval_tcn.py uses the one with the best mean test accuracy of both probes)")
    args = ap.parse_args()
    torch.set_num_threads(1)
    tcn_data.render_demo(args.simworld, args.data, tcn_data.VAL_SEED, 10, attempts=4)
    ev = load_module(os.path.join(ROOT, "tools", "eval", "eval_tcn.py"), "embedrt_eval_tcn")
    tt = load_module(os.path.join(HERE, "train.py"), "embedrt_tcn_train")
    mt = load_module(os.path.join(ROOT, "models", "mftcn", "train.py"), "embedrt_mftcn_train")
    tcn = tt.load_reference().TCNEmbedder(tt.WIDTH, tcn_data.SIDE)
    tcn.load_state_dict(torch.load(args.tcn))
    mf = mt.MfTCN()
    mf.load_state_dict(torch.load(args.mftcn))
    seqs = tcn_data.load(args.data, views=(0,))
    emb = {"tcn": np.concatenate([tt.embed(tcn, s.views[0]) for s in seqs]),
           "mftcn": np.concatenate([mt.embed_sequence(mf, s.views[0], args.stride) for s in seqs])}
    T = tcn_data.FRAMES
    labels = np.concatenate([tcn_data.velocity_sign(s) for s in seqs])
    t_in = np.tile(np.arange(T), len(seqs))
    ep_of = np.repeat([s.episode for s in seqs], T)
    keep = t_in >= args.stride
    train_mask = (ep_of % 2 == 0)[keep]
    y = labels[keep]
    print(f"seed {tcn_data.VAL_SEED}: {len(seqs)} recordings, {int(train_mask.sum())} train / "
          f"{int((~train_mask).sum())} test frames; classes (-, still, +) test "
          f"{np.bincount(y[~train_mask], minlength=3).tolist()} train {np.bincount(y[train_mask], minlength=3).tolist()}; "
          f"always 'still': test {np.mean(y[~train_mask] == 1):.3f} (balanced 0.333)")
    for l2 in [float(v) for v in args.l2.split(",")]:
        line = [f"L2 {l2:g}:"]
        for k in ("tcn", "mftcn"):
            r = ev.probe_accuracy(emb[k][keep], y, train_mask, l2=l2, detail=True)
            line.append(f"{k} test {r['test']:.3f} train {r['train']:.3f} balanced {r['balanced']:.3f}")
        print("  ".join(line), flush=True)


if __name__ == "__main__":
    main()
