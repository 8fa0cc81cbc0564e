#!/usr/bin/python3
"""embedrtd latency: a replayed camera at maximum rate through the full-size grasp2vec tower
(224x224) in the daemon, against the same graph timed alone by `embedrt bench`.

Exports the reference model once (cached in build/bench, like bench.py), converts a
grasp2vec family blob (scene and object towers, recipe: scale only, so the frames are
already 224x224), starts embedrtd on a folder of 224x224 frames replayed with fps=max,
subscribes to the embeddings for --seconds, then reads the daemon's statistics:
capture-to-publish latency p50/p99 (capture = the replay handing out the frame; publish =
the event queued for the client), the session's inference p50, frames in, out and dropped.
Overhead = daemon p50 / `embedrt bench` median - 1 (target: under 10%).

usage: tools/bench/daemon_bench.py [--threads N] [--seconds S] [--fps max|N] [--json FILE]
"""
import argparse
import importlib.util
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
CASE = "grasp2vec_224"


def die(msg):
    print(f"daemon_bench: {msg}", file=sys.stderr)
    sys.exit(1)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--threads", type=int, default=2, help="engine threads of the model (default 2)")
    ap.add_argument("--seconds", type=float, default=20.0, help="how long to stream (default 20)")
    ap.add_argument("--fps", default="max", help="replay rate: max (default) or frames per second")
    ap.add_argument("--iterations", type=int, default=30, help="embedrt bench iterations (default 30)")
    ap.add_argument("--build", default=os.path.join(ROOT, "build"))
    ap.add_argument("--cache", default=os.path.join(ROOT, "build", "bench"))
    ap.add_argument("--json", help="also write the results to this file")
    args = ap.parse_args()
    cli = os.path.join(args.build, "tools", "embedrt", "embedrt")
    daemon = os.path.join(args.build, "runtime", "daemon", "embedrtd")
    for exe in (cli, daemon):
        if not os.access(exe, os.X_OK):
            die(f"{exe} not found: build first (tools/dev build) or pass --build DIR")
    sys.path.insert(0, os.path.join(ROOT, "tools", "python"))
    os.environ.setdefault("EMBEDRT_PROTO_PY", os.path.join(args.build, "proto"))
    from embedrt_client import Client

    # The full-size reference model, exported as bench.py does (same cache and stamp).
    spec = importlib.util.spec_from_file_location("embedrt_bench", os.path.join(ROOT, "tools", "bench", "bench.py"))
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    model_dir = os.path.join(args.cache, "models")
    bench.ensure_exported([CASE], "full", model_dir, False)
    onnx_path = os.path.join(model_dir, CASE, "model.onnx")
    tmp = tempfile.mkdtemp(prefix="ert-daemon-bench-")
    blob = os.path.join(tmp, "g2v224.erb")
    r = subprocess.run([cli, "convert", "--family", "grasp2vec", "--graph", f"scene={onnx_path}",
                        "--graph", f"object={onnx_path}", "--preprocess", "scene:scale=0.00392157",
                        "--preprocess", "object:scale=0.00392157", "-o", blob], capture_output=True, text=True)
    if r.returncode != 0:
        die(f"convert: {r.stderr.strip()}")
    plain = os.path.join(tmp, "tower.erb")
    r = subprocess.run([cli, "convert", onnx_path, "-o", plain], capture_output=True, text=True)
    if r.returncode != 0:
        die(f"convert: {r.stderr.strip()}")
    r = subprocess.run([cli, "bench", plain, "--threads", str(args.threads), "--iterations", str(args.iterations),
                        "--warmup", "5"], capture_output=True, text=True)
    if r.returncode != 0:
        die(f"bench: {r.stderr.strip()}")
    pure = json.loads(r.stdout.strip().splitlines()[-1])

    frames = os.path.join(tmp, "frames")
    os.makedirs(frames)
    rng = np.random.RandomState(0)
    for i in range(16):
        img = rng.randint(0, 256, (224, 224, 3), dtype=np.uint8)
        with open(os.path.join(frames, f"f{i:03d}.ppm"), "wb") as f:
            f.write(b"P6\n224 224\n255\n" + img.tobytes())
    conf = os.path.join(tmp, "bench.conf")
    with open(conf, "w") as f:
        f.write(f"[camera scene]\nsource = replay:{frames}\nfps = {args.fps}\nloop = true\nwatchdog_ms = 5000\n"
                f"[model g2v]\nblob = {blob}\nthreads = {args.threads}\n")
    sock = os.path.join(tmp, "d.sock")
    log = open(os.path.join(tmp, "embedrtd.log"), "w")
    p = subprocess.Popen([daemon, "--config", conf, "--socket", sock], stdout=log, stderr=subprocess.STDOUT)
    try:
        for _ in range(200):
            try:
                s = socket.socket(socket.AF_UNIX)
                s.connect(sock)
                s.close()
                break
            except OSError:
                if p.poll() is not None:
                    die(f"embedrtd exited: {open(log.name).read()}")
                time.sleep(0.05)
        c = Client("unix:" + sock, timeout=10)
        c.subscribe("embeddings")
        warm_end = time.monotonic() + 2.0
        n = 0
        while time.monotonic() < warm_end:
            if c.next_event(1.0) is not None:
                n += 1
        before = c.stats()
        t0, end = time.monotonic(), time.monotonic() + args.seconds
        while time.monotonic() < end:
            if c.next_event(1.0) is not None:
                n += 1
        st = c.stats()
        elapsed = time.monotonic() - t0
        c.close()
    finally:
        p.send_signal(signal.SIGTERM)
        p.wait(10)
    cam, mod = st.cameras[0], st.models[0]
    frames_out = mod.frames_out - before.models[0].frames_out
    res = {
        "model": CASE, "threads": args.threads, "fps": args.fps, "seconds": round(elapsed, 2),
        "frames_in": cam.frames_in - before.cameras[0].frames_in,
        "frames_out": frames_out,
        "frames_dropped_in_slot": cam.frames_dropped - before.cameras[0].frames_dropped,
        "published_fps": round(frames_out / elapsed, 2),
        "latency_p50_ms": round(mod.latency_p50_ms, 3), "latency_p99_ms": round(mod.latency_p99_ms, 3),
        "inference_p50_ms": round(mod.inference_p50_ms, 3),
        "embedrt_bench_median_ms": round(pure["median_ms"], 3), "embedrt_bench_p99_ms": round(pure["p99_ms"], 3),
        "overhead_p50": round(mod.latency_p50_ms / pure["median_ms"] - 1, 4),
    }
    print(f"embedrtd, {CASE}, {args.threads} thread(s), replay fps={args.fps}, {res['seconds']} s:")
    print(f"  frames in {res['frames_in']}, out {res['frames_out']} ({res['published_fps']}/s), "
          f"overwritten in the slot {res['frames_dropped_in_slot']}")
    print(f"  capture-to-publish p50 {res['latency_p50_ms']} ms, p99 {res['latency_p99_ms']} ms "
          f"(session inference p50 {res['inference_p50_ms']} ms)")
    print(f"  embedrt bench median {res['embedrt_bench_median_ms']} ms (p99 {res['embedrt_bench_p99_ms']} ms)")
    print(f"  overhead over pure inference (p50): {100 * res['overhead_p50']:.1f}% (target < 10%)")
    print(json.dumps(res))
    if args.json:
        with open(args.json, "w") as f:
            json.dump(res, f, indent=1)


if __name__ == "__main__":
    main()
