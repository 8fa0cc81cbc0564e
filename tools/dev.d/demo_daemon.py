"""tools/dev demo, daemon part: a replayed video, embedrtd with the reference blobs, and a
controller that sets goals and shows the live reward stream (one updating line per model on
a terminal, plain lines otherwise), triggers a grasp, prints the statistics and stops.

usage: demo_daemon.py EMBEDRTD OUT_DIR BLOB_G2V BLOB_RIG BLOB_CCVAE SECONDS"""
import os
import signal
import socket
import subprocess
import sys
import time

import numpy as np

daemon, out, g2v, rig, ccvae, seconds = sys.argv[1:7]
seconds = float(seconds)
root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(root, "tools", "python"))
os.environ.setdefault("EMBEDRT_PROTO_PY", os.path.join(root, "build", "proto"))
from embedrt_client import Client  # noqa: E402

# A 4 s video (160x120, 15 fps) of a blob moving over a textured floor, as C420jpeg y4m.
W, H, N = 160, 120, 60
rng = np.random.RandomState(5)
floor = np.kron(rng.randint(60, 200, (H // 8, W // 8, 3)), np.ones((8, 8, 1))).astype(np.float32)
video = os.path.join(out, "scene.y4m")
with open(video, "wb") as f:
    f.write(b"YUV4MPEG2 W%d H%d F15:1 Ip A1:1 C420jpeg\n" % (W, H))
    yy, xx = np.mgrid[0:H, 0:W]
    for t in range(N):
        cx, cy = 30 + 100 * t / N, 60 + 30 * np.sin(t / 6)
        img = floor.copy()
        img[(xx - cx) ** 2 + (yy - cy) ** 2 < 150] = (230, 40, 40)
        r, g, b = img[..., 0], img[..., 1], img[..., 2]
        y = 16 + (65.481 * r + 128.553 * g + 24.966 * b) / 255
        u = 128 + (-37.797 * r - 74.203 * g + 112.0 * b) / 255
        v = 128 + (112.0 * r - 93.786 * g - 18.214 * b) / 255
        sub = lambda p: p.reshape(H // 2, 2, W // 2, 2).mean(axis=(1, 3))  # noqa: E731
        f.write(b"FRAME\n")
        for plane in (y, sub(u), sub(v)):
            f.write(np.clip(np.round(plane), 0, 255).astype(np.uint8).tobytes())
goal = os.path.join(out, "goal.ppm")
with open(goal, "wb") as f:
    img = np.full((64, 64, 3), 40, np.uint8)
    img[16:48, 16:48] = (230, 40, 40)
    f.write(b"P6\n64 64\n255\n" + img.tobytes())

sock = os.path.join(out, "embedrtd.sock")
log_path = os.path.join(out, "embedrtd.log")
cmd = [daemon, "--socket", sock, "--camera", f"scene=replay:{video}", "--model", f"g2v={g2v}@scene",
       "--model", f"rig={rig}@scene", "--model", f"ccvae={ccvae}@scene"]
print("$ " + " ".join(os.path.relpath(c, root) if c.startswith(root) else c for c in cmd))
log = open(log_path, "w")
p = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT)
for _ in range(200):
    try:
        s = socket.socket(socket.AF_UNIX)
        s.connect(sock)
        s.close()
        break
    except OSError:
        if p.poll() is not None:
            sys.exit(f"embedrtd exited: {open(log_path).read()}")
        time.sleep(0.05)
tty = sys.stdout.isatty()
try:
    c = Client("unix:" + sock)
    caps = c.capabilities
    print(f"connected: {caps.hello.node_name}, camera "
          f"{', '.join(f'{x.name} {x.width}x{x.height} {x.pixel_format}' for x in caps.cameras)}; models "
          f"{', '.join(f'{m.name} ({m.family}, {m.embedding_dim}-d)' for m in caps.models)}")
    c.subscribe("rewards")
    c.set_goal_image("g2v", goal)
    c.set_goal_prior("rig", 42)
    c.set_goal_prior("ccvae", 7)
    c.reset_episode("ccvae")
    print(f"goals: g2v <- {os.path.basename(goal)} (object tower), rig <- prior seed 42, ccvae <- prior seed 7 "
          "after an episode reset; live rewards:")
    latest, end, last_draw = {}, time.monotonic() + seconds, 0.0
    while time.monotonic() < end:
        env = c.next_event(0.5)
        if env is not None and env.WhichOneof("body") == "notice":
            print(("\n" if tty else "") + f"  notice: {env.notice.message}")
        if env is None or env.WhichOneof("body") != "reward":
            continue
        r = env.reward
        latest[r.model] = r
        lat = (r.publish_ns - r.capture_ns) / 1e6 if r.publish_ns > r.capture_ns else 0.0
        if tty:
            if time.monotonic() - last_draw > 0.1:
                last_draw = time.monotonic()
                line = "  ".join(f"{m}: {x.value:+.4f} @frame {x.frame_seq}" for m, x in sorted(latest.items()))
                print("\r  " + line + " " * 8, end="", flush=True)
        else:
            print(f"  {r.model:<6} {r.type:<16} frame {r.frame_seq:4d}  reward {r.value:+.6f}  "
                  f"({lat:.2f} ms after capture)")
    if tty:
        print()
    c.grasp("g2v", "outcome", grasp_id=1)
    for env in c.events(2.0):
        if env.WhichOneof("body") == "reward" and env.reward.type == "outcome":
            comps = {x.name: round(x.value, 4) for x in env.reward.components}
            print(f"grasp 1 OUTCOME on frame {env.reward.frame_seq}: reward {env.reward.value:+.6f} {comps}")
            break
    st = c.stats()
    for m in st.models:
        print(f"stats {m.model:<6} frames {m.frames_out:4d}  capture-to-publish p50 {m.latency_p50_ms:.2f} ms "
              f"p99 {m.latency_p99_ms:.2f} ms  inference p50 {m.inference_p50_ms:.2f} ms")
    c.close()
finally:
    p.send_signal(signal.SIGTERM)
    rc = p.wait(10)
print(f"embedrtd stopped (SIGTERM, exit {rc}); its log: {os.path.relpath(log_path, root)}")
sys.exit(0 if rc == 0 else 1)
