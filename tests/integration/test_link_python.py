"""Controller-link frames between C (firmware/core) and Python (zlib's crc32, a COBS
written here, the official protobuf library), both directions, byte for byte.
usage: test_link_python.py LINK_PEER GENERATED_PYTHON_DIR
"""
import struct
import subprocess
import sys
import zlib

peer, gen_dir = sys.argv[1], sys.argv[2]
sys.path.insert(0, gen_dir)
from embedrt.v1 import daemon_pb2 as d  # noqa: E402  (generated into the build tree)
from embedrt.v1 import link_pb2 as l  # noqa: E402

HELLO, HEARTBEAT, ACK, GRASP, REWARD, GOAL = 1, 2, 3, 4, 5, 6
passed = failed = 0


def check(name, cond, detail=""):
    global passed, failed
    if cond:
        passed += 1
        print(f"  ok    {name}")
    else:
        failed += 1
        print(f"  FAIL  {name} {detail}")


def cobs_encode(data):
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


def cobs_decode(enc):
    out, i = bytearray(), 0
    while i < len(enc):
        code = enc[i]
        if code == 0 or i + code > len(enc) + (0 if code > 1 else 1):
            raise ValueError("bad COBS")
        out += enc[i + 1:i + code]
        i += code
        if code != 0xFF and i < len(enc):
            out.append(0)
    return bytes(out)


def frame(typ, seq, payload):
    body = struct.pack("<BBH", 1, typ, seq) + payload
    return b"\x00" + cobs_encode(body + struct.pack("<I", zlib.crc32(body))) + b"\x00"


def unframe(stream):
    """Python's reading of the C bytes: (type, seq, payload) per frame, CRC checked."""
    frames = []
    for part in stream.split(b"\x00"):
        if not part:
            continue
        raw = cobs_decode(part)
        body, crc = raw[:-4], struct.unpack("<I", raw[-4:])[0]
        if zlib.crc32(body) != crc:
            raise ValueError(f"CRC mismatch in frame {len(frames)}")
        ver, typ, seq = struct.unpack("<BBH", body[:4])
        if ver != 1:
            raise ValueError("version")
        frames.append((typ, seq, body[4:]))
    return frames


# --- C -> Python: a scripted MCU session.
r = subprocess.run([peer, "emit"], capture_output=True, timeout=30)
check("c_emit_runs", r.returncode == 0, r.stderr.decode())
try:
    frames = unframe(r.stdout)
    check("python_reads_c_frames", True)
except ValueError as e:
    frames = []
    check("python_reads_c_frames", False, str(e))
check("c_frame_count", len(frames) == 5, f"{len(frames)}")
check("c_frames_delimited_both_ends", r.stdout[:1] == b"\x00" and r.stdout[-1:] == b"\x00")
if len(frames) == 5:
    typ, seq, p = frames[0]
    h = l.LinkHello()
    h.ParseFromString(p)
    check("c_hello_fields", typ == HELLO and seq == 0 and h.protocol_version == 1 and h.node_name == "gripper-mcu"
          and h.embedrt.minor == 1 and h.embedrt.describe == "link-peer" and h.heartbeat_ms == 100
          and not h.reply and h.max_payload > 100, str(h))
    check("c_hello_bytes_equal_python", h.SerializeToString() == p)
    want = [(65534, d.GRASP_PHASE_CLOSED, False, 1010), (65535, d.GRASP_PHASE_LIFTED, True, 1020),
            (0, d.GRASP_PHASE_RELEASED, False, 1030), (65534, d.GRASP_PHASE_CLOSED, False, 1010)]
    for i, (wseq, phase, ok, t) in enumerate(want):
        typ, seq, p = frames[1 + i]
        g = l.GraspReport()
        g.ParseFromString(p)
        check(f"c_grasp_{i}_seq_{wseq}", typ == GRASP and seq == wseq and g.grasp_id == 7 and g.phase == phase
              and g.success == ok and g.mcu_time_ms == t, f"type {typ} seq {seq} {g}")
        check(f"c_grasp_{i}_bytes_equal_python", g.SerializeToString() == p)
    check("c_retransmission_is_identical", frames[4] == frames[1])

# --- Python -> C: a daemon session with line noise, a duplicate, damage and an oversize frame.
hello = l.LinkHello(protocol_version=1, node_name="embedrtd", embedrt={"major": 0, "minor": 1, "patch": 0})
reward = l.RewardReport(grasp_id=7, value=0.75, type="outcome", goal_id=2, frame_seq=1 << 33)
goal = l.GoalStatus(goal_id=2, has_goal=True)
reward2 = l.RewardReport(grasp_id=8, value=-1.5, type="scene_difference", goal_id=2, frame_seq=1 << 40)
bad = bytearray(frame(REWARD, 12, reward.SerializeToString()))
bad[6] = bad[6] ^ 0x01 if bad[6] not in (0, 1) else 0x42
stream = (b"\x55\xaa" + frame(HELLO, 0, hello.SerializeToString()) + frame(REWARD, 10, reward.SerializeToString())
          + frame(GOAL, 11, goal.SerializeToString()) + frame(REWARD, 10, reward.SerializeToString())
          + bytes(bad) + frame(REWARD, 14, b"\x08\x01" * 150)
          + frame(REWARD, 13, reward2.SerializeToString()))
r = subprocess.run([peer, "receive"], input=stream, capture_output=True, timeout=30)
check("c_receive_runs", r.returncode == 0, r.stderr.decode())
got = r.stdout.decode().splitlines()
want = [
    "link up",
    "tx type 1",
    "hello node=embedrtd version=0.1.0 reply=0",
    "tx ack 10",
    "reward grasp=7 value=0.75 type=outcome goal=2 frame_seq=8589934592",
    "tx ack 11",
    "goal id=2 has_goal=1",
    "tx ack 10",
    "tx ack 13",
    "reward grasp=8 value=-1.5 type=scene_difference goal=2 frame_seq=1099511627776",
    "stats frames=5 crc_errors=1 resyncs=3 oversize=1 duplicates=1 bad_payload=0",
]
check("c_events_from_python_frames", got == want, "\n    got:  " + "\n          ".join(got))

print(f"link-python: {passed} passed, {failed} failed")
sys.exit(1 if failed else 0)
