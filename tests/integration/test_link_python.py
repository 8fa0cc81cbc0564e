"""Controller-link frames between C (firmware/core) and Python (zlib's crc32, a COBS written
in tests/firmware/link_framing.py, the official protobuf library), both directions, byte
for byte.
usage: test_link_python.py LINK_PEER GENERATED_PYTHON_DIR
"""
import os
import subprocess
import sys

peer, gen_dir = sys.argv[1], sys.argv[2]
sys.path.insert(0, gen_dir)
# The Python framing is shared with the firmware tests (tests/firmware/link_framing.py).
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "firmware"))
from link_framing import ACK, GOAL, GRASP, HELLO, REWARD, frame, unframe  # noqa: E402
from embedrt.v1 import daemon_pb2 as d  # noqa: E402  (generated into the build tree)
from embedrt.v1 import link_pb2 as l  # noqa: E402

passed = failed = 0


def check(name, cond, detail=""):
    global passed, failed
    if cond:
        passed += 1
        print(f"  ok    {name}")
    else:
        failed += 1
        print(f"  FAIL  {name} {detail}")


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
