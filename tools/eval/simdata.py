"""simworld data for training and evaluation: render push episodes, read their y4m videos as
the daemon sees them (BT.601 limited range, exactly runtime/image/frame.c's integer formula,
chroma of pixel (x, y) = sample (x/2, y/2)) and their ground truth (gt.jsonl).

Used by models/rig/train.py, models/ccvae/train.py and tools/eval/eval_vae.py; run_embedrtd by
every evaluation and the demo.
"""

import json
import os
import signal
import socket
import subprocess
import time

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

# The push world every VAE demo model is trained and judged on (48x48 frames, 40 per episode).
SIZE = 48
FRAMES = 40


def simworld_bin(build=None):
    path = os.path.join(build or os.path.join(ROOT, "build"), "tools", "simworld", "simworld")
    if not os.access(path, os.X_OK):
        raise SystemExit(f"{path}: not built - run tools/dev build first")
    return path


def push_command(out, seed, episodes, first_episode=0, build=None, masks=False):
    return [simworld_bin(build), "push", "--seed", str(seed), "--out", out, "--episodes", str(episodes),
            "--first-episode", str(first_episode), "--size", f"{SIZE}x{SIZE}", "--frames", str(FRAMES)] + \
        (["--masks"] if masks else [])


def render_push(out, seed, episodes, first_episode=0, build=None, masks=False):
    """Renders push episodes into `out`; returns the command line used."""
    cmd = push_command(out, seed, episodes, first_episode, build, masks)
    os.makedirs(os.path.dirname(os.path.abspath(out)), exist_ok=True)
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
    return cmd


def _yuv_to_rgb(y, u, v):
    """uint8 planes (Y full size, U/V subsampled 2x2) -> [H, W, 3] uint8, frame.c's formula."""
    h, w = y.shape
    u = np.repeat(np.repeat(u, 2, 0), 2, 1)[:h, :w].astype(np.int64) - 128
    v = np.repeat(np.repeat(v, 2, 0), 2, 1)[:h, :w].astype(np.int64) - 128
    ty = 1164383 * (y.astype(np.int64) - 16)

    def rnd(n):
        q = n + 500000
        return np.where(q < 0, 0, np.minimum(q // 1000000, 255)).astype(np.uint8)

    return np.stack([rnd(ty + 1596027 * v), rnd(ty - 391762 * u - 812968 * v), rnd(ty + 2017232 * u)], -1)


def read_y4m(path):
    """A 4:2:0 (C420*, or no C tag) YUV4MPEG2 file -> [T, H, W, 3] uint8 RGB."""
    with open(path, "rb") as f:
        data = f.read()
    nl = data.index(b"\n")
    tags = data[:nl].split()
    if tags[0] != b"YUV4MPEG2":
        raise ValueError(f"{path}: not a YUV4MPEG2 file")
    w = h = None
    for t in tags[1:]:
        if t[:1] == b"W":
            w = int(t[1:])
        elif t[:1] == b"H":
            h = int(t[1:])
        elif t[:1] == b"C" and not t.startswith(b"C420"):
            raise ValueError(f"{path}: chroma {t.decode()} is not 4:2:0")
    cw, ch = (w + 1) // 2, (h + 1) // 2
    frames, pos = [], nl + 1
    while pos < len(data):
        end = data.index(b"\n", pos)
        if not data[pos:end].startswith(b"FRAME"):
            raise ValueError(f"{path}: bad frame header at byte {pos}")
        pos = end + 1
        y = np.frombuffer(data, np.uint8, w * h, pos).reshape(h, w)
        u = np.frombuffer(data, np.uint8, cw * ch, pos + w * h).reshape(ch, cw)
        v = np.frombuffer(data, np.uint8, cw * ch, pos + w * h + cw * ch).reshape(ch, cw)
        pos += w * h + 2 * cw * ch
        frames.append(_yuv_to_rgb(y, u, v))
    return np.stack(frames)


def to_input(rgb):
    """[..., H, W, 3] uint8 -> [..., 3, H, W] float32 x/255: the blobs' recipe (scale=1/255)."""
    x = np.moveaxis(rgb, -1, -3).astype(np.float32)
    return x * np.float32(1.0 / 255.0)


class Episode:
    def __init__(self, index, frames, goal, distance, phase, ids=None, goal_ids=None, masks=None):
        self.ids = ids  # [T, H, W] uint8 id buffers (--masks), or None
        self.goal_ids = goal_ids
        self.masks = masks  # {"puck": id value, "gripper": id value}
        self.index = index
        self.frames = frames  # [T, H, W, 3] uint8
        self.goal = goal  # [H, W, 3] uint8: puck at the goal, gripper parked
        self.distance = distance  # [T] true puck-to-goal distance (m)
        self.phase = phase  # [T] approach / push / retreat


def load_push(out):
    """Every episode of a push render in `out` (view 0), in episode order."""
    dist, phase, masks = {}, {}, {}
    with open(os.path.join(out, "gt.jsonl")) as f:
        for line in f:
            rec = json.loads(line)
            if rec.get("type") == "frame" and rec.get("stream") == "push":
                dist.setdefault(rec["episode"], {})[rec["frame"]] = rec["distance"]
                phase.setdefault(rec["episode"], {})[rec["frame"]] = rec["phase"]
                masks[rec["episode"]] = {e["name"]: e["mask"] for e in rec["entities"] if e["name"] != "object"}
    eps = []
    for e in sorted(dist):
        frames = read_y4m(os.path.join(out, f"ep{e:04d}_push_v0.y4m"))
        goal = read_y4m(os.path.join(out, f"ep{e:04d}_goal_v0.y4m"))[0]
        n = len(frames)
        if sorted(dist[e]) != list(range(n)):
            raise ValueError(f"{out}/gt.jsonl: episode {e} has {len(dist[e])} frame lines, the video {n} frames")
        ids = goal_ids = None
        path = os.path.join(out, f"ep{e:04d}_push_v0.ids")
        if os.path.exists(path):
            h, w = frames.shape[1:3]
            ids = np.fromfile(path, np.uint8).reshape(-1, h, w)
            goal_ids = np.fromfile(os.path.join(out, f"ep{e:04d}_goal_v0.ids"), np.uint8).reshape(h, w)
        eps.append(Episode(e, frames, goal, np.array([dist[e][i] for i in range(n)]),
                           [phase[e][i] for i in range(n)], ids, goal_ids, masks[e]))
    return eps


def ranks(x):
    """Average ranks (ties share the mean of their positions), from 1."""
    x = np.asarray(x, np.float64)
    order = np.argsort(x, kind="mergesort")
    r = np.empty(len(x), np.float64)
    r[order] = np.arange(1, len(x) + 1)
    _, inv, counts = np.unique(x, return_inverse=True, return_counts=True)
    sums = np.zeros(len(counts))
    np.add.at(sums, inv, r)
    return (sums / counts)[inv]


def spearman(a, b):
    """Spearman's rank correlation with average ranks for ties (scipy.stats.spearmanr's)."""
    ra, rb = ranks(a), ranks(b)
    ra -= ra.mean()
    rb -= rb.mean()
    den = np.sqrt((ra * ra).sum() * (rb * rb).sum())
    return float((ra * rb).sum() / den) if den > 0 else float("nan")


def pixel_weights(ep, puck_weight, gripper_weight=0.0):
    """Reconstruction-loss weights [T + 1, H, W] for the frames then the goal image, from the id
    buffers: puck pixels puck_weight, gripper pixels gripper_weight, everything else 1."""
    if ep.ids is None:
        raise ValueError(f"episode {ep.index}: no id buffers (render with masks=True)")
    ids = np.concatenate([ep.ids, ep.goal_ids[None]])
    w = np.ones(ids.shape, np.float32)
    w[ids == ep.masks["puck"]] = puck_weight
    w[ids == ep.masks["gripper"]] = gripper_weight
    return w


def write_ppms(episodes, folder):
    """Every frame and the goal image of the episodes as numbered PPM files (calibration input
    for embedrt convert --quantize); returns how many."""
    os.makedirs(folder, exist_ok=True)
    i = 0
    for ep in episodes:
        for img in list(ep.frames) + [ep.goal]:
            with open(os.path.join(folder, f"{i:05d}.ppm"), "wb") as f:
                f.write(b"P6\n%d %d\n255\n" % (img.shape[1], img.shape[0]) + img.tobytes())
            i += 1
    return i


def load_push_sets(work, train_eps, build=None):
    """The training scripts' push episodes (seed 1, with id buffers): "train" (episodes
    0..train_eps), "calib" (the next 10, int8 calibration) and "val" (the 10 after), rendered
    into work/ once; each set is (folder, load_push(folder))."""
    sets = {}
    for name, first, n in (("train", 0, train_eps), ("calib", train_eps, 10), ("val", train_eps + 10, 10)):
        d = os.path.join(work, f"push_s1_{name}_{first}_{n}_masks")
        if not os.path.exists(os.path.join(d, "gt.jsonl")):
            cmd = render_push(d, 1, n, first, build, masks=True)
            print("render:", " ".join(os.path.relpath(c, ROOT) if c.startswith(ROOT) else c for c in cmd), flush=True)
        sets[name] = (d, load_push(d))
    return sets


def run_embedrtd(embedrtd, conf, sock, log_path, extra=(), timeout=30, who="eval"):
    """Starts embedrtd --config conf (+ extra arguments), its output in log_path, and waits
    until it accepts connections on the Unix socket sock. Exits naming the log when it dies
    or does not listen within timeout seconds. Returns the process."""
    if os.path.exists(sock):
        os.unlink(sock)
    log = open(log_path, "w")
    p = subprocess.Popen([embedrtd, "--config", conf, *extra], stdout=log, stderr=subprocess.STDOUT)
    log.close()
    deadline = time.monotonic() + timeout
    while True:
        if p.poll() is not None:
            raise SystemExit(f"{who}: embedrtd exited with {p.returncode}:\n" + open(log_path).read())
        try:
            s = socket.socket(socket.AF_UNIX)
            s.connect(sock)
            s.close()
            return p
        except OSError:
            if time.monotonic() > deadline:
                p.kill()
                raise SystemExit(f"{who}: embedrtd did not listen on {sock}:\n" + open(log_path).read())
            time.sleep(0.05)


def stop_embedrtd(p, timeout=15):
    """SIGTERM (embedrtd's clean shutdown), SIGKILL after timeout seconds; returns the exit
    status (None when p is None)."""
    if p is None:
        return None
    if p.poll() is None:
        p.send_signal(signal.SIGTERM)
        try:
            return p.wait(timeout)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()
    return p.returncode
