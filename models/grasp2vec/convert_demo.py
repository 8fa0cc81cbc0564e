#!/usr/bin/python3
"""Converts the trained grasp2vec towers (scene.onnx, object.onnx) into the demo family blobs.

usage: /usr/bin/python3 models/grasp2vec/convert_demo.py [--build build] [--demo models/grasp2vec/demo]

Writes DEMO/grasp2vec.erb (float32) and DEMO/grasp2vec.int8.erb (--quantize int8), both with
the recipes scene: crop=center, resize 128x128, x/255 and object: crop=center, resize 64x64,
x/255, so any square-ish RGB/YUV frame works. The int8 blob is calibrated on 160 frames of
TRAINING episodes (simworld grasp --seed 1, episodes 0-39: pre, post, outcome and the first
goal image of each; the converter holds every 4th out to measure itself). Prints the commands.
"""

import argparse
import os
import shutil
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, HERE)
import g2v_data  # noqa: E402

RGB01 = "scale=0.00392157"
RECIPES = [f"scene:crop=center,resize={g2v_data.SCENE_SIDE}x{g2v_data.SCENE_SIDE}:bilinear,{RGB01}",
           f"object:crop=center,resize={g2v_data.OBJECT_SIDE}x{g2v_data.OBJECT_SIDE}:bilinear,{RGB01}"]


def run(cmd):
    print("+ " + " ".join(os.path.relpath(c, ROOT) if os.path.isabs(c) and c.startswith(ROOT) else c
                          for c in cmd), flush=True)
    subprocess.run(cmd, check=True)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--build", default=os.path.join(ROOT, "build"))
    ap.add_argument("--demo", default=os.path.join(HERE, "demo"))
    ap.add_argument("--embedrt", help="the embedrt binary (default BUILD/tools/embedrt/embedrt)")
    ap.add_argument("--simworld", help="the simworld binary (default BUILD/tools/simworld/simworld)")
    ap.add_argument("--calibration-episodes", type=int, default=40)
    ap.add_argument("--param", action="append", default=[], metavar="KEY=VALUE",
                    help="family parameter stored in both blobs (e.g. heatmap_temperature=0.25)")
    ap.add_argument("--fp32-only", action="store_true", help="write grasp2vec.erb only")
    ap.add_argument("--out-fp32", help="the float32 blob's path (default DEMO/grasp2vec.erb)")
    args = ap.parse_args()
    embedrt = args.embedrt or os.path.join(args.build, "tools", "embedrt", "embedrt")
    simworld = args.simworld or os.path.join(args.build, "tools", "simworld", "simworld")
    d = args.demo
    base = [embedrt, "convert", "--family", "grasp2vec",
            "--graph", "scene=" + os.path.join(d, "scene.onnx"), "--graph", "object=" + os.path.join(d, "object.onnx"),
            "--preprocess", RECIPES[0], "--preprocess", RECIPES[1]]
    for kv in args.param:
        base += ["--param", kv]
    run(base + ["-o", args.out_fp32 or os.path.join(d, "grasp2vec.erb")])
    if args.fp32_only:
        return
    tmp = tempfile.mkdtemp(prefix="g2v-calib-")
    try:
        world = os.path.join(tmp, "world")
        run([simworld, "grasp", "--seed", "1", "--out", world, "--episodes", str(args.calibration_episodes),
             "--size", g2v_data.SIMWORLD_SIZE, "--threads", "1"])
        calib = os.path.join(tmp, "calib")
        os.makedirs(calib)
        for e in range(args.calibration_episodes):
            pre, post, outcome, goals = g2v_data.load_episode(world, e)
            for k, img in enumerate((pre, post, outcome, goals[0])):
                with open(os.path.join(calib, f"ep{e:04d}_{k}.ppm"), "wb") as f:
                    f.write(b"P6\n%d %d\n255\n" % (img.shape[1], img.shape[0]) + img.tobytes())
        run(base + ["-o", os.path.join(d, "grasp2vec.int8.erb"), "--quantize", "int8", "--calibration", calib])
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
