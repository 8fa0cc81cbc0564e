"""embedrtd under faults: malformed, truncated and oversize messages, clients that vanish
mid-stream or never read, a camera that stalls and one that ends, a corrupt blob
hot-swapped in, SIGHUP reloads (good and bad), SIGTERM; and --check-config on good and
bad files. After each fault the daemon must still serve and must have said what happened.

usage: test_daemon_faults.py EMBEDRTD EMBEDRT REPO_ROOT PROTO_PY_DIR"""
import os
import shutil
import signal
import socket
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from daemon_util import Harness  # noqa: E402

h = Harness(sys.argv, "faults")
blobs = h.blobs(("rig",))
scene, _ = h.frames("scene", 12)
short, _ = h.frames("short", 4, seed=2)
CONF = f"""
[daemon]
client_queue_depth = 8
log_level = debug
[camera scene]
source = replay:{scene}
fps = 50
loop = true
[camera slow]
source = replay:{scene}
fps = 1
loop = true
watchdog_ms = 300
[camera short]
source = replay:{short}
fps = 4
[model rig]
blob = {blobs['rig']}
threads = 1
"""

# ---------------------------------------------------------------- --check-config
good = os.path.join(h.tmp, "good.conf")
with open(good, "w") as f:
    f.write(CONF)
r = subprocess.run([h.daemon_bin, "--check-config", good], capture_output=True, text=True, timeout=60)
h.check("check_config_good", r.returncode == 0 and "config OK" in r.stdout and "model  rig" in r.stdout and
        "camera short" in r.stdout, r.stdout + r.stderr)
bad_cases = {
    "unknown_key": (CONF.replace("fps = 50", "fsp = 50"),
                    f"bad.conf:7: camera 'scene': unknown key 'fsp' (expected source, width, height, format, fps, "
                    "loop, watchdog_ms)"),
    "unknown_section": (CONF + "[models x]\n", "bad.conf:20: unknown section [models x]"),
    "dangling_camera": (CONF + "[model m2]\nblob = x.erb\ncameras = wrist\n",
                        "model 'm2': camera 'wrist' is not configured (cameras: scene, slow, short)"),
    "missing_replay": (CONF.replace(f"replay:{short}", "replay:/nonexistent/folder"), "/nonexistent/folder"),
    "missing_blob": (CONF.replace(blobs["rig"], "/nonexistent/rig.erb"), "/nonexistent/rig.erb"),
}
for name, (text, want) in bad_cases.items():
    p = os.path.join(h.tmp, "bad.conf")
    with open(p, "w") as f:
        f.write(text)
    r = subprocess.run([h.daemon_bin, "--check-config", p], capture_output=True, text=True, timeout=60)
    h.check(f"check_config_{name}", r.returncode == 1 and want in r.stderr and "config OK" not in r.stdout,
            f"exit {r.returncode}: {r.stderr.strip()}")

# ---------------------------------------------------------------- a daemon under faults
d = h.start(CONF)
from embedrt_client import EmbedrtError, encode_frame, pb  # noqa: E402


class Raw:
    """A bare socket speaking frames, for what the client library would never send."""

    def __init__(self, path):
        self.s = socket.socket(socket.AF_UNIX)
        self.s.connect(path)
        self.s.settimeout(5)
        self.buf = b""

    def send(self, data):
        self.s.sendall(data)

    def recv(self, timeout=5):
        self.s.settimeout(timeout)
        while True:
            n = shift = i = 0
            ok = False
            while i < len(self.buf) and i < 5:
                b = self.buf[i]
                n |= (b & 0x7F) << shift
                shift += 7
                i += 1
                if not b & 0x80:
                    ok = True
                    break
            if ok and len(self.buf) - i >= n:
                env = pb.Envelope()
                env.ParseFromString(self.buf[i:i + n])
                self.buf = self.buf[i + n:]
                return env
            try:
                chunk = self.s.recv(1 << 16)
            except socket.timeout:
                return None
            if not chunk:
                return "closed"
            self.buf += chunk

    def until(self, pred, timeout=5):
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            e = self.recv(max(0.01, end - time.monotonic()))
            if e is None or e == "closed":
                return e
            if pred(e):
                return e
        return None


def hello(rid=1):
    e = pb.Envelope(seq=1, request_id=rid)
    e.client_hello.hello.protocol_version = 1
    return encode_frame(e)


def first(c, pred, timeout):
    """The first event within timeout seconds that satisfies pred, else None."""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        env = c.next_event(max(0.01, end - time.monotonic()))
        if env is not None and pred(env):
            return env
    return None


def notice_of(kind):
    return lambda e: e.WhichOneof("body") == "notice" and e.notice.kind == kind


def alive(name):
    with h.client(d) as c:
        h.check(f"{name}_daemon_still_serves", len(c.capabilities.models) >= 1 and d.poll() is None)


# Malformed: bytes that are no Envelope, with the request id readable in front.
raw = Raw(d.sock)
bad = bytes([0x10, 0x07, 0xFF, 0xFF, 0xFF, 0xFF])
raw.send(bytes([len(bad)]) + bad)
e = raw.recv()
h.check("malformed_gets_error_with_request_id", e not in (None, "closed") and e.WhichOneof("body") == "error" and
        e.request_id == 7 and e.error.code == 3, str(e))
# Truncated: a goal upload cut in half (its length prefix says the half).
env = pb.Envelope(seq=2, request_id=8)
env.set_goal.model = "rig"
env.set_goal.image.encoding = pb.Image.ENCODING_PPM
env.set_goal.image.data = b"P6\n4 4\n255\n" + bytes(48)
payload = env.SerializeToString()[:20]
raw.send(bytes([len(payload)]) + payload)
e = raw.recv()
h.check("truncated_gets_error", e not in (None, "closed") and e.WhichOneof("body") == "error" and
        e.error.code == 3 and e.request_id == 8, str(e))
# The connection survives both: a hello still gets Capabilities.
raw.send(hello(9))
e = raw.recv()
h.check("connection_survives_malformed", e not in (None, "closed") and e.WhichOneof("body") == "capabilities" and
        e.request_id == 9, str(e))
# A daemon-side body and an unknown model: errors naming the problem.
e2 = pb.Envelope(seq=3, request_id=10)
e2.reward.value = 1
raw.send(encode_frame(e2))
e = raw.recv()
h.check("daemon_body_from_client_rejected", e not in (None, "closed") and e.WhichOneof("body") == "error" and
        "reward" in e.error.message and e.request_id == 10, str(e))
e2 = pb.Envelope(seq=4, request_id=11)
e2.reset_episode.model = "nope"
raw.send(encode_frame(e2))
e = raw.recv()
h.check("unknown_model_not_found", e not in (None, "closed") and e.error.code == 2 and
        "'nope'" in e.error.message and "rig" in e.error.message, str(e))
# Oversize: a length prefix of 5 MB -> Error, then the daemon closes.
raw.send(bytes([0x80, 0x80, 0xC0, 0x02]))  # 5 << 20
e = raw.recv()
h.check("oversize_gets_error", e not in (None, "closed") and e.WhichOneof("body") == "error" and
        "exceeds" in e.error.message, str(e))
h.check("oversize_closes_connection", raw.until(lambda x: False, 3) == "closed")
alive("after_bad_messages")

# Client disconnect mid-stream, and mid-frame.
with h.client(d) as c:
    c.subscribe("embeddings")
    n = sum(1 for _ in zip(range(5), c.events(5)))
    h.check("events_before_disconnect", n == 5, str(n))
    c._sock.shutdown(socket.SHUT_RDWR)
raw = Raw(d.sock)
raw.send(hello(1)[:3])
raw.s.close()
alive("after_disconnects")

# Slow client: never reads; its queue overflows, another client keeps its pace.
slow = Raw(d.sock)
slow.send(hello(1))
sub = pb.Envelope(seq=2, request_id=2)
sub.subscribe.stream = pb.STREAM_EMBEDDINGS
slow.send(encode_frame(sub))
fast = h.client(d)
fast.subscribe("embeddings", camera="scene")
dropped, seqs, t_end = 0, [], time.monotonic() + 30
while time.monotonic() < t_end and dropped == 0:
    t_read = time.monotonic() + 0.5
    while time.monotonic() < t_read:
        env = fast.next_event(0.5)
        if env is not None and env.WhichOneof("body") == "embedding":
            seqs.append(env.embedding.frame_seq)
    st = fast.stats()
    me = [cs for cs in st.clients if cs.events_dropped > 0]
    dropped = me[0].events_dropped if me else 0
h.check("slow_client_drops_counted", dropped > 0, f"stats {fast.stats().clients}")
h.check("fast_client_keeps_pace", len(seqs) > 50 and seqs == sorted(seqs), f"{len(seqs)} events")
note = slow.until(lambda x: x.WhichOneof("body") == "notice" and x.notice.kind == pb.Notice.KIND_EVENTS_DROPPED, 10)
h.check("slow_client_told_of_drops", note not in (None, "closed") and note.notice.count >= dropped, str(note))
slow.s.close()
fast.unsubscribe("embeddings")

# Camera stall (1 fps, watchdog 300 ms) and recovery; the short replay's end.
kinds = set()
t_end = time.monotonic() + 8
while time.monotonic() < t_end and len(kinds) < 3:
    env = fast.next_event(0.5)
    if env is not None and env.WhichOneof("body") == "notice":
        kinds.add((env.notice.kind, env.notice.subject))
h.check("camera_stall_notice", (pb.Notice.KIND_CAMERA_STALL, "slow") in kinds, str(kinds))
h.check("camera_recovered_notice", (pb.Notice.KIND_CAMERA_RECOVERED, "slow") in kinds, str(kinds))
st = {s.name: s for s in fast.stats().cameras}
h.check("camera_end_reported", st["short"].ended and st["short"].frames_in == 4 and st["slow"].stalls >= 1,
        str(st))

# Hot swap: a corrupt blob is refused, the old model keeps serving; a good one swaps in.
corrupt = os.path.join(h.tmp, "corrupt.erb")
data = bytearray(open(blobs["rig"], "rb").read())
for i in range(len(data) // 2, len(data) // 2 + 64):
    data[i] ^= 0x5A
open(corrupt, "wb").write(data)
gen0 = [m.generation for m in fast.capabilities.models if m.name == "rig"][0]
try:
    fast.load_model("rig", corrupt)
    h.check("corrupt_swap_refused", False, "no error")
except EmbedrtError as e:
    h.check("corrupt_swap_refused", "corrupt.erb" in e.message, e.message)
out0 = [m.frames_out for m in fast.stats().models if m.model == "rig"][0]
time.sleep(0.5)
out1 = [m.frames_out for m in fast.stats().models if m.model == "rig"][0]
h.check("old_model_keeps_serving", out1 > out0 + 5, f"{out0} -> {out1}")
good_copy = os.path.join(h.tmp, "rig2.erb")
shutil.copy(blobs["rig"], good_copy)
ack = fast.load_model("rig", good_copy)
h.check("good_swap_acked", ack.WhichOneof("body") == "ack")
note = first(fast, notice_of(pb.Notice.KIND_MODEL_SWAPPED), 3)
h.check("model_swapped_notice", note is not None and note.notice.subject == "rig", str(note))
with h.client(d) as c2:
    m = [m for m in c2.capabilities.models if m.name == "rig"][0]
    h.check("swap_bumps_generation", m.generation == gen0 + 1 and m.blob_path == good_copy, str(m))

# SIGHUP: a new model appears; a broken file is refused and the old config stays.
with open(d.conf, "a") as f:
    f.write(f"[model rig_b]\nblob = {blobs['rig']}\ncameras = scene\nthreads = 1\n")
fast.set_goal_prior("rig", 3)
d.send_signal(signal.SIGHUP)
note = first(fast, notice_of(pb.Notice.KIND_CONFIG_RELOADED), 5)
h.check("sighup_reloaded_notice", note is not None, h.log(d)[-1500:])
with h.client(d) as c2:
    names = sorted(m.name for m in c2.capabilities.models)
    h.check("sighup_adds_model", names == ["rig", "rig_b"], str(names))
fast.subscribe("rewards", model="rig")
fast._events.clear()
got = first(fast, lambda e: e.WhichOneof("body") == "reward" and e.reward.model == "rig", 3)
h.check("sighup_keeps_unchanged_model_goal", got is not None)
fast.unsubscribe("rewards")
with open(d.conf, "a") as f:
    f.write("[camera broken]\nsource = synthetic:bars\nfsp = 3\n")
d.send_signal(signal.SIGHUP)
time.sleep(1.0)
h.check("sighup_bad_config_refused", "reload failed" in h.log(d) and "fsp" in h.log(d) and d.poll() is None)
with h.client(d) as c2:
    h.check("sighup_bad_config_keeps_running_config", sorted(m.name for m in c2.capabilities.models) ==
            ["rig", "rig_b"] and len(c2.capabilities.cameras) == 3)

# SIGTERM: a Notice SHUTDOWN, exit 0, the socket is gone.
d.send_signal(signal.SIGTERM)
note = None
try:
    note = first(fast, notice_of(pb.Notice.KIND_SHUTDOWN), 5)
except EmbedrtError:
    pass
h.check("sigterm_shutdown_notice", note is not None)
try:
    rc = d.wait(10)
except subprocess.TimeoutExpired:
    rc = None
h.check("sigterm_exit_0", rc == 0, f"exit {rc}")
h.check("sigterm_removes_socket", not os.path.exists(d.sock))
log = h.log(d)
h.check("log_lines_have_levels", "embedrtd info" in log and "embedrtd warn" in log, log[:500])
h.finish()
