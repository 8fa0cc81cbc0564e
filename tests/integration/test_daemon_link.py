"""embedrtd's controller links (issue 7, daemon side) against a Python MCU (tests/integration/
linkpeer.py: its own COBS/CRC framing, the official protobuf library):

- a Unix-socket link (the Python side listens, as QEMU's -serial unix:...,server=on does):
  hello both ways, GoalStatus on link up and when a client sets or clears the goal, grasp
  reports CLOSED/LIFTED turned into the grasp2vec rewards, which must equal `embedrt reward`
  offline on the frame the RewardReport names (1e-5) and the Reward events a client sees;
  a failed lift; duplicates acked but not delivered twice; retransmission when the MCU does
  not ack; garbage and a bad CRC counted and survived; link down and up again; the MCU
  closing the socket and the daemon reconnecting, with a restarted MCU's sequence numbers;
- a tty link on a pseudo-terminal (termios raw mode, a --link flag with a baud rate);
- --check-config lines and refusals for links.

usage: test_daemon_link.py EMBEDRTD EMBEDRT REPO_ROOT PROTO_PY_DIR"""
import json
import os
import socket
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from daemon_util import Harness, close  # noqa: E402
import linkpeer  # noqa: E402
from linkpeer import ACK, GOAL, GRASP, HELLO, REWARD  # noqa: E402

h = Harness(sys.argv, "link")
sys.path.insert(0, sys.argv[4])
from embedrt.v1 import daemon_pb2 as dpb  # noqa: E402
from embedrt.v1 import link_pb2 as lpb  # noqa: E402

CLOSED, LIFTED, RELEASED = dpb.GRASP_PHASE_CLOSED, dpb.GRASP_PHASE_LIFTED, dpb.GRASP_PHASE_RELEASED
N = 8
blobs = h.blobs(("g2v", "rig"))
folder, frames = h.frames("scene", N)
_, (goal,) = h.frames("goal", 1, seed=9)

link_path = os.path.join(h.tmp, "link.sock")
listener = socket.socket(socket.AF_UNIX)
listener.bind(link_path)
listener.listen(1)
listener.settimeout(15)

CONF = f"""
[daemon]
log_level = debug
[camera scene]
source = replay:{folder}
fps = 20
loop = true
[model g2v]
blob = {blobs['g2v']}
threads = 1
[model rig]
blob = {blobs['rig']}
threads = 1
[link mcu]
port = unix:{link_path}
heartbeat_ms = 100
timeout_ms = 600
retransmit_ms = 150
retries = 20
reconnect_ms = 200
"""

# --check-config: the link line, and the model it resolves to.
conf_path = os.path.join(h.tmp, "check.conf")
with open(conf_path, "w") as f:
    f.write(CONF)
r = subprocess.run([h.daemon_bin, "--check-config", conf_path], capture_output=True, text=True, timeout=60)
h.check("check_config_link_line", r.returncode == 0 and f"link   mcu        unix:{link_path}: grasp reports to model g2v"
        in r.stdout, r.stdout + r.stderr)
with open(conf_path, "w") as f:
    f.write(CONF.replace("[link mcu]", "[link mcu]\nmodel = rig"))
r = subprocess.run([h.daemon_bin, "--check-config", conf_path], capture_output=True, text=True, timeout=60)
h.check("check_config_link_needs_grasp2vec", r.returncode == 1 and
        "link 'mcu': model 'rig' is rig; grasp reports need a grasp2vec model" in r.stderr, r.stderr)
r = subprocess.run([h.daemon_bin, "--check-config", conf_path, "--link", "x=serial:/dev/ttyS0"], capture_output=True,
                   text=True, timeout=60)
h.check("link_flag_bad_kind", r.returncode != 0 and "--link x: port = 'serial:/dev/ttyS0' has an unknown kind" in
        r.stderr, r.stderr)

d = h.start(CONF)
conn, _ = listener.accept()
mcu = linkpeer.Peer(conn.fileno(), lpb, heartbeat_s=0.08)


def is_(typ):
    return lambda t, s, m: t == typ


# 1. Hello both ways; the daemon greets first, then answers our hello.
got = mcu.wait_for(is_(HELLO), 5)
h.check("daemon_hello", got is not None and got[2].node_name == "embedrtd" and got[2].protocol_version == 1 and
        got[2].heartbeat_ms == 100 and not got[2].reply, str(got))
mcu.hello()
got = mcu.wait_for(lambda t, s, m: t == HELLO and m.reply, 5)
h.check("daemon_hello_reply", got is not None)
got = mcu.wait_for(is_(GOAL), 5)
h.check("goal_status_on_link_up", got is not None and not got[2].has_goal and got[2].goal_id == 0, str(got))

c = h.client(d)
c.subscribe("rewards", model="g2v")
# 2. A client sets the goal: the MCU hears of it, and so does every client (Notice).
gs = c.set_goal_image("g2v", goal)
got = mcu.wait_for(is_(GOAL), 5)
h.check("goal_status_on_set_goal", got is not None and got[2].has_goal and got[2].goal_id == gs.goal_id and
        gs.goal_id > 0, str(got))
note = None
for env in c.events(3):
    if env.WhichOneof("body") == "notice" and env.notice.kind == dpb.Notice.KIND_GOAL_CHANGED:
        note = env.notice
        break
h.check("notice_goal_changed", note is not None and note.subject == "g2v" and note.count == gs.goal_id, str(note))
time.sleep(0.3)  # frames flow before the grasp

# 3. A successful grasp: CLOSED (pre scene), LIFTED success -> scene_difference + outcome rewards.
s1 = mcu.grasp(7, CLOSED, t_ms=1000)
ack = mcu.wait_for(lambda t, s, m: t == ACK and m.acked_seq == s1, 3)
h.check("grasp_closed_acked", ack is not None)
s2 = mcu.grasp(7, LIFTED, success=True, t_ms=1400)
ack = mcu.wait_for(lambda t, s, m: t == ACK and m.acked_seq == s2, 3)
h.check("grasp_lifted_acked", ack is not None)
sd = mcu.wait_for(is_(REWARD), 5)
oc = mcu.wait_for(is_(REWARD), 5)
h.check("rewards_for_grasp", sd is not None and oc is not None and sd[2].type == "scene_difference" and
        oc[2].type == "outcome" and sd[2].grasp_id == 7 and oc[2].grasp_id == 7 and oc[2].goal_id == gs.goal_id,
        f"{sd} {oc}")
if sd and oc:
    h.check("reward_seqs_consecutive", oc[1] == (sd[1] + 1) & 0xFFFF, f"{sd[1]} {oc[1]}")
    want = h.offline_reward(blobs["g2v"], "--goal", goal, "--outcome", frames[oc[2].frame_seq % N])
    h.check("outcome_equals_offline", want["type"] == "outcome" and close(oc[2].value, want["reward"], 1e-5),
            f"link {oc[2].value!r} offline {want}")
    seen = {}
    for env in c.events(2):
        if env.WhichOneof("body") == "reward" and env.reward.grasp_id == 7:
            seen[env.reward.type] = env.reward
            if len(seen) == 2:
                break
    h.check("link_rewards_equal_client_events", set(seen) == {"scene_difference", "outcome"} and
            abs(seen["outcome"].value - oc[2].value) <= 1e-6 * max(1, abs(oc[2].value)) and
            seen["outcome"].frame_seq == oc[2].frame_seq and
            abs(seen["scene_difference"].value - sd[2].value) <= 1e-6 * max(1, abs(sd[2].value)), str(seen))

# 4. A duplicate (same seq again: our ack was lost) is acked and not delivered twice.
before = c.stats().links[0].grasp_reports
mcu.grasp(7, LIFTED, success=True, t_ms=1400, seq=s2)
ack = mcu.wait_for(lambda t, s, m: t == ACK and m.acked_seq == s2, 3)
extra = mcu.wait_for(is_(REWARD), 0.8)
h.check("duplicate_acked_not_delivered", ack is not None and extra is None and
        c.stats().links[0].grasp_reports == before, str(extra))

# 5. A failed lift: a grasp_failed reward of 0. Then the MCU does not ack it: retransmitted.
mcu.auto_ack = False
mcu.grasp(8, CLOSED, t_ms=2000)
mcu.grasp(8, LIFTED, success=False, t_ms=2300)
first = mcu.wait_for(is_(REWARD), 5)
again = mcu.wait_for(is_(REWARD), 2)
mcu.auto_ack = True
if again:
    mcu.send(ACK, lpb.LinkAck(acked_seq=again[1]))
h.check("failed_lift_reward", first is not None and first[2].type == "grasp_failed" and first[2].grasp_id == 8 and
        first[2].value == 0.0, str(first))
h.check("unacked_reward_retransmitted", again is not None and first is not None and again[1] == first[1] and
        again[2] == first[2], str(again))
mcu.pump(0.4)
st = c.stats().links[0]
h.check("stats_retransmissions", st.retransmissions >= 1 and st.rewards_sent >= 3 and st.up and st.connected and
        st.peer_node == "py-mcu" and st.model == "g2v", str(st))

# 6. Garbage between frames and a frame with a bad CRC: counted, the link carries on.
bad = bytearray(linkpeer.frame(GRASP, 999, lpb.GraspReport(grasp_id=99, phase=CLOSED).SerializeToString()))
bad[5] ^= 0x40
mcu.write(b"\x00\x13\x37garbage\x00" + bytes(bad))
s3 = mcu.grasp(9, RELEASED, t_ms=3000)
ack = mcu.wait_for(lambda t, s, m: t == ACK and m.acked_seq == s3, 3)
st = c.stats().links[0]
h.check("garbage_counted_link_survives", ack is not None and st.crc_errors >= 1 and st.resyncs >= 2 and st.up,
        str(st))

# 7. Silence: the link goes down; traffic: up again, with a GoalStatus.
mcu.beating = False
time.sleep(1.0)
st = c.stats().links[0]
h.check("link_down_on_silence", not st.up and st.link_downs >= 1, str(st))
mcu.beating = True
got = mcu.wait_for(is_(GOAL), 3)
h.check("link_up_again_goal_resent", got is not None and got[2].has_goal and c.stats().links[0].up, str(got))

# 8. The MCU goes away (socket closed) and comes back restarted: the daemon reconnects, and
#    the restarted MCU's reliable sequence numbers (from 0 again) are not taken as duplicates.
conn.close()
conn, _ = listener.accept()
mcu = linkpeer.Peer(conn.fileno(), lpb, heartbeat_s=0.08)
mcu.hello()
got = mcu.wait_for(is_(GOAL), 5)
h.check("reconnect_goal_status", got is not None and got[2].has_goal, str(got))
s4 = mcu.grasp(10, CLOSED, t_ms=10)
mcu.grasp(10, LIFTED, success=True, t_ms=300)
rw = [mcu.wait_for(is_(REWARD), 5) for _ in range(2)]
h.check("restarted_mcu_seq_from_zero", s4 == 0 and all(r is not None and r[2].grasp_id == 10 for r in rw), str(rw))

# 9. Clearing the goal reaches the MCU.
c.clear_goal("g2v")
got = mcu.wait_for(is_(GOAL), 5)
h.check("goal_status_on_clear", got is not None and not got[2].has_goal and got[2].goal_id == 0, str(got))
r = h.run("client", "--connect", "unix:" + d.sock, "stats", timeout=30)
try:
    js = json.loads(r.stdout)["links"][0]
except Exception:
    js = {}
h.check("cli_stats_links", js.get("name") == "mcu" and js.get("up") is True and js.get("model") == "g2v" and
        js.get("grasp_reports", 0) >= 7 and js.get("port") == "unix:" + link_path, r.stdout + r.stderr)
h.check("daemon_log_names_link", "link 'mcu': up" in h.log(d) and "peer 'py-mcu'" in h.log(d))
h.check("daemon_stops_cleanly", h.stop(d) == 0)
conn.close()

# 10. A tty link on a pseudo-terminal, given as a flag with a baud rate.
master, slave = os.openpty()
tty = os.ttyname(slave)
d2 = h.start(CONF.split("[link mcu]")[0], name="tty", extra=("--link", f"arm=tty:{tty}:230400@g2v"))
mcu = linkpeer.Peer(master, lpb, name="tty-mcu", heartbeat_s=0.1)
mcu.hello()
got = mcu.wait_for(lambda t, s, m: t == HELLO and m.node_name == "embedrtd", 5)
goal_st = mcu.wait_for(is_(GOAL), 5)
c2 = h.client(d2)
gs2 = c2.set_goal_image("g2v", goal)
mcu.wait_for(lambda t, s, m: t == GOAL and m.has_goal, 5)
time.sleep(0.3)
mcu.grasp(1, CLOSED, t_ms=5)
mcu.grasp(1, LIFTED, success=True, t_ms=50)
rw = [mcu.wait_for(is_(REWARD), 5) for _ in range(2)]
h.check("tty_link_rewards", got is not None and goal_st is not None and
        [r[2].type if r else None for r in rw] == ["scene_difference", "outcome"], str(rw))
st = c2.stats().links[0]
h.check("tty_link_stats", st.name == "arm" and st.port == f"tty:{tty}:230400" and st.up and st.crc_errors == 0 and
        st.grasp_reports == 2, str(st))
h.check("tty_daemon_stops_cleanly", h.stop(d2) == 0)
os.close(master)
os.close(slave)
h.finish()
