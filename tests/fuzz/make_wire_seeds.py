"""Writes the seeds of fuzz_wire (tests/fuzz/corpus/fuzz_wire/): two bytes that choose
the read sizes, then length-prefixed Envelopes as a client and the daemon send them.
usage: /usr/bin/python3 make_wire_seeds.py BUILD_DIR/proto [CORPUS_DIR]"""
import os
import struct
import sys

sys.path.insert(0, sys.argv[1])
from embedrt.v1 import daemon_pb2 as d  # noqa: E402

root = sys.argv[2] if len(sys.argv) > 2 else os.path.join(os.path.dirname(os.path.abspath(__file__)), "corpus")
out = os.path.join(root, "fuzz_wire")
os.makedirs(out, exist_ok=True)


def frame(env):
    b = env.SerializeToString()
    n, pre = len(b), bytearray()
    while n >= 0x80:
        pre.append(n & 0x7F | 0x80)
        n >>= 7
    pre.append(n)
    return bytes(pre) + b


def write(name, seed, envs):
    with open(os.path.join(out, name), "wb") as f:
        f.write(bytes(seed) + b"".join(frame(e) for e in envs))


hello = d.Envelope(seq=1, request_id=1)
hello.client_hello.hello.protocol_version = 1
hello.client_hello.hello.node_name = "rl"
sub = d.Envelope(seq=2, request_id=2, subscribe=d.Subscribe(stream=d.STREAM_REWARDS, camera="scene", decimation=2))
goal = d.Envelope(seq=3, request_id=3)
goal.set_goal.model = "g2v"
goal.set_goal.image.encoding = d.Image.ENCODING_RGB24
goal.set_goal.image.width, goal.set_goal.image.height = 2, 2
goal.set_goal.image.data = bytes(range(12))
demo = d.Envelope(seq=4, request_id=4)
demo.load_demo.model = "tcn"
demo.load_demo.embeddings.frames, demo.load_demo.embeddings.dim = 2, 3
demo.load_demo.embeddings.values.extend([0.5, -1, 2, 3, 4, 1e-3])
grasp = d.Envelope(seq=5, request_id=5, grasp_event=d.GraspEvent(phase=d.GRASP_PHASE_POST, grasp_id=9))
write("client", [1, 2], [hello, sub, goal, demo, grasp])

caps = d.Envelope(seq=1, request_id=1)
caps.capabilities.max_frame_bytes = 1 << 22
caps.capabilities.cameras.add(name="scene", source="synthetic:bars", width=64, height=48, fps=30)
m = caps.capabilities.models.add(name="g2v", family="grasp2vec", roles=["scene", "object"], embedding_dim=8)
m.params.add(name="alpha", version="1.0")
rew = d.Envelope(seq=2, reward=d.Reward(model="g2v", family="grasp2vec", type="outcome", value=0.75, frame_seq=3))
rew.reward.components.add(name="similarity", value=0.75)
heat = d.Envelope(seq=3, heatmap=d.Heatmap(model="g2v", height=2, width=2, values=[0.1, 0.2, 0.3, 0.4],
                                            keypoint_x=0.5, keypoint_y=0.25))
emb = d.Envelope(seq=4, embedding=d.Embedding(model="g2v", camera="scene", vector=[1, 2, 3], frame_seq=1))
err = d.Envelope(seq=5, request_id=3, error=d.Error(code=2, message="SetGoal.model: no model 'x'"))
write("daemon", [7, 0], [caps, rew, heat, emb, err])
