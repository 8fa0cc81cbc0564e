"""embedrtd end to end: a replayed camera, the grasp2vec, RIG and CC-VAE reference blobs,
and the Python client setting goals (uploaded image, camera snapshot, prior sample),
resetting an episode and triggering a grasp; every reward the daemon streams must equal
what `embedrt reward` computes offline for the same frame (the Reward's frame_seq names
it: the replay counts seq from 0 over the folder, looping) within 1e-5.

usage: test_daemon.py EMBEDRTD EMBEDRT REPO_ROOT PROTO_PY_DIR"""
import json
import os
import socket
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from daemon_util import Harness, close  # noqa: E402

h = Harness(sys.argv, "daemon")
N = 12
blobs = h.blobs()
folder, frames = h.frames("scene", N)
_, (goal,) = h.frames("goal", 1, seed=9)
# A free loopback port for the opt-in TCP listener.
_s = socket.socket()
_s.bind(("127.0.0.1", 0))
TCP_PORT = _s.getsockname()[1]
_s.close()
d = h.start(f"""
[daemon]
log_level = debug
[camera scene]
source = replay:{folder}
fps = 10
loop = true
[model g2v]
blob = {blobs['g2v']}
threads = 1
[model rig]
blob = {blobs['rig']}
threads = 1
[model ccvae]
blob = {blobs['ccvae']}
threads = 1
""", extra=("--tcp", f"127.0.0.1:{TCP_PORT}"))


def frame_of(seq):
    return frames[seq % N]


def rewards(c, model, n, typ=None, timeout=10):
    """The next n Reward events of model (optionally of one type)."""
    out = []
    for env in c.events(timeout):
        if env.WhichOneof("body") == "reward" and env.reward.model == model and (typ is None or env.reward.type == typ):
            out.append(env.reward)
            if len(out) == n:
                break
    return out


def compare(name, got, blob, args_for):
    """Each daemon reward against embedrt reward on the same frame."""
    ok, worst = len(got) > 0, ""
    for r in got:
        want = h.offline_reward(blob, *args_for(r))
        # The same reward: same type name and value (components checked by their names too).
        comps_ok = all(close(c.value, want["components"][c.name]) for c in r.components
                       if c.name in want["components"])
        if r.type != want["type"] or not close(r.value, want["reward"]) or not comps_ok:
            ok, worst = False, f"frame {r.frame_seq}: daemon {r.type} {r.value!r}, offline {want}"
    h.check(name, ok, worst or f"{len(got)} rewards")


c = h.client(d)
caps = c.capabilities
h.check("capabilities_models", sorted(m.name for m in caps.models) == ["ccvae", "g2v", "rig"],
        str([m.name for m in caps.models]))
fam = {m.name: m.family for m in caps.models}
h.check("capabilities_families", fam == {"g2v": "grasp2vec", "rig": "rig", "ccvae": "ccvae"}, str(fam))
h.check("capabilities_camera", len(caps.cameras) == 1 and caps.cameras[0].name == "scene" and
        caps.cameras[0].width == 80 and caps.cameras[0].height == 60, str(caps.cameras))
h.check("capabilities_limits", caps.client_queue_depth == 256 and caps.max_frame_bytes == 4 << 20)
c.subscribe("rewards")

# RIG, goal from an uploaded image: -||z_goal - mu(frame)||.
gs = c.set_goal_image("rig", goal)
h.check("rig_goal_image_goalset", gs.model == "rig" and len(gs.embedding) == 4, str(gs))
c._events.clear()
compare("rig_goal_image_rewards", rewards(c, "rig", 3), blobs["rig"],
        lambda r: ["--goal", goal, "--frame", frame_of(r.frame_seq)])

# RIG, imagined goal from the prior with a seed.
c.set_goal_prior("rig", 42)
c._events.clear()
compare("rig_prior_goal_rewards", rewards(c, "rig", 3), blobs["rig"],
        lambda r: ["--prior-goal", "42", "--frame", frame_of(r.frame_seq)])

# RIG, goal = the current frame of camera scene: find which frame by its embedding.
gs = c.set_goal_camera("rig", "scene")
c._events.clear()
snap = None
for i, f in enumerate(frames):
    r = h.run("embed", blobs["rig"], "--role", "encoder", "--image", f, "--output", os.path.join(h.tmp, "e.npy"))
    if r.returncode == 0 and np.allclose(np.load(os.path.join(h.tmp, "e.npy")).ravel(), list(gs.embedding),
                                         atol=1e-5):
        snap = f
h.check("rig_goal_camera_is_a_replayed_frame", snap is not None, str(list(gs.embedding)))
if snap:
    compare("rig_goal_camera_rewards", rewards(c, "rig", 3), blobs["rig"],
            lambda r: ["--goal", snap, "--frame", frame_of(r.frame_seq)])

# CC-VAE: prior goal, then an episode reset: the next frame is the context.
c.set_goal_prior("ccvae", 7)
c.reset_episode("ccvae")
c._events.clear()
got = rewards(c, "ccvae", 3)
ctx = got[0].frame_seq if got else 0
compare("ccvae_reset_context_rewards", got, blobs["ccvae"],
        lambda r: ["--context", frame_of(ctx), "--frame", frame_of(r.frame_seq), "--prior-goal", "7"])
seqs = [r.frame_seq for r in got]
h.check("ccvae_rewards_follow_frames", seqs == sorted(seqs) and len(set(seqs)) == len(seqs), str(seqs))

# grasp2vec: goal image, then an OUTCOME grasp event: cos(phi_o(goal), phi_o(outcome frame)).
c.set_goal_image("g2v", goal)
ack = c.grasp("g2v", "outcome", grasp_id=5)
h.check("g2v_grasp_acked", ack.WhichOneof("body") == "ack")
got = [r for r in list(c._events) if r.WhichOneof("body") == "reward" and r.reward.model == "g2v"]
got = [e.reward for e in got] or rewards(c, "g2v", 1, "outcome")
h.check("g2v_outcome_reward_names_grasp", len(got) == 1 and got[0].grasp_id == 5 and got[0].type == "outcome",
        str(got))
compare("g2v_outcome_reward", got, blobs["g2v"], lambda r: ["--goal", goal, "--outcome", frame_of(r.frame_seq)])

# Statistics: frames flow, latency is measured.
st = c.stats()
cams = {s.name: s for s in st.cameras}
h.check("stats_camera_frames", cams["scene"].frames_in > 10, str(st.cameras))
ms = {s.model: s for s in st.models}
h.check("stats_models", set(ms) == {"g2v", "rig", "ccvae"} and all(m.frames_out > 5 for m in ms.values()) and
        all(0 < m.latency_p50_ms <= m.latency_p99_ms for m in ms.values()), str(st.models))
c.close()

# The same daemon over TCP (opt-in, loopback): the Python client streams, the C client
# (embedrt client) reads the capabilities.
from embedrt_client import Client  # noqa: E402
t = Client(f"tcp:127.0.0.1:{TCP_PORT}")
t.subscribe("rewards", model="rig")
got = rewards(t, "rig", 2)
h.check("tcp_python_client_streams_rewards", len(got) == 2 and all(r.model == "rig" for r in got), str(got))
t.close()
r = h.run("client", "--connect", f"tcp:127.0.0.1:{TCP_PORT}", "hello", timeout=30)
models = [m.get("name") for m in json.loads(r.stdout or "{}").get("models", [])] if r.returncode == 0 else []
h.check("tcp_c_client_hello", sorted(models) == ["ccvae", "g2v", "rig"], r.stdout[-500:] + r.stderr[-500:])
rc = h.stop(d)
h.check("sigterm_exit_0", rc == 0, f"exit {rc}: {h.log(d)[-2000:]}")
h.finish()
