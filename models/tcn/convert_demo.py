#!/usr/bin/python3
"""Converts the trained TCN or mfTCN ONNX files into the demo family blobs (fp32 and int8).

usage: /usr/bin/python3 models/tcn/convert_demo.py --family tcn|mftcn [--build build]
           [--demo models/FAMILY/demo] [--stride 4] [--time-window 6] [--work build/tcn-data]

tcn:   DEMO/tcn.onnx -> DEMO/tcn.erb, DEMO/tcn.int8.erb (role embedder)
mftcn: DEMO/trunk.onnx, DEMO/head.onnx -> DEMO/mftcn.erb, DEMO/mftcn.int8.erb (roles trunk,
       head; --window 2 --stride S)
Recipe of the image role: crop=center, resize 96x96 bilinear, x * 2/255 - 1 (the reference's
[-1, 1] input), so any square-ish frame works. The int8 blobs are calibrated on TRAINING-seed
frames never trained on: `simworld demo --seed 1 --first-episode 150 --episodes 10
--attempts 0 --size 96x96`, every 3rd frame of both views (400 PPMs; the converter holds
every 4th out to measure itself). mfTCN: the converter calibrates the head on the trunk's
maps of the calibration frames (graph 'head' input <- graph 'trunk' output), so both graphs
are int8 unless --keep-head-fp32 (the head's Conv/Gemm/MatMul nodes stay float32). Prints the
commands.
Both blobs store `time_window` (--time-window, default 6 frames = 0.2 s at 30 fps): the
imitation reward compares live frame t with the closest demonstration frame within t +- 6,
so an attempt that runs the demonstration a little early or late is not scored as a
deviation. simworld's faithful attempts are time-warped by up to 5.9 frames; 6 had the
largest worst-case margin between faithful and deviating attempts on validation seed 7
(tools/eval/eval_tcn.py --seed 7; models/tcn/demo/README.md).
"""

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, HERE)
import tcn_data  # noqa: E402

SCALE = 2.0 / 255.0
RECIPE = f"crop=center,resize={tcn_data.SIDE}x{tcn_data.SIDE}:bilinear,scale={SCALE:.9g},mean=1,1,1"


def run(cmd):
    print("+ " + " ".join(os.path.relpath(c, ROOT) if os.path.isabs(c) and c.startswith(ROOT) else c
                          for c in cmd), flush=True)
    subprocess.run(cmd, check=True)


def onnx_nodes(path):
    import onnx
    return [(n.name, n.op_type) for n in onnx.load(path).graph.node]


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--family", required=True, choices=("tcn", "mftcn"))
    ap.add_argument("--build", default=os.path.join(ROOT, "build"))
    ap.add_argument("--demo", help="folder of the ONNX files and blobs (default models/FAMILY/demo)")
    ap.add_argument("--stride", type=int, default=None, help="mftcn window stride (default: train_log.json's)")
    ap.add_argument("--work", default=os.path.join(ROOT, "build", "tcn-data"), help="calibration episodes (kept)")
    ap.add_argument("--time-window", type=int, default=6,
                    help="blob parameter time_window: imitation tempo tolerance in frames (default 6; 0 = the paper's)")
    ap.add_argument("--fp32-only", action="store_true")
    ap.add_argument("--keep-head-fp32", action="store_true", help="mftcn: keep the head's Conv/Gemm/MatMul nodes float32")
    args = ap.parse_args()
    embedrt = os.path.join(args.build, "tools", "embedrt", "embedrt")
    simworld = os.path.join(args.build, "tools", "simworld", "simworld")
    d = args.demo or os.path.join(ROOT, "models", args.family, "demo")
    if args.family == "tcn":
        base = [embedrt, "convert", "--family", "tcn", "--graph", "embedder=" + os.path.join(d, "tcn.onnx"),
                "--preprocess", "embedder:" + RECIPE]
        keep = []
    else:
        stride = args.stride
        if stride is None:
            with open(os.path.join(d, "train_log.json")) as f:
                stride = json.load(f)["stride"]
        head = os.path.join(d, "head.onnx")
        base = [embedrt, "convert", "--family", "mftcn", "--graph", "trunk=" + os.path.join(d, "trunk.onnx"),
                "--graph", "head=" + head, "--preprocess", "trunk:" + RECIPE, "--window", "2",
                "--stride", str(stride)]
        keep = [n for n, op in onnx_nodes(head) if op in ("Conv", "Gemm", "MatMul")] if args.keep_head_fp32 else []
    base += ["--param", f"time_window={args.time_window}"]
    run(base + ["-o", os.path.join(d, f"{args.family}.erb")])
    if args.fp32_only:
        return
    calib_src = os.path.join(args.work, "demo_s1_calib_150_10")
    tcn_data.render_demo(simworld, calib_src, tcn_data.TRAIN_SEED, 10, attempts=0, first=150)
    tmp = tempfile.mkdtemp(prefix="tcn-calib-")
    try:
        n = 0
        for s in tcn_data.load(calib_src):
            for v in range(2):
                for img in s.views[v][::3]:
                    with open(os.path.join(tmp, f"{n:05d}.ppm"), "wb") as f:
                        f.write(tcn_data.ppm_bytes(img))
                    n += 1
        cmd = base + ["-o", os.path.join(d, f"{args.family}.int8.erb"), "--quantize", "int8", "--calibration", tmp]
        if keep:
            cmd += ["--keep-fp32", ",".join(keep)]
        run(cmd)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
