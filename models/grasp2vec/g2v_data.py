"""simworld grasp episodes for the grasp2vec demo model: reading and preprocessing.

Shared by models/grasp2vec/train.py and tools/eval/eval_grasp2vec.py. Frames are decoded from
simworld's .y4m files (C420jpeg) to RGB with exactly the integer BT.601 limited-range rule of
runtime/image/frame.c (chroma of pixel (x, y) is sample (x/2, y/2)), so training sees the
bytes the daemon sees.
"""

import json
import os

import numpy as np

# The demo model's input sides: scenes at 128 px (an 8x8 heatmap), objects at 64 px.
SCENE_SIDE = 128
OBJECT_SIDE = 64
SIMWORLD_SIZE = "128x128"


def read_y4m(path, max_bytes=1 << 28):
    """All frames of a C420jpeg/C420 .y4m as uint8 RGB [T, H, W, 3]; refuses anything else."""
    size = os.path.getsize(path)
    if size > max_bytes:
        raise ValueError(f"{path}: {size} bytes is more than the {max_bytes} this reader takes")
    with open(path, "rb") as f:
        data = f.read()
    nl = data.find(b"\n")
    if nl < 0 or not data.startswith(b"YUV4MPEG2 "):
        raise ValueError(f"{path}: not a YUV4MPEG2 file (no 'YUV4MPEG2 ' header line)")
    w = h = None
    chroma = "420jpeg"
    for tok in data[10:nl].split():
        t = tok.decode("ascii", "replace")
        if t[0] == "W":
            w = int(t[1:])
        elif t[0] == "H":
            h = int(t[1:])
        elif t[0] == "C":
            chroma = t[1:]
    if not w or not h or not (0 < w <= 4096 and 0 < h <= 4096):
        raise ValueError(f"{path}: bad or missing W/H in the header")
    if chroma not in ("420jpeg", "420", "420mpeg2", "420paldv"):
        raise ValueError(f"{path}: chroma C{chroma} is not 4:2:0")
    cw, ch = (w + 1) // 2, (h + 1) // 2
    fsize = w * h + 2 * cw * ch
    frames = []
    pos = nl + 1
    while pos < len(data):
        fl = data.find(b"\n", pos)
        if fl < 0 or not data.startswith(b"FRAME", pos):
            raise ValueError(f"{path}: bad FRAME header at byte {pos}")
        pos = fl + 1
        if pos + fsize > len(data):
            raise ValueError(f"{path}: truncated frame at byte {pos}")
        buf = np.frombuffer(data, np.uint8, fsize, pos)
        pos += fsize
        y = buf[: w * h].reshape(h, w)
        u = buf[w * h: w * h + cw * ch].reshape(ch, cw)
        v = buf[w * h + cw * ch:].reshape(ch, cw)
        frames.append(yuv420_to_rgb(y, u, v))
    return np.stack(frames)


def yuv420_to_rgb(y, u, v):
    """runtime/image/frame.c's integer rule, vectorised."""
    h, w = y.shape
    uu = np.repeat(np.repeat(u.astype(np.int64), 2, 0), 2, 1)[:h, :w] - 128
    vv = np.repeat(np.repeat(v.astype(np.int64), 2, 0), 2, 1)[:h, :w] - 128
    ty = 1164383 * (y.astype(np.int64) - 16)

    def rnd(n):
        q = n + 500000
        return np.where(q < 0, 0, np.minimum(q // 1000000, 255))

    r = rnd(ty + 1596027 * vv)
    g = rnd(ty - 391762 * uu - 812968 * vv)
    b = rnd(ty + 2017232 * uu)
    return np.stack([r, g, b], -1).astype(np.uint8)


def read_gt(directory):
    """gt.jsonl -> {episode: {"episode": line, "pre": frame line, "goals": [goal lines]}}."""
    eps = {}
    with open(os.path.join(directory, "gt.jsonl")) as f:
        for line in f:
            d = json.loads(line)
            e = eps.setdefault(d["episode"], {"goals": []})
            if d["type"] == "episode":
                e["episode"] = d
            elif d.get("kind") == "pre":
                e["pre"] = d
            elif d.get("kind") == "goal":
                e["goals"].append(d)
    return eps


def episode_files(directory, e):
    stem = os.path.join(directory, f"ep{e:04d}_")
    return stem + "scene_v0.y4m", stem + "outcome_v0.y4m", stem + "goals_v0.y4m"


def load_episode(directory, e):
    """(pre, post, outcome, goals) as uint8 RGB: [H,W,3] x 3 and [G,H,W,3]."""
    scene, outcome, goals = episode_files(directory, e)
    s = read_y4m(scene)
    return s[0], s[1], read_y4m(outcome)[0], read_y4m(goals)


def resize_bilinear(img, side):
    """uint8 [H,W,3] -> float32 [3,side,side] in [0,1]: crop=center, bilinear with half-pixel
    centres and no antialias (torch interpolate align_corners=False), then x/255 - the
    recipe the blob's preprocessing applies."""
    h, w = img.shape[:2]
    s = min(h, w)
    y0, x0 = (h - s) // 2, (w - s) // 2
    x = img[y0:y0 + s, x0:x0 + s].astype(np.float32)
    if s != side:
        c = (np.arange(side, dtype=np.float64) + 0.5) * s / side - 0.5
        c = np.clip(c, 0, s - 1)
        i0 = np.floor(c).astype(np.int64)
        i1 = np.minimum(i0 + 1, s - 1)
        f = (c - i0).astype(np.float32)
        rows = x[i0] * (1 - f)[:, None, None] + x[i1] * f[:, None, None]
        x = rows[:, i0] * (1 - f)[None, :, None] + rows[:, i1] * f[None, :, None]
    return np.ascontiguousarray((x * np.float32(1 / 255.0)).transpose(2, 0, 1))
