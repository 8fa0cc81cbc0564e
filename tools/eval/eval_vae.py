#!/usr/bin/python3
"""Reward quality of the RIG and CC-VAE demo blobs, measured through embedrtd on held-out
simworld push episodes: Spearman correlation between the daemon's reward and minus the true
puck-to-goal distance, per episode and mean, for each blob (fp32 and int8).

usage: /usr/bin/python3 tools/eval/eval_vae.py [--family rig,ccvae] [--seed 1001] [--episodes 20]
           [--blob FAMILY=PATH]... [--build build] [--work DIR] [--min 0.9] [--max-gap 0.02] [--json [FILE]]

How: simworld renders `push --seed SEED --episodes N --size 48x48` (the demo models were
trained on --seed 1 only, so these episodes are never seen). For each blob an embedrtd serves
8 episodes at once (its camera limit; then the next 8): camera eK = replay of episode K's video (looping, --fps), model mK =
the blob on eK. The client subscribes to rewards, sets each model's goal with SetGoal from the
episode's goal image (a PPM upload: puck at the goal, gripper parked), then keeps, for each
model, the reward of every frame index (frame_seq mod T; the replay is deterministic, so any
loop after the goal gives the same number). CC-VAE's context is the first frame the model
sees (frame_seq 0, the episode's first frame). Exit status 1 when --min or --max-gap fails
(a mean below --min, or an int8 mean more than --max-gap below its fp32 mean).
"""

import argparse
import json
import os
import sys
import tempfile
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(ROOT, "tools", "python"))
import simdata  # noqa: E402

MAX_CAMERAS = 8


def ppm_bytes(img):
    return b"P6\n%d %d\n255\n" % (img.shape[1], img.shape[0]) + img.tobytes()


def daemon_rewards(embedrtd, blob, data_dir, episodes, fps, tmp, timeout):
    """{episode index: [T] rewards by frame index} from one embedrtd run of `blob`."""
    from embedrt_client import Client  # after EMBEDRT_PROTO_PY is set

    sock = os.path.join(tmp, "eval.sock")
    conf = os.path.join(tmp, "eval.conf")
    lines = ["[daemon]", f"socket = {sock}", "threads = 1", "client_queue_depth = 4096", "log_level = warn", ""]
    for ep in episodes:
        lines += [f"[camera e{ep.index}]",
                  f"source = replay:{os.path.join(data_dir, f'ep{ep.index:04d}_push_v0.y4m')}",
                  f"fps = {fps}", "loop = true", "watchdog_ms = 60000", "",
                  f"[model m{ep.index}]", f"blob = {os.path.abspath(blob)}", f"cameras = e{ep.index}",
                  "threads = 1", ""]
    with open(conf, "w") as f:
        f.write("\n".join(lines))
    proc = simdata.run_embedrtd(embedrtd, conf, sock, os.path.join(tmp, "embedrtd.log"), who=f"eval ({blob})")
    try:
        got = {ep.index: [None] * len(ep.frames) for ep in episodes}
        missing = sum(len(v) for v in got.values())
        with Client("unix:" + sock, timeout=10) as c:
            c.subscribe("rewards")
            for ep in episodes:
                c.set_goal_image(f"m{ep.index}", ppm_bytes(ep.goal))
            deadline = time.monotonic() + timeout
            while missing:
                if time.monotonic() > deadline:
                    raise SystemExit(f"eval: {blob}: {missing} frame rewards missing after {timeout} s")
                env = c.next_event(timeout=1.0)
                if env is None or env.WhichOneof("body") != "reward":
                    continue
                r = env.reward
                k = int(r.model[1:])
                row = got.get(k)
                if row is None:
                    continue
                i = r.frame_seq % len(row)
                if row[i] is None:
                    row[i] = r.value
                    missing -= 1
    finally:
        simdata.stop_embedrtd(proc)
    return {k: np.array(v, np.float64) for k, v in got.items()}


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter, epilog=__doc__.split("\n\n", 2)[2])
    ap.add_argument("--family", default="rig,ccvae", help="comma list of rig, ccvae (default both)")
    ap.add_argument("--seed", type=int, default=1001, help="simworld seed of the held-out episodes (training used 1)")
    ap.add_argument("--episodes", type=int, default=20)
    ap.add_argument("--blob", action="append", default=[], metavar="FAMILY=PATH",
                    help="blob to judge (repeatable); default models/F/demo/F.erb and F.int8.erb")
    ap.add_argument("--build", default=os.path.join(ROOT, "build"), help="build folder (simworld, embedrtd)")
    ap.add_argument("--proto-py", default=None, help="folder with the generated daemon_pb2 (default: BUILD/proto)")
    ap.add_argument("--work", default=None, help="folder for the rendered episodes (default: a temporary one)")
    ap.add_argument("--fps", type=int, default=100, help="replay rate of each episode camera (default 100)")
    ap.add_argument("--timeout", type=float, default=120, help="seconds to wait for every frame's reward per blob")
    ap.add_argument("--min", type=float, default=0.9, help="required mean Spearman per blob (default 0.9)")
    ap.add_argument("--max-gap", type=float, default=0.02, help="int8 mean may be at most this below fp32")
    ap.add_argument("--json", nargs="?", const=True, default=None, metavar="FILE",
                    help="also print the results as one JSON line; with FILE, write the table rows there instead "
                    '({"family": "rig,ccvae", "rows": [{"family","metric","fp32","int8","target","ok"}]}, as '
                    "tools/eval/eval_all.py reads them)")
    args = ap.parse_args(argv)

    os.environ.setdefault("EMBEDRT_PROTO_PY", args.proto_py or os.path.join(args.build, "proto"))
    embedrtd = os.path.join(args.build, "runtime", "daemon", "embedrtd")
    if not os.access(embedrtd, os.X_OK):
        raise SystemExit(f"{embedrtd}: not built - run tools/dev build first")
    families = [f.strip() for f in args.family.split(",") if f.strip()]
    for f in families:
        if f not in ("rig", "ccvae"):
            raise SystemExit(f"eval: --family {f}: expected rig or ccvae")
    blobs = []
    for spec in args.blob:
        fam, _, path = spec.partition("=")
        if fam not in ("rig", "ccvae") or not path:
            raise SystemExit(f"eval: --blob {spec}: expected rig=PATH or ccvae=PATH")
        blobs.append((fam, path))
    if not blobs:
        for f in families:
            for name in (f"{f}.erb", f"{f}.int8.erb"):
                blobs.append((f, os.path.join(ROOT, "models", f, "demo", name)))
    for _, path in blobs:
        if not os.path.exists(path):
            raise SystemExit(f"eval: {path}: no such blob - run models/<family>/train.py")

    with tempfile.TemporaryDirectory(prefix="embedrt-eval-") as tmp:
        data = args.work or os.path.join(tmp, "data")
        data = os.path.join(data, f"push_s{args.seed}_{args.episodes}")
        if not os.path.exists(os.path.join(data, "gt.jsonl")):
            simdata.render_push(data, args.seed, args.episodes, 0, args.build)
        episodes = simdata.load_push(data)
        print(f"held-out: simworld push --seed {args.seed} --episodes {args.episodes} --size 48x48 "
              f"({len(episodes)} episodes x {len(episodes[0].frames)} frames)", flush=True)
        results = []
        for fam, path in blobs:
            t0 = time.monotonic()
            rewards = {}
            for i in range(0, len(episodes), MAX_CAMERAS):  # embedrtd serves up to 8 cameras
                rewards.update(daemon_rewards(embedrtd, path, data, episodes[i:i + MAX_CAMERAS], args.fps, tmp,
                                              args.timeout))
            rho = np.array([simdata.spearman(rewards[ep.index], -ep.distance) for ep in episodes])
            results.append({"family": fam, "blob": os.path.relpath(path, ROOT) if path.startswith(ROOT) else path,
                            "int8": ".int8." in os.path.basename(path), "mean": float(rho.mean()),
                            "min": float(rho.min()), "per_episode": [round(float(r), 4) for r in rho],
                            "seconds": round(time.monotonic() - t0, 1)})

    print(f"\n{'blob':34} {'mean':>7} {'min':>7} {'median':>7} {'>=0.9':>6}  seconds")
    for r in results:
        rho = np.array(r["per_episode"])
        print(f"{r['blob']:34} {r['mean']:7.4f} {r['min']:7.4f} {np.median(rho):7.4f} "
              f"{int((rho >= 0.9).sum()):3d}/{len(rho):<2d} {r['seconds']:7.1f}")
    print("\nper episode (Spearman of reward vs -distance):")
    print("episode " + " ".join(f"{os.path.basename(r['blob']):>14}" for r in results))
    for k, ep in enumerate(episodes):
        print(f"{ep.index:7d} " + " ".join(f"{r['per_episode'][k]:14.4f}" for r in results))
    ok = True
    for r in results:
        if r["mean"] < args.min:
            print(f"FAIL {r['blob']}: mean Spearman {r['mean']:.4f} < {args.min}")
            ok = False
    for r in results:
        if r["int8"]:
            ref = [q for q in results if q["family"] == r["family"] and not q["int8"]]
            if ref and ref[0]["mean"] - r["mean"] > args.max_gap:
                print(f"FAIL {r['blob']}: int8 mean {r['mean']:.4f} is {ref[0]['mean'] - r['mean']:.4f} below "
                      f"fp32 {ref[0]['mean']:.4f} (allowed {args.max_gap})")
                ok = False
    if args.json is True:
        print(json.dumps({"seed": args.seed, "episodes": args.episodes, "results": results}))
    elif args.json:
        rows = []
        for fam in dict.fromkeys(r["family"] for r in results):
            f32 = next((r["mean"] for r in results if r["family"] == fam and not r["int8"]), None)
            i8 = next((r["mean"] for r in results if r["family"] == fam and r["int8"]), None)
            ok = f32 is not None and f32 >= args.min and (i8 is None or abs(i8 - f32) <= args.max_gap)
            rows.append({"family": fam, "metric": f"Spearman(reward, -distance), mean of {args.episodes} episodes "
                         f"(seed {args.seed})", "fp32": f32, "int8": i8, "target": f">= {args.min}", "ok": ok})
        with open(args.json, "w") as f:
            json.dump({"family": ",".join(dict.fromkeys(r["family"] for r in results)), "rows": rows}, f, indent=1)
    print("ok" if ok else "FAILED")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
