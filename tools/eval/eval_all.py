#!/usr/bin/python3
"""One quality table for every demo model family, measured through embedrtd (issue 8).

usage: /usr/bin/python3 tools/eval/eval_all.py [--quick] [--build build] [--json FILE]
           [--vae-episodes 20] [--vae-seed 1001] [--g2v-episodes 100] [--g2v-seed 101]
           [--tcn-arg ARG]... [--no-tcn] [--keep-logs DIR]

Runs the family evaluations, each on held-out simworld episodes (seeds never trained on):
  - tools/eval/eval_vae.py       RIG and CC-VAE: Spearman(reward, -true puck-to-goal distance)
  - tools/eval/eval_grasp2vec.py grasp2vec: outcome->goal top-1, heatmap keypoint in the true box
  - tools/eval/eval_tcn.py       TCN and mfTCN, when models/tcn/demo exists (its own metrics)
each writing its rows as JSON ({"family", "rows": [{"metric","fp32","int8","target","ok"}]}),
and prints ONE table: family, metric, fp32, int8, |int8-fp32|, target, ok. `ok` is the
evaluation's own verdict where it gives one (eval_vae, eval_tcn); for grasp2vec it is: fp32
meets the target and int8 is within 0.02 of fp32.

Sets: the defaults are the issue's full sets (VAE 20 episodes of seed 1001, grasp2vec 100 of
seed 101, eval_tcn's defaults); --quick takes the meson tests' reduced sets (VAE 4 of 1001,
grasp2vec 100 of 202, TCN 3 episodes x 2 attempts of 2002). Exit status: 0 when every
row is ok, 1 otherwise, 2 when an evaluation could not run.
"""

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
PY = sys.executable or "/usr/bin/python3"
MAX_GAP = 0.02


def run_eval(name, cmd, log_dir):
    """Runs one evaluation with its output in LOG_DIR/NAME.log; returns (exit status, seconds)."""
    log = os.path.join(log_dir, f"{name}.log")
    print(f"eval_all: {name}: {' '.join(os.path.relpath(c, ROOT) if c.startswith(ROOT) else c for c in cmd)}",
          flush=True)
    t0 = time.monotonic()
    with open(log, "w") as f:
        rc = subprocess.run(cmd, stdout=f, stderr=subprocess.STDOUT).returncode
    secs = time.monotonic() - t0
    print(f"eval_all: {name}: exit {rc}, {secs:.0f} s (log: {log})", flush=True)
    return rc, secs


def g2v_rows(path, episodes, seed):
    d = json.load(open(path))
    m = d["metrics"]
    f32, i8 = m.get("fp32", {}), m.get("int8")
    rows = []
    for key, label, target in (("top1", f"outcome->goal top-1, {episodes} episodes (seed {seed})", 0.90),
                               ("keypoint_in_box", f"heatmap keypoint in true box, {episodes} episodes (seed {seed})",
                                0.80)):
        a = f32.get(key)
        b = i8.get(key) if i8 else None
        ok = a is not None and a >= target and (b is None or abs(b - a) <= MAX_GAP)
        rows.append({"family": "grasp2vec", "metric": label, "fp32": a, "int8": b, "target": f">= {target:.2f}",
                     "ok": ok})
    return rows


def fmt(x):
    return "-" if x is None else f"{x:.4f}" if isinstance(x, float) else str(x)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter,
                                 epilog=__doc__.split("\n\n", 2)[2])
    ap.add_argument("--quick", action="store_true", help="the tests' reduced sets")
    ap.add_argument("--build", default=os.path.join(ROOT, "build"), help="build folder (simworld, embedrtd, proto)")
    ap.add_argument("--vae-episodes", type=int, help="RIG/CC-VAE episodes (default 20, --quick 4)")
    ap.add_argument("--vae-seed", type=int, default=1001, help="RIG/CC-VAE held-out seed (default 1001)")
    ap.add_argument("--g2v-episodes", type=int, help="grasp2vec episodes (default 100)")
    ap.add_argument("--g2v-seed", type=int, help="grasp2vec held-out seed (default 101, --quick 202)")
    ap.add_argument("--tcn-arg", action="append", default=[], metavar="ARG",
                    help="passed to eval_tcn.py (repeatable), e.g. --tcn-arg=--episodes --tcn-arg=10")
    ap.add_argument("--no-tcn", action="store_true", help="skip eval_tcn.py even when models/tcn/demo exists")
    ap.add_argument("--json", metavar="FILE", help="also write every row to FILE")
    ap.add_argument("--keep-logs", metavar="DIR", help="keep each evaluation's output in DIR")
    args = ap.parse_args(argv)
    build = os.path.abspath(args.build)
    vae_n = args.vae_episodes or (4 if args.quick else 20)
    g2v_n = args.g2v_episodes or 100
    g2v_seed = args.g2v_seed or (202 if args.quick else 101)

    tmp = tempfile.TemporaryDirectory(prefix="embedrt-eval-all-")
    logs = args.keep_logs or tmp.name
    os.makedirs(logs, exist_ok=True)
    rows, problems, times = [], [], {}

    out = os.path.join(tmp.name, "vae.json")
    rc, times["rig+ccvae"] = run_eval("vae", [PY, os.path.join(HERE, "eval_vae.py"), "--build", build, "--episodes",
                                              str(vae_n), "--seed", str(args.vae_seed), "--json", out], logs)
    if os.path.exists(out):
        d = json.load(open(out))
        rows += [dict(r, family=r.get("family", d.get("family"))) for r in d["rows"]]
    else:
        problems.append(f"eval_vae.py exited {rc} without rows (see {logs}/vae.log)")

    out = os.path.join(tmp.name, "g2v.json")
    rc, times["grasp2vec"] = run_eval("grasp2vec", [PY, os.path.join(HERE, "eval_grasp2vec.py"), "--build", build,
                                                    "--episodes", str(g2v_n), "--seed", str(g2v_seed), "--json", out],
                                      logs)
    if os.path.exists(out):
        rows += g2v_rows(out, g2v_n, g2v_seed)
    else:
        problems.append(f"eval_grasp2vec.py exited {rc} without rows (see {logs}/grasp2vec.log)")

    tcn_script = os.path.join(HERE, "eval_tcn.py")
    if args.no_tcn:
        print("eval_all: tcn: skipped (--no-tcn)")
    elif not os.path.isdir(os.path.join(ROOT, "models", "tcn", "demo")) or not os.path.exists(tcn_script):
        print("eval_all: tcn: skipped (no models/tcn/demo or no tools/eval/eval_tcn.py yet)")
    else:
        out = os.path.join(tmp.name, "tcn.json")
        # --quick: the eval-tcn test's reduced set (3 episodes x 2 attempts of seed 2002, probe
        # trained on 10 demonstrations).
        extra = (["--seed", "2002", "--episodes", "3", "--attempts", "2", "--probe-episodes", "10"]
                 if args.quick else []) + list(args.tcn_arg)
        cmd = [PY, tcn_script, "--json", out, "--build", build] + extra
        rc, times["tcn+mftcn"] = run_eval("tcn", cmd, logs)
        if os.path.exists(out):
            d = json.load(open(out))
            rows += [dict(r, family=r.get("family", d.get("family", "tcn"))) for r in d["rows"]]
        else:
            problems.append(f"eval_tcn.py exited {rc} without rows (see {logs}/tcn.log)")

    head = ("family", "metric", "fp32", "int8", "|int8-fp32|", "target", "ok")
    table = []
    for r in rows:
        a, b = r.get("fp32"), r.get("int8")
        gap = abs(b - a) if isinstance(a, (int, float)) and isinstance(b, (int, float)) else None
        table.append((r["family"], r["metric"], fmt(a), fmt(b), fmt(gap), str(r.get("target", "")),
                      "yes" if r.get("ok") else "NO"))
    widths = [max(len(x[i]) for x in [head] + table) for i in range(len(head))]
    print("\n" + "  ".join(h.ljust(w) for h, w in zip(head, widths)))
    print("  ".join("-" * w for w in widths))
    for t in table:
        print("  ".join(x.ljust(w) for x, w in zip(t, widths)))
    print(f"\n{'quick' if args.quick else 'full'} sets; seconds: " +
          ", ".join(f"{k} {v:.0f}" for k, v in times.items()))
    for p in problems:
        print(f"eval_all: {p}")
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"quick": args.quick, "rows": rows, "seconds": times, "problems": problems}, f, indent=1)
    tmp.cleanup() if not args.keep_logs else None
    if problems:
        return 2
    return 0 if all(r.get("ok") for r in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
