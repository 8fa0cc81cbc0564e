"""simworld demo episodes for the TCN and mfTCN demo models: rendering, loading both views of
the demonstration and of every attempt (decoded as the daemon decodes y4m: tools/eval/simdata.py)
and the per-frame ground truth (puck position/velocity, progress, phase).

Used by models/tcn/train.py, models/mftcn/train.py and tools/eval/eval_tcn.py.
"""

import json
import os
import subprocess
import sys

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(ROOT, "tools", "eval"))
import simdata  # noqa: E402

SIDE = 96          # frames are rendered at 96x96; the blobs' recipe is crop=center,resize=96x96
FRAMES = 60        # simworld demo default
TRAIN_SEED = 1     # the only seed training ever sees
VAL_SEED = 7       # validation while choosing options
EVAL_SEED = 1001   # tools/eval/eval_tcn.py's table
TEST_SEED = 2002   # the meson test eval-tcn
MOVING = 0.01      # m/s: |v_x| below this counts as "still" (sign 0)


def demo_command(simworld, out, seed, episodes, attempts=2, first=0, deviation=0.5):
    return [simworld, "demo", "--seed", str(seed), "--out", out, "--episodes", str(episodes),
            "--first-episode", str(first), "--size", f"{SIDE}x{SIDE}", "--attempts", str(attempts),
            "--deviation", str(deviation), "--threads", "1"]


def render_demo(simworld, out, seed, episodes, attempts=2, first=0, deviation=0.5):
    """Renders demo episodes into out (skipped when out/gt.jsonl exists); returns the command."""
    cmd = demo_command(simworld, out, seed, episodes, attempts, first, deviation)
    if not os.path.exists(os.path.join(out, "gt.jsonl")):
        os.makedirs(os.path.dirname(os.path.abspath(out)), exist_ok=True)
        subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
    return cmd


def video_name(episode, stream, view):
    """stream: "demo" or the attempt number."""
    s = "demo" if stream == "demo" else f"att{int(stream):02d}"
    return f"ep{episode:04d}_{s}_v{view}.y4m"


class Sequence:
    """One synchronised recording (the demo or an attempt) of an episode."""

    def __init__(self, episode, stream, deviation, views, puck, velocity, progress):
        self.episode = episode
        self.stream = stream          # "demo" or attempt number
        self.deviation = deviation    # 0 for the demo and faithful attempts
        self.views = views            # [V, T, H, W, 3] uint8 (None when not loaded)
        self.puck = puck              # [T, 2]
        self.velocity = velocity      # [T, 2] m/s
        self.progress = progress      # [T]


def read_gt(out):
    """{(episode, stream): {"deviation", "frames": {frame: record}}} from out/gt.jsonl."""
    seqs = {}
    with open(os.path.join(out, "gt.jsonl")) as f:
        for line in f:
            r = json.loads(line)
            if r.get("type") != "frame":
                continue
            stream = "demo" if r["kind"] == "demo" else r["attempt"]
            s = seqs.setdefault((r["episode"], stream), {"deviation": r["deviation"], "frames": {}})
            s["frames"][r["frame"]] = r
    return seqs


def load(out, views=(0, 1), streams=None, with_frames=True):
    """Every sequence of a demo render (streams: None = all, else a list like ["demo", 0, 1])."""
    gt = read_gt(out)
    result = []
    for (e, stream), s in sorted(gt.items(), key=lambda kv: (kv[0][0], str(kv[0][1]))):
        if streams is not None and stream not in streams:
            continue
        fr = s["frames"]
        n = len(fr)
        if sorted(fr) != list(range(n)):
            raise ValueError(f"{out}/gt.jsonl: episode {e} {stream}: frames are not 0..{n - 1}")
        vid = None
        if with_frames:
            vid = np.stack([simdata.read_y4m(os.path.join(out, video_name(e, stream, v))) for v in views])
            if vid.shape[1] != n:
                raise ValueError(f"{out}: episode {e} {stream}: {vid.shape[1]} video frames, {n} gt lines")
        result.append(Sequence(e, stream, s["deviation"], vid,
                               np.array([fr[i]["puck"] for i in range(n)], np.float64),
                               np.array([fr[i]["velocity"] for i in range(n)], np.float64),
                               np.array([fr[i]["progress"] for i in range(n)], np.float64)))
    return result


def velocity_sign(seq):
    """[T] in {0: v_x <= -MOVING, 1: still, 2: v_x >= MOVING} (the sign of the puck's x velocity)."""
    vx = seq.velocity[:, 0]
    return np.where(vx <= -MOVING, 0, np.where(vx >= MOVING, 2, 1))


def to_input(rgb):
    """uint8 [..., H, W, 3] -> float32 [..., 3, H, W] in [-1, 1] ((x/255 - 0.5) * 2, the TCN
    reference's scaling; the blob recipe is scale=2/255, offset -1)."""
    x = np.moveaxis(rgb, -1, -3).astype(np.float32)
    return x * np.float32(2.0 / 255.0) - np.float32(1.0)


def ppm_bytes(img):
    return b"P6\n%d %d\n255\n" % (img.shape[1], img.shape[0]) + np.ascontiguousarray(img).tobytes()
