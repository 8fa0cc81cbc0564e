#!/usr/bin/python3
"""Chooses the TCN demo blob's `time_window` (the imitation reward's tempo tolerance) on
validation episodes, never on the table's or the test's seeds.

usage: /usr/bin/python3 models/tcn/tempo_study.py [--build build] [--blob models/tcn/demo/tcn.erb]
           [--seed 7] [--episodes 10] [--max-window 10]

Renders `simworld demo --seed SEED --attempts 4` (even attempts faithful but time-warped,
odd ones deviating), embeds every recording's view 0 through embedrtd (the evaluation's own
collection: tools/eval/eval_tcn.py), and for W = 0..--max-window scores each attempt as
the daemon's tracker does: mean over frames t of R(min over demo frames k, |k - c| <= W, of
||w_t - v_k||^2), c = min(t, T - 1), R = -alpha d2 - beta sqrt(gamma + d2) with the blob's
alpha/beta/gamma. Prints, per W, the share of (faithful, deviating) pairs of an episode
ranked right and the worst and median relative margin (faithful - deviating) / |deviating|.
The shipped W is the one with the largest worst-case margin among those ranking every pair
right.
"""

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(ROOT, "tools", "eval"))
import tcn_data  # noqa: E402
import eval_tcn  # noqa: E402


def attempt_score(att, demo, w, prm):
    """The tracker's mean imitation reward of attempt embeddings att [T, D] against demo [Td, D]."""
    d2 = ((att[:, None, :] - demo[None, :, :]) ** 2).sum(-1)
    total = 0.0
    for t in range(len(att)):
        c = min(t, len(demo) - 1)
        m = d2[t, max(0, c - w):c + w + 1].min()
        total += -prm["alpha"] * m - prm["beta"] * np.sqrt(prm["gamma"] + m)
    return total / len(att)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--build", default=os.path.join(ROOT, "build"))
    ap.add_argument("--blob", default=os.path.join(ROOT, "models", "tcn", "demo", "tcn.erb"))
    ap.add_argument("--seed", type=int, default=tcn_data.VAL_SEED)
    ap.add_argument("--episodes", type=int, default=10)
    ap.add_argument("--max-window", type=int, default=10)
    args = ap.parse_args()
    if args.seed in (tcn_data.TRAIN_SEED, tcn_data.EVAL_SEED, tcn_data.TEST_SEED):
        ap.error(f"--seed {args.seed} is the training, table or test seed: choose on validation episodes")
    os.environ.setdefault("EMBEDRT_PROTO_PY", os.path.join(args.build, "proto"))
    sys.path.insert(0, os.path.join(ROOT, "tools", "python"))
    r = subprocess.run([os.path.join(args.build, "tools", "embedrt", "embedrt"), "inspect", args.blob, "--json"],
                       capture_output=True, text=True, check=True)
    prm = json.loads(r.stdout)["family_params"]
    tmp = tempfile.mkdtemp(prefix="tcn-tempo-")
    try:
        data = os.path.join(tmp, "world")
        tcn_data.render_demo(os.path.join(args.build, "tools", "simworld", "simworld"), data, args.seed,
                             args.episodes, 4)
        seqs = tcn_data.load(data, with_frames=False)
        for s in seqs:
            s.paths = [os.path.join(data, tcn_data.video_name(s.episode, s.stream, v)) for v in (0, 1)]
        emb = eval_tcn.collect_embeddings(os.path.join(args.build, "runtime", "daemon", "embedrtd"), tmp, seqs,
                                          {"tcn": args.blob}, 1, 30, 600)["tcn"]["pA"]
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    T = tcn_data.FRAMES
    rows = {(s.episode, s.stream): emb[i * T:(i + 1) * T] for i, s in enumerate(seqs)}
    dev = {(s.episode, s.stream): s.deviation for s in seqs}
    print(f"seed {args.seed}, {args.episodes} episodes, {args.blob}: alpha {prm['alpha']}, beta {prm['beta']}, "
          f"gamma {prm['gamma']}")
    print(" W  ranked right  worst margin  median margin")
    for w in range(args.max_window + 1):
        right, margins = 0, []
        for e in sorted({s.episode for s in seqs}):
            atts = [k[1] for k in rows if k[0] == e and k[1] != "demo"]
            sc = {a: attempt_score(rows[(e, a)], rows[(e, "demo")], w, prm) for a in atts}
            for fa in (a for a in atts if dev[(e, a)] == 0):
                for dv in (a for a in atts if dev[(e, a)] > 0):
                    right += sc[fa] > sc[dv]
                    margins.append((sc[fa] - sc[dv]) / abs(sc[dv]))
        print(f"{w:2d}  {right / len(margins):12.3f}  {min(margins):12.3f}  {np.median(margins):13.3f}")


if __name__ == "__main__":
    main()
