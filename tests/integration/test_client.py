"""The clients of embedrtd against a fake daemon written here in Python: the Python package
(tools/python/embedrt_client) and `embedrt client` (the C client library).

The fake speaks daemon.proto with Python's official protobuf: it answers requests by
request id, pushes events (one split byte by byte, one while a request waits), and can
send an oversize frame. usage: test_client.py EMBEDRT_CLI GENERATED_PYTHON_DIR REPO_ROOT
"""
import json
import os
import socket
import socketserver
import struct
import subprocess
import sys
import tempfile
import threading
import time

cli, gen_dir, repo = sys.argv[1], sys.argv[2], sys.argv[3]
os.environ["EMBEDRT_PROTO_PY"] = gen_dir
sys.path.insert(0, os.path.join(repo, "tools", "python"))
import embedrt_client  # noqa: E402
from embedrt_client import Client, EmbedrtError, ProtocolError, pb  # noqa: E402

passed = failed = 0


def check(name, cond, detail=""):
    global passed, failed
    if cond:
        passed += 1
        print(f"  ok    {name}")
    else:
        failed += 1
        print(f"  FAIL  {name} {detail}")


# ---------------------------------------------------------------- the fake daemon

received = []  # every request envelope the fake got, in order
PNG = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 3


def reward(i, camera="scene", model="g2v"):
    env = pb.Envelope()
    r = env.reward
    r.model, r.family, r.type, r.camera = model, "grasp2vec", "outcome", camera
    r.value = 0.25 * i
    r.frame_seq = i
    r.components.add(name="similarity", value=0.25 * i)
    return env


class Fake(socketserver.BaseRequestHandler):
    def setup(self):
        self.seq = 0
        self.buf = b""

    def send(self, env, split=False):
        self.seq += 1
        env.seq = self.seq
        data = embedrt_client.encode_frame(env)
        if split:
            for i in range(len(data)):
                self.request.sendall(data[i:i + 1])
                time.sleep(0.001)
        else:
            self.request.sendall(data)

    def reply(self, req, **body):
        env = pb.Envelope(request_id=req.request_id)
        for k, v in body.items():
            getattr(env, k).CopyFrom(v)
        self.send(env)

    def read(self):
        while True:
            # varint prefix
            n, shift, i = 0, 0, 0
            while i < len(self.buf):
                b = self.buf[i]
                n |= (b & 0x7F) << shift
                shift += 7
                i += 1
                if not b & 0x80:
                    if len(self.buf) - i >= n:
                        payload, self.buf = self.buf[i:i + n], self.buf[i + n:]
                        env = pb.Envelope()
                        env.ParseFromString(payload)
                        return env
                    break
            chunk = self.request.recv(1 << 16)
            if not chunk:
                return None
            self.buf += chunk

    def handle(self):
        while True:
            req = self.read()
            if req is None:
                return
            received.append(req)
            body = req.WhichOneof("body")
            if body == "client_hello":
                caps = pb.Capabilities(max_frame_bytes=4 << 20, client_queue_depth=64)
                caps.hello.node_name = "fake-embedrtd"
                caps.hello.protocol_version = 1
                caps.cameras.add(name="scene", source="synthetic:bars", width=64, height=48, fps=30)
                m = caps.models.add(name="g2v", family="grasp2vec", roles=["scene", "object"], embedding_dim=3,
                                    cameras=["scene"])
                m.params.add(name="alpha", version="1.0")
                self.reply(req, capabilities=caps)
            elif body == "subscribe":
                self.reply(req, ack=pb.Ack())
                if req.subscribe.stream == pb.STREAM_REWARDS:
                    self.send(reward(1), split=True)
                    self.send(reward(2))
                    self.send(reward(3, camera="wrist"))
                elif req.subscribe.stream == pb.STREAM_HEATMAPS:
                    env = pb.Envelope()
                    env.heatmap.model, env.heatmap.height, env.heatmap.width = "g2v", 2, 2
                    env.heatmap.values.extend([0.125, 0.25, 0.5, 0.125])
                    env.heatmap.keypoint_x = 0.75
                    self.send(env)
            elif body == "set_goal":
                g = req.set_goal
                if g.model == "missing":
                    self.reply(req, error=pb.Error(code=2, message="SetGoal.model: no model 'missing'"))
                    continue
                self.send(reward(7))  # an event that arrives while the client waits
                src = g.WhichOneof("source")
                gid = {"image": len(g.image.data), "prior_seed": g.prior_seed % 1000, "camera": 11,
                       "embedding": len(g.embedding.vector)}[src]
                self.reply(req, goal_set=pb.GoalSet(model=g.model, goal_id=gid, embedding=[1.0, 2.0, 3.0]))
            elif body == "load_model" and req.load_model.blob_path == "oversize":
                self.request.sendall(bytes([0x80, 0x80, 0x80, 0x03]))  # 6 MiB announced
            elif body == "get_stats":
                st = pb.Stats(uptime_ns=5)
                st.cameras.add(name="scene", frames_in=10, frames_dropped=2)
                st.clients.add(client_id=1, events_sent=4, events_dropped=1)
                self.reply(req, stats=st)
            else:
                self.reply(req, ack=pb.Ack())


class Server(socketserver.ThreadingMixIn, socketserver.UnixStreamServer):
    daemon_threads = True


tmp = tempfile.mkdtemp(prefix="embedrt-client-test-")
sock_path = os.path.join(tmp, "fake.sock")
server = Server(sock_path, Fake)
threading.Thread(target=server.serve_forever, daemon=True).start()
addr = "unix:" + sock_path


def last(kind):
    for env in reversed(received):
        if env.WhichOneof("body") == kind:
            return env
    return None


# ---------------------------------------------------------------- Python package

print("python client:")
c = Client(addr, timeout=5)
check("py_hello_gets_capabilities", c.capabilities.hello.node_name == "fake-embedrtd"
      and c.capabilities.models[0].embedding_dim == 3 and c.capabilities.cameras[0].width == 64)
hello = received[-1]
check("py_hello_is_request_1_seq_1", hello.request_id == 1 and hello.seq == 1
      and hello.client_hello.hello.protocol_version == 1)

c.subscribe("rewards", camera="scene", decimation=2)
sub = last("subscribe")
check("py_subscribe_fields", sub.subscribe.stream == pb.STREAM_REWARDS and sub.subscribe.camera == "scene"
      and sub.subscribe.decimation == 2 and sub.request_id == 2 and sub.seq == 2)
evs = [e for e, _ in zip(c.events(timeout=2), range(3))]
check("py_events_split_byte_by_byte_then_whole", [e.reward.frame_seq for e in evs] == [1, 2, 3],
      str([e.reward.frame_seq for e in evs]))
r = c.latest_reward(camera="scene", timeout=1)
check("py_latest_reward_is_newest_for_camera", r.frame_seq == 2 and abs(r.value - 0.5) < 1e-12, str(r))
try:
    c.latest_reward(camera="scene", timeout=0.2)
    check("py_latest_reward_times_out_without_newer", False)
except TimeoutError as e:
    check("py_latest_reward_times_out_without_newer", "no new reward" in str(e), str(e))
check("py_latest_reward_any_camera", c.latest_reward(timeout=1).frame_seq == 3)

gs = c.set_goal_image("g2v", PNG)
g = last("set_goal").set_goal
check("py_goal_image_bytes_and_encoding", gs.goal_id == len(PNG) and g.image.data == PNG
      and g.image.encoding == pb.Image.ENCODING_PNG and list(gs.embedding) == [1.0, 2.0, 3.0])
ev = c.next_event(timeout=1)
check("py_event_during_request_is_queued", ev is not None and ev.reward.frame_seq == 7)
check("py_goal_prior", c.set_goal_prior("g2v", 123456).goal_id == 456)
check("py_goal_embedding", c.set_goal_embedding("g2v", [0.5, 0.25]).goal_id == 2
      and list(last("set_goal").set_goal.embedding.vector) == [0.5, 0.25])
try:
    c.set_goal_camera("missing", "scene")
    check("py_error_response_raises", False)
except EmbedrtError as e:
    check("py_error_response_raises", e.code == 2 and e.message == "SetGoal.model: no model 'missing'", str(e))
c.load_demo("tcn", embeddings=[[1, 2, 3], [4, 5, 6]])
d = last("load_demo").load_demo.embeddings
check("py_demo_upload", d.frames == 2 and d.dim == 3 and list(d.values) == [1, 2, 3, 4, 5, 6])
c.grasp("g2v", "lifted", success=True, grasp_id=4)
ge = last("grasp_event").grasp_event
check("py_grasp", ge.phase == pb.GRASP_PHASE_LIFTED and ge.success and ge.grasp_id == 4)
check("py_stats", c.stats().cameras[0].frames_dropped == 2)
c.reset_episode()
c.clear_goal("g2v")
check("py_reset_and_clear", last("reset_episode") is not None and last("clear_goal").clear_goal.model == "g2v")
try:
    c.load_model("g2v", "oversize")
    check("py_oversize_frame_is_protocol_error", False)
except ProtocolError as e:
    check("py_oversize_frame_is_protocol_error", "frame of 6291456 bytes exceeds the maximum of 4194304" in str(e),
          str(e))
try:
    Client("unix:" + os.path.join(tmp, "nobody.sock"))
    check("py_no_daemon_message", False)
except ConnectionError as e:
    check("py_no_daemon_message", "no such socket - is embedrtd running?" in str(e), str(e))

# The package finds generated code without a build tree too: protoc into a cache dir.
r = subprocess.run([sys.executable, "-c", "import sys; sys.path.insert(0, sys.argv[1]);"
                    "from embedrt_client import _proto; d = _proto._generate(); print(d)",
                    os.path.join(repo, "tools", "python")],
                   capture_output=True, text=True, env={**os.environ, "XDG_CACHE_HOME": tmp, "EMBEDRT_PROTO_PY": gen_dir})
check("py_protoc_fallback_into_cache", r.returncode == 0 and r.stdout.strip().startswith(tmp + "/embedrt/proto-")
      and os.path.isfile(os.path.join(r.stdout.strip(), "embedrt", "v1", "daemon_pb2.py")), r.stderr)

# ---------------------------------------------------------------- C client via `embedrt client`

print("embedrt client:")


def run(*args, timeout=30):
    return subprocess.run([cli, "client", "--connect", addr, "--timeout", "2", *args], capture_output=True,
                          text=True, timeout=timeout)


r = run("hello")
ok = r.returncode == 0
check("c_hello", ok, r.stderr)
if ok:
    h = json.loads(r.stdout)
    check("c_hello_json", h["node"] == "fake-embedrtd" and h["models"][0]["roles"] == ["scene", "object"]
          and h["models"][0]["params"] == {"alpha": "1.0"} and h["cameras"][0]["fps"] == 30, r.stdout)
r = run("subscribe", "--stream", "rewards", "--camera", "scene", "--count", "3")
lines = [json.loads(x) for x in r.stdout.splitlines()]
check("c_subscribe_three_rewards", r.returncode == 0 and [x["frame_seq"] for x in lines] == [1, 2, 3]
      and lines[1]["value"] == 0.5 and lines[1]["components"] == {"similarity": 0.5}, r.stdout + r.stderr)
r = run("subscribe", "--stream", "heatmaps", "--count", "1")
h = json.loads(r.stdout) if r.returncode == 0 else {}
check("c_heatmap_values_from_views", h.get("values") == [0.125, 0.25, 0.5, 0.125] and h.get("keypoint_x") == 0.75,
      r.stdout + r.stderr)
r = run("subscribe", "--stream", "stats", "--count", "1", "--timeout", "0.3")
check("c_subscribe_count_timeout", r.returncode == 1 and "only 0 of 1 events" in r.stderr, r.stderr)
png = os.path.join(tmp, "goal.png")
with open(png, "wb") as f:
    f.write(PNG)
r = run("goal", "--model", "g2v", "--image", png)
g = last("set_goal").set_goal
check("c_goal_image_uploads_file_bytes", r.returncode == 0 and json.loads(r.stdout)["goal_id"] == len(PNG)
      and g.image.data == PNG and g.image.encoding == pb.Image.ENCODING_PNG, r.stdout + r.stderr)
r = run("goal", "--model", "missing", "--prior-seed", "5")
check("c_error_response", r.returncode == 1 and r.stderr.strip() ==
      f"embedrt client: {addr}: set_goal: SetGoal.model: no model 'missing'", r.stderr)
r = run("goal", "--model", "g2v", "--prior-seed", "18446744073709551615")
check("c_goal_prior_u64", r.returncode == 0 and last("set_goal").set_goal.prior_seed == 2**64 - 1, r.stderr)
npy = os.path.join(tmp, "demo.npy")
hdr = b"{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }"
hdr += b" " * (64 - 10 - len(hdr) - 1) + b"\n"
with open(npy, "wb") as f:
    f.write(b"\x93NUMPY\x01\x00" + struct.pack("<H", len(hdr)) + hdr + struct.pack("<6f", 1, 2, 3, 4, 5, 6.5))
r = run("demo", "--model", "tcn", "--npy", npy)
d = last("load_demo").load_demo.embeddings
check("c_demo_npy_upload", r.returncode == 0 and d.frames == 2 and d.dim == 3
      and list(d.values) == [1, 2, 3, 4, 5, 6.5], r.stderr)
r = run("grasp", "--model", "g2v", "--phase", "post", "--grasp-id", "9")
ge = last("grasp_event").grasp_event
check("c_grasp", r.returncode == 0 and ge.phase == pb.GRASP_PHASE_POST and ge.grasp_id == 9 and not ge.success,
      r.stderr)
r = run("stats")
check("c_stats", r.returncode == 0 and json.loads(r.stdout)["clients"][0]["events_dropped"] == 1, r.stderr)
r = run("reset", "--model", "g2v")
check("c_reset_ack", r.returncode == 0 and json.loads(r.stdout)["type"] == "ack"
      and last("reset_episode").reset_episode.model == "g2v", r.stdout + r.stderr)
r = run("load-model", "--model", "g2v", "--blob", "oversize")
check("c_oversize_frame", r.returncode == 1 and "frame of 6291456 bytes exceeds the maximum of 4194304" in r.stderr,
      r.stderr)
r = subprocess.run([cli, "client", "--connect", os.path.join(tmp, "nobody.sock"), "hello"], capture_output=True,
                   text=True, timeout=30)
check("c_no_daemon", r.returncode == 1 and r.stderr.strip() ==
      f"embedrt client: {tmp}/nobody.sock: no such socket - is embedrtd running?", r.stderr)
r = run("goal", "--model", "g2v")
check("c_goal_usage", r.returncode == 2 and "exactly one of" in r.stderr, r.stderr)
r = subprocess.run([cli, "client", "--help"], capture_output=True, text=True, timeout=30)
check("c_help", r.returncode == 0 and "subscribe" in r.stdout and "load-model" in r.stdout)

server.shutdown()
print(f"client: {passed} passed, {failed} failed")
sys.exit(1 if failed else 0)
