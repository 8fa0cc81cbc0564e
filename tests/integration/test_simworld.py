#!/usr/bin/python3
"""simworld (tools/simworld): determinism, ground truth against pixels and id buffers,
scenario semantics (grasp, push, demo) and option errors.

usage: test_simworld.py SIMWORLD
"""
import hashlib
import json
import os
import subprocess
import sys
import tempfile

import numpy as np

SIM = sys.argv[1]
checks = 0
failures = []


def check(cond, what):
    global checks
    checks += 1
    if not cond:
        failures.append(what)
        print("FAIL:", what)


def run(out, *args, expect=0):
    p = subprocess.run([SIM, *args, "--out", out], capture_output=True, text=True, timeout=120)
    if p.returncode != expect:
        raise SystemExit(f"simworld {' '.join(args)}: exit {p.returncode}, expected {expect}: {p.stderr.strip()}")
    return p


def read_y4m(path):
    """Frames of a C420jpeg y4m as (Y, U, V) uint8 planes."""
    data = open(path, "rb").read()
    nl = data.index(b"\n")
    hdr = data[:nl].split()
    w = int(next(h for h in hdr if h.startswith(b"W"))[1:])
    h = int(next(h for h in hdr if h.startswith(b"H"))[1:])
    cw, ch = (w + 1) // 2, (h + 1) // 2
    pos, frames = nl + 1, []
    while pos < len(data):
        e = data.index(b"\n", pos)
        assert data[pos:e].startswith(b"FRAME"), path
        pos = e + 1
        y = np.frombuffer(data, np.uint8, w * h, pos).reshape(h, w)
        pos += w * h
        u = np.frombuffer(data, np.uint8, cw * ch, pos).reshape(ch, cw)
        pos += cw * ch
        v = np.frombuffer(data, np.uint8, cw * ch, pos).reshape(ch, cw)
        pos += cw * ch
        frames.append((y, u, v))
    return w, h, frames


def rgb(frame):
    y, u, v = frame
    h, w = y.shape
    u = u.astype(np.float32).repeat(2, 0).repeat(2, 1)[:h, :w] - 128
    v = v.astype(np.float32).repeat(2, 0).repeat(2, 1)[:h, :w] - 128
    yy = (y.astype(np.float32) - 16) * 1.164
    return np.clip(np.stack([yy + 1.596 * v, yy - 0.392 * u - 0.813 * v, yy + 2.017 * u], -1), 0, 255)


def read_ids(path, w, h):
    a = np.fromfile(path, np.uint8)
    return a.reshape(-1, h, w)


def gt_lines(out):
    with open(os.path.join(out, "gt.jsonl")) as f:
        return [json.loads(line) for line in f]


def tree_hash(out):
    hs = {}
    for name in sorted(os.listdir(out)):
        with open(os.path.join(out, name), "rb") as f:
            hs[name] = hashlib.sha256(f.read()).hexdigest()
    return hs


def test_determinism(tmp):
    for scen, extra in (("grasp", ["--episodes", "2"]), ("push", ["--frames", "12", "--episodes", "2"]),
                        ("demo", ["--frames", "10", "--attempts", "2"])):
        a, b, c, d = (os.path.join(tmp, f"det_{scen}_{k}") for k in "abcd")
        base = [scen, "--size", "40x32", "--masks"] + extra
        run(a, *base, "--seed", "7")
        run(b, *base, "--seed", "7")
        run(c, *base, "--seed", "7", "--threads", "2")
        run(d, *base, "--seed", "8")
        ha, hb, hc, hd = tree_hash(a), tree_hash(b), tree_hash(c), tree_hash(d)
        check(len(ha) >= 4, f"{scen}: files written ({len(ha)})")
        check(ha == hb, f"{scen}: same seed, same bytes")
        check(ha == hc, f"{scen}: --threads 2 writes the same bytes")
        diff = [n for n in ha if n.endswith(".y4m") and ha[n] != hd.get(n)]
        check(len(diff) == len([n for n in ha if n.endswith(".y4m")]), f"{scen}: another seed changes every video")


def test_gt_matches_pixels(tmp, scen, extra):
    out = os.path.join(tmp, "px_" + scen)
    run(out, scen, "--seed", "11", "--size", "64x48", "--masks", *extra)
    lines = gt_lines(out)
    frames = [l for l in lines if l["type"] == "frame"]
    cache = {}
    counted = {}
    boxes_checked = 0
    colours_checked = 0
    for fr in frames:
        for k, name in enumerate(fr["files"]):
            if name not in cache:
                w, h, vid = read_y4m(os.path.join(out, name))
                cache[name] = (w, h, vid, read_ids(os.path.join(out, name[:-4] + ".ids"), w, h))
            w, h, vid, ids = cache[name]
            counted[name] = counted.get(name, 0) + 1
            m = ids[fr["frame"]]
            img = None
            seen = set(np.unique(m).tolist()) - {0}
            known = {e["mask"] for e in fr["entities"]}
            check(seen <= known, f"{name}#{fr['frame']}: id buffer values {sorted(seen)} all listed in ground truth")
            for e in fr["entities"]:
                ys, xs = np.nonzero(m == e["mask"])
                n = len(xs)
                if n != e["px"][k]:
                    check(False, f"{name}#{fr['frame']} {e['name']} {e.get('id')}: px {e['px'][k]} != id buffer {n}")
                    continue
                if n == 0:
                    continue
                x0, y0, x1, y1 = e["box"][k]
                inside = (xs + 0.5 >= x0) & (xs + 0.5 <= x1) & (ys + 0.5 >= y0) & (ys + 0.5 <= y1)
                if not inside.all():
                    check(False, f"{name}#{fr['frame']} {e['name']} {e.get('id')}: {int((~inside).sum())} of {n} "
                          f"mask pixels outside the box {e['box'][k]}")
                boxes_checked += 1
                # Plain colours: the dominant channel inside a large mask is the catalogue colour's.
                if e.get("colour") in ("red", "green", "blue") and n >= 60:
                    if img is None:
                        img = rgb(vid[fr["frame"]])
                    mean = img[m == e["mask"]].mean(0)
                    want = ["red", "green", "blue"].index(e["colour"])
                    check(int(np.argmax(mean)) == want, f"{name}#{fr['frame']}: {e['colour']} object mean colour {mean}")
                    colours_checked += 1
    for name, (w, h, vid, ids) in cache.items():
        check(len(vid) == counted[name] == len(ids), f"{name}: {len(vid)} frames, {counted[name]} gt lines, {len(ids)} id frames")
    check(boxes_checked >= 10, f"{scen}: {boxes_checked} boxes checked against id buffers")
    print(f"{scen}: {len(frames)} frames, {boxes_checked} boxes and {colours_checked} colours checked against pixels")
    return out, lines


def test_grasp(tmp):
    out, lines = test_gt_matches_pixels(tmp, "grasp", ["--episodes", "4", "--objects", "6", "--noise", "0", "--views", "2"])
    for ep in range(4):
        fr = [l for l in lines if l["episode"] == ep and l["type"] == "frame"]
        head = next(l for l in lines if l["episode"] == ep and l["type"] == "episode")
        pre = next(l for l in fr if l["kind"] == "pre")
        post = next(l for l in fr if l["kind"] == "post")
        outcome = next(l for l in fr if l["kind"] == "outcome")
        goals = [l for l in fr if l["kind"] == "goal"]
        gid = pre["grasped"]["id"]
        pre_ids = [e["id"] for e in pre["entities"] if e["name"] == "object"]
        post_ids = [e["id"] for e in post["entities"] if e["name"] == "object"]
        check(len(pre_ids) >= 5 and len(set(pre_ids)) == len(pre_ids), f"ep{ep}: >= 5 distinct objects ({pre_ids})")
        check(gid in pre_ids and gid not in post_ids, f"ep{ep}: grasped {gid} in pre, not in post")
        check(sorted(post_ids + [gid]) == sorted(pre_ids), f"ep{ep}: post = pre minus the grasped object")
        check(head["objects"] == pre_ids, f"ep{ep}: episode header lists the scene objects")
        g = next(e for e in pre["entities"] if e["id"] == gid)
        check(g["px"][0] >= 20, f"ep{ep}: grasped object visible in view 0 ({g['px'][0]} px)")
        check([e["id"] for e in outcome["entities"] if e["name"] == "object"] == [gid], f"ep{ep}: outcome holds the grasped object")
        check(outcome["entities"][0]["px"][0] > 100, f"ep{ep}: held object fills the outcome view")
        check([l["goal"]["id"] for l in goals] == pre_ids, f"ep{ep}: one goal image per scene object, in order")
        # Pixels: pre and post differ where the object was, and much less elsewhere.
        w, h, vid = read_y4m(os.path.join(out, pre["files"][0]))
        a, b = rgb(vid[0]), rgb(vid[1])
        diff = np.abs(a - b).mean(-1)
        x0, y0, x1, y1 = g["box"][0]
        ids = read_ids(os.path.join(out, pre["files"][0][:-4] + ".ids"), w, h)
        obj = ids[0] == g["mask"]
        far = np.ones_like(obj)
        far[max(0, int(y0) - 8):int(y1) + 8, max(0, int(x0) - 8):int(x1) + 8] = False
        check(diff[obj].mean() > 20, f"ep{ep}: grasped object's pixels change (mean {diff[obj].mean():.1f})")
        check(diff[far].mean() < 6, f"ep{ep}: elsewhere little changes (mean {diff[far].mean():.1f})")


def test_push(tmp):
    out, lines = test_gt_matches_pixels(tmp, "push", ["--episodes", "3", "--frames", "30"])
    for ep in range(3):
        fr = [l for l in lines if l["episode"] == ep and l["type"] == "frame" and l["kind"] == "push"]
        goal = [l for l in lines if l["episode"] == ep and l["type"] == "frame" and l["kind"] == "goal"]
        d = np.array([l["distance"] for l in fr])
        check(len(fr) == 30 and len(goal) == 1, f"push ep{ep}: 30 frames and a goal image")
        check(d[-1] < 0.35 * d[0], f"push ep{ep}: distance {d[0]:.3f} -> {d[-1]:.3f}")
        check(np.all(np.diff(d) <= 0.002), f"push ep{ep}: distance never grows (max step {np.diff(d).max():.4f})")
        puck = np.array([l["puck"] for l in fr])
        v = np.array([l["velocity"] for l in fr])
        check(np.allclose(v[1:], np.diff(puck, axis=0) * 30, atol=4e-3), f"push ep{ep}: velocity = finite difference")
        g = goal[0]
        pk = next(e for e in g["entities"] if e["name"] == "puck")
        check(np.allclose(pk["pos"][:2], g["goal"], atol=1e-4), f"push ep{ep}: goal image shows the puck at the goal")
        phases = [l["phase"] for l in fr]
        check(phases[0] == "approach" and "push" in phases and phases[-1] == "retreat", f"push ep{ep}: phases {set(phases)}")


def test_demo(tmp):
    test_gt_matches_pixels(tmp, "demo", ["--frames", "16", "--attempts", "2", "--aa", "--views", "3",
                                         "--camera", "2=180,30,0.7,60"])
    errs = {}
    faithful = {}
    for dev in ("0.25", "0.5", "1"):
        out = os.path.join(tmp, "demo_dev" + dev)
        run(out, "demo", "--seed", "21", "--episodes", "2", "--size", "32x32", "--frames", "30", "--attempts", "2",
            "--deviation", dev)
        lines = gt_lines(out)
        for ep in range(2):
            fr = [l for l in lines if l["episode"] == ep and l["type"] == "frame"]
            demo = np.array([l["puck"] for l in fr if l["attempt"] == -1])
            dv = np.array([l["velocity"] for l in fr if l["attempt"] == -1])
            check(np.allclose(dv[1:], np.diff(demo, axis=0) * 30, atol=4e-3), "demo: velocity = finite difference")
            check(len(fr[0]["files"]) == 2, "demo: two synchronised views")
            for att in (0, 1):
                a = [l for l in fr if l["attempt"] == att]
                check(all(l["deviation"] == (float(dev) if att else 0.0) for l in a), f"demo: attempt {att} deviation")
                p = np.array([l["puck"] for l in a])
                err = float(np.linalg.norm(p - demo, axis=1).mean())
                errs[(dev, ep, att)] = err
                if att == 0:
                    faithful.setdefault(ep, []).append(p)
            prog = [l["progress"] for l in fr if l["attempt"] == 1]
            check(prog[0] == 0 and abs(prog[-1] - 1) < 1e-4 and all(b >= a for a, b in zip(prog, prog[1:])),
                  "demo: progress goes monotonically from 0 to 1")
    for ep in range(2):
        for dev in ("0.25", "0.5", "1"):
            check(errs[(dev, ep, 0)] < errs[(dev, ep, 1)],
                  f"demo ep{ep} D={dev}: faithful {errs[(dev, ep, 0)]:.4f} < deviating {errs[(dev, ep, 1)]:.4f}")
        seq = [errs[(d, ep, 1)] for d in ("0.25", "0.5", "1")]
        check(seq[0] < seq[1] < seq[2], f"demo ep{ep}: deviating error grows with --deviation {seq}")
        check(all(np.array_equal(faithful[ep][0], f) for f in faithful[ep]), f"demo ep{ep}: faithful attempt independent of D")
    print("demo: mean puck distance to the demo:", {k: round(v, 4) for k, v in errs.items()})


def test_bad_options(tmp):
    out = os.path.join(tmp, "bad")
    cases = [
        (["grasp", "--size", "0x5"], "--size 0x5"),
        (["grasp", "--size", "96"], "--size 96"),
        (["push", "--views", "4"], "--views 4"),
        (["push", "--frames", "1"], "--frames 1"),
        (["grasp", "--frames", "10"], "--frames"),
        (["demo", "--deviation", "1.5"], "--deviation 1.5"),
        (["push", "--deviation", "0.5"], "--deviation"),
        (["grasp", "--objects", "1"], "--objects"),
        (["grasp", "--seed", "-3"], "--seed -3"),
        (["grasp", "--episodes", "0"], "--episodes 0"),
        (["grasp", "--noise", "nan"], "--noise nan"),
        (["grasp", "--threads", "x"], "--threads x"),
        (["grasp", "--bogus"], "--bogus"),
        (["throw"], "throw"),
        (["grasp", "--seed"], "--seed"),
        (["push", "--camera", "3=0,50,0.6"], "--camera 3=0,50,0.6"),
        (["push", "--camera", "0=0,95,0.6"], "--camera 0=0,95,0.6"),
    ]
    for args, name in cases:
        p = subprocess.run([SIM, *args, "--out", out] if args[-1] != "--seed" else [SIM, "--out", out, *args],
                           capture_output=True, text=True, timeout=30)
        lines = p.stderr.strip().splitlines()
        check(p.returncode == 2 and len(lines) == 1 and name in lines[0],
              f"{' '.join(args)}: exit {p.returncode}, stderr {p.stderr.strip()!r} names {name}")
    p = subprocess.run([SIM, "grasp"], capture_output=True, text=True)
    check(p.returncode == 2 and "--out" in p.stderr, f"missing --out: {p.stderr.strip()!r}")
    p = subprocess.run([SIM, "--help"], capture_output=True, text=True)
    opts = ["--out", "--seed", "--episodes", "--first-episode", "--size", "--views", "--frames", "--objects",
            "--attempts", "--deviation", "--noise", "--colour-jitter", "--camera", "--camera-jitter", "--aa", "--masks",
            "--threads", "--preview"]
    check(p.returncode == 0 and all(o in p.stdout for o in opts), "--help documents every option")
    p = subprocess.run([SIM, "push", "--out", "/proc/nonexistent/x"], capture_output=True, text=True)
    check(p.returncode == 1 and "/proc/nonexistent/x" in p.stderr, f"unwritable --out: {p.stderr.strip()!r}")


# Hashes of two small runs made with the release build (-O3). The test build (-O2 with
# sanitizers) must write the same bytes: the renderer may not depend on the optimisation
# level. Regenerate only on purpose, when the world itself changes:
#   simworld grasp --seed 3 --size 48x40 --episodes 2 --views 2 --aa --masks --out A
#   simworld demo --seed 3 --size 40x32 --frames 8 --attempts 1 --masks --out B
#   (cd A; sha256sum $(ls | sort)) | sha256sum    (same for B)
GOLDEN = {
    "grasp": (["grasp", "--seed", "3", "--size", "48x40", "--episodes", "2", "--views", "2", "--aa", "--masks"],
              "20c2b5a3d97c3a72f8687372cb87b3ea97332b01dd878f9431fa94019c57ed66"),
    "demo": (["demo", "--seed", "3", "--size", "40x32", "--frames", "8", "--attempts", "1", "--masks"],
             "5b4c8c732bf5a50b4fed5d63f0ed337644cc38cc704b3f36f904ddd3df8082a5"),
}


def test_golden(tmp):
    for name, (args, want) in GOLDEN.items():
        out = os.path.join(tmp, "golden_" + name)
        run(out, *args)
        listing = "".join(f"{h}  {n}\n" for n, h in sorted(tree_hash(out).items()))
        got = hashlib.sha256(listing.encode()).hexdigest()
        check(got == want, f"golden {name}: bytes differ from the release build's ({got})")


def test_preview(tmp):
    out = os.path.join(tmp, "prev")
    png = os.path.join(tmp, "prev.png")
    run(out, "grasp", "--size", "32x24", "--preview", png)
    data = open(png, "rb").read()
    check(data[:8] == b"\x89PNG\r\n\x1a\n", "preview is a PNG")
    w, h = int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")
    # view 0: scene pre and post, outcome, 4 of the 6 goals.
    check((w, h) == (32 * 7, 24), f"preview sheet size {w}x{h}")


def main():
    with tempfile.TemporaryDirectory(prefix="simworld-test-") as tmp:
        test_determinism(tmp)
        test_grasp(tmp)
        test_push(tmp)
        test_demo(tmp)
        test_bad_options(tmp)
        test_preview(tmp)
        test_golden(tmp)
    print(f"simworld: {checks - len(failures)} of {checks} checks passed")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
