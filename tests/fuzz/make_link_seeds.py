"""Writes the seeds of fuzz_link (tests/fuzz/corpus/fuzz_link/): byte 0 picks the mode
(0: raw line bytes, 1: [type, seq lo, seq hi, len, payload] records framed by the target),
then the messages a daemon sends to the MCU: hello, heartbeat, the ack of the MCU's first
grasp (seq 65530), a reward, a goal, a grasp, plus line noise in the raw seeds.
usage: /usr/bin/python3 make_link_seeds.py BUILD_DIR/proto [CORPUS_DIR]"""
import os
import struct
import sys
import zlib

sys.path.insert(0, sys.argv[1])
from embedrt.v1 import daemon_pb2 as d  # noqa: E402
from embedrt.v1 import link_pb2 as l  # noqa: E402

root = sys.argv[2] if len(sys.argv) > 2 else os.path.join(os.path.dirname(os.path.abspath(__file__)), "corpus")
out = os.path.join(root, "fuzz_link")
os.makedirs(out, exist_ok=True)

HELLO, HEARTBEAT, ACK, GRASP, REWARD, GOAL = 1, 2, 3, 4, 5, 6


def cobs(data):
    res, block = bytearray(), bytearray()
    for b in data:
        if b == 0:
            res += bytes([len(block) + 1]) + block
            block = bytearray()
        else:
            block.append(b)
            if len(block) == 254:
                res += b"\xff" + block
                block = bytearray()
    return bytes(res + bytes([len(block) + 1]) + block)


def frame(typ, seq, payload):
    body = struct.pack("<BBH", 1, typ, seq) + payload
    return b"\x00" + cobs(body + struct.pack("<I", zlib.crc32(body))) + b"\x00"


msgs = [
    (HELLO, 0, l.LinkHello(protocol_version=1, node_name="embedrtd", max_payload=136, heartbeat_ms=100,
                           embedrt={"major": 0, "minor": 1, "describe": "v0.1.0"})),
    (HEARTBEAT, 1, l.Heartbeat(monotonic_ms=1000, stats=l.LinkStats(frames_rx=3, frames_tx=4))),
    (ACK, 2, l.LinkAck(acked_seq=65530)),
    (REWARD, 0, l.RewardReport(grasp_id=1, value=0.75, type="outcome", goal_id=2, frame_seq=1 << 33)),
    (GOAL, 1, l.GoalStatus(goal_id=2, has_goal=True)),
    (GRASP, 2, l.GraspReport(grasp_id=9, phase=d.GRASP_PHASE_LIFTED, success=True, mcu_time_ms=77)),
    (REWARD, 0, l.RewardReport(grasp_id=1, value=0.75, type="outcome")),  # duplicate
]


def write(name, data):
    with open(os.path.join(out, name), "wb") as f:
        f.write(data)


raw = b"".join(frame(t, s, m.SerializeToString()) for t, s, m in msgs)
write("raw_session", b"\x00" + raw)
write("raw_noisy", b"\x00" + b"\x13\x37\x00\xff" + raw[:20] + b"\x01\x01" + raw[20:] + b"\xff" * 300)
write("framed_session", b"\x01" + b"".join(
    struct.pack("<BHB", t, s, len(m.SerializeToString())) + m.SerializeToString() for t, s, m in msgs))
