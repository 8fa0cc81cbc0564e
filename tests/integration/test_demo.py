#!/usr/bin/python3
"""`tools/dev demo`'s main job (tools/dev.d/demo.py) headless, against this build: the trained
demo blobs of models/*/demo plus TCN and mfTCN blobs converted here from tests/fixtures (random
weights: they exercise the path the demo takes when models/tcn/demo/tcn.erb and
models/mftcn/demo/mftcn.erb exist, not their quality). Asserts: exit 0 within 60 s, plain
lines (no terminal control codes) with one line per push frame, a reward for every push frame
and model, the grasp's scene_difference and outcome rewards and the retrieval through the
daemon, imitation rewards for both attempts of both TCN families, and demo-report.png: a PNG
that libspng (through `embedrt embed`) decodes to exactly the pixels Python's zlib reads.

usage: test_demo.py BUILD_ROOT SOURCE_ROOT PROTO_PY_DIR"""
import json
import os
import struct
import subprocess
import sys
import tempfile
import time
import zlib

import numpy as np

build, root, proto = (os.path.abspath(a) for a in sys.argv[1:4])
cli = os.path.join(build, "tools", "embedrt", "embedrt")
fx = os.path.join(root, "tests", "fixtures", "models")
passed = failed = 0


def check(name, ok, detail=""):
    global passed, failed
    print(f"{'ok  ' if ok else 'FAIL'} {name}" + (f": {detail}" if detail and not ok else ""), flush=True)
    passed, failed = passed + bool(ok), failed + (not ok)


def read_png_zlib(path):
    """8-bit RGB, non-interlaced PNG -> [H, W, 3], every chunk CRC checked (filter 0 rows only)."""
    data = open(path, "rb").read()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "PNG signature"
    pos, idat, ihdr = 8, b"", None
    while pos < len(data):
        n, = struct.unpack(">I", data[pos:pos + 4])
        kind, body = data[pos + 4:pos + 8], data[pos + 8:pos + 8 + n]
        crc, = struct.unpack(">I", data[pos + 8 + n:pos + 12 + n])
        assert zlib.crc32(kind + body) & 0xFFFFFFFF == crc, f"CRC of {kind}"
        if kind == b"IHDR":
            ihdr = struct.unpack(">IIBBBBB", body)
        elif kind == b"IDAT":
            idat += body
        pos += 12 + n
    w, h, depth, ctype, _, _, interlace = ihdr
    assert (depth, ctype, interlace) == (8, 2, 0), f"IHDR {ihdr}"
    raw = np.frombuffer(zlib.decompress(idat), np.uint8).reshape(h, 1 + 3 * w)
    assert not raw[:, 0].any(), "filter 0 rows"
    return raw[:, 1:].reshape(h, w, 3)


with tempfile.TemporaryDirectory(prefix="embedrt-test-demo-") as tmp:
    tcn, mftcn = os.path.join(tmp, "tcn.erb"), os.path.join(tmp, "mftcn.erb")
    rgb2 = "scale=0.00784314,mean=1,1,1"
    for cmd in (["convert", "--family", "tcn", "--graph", f"embedder={fx}/tcn_99/model.onnx", "--preprocess",
                 f"embedder:crop=center,resize=99x99:bilinear,{rgb2}", "-o", tcn],
                ["convert", "--family", "mftcn", "--graph", f"trunk={fx}/mftcn_trunk_64/model.onnx", "--graph",
                 f"head={fx}/mftcn_head_n2/model.onnx", "--window", "2", "--stride", "2", "--preprocess",
                 f"trunk:crop=center,resize=64x64:bilinear,{rgb2}", "-o", mftcn]):
        r = subprocess.run([cli] + cmd, capture_output=True, text=True)
        check(f"convert_{cmd[2]}_fixture", r.returncode == 0, r.stderr)
    out = os.path.join(tmp, "demo")
    env = dict(os.environ, EMBEDRT_PROTO_PY=proto)
    t0 = time.monotonic()
    r = subprocess.run([sys.executable, os.path.join(root, "tools", "dev.d", "demo.py"), "--build", build, "--out", out,
                        "--tcn", tcn, "--mftcn", mftcn, "--timeout", "50"],
                       capture_output=True, text=True, env=env, timeout=90)
    secs = time.monotonic() - t0
    print(r.stdout)
    print(r.stderr, file=sys.stderr)
    check("demo_exit_0", r.returncode == 0, f"exit {r.returncode}")
    check("demo_under_60_s", secs < 60, f"{secs:.1f} s")
    print(f"demo took {secs:.1f} s")
    check("plain_lines_without_control_codes", "\x1b" not in r.stdout)
    frames = [ln for ln in r.stdout.splitlines() if ln.startswith("push frame ")]
    check("one_plain_line_per_push_frame", len(frames) == 40, f"{len(frames)} lines")
    check("daemon_stopped_cleanly", "embedrtd stopped (SIGTERM, exit 0)" in r.stdout)
    summary_path = os.path.join(out, "demo-summary.json")
    s = json.load(open(summary_path)) if os.path.exists(summary_path) else {"push": {}, "grasp": {}, "tcn": {}}
    for m in ("rig", "rig_imagined", "ccvae"):
        v = s["push"].get(m, {}).get("rewards", [])
        check(f"{m}_reward_for_every_push_frame", len(v) == 40 and all(np.isfinite(v)), str(v)[:200])
    # The trained models on the demo's held-out episode (seed 4242): the reward tracks the task.
    for m in ("rig", "ccvae"):
        rho = s["push"].get(m, {}).get("spearman_vs_minus_distance", -1)
        check(f"{m}_spearman_vs_minus_distance_ge_0.85", rho >= 0.85, f"{rho}")
    gr = s["grasp"]
    rw = gr.get("rewards", {})
    check("grasp_scene_difference_and_outcome", set(rw) == {"scene_difference", "outcome"}, str(rw))
    check("grasp_outcome_reward_gt_0.9", rw.get("outcome", 0) > 0.9, str(rw))
    check("retrieval_against_6_candidates_top1", len(gr.get("retrieval", [])) == 6 and gr.get("top1"),
          str(gr.get("retrieval")))
    hm = gr.get("heatmap", {})
    check("heatmap_16x16_sums_to_1", hm.get("width") == 16 and hm.get("height") == 16 and
          abs(sum(hm.get("values", [])) - 1) < 1e-3, str({k: hm.get(k) for k in ("width", "height")}))
    want = {"tcn_faithful@att_faithful", "tcn_deviating@att_deviating", "mftcn_faithful@att_faithful",
            "mftcn_deviating@att_deviating"}
    check("tcn_and_mftcn_imitation_on_both_attempts", set(s["tcn"]) == want and
          all(x["frames"] == 60 and np.isfinite(x["mean"]) for x in s["tcn"].values()), str(s["tcn"]))
    png = os.path.join(out, "demo-report.png")
    check("report_written", os.path.exists(png))
    if os.path.exists(png):
        try:
            px = read_png_zlib(png)
            ok = True
        except (AssertionError, zlib.error, ValueError) as e:
            ok, px = False, None
            check("report_png_structure", False, str(e))
        if ok:
            check("report_png_structure", px.shape[0] >= 400 and px.shape[1] >= 900, str(px.shape))
            check("report_png_not_blank", len(np.unique(px.reshape(-1, 3), axis=0)) > 100)
            ppm = os.path.join(tmp, "report.ppm")
            with open(ppm, "wb") as f:
                f.write(b"P6\n%d %d\n255\n" % (px.shape[1], px.shape[0]) + px.tobytes())
            g2v = os.path.join(root, "models", "grasp2vec", "demo", "grasp2vec.erb")
            e1 = subprocess.run([cli, "embed", g2v, "--role", "object", "--image", png, "--json"], capture_output=True,
                                text=True)
            e2 = subprocess.run([cli, "embed", g2v, "--role", "object", "--image", ppm, "--json"], capture_output=True,
                                text=True)
            check("report_png_decodes_with_libspng", e1.returncode == 0, e1.stderr)
            same = e1.returncode == 0 and e2.returncode == 0 and \
                json.loads(e1.stdout)["outputs"] == json.loads(e2.stdout)["outputs"]
            check("libspng_pixels_equal_zlib_pixels", same, e2.stderr)
print(f"{passed} passed, {failed} failed")
sys.exit(1 if failed else 0)
