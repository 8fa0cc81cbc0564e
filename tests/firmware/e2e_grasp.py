"""End to end over the controller link (issue 7): the firmware against the real embedrtd.

The firmware (the Cortex-M4 image under `qemu-system-arm -M mps2-an386`, or the same app
built for the host, embedrt-fw-host) runs its link application: it waits for the link and
a goal, reports a grasp (CLOSED, then LIFTED with success), checks the rewards that come
back (grasp id, finite values, consecutive reliable sequence numbers) and exits 0 through
semihosting (QEMU) or exit() (host). embedrtd replays frames into a grasp2vec model, has
a link to the firmware (QEMU's link UART is `-serial unix:SOCK,server=on,wait=on`; the host
port listens on a Unix socket or opens a pty) and a Python client sets the goal image.

Asserted: the firmware's exit status; the outcome value it printed equals the Reward event
the client received (6 decimals) and `embedrt reward` offline on the frame it names (1e-5);
the daemon's link statistics (peer, 2 grasp reports, no CRC errors).

usage: e2e_grasp.py ROOT BUILD_DIR qemu ELF
       e2e_grasp.py ROOT BUILD_DIR host BIN unix|pty
Ends with "firmware_e2e: N passed, N failed"; exit status 1 if anything failed."""
import os
import re
import subprocess
import sys
import time

ROOT, BUILD = os.path.abspath(sys.argv[1]), os.path.abspath(sys.argv[2])
MODE, TARGET = sys.argv[3], os.path.abspath(sys.argv[4])
TRANSPORT = sys.argv[5] if MODE == "host" and len(sys.argv) > 5 else "unix"
TIMEOUT_S = 120 if MODE == "qemu" else 60

sys.path.insert(0, os.path.join(ROOT, "tests", "integration"))
from daemon_util import Harness  # noqa: E402

h = Harness(["e2e", os.path.join(BUILD, "runtime", "daemon", "embedrtd"),
             os.path.join(BUILD, "tools", "embedrt", "embedrt"), ROOT, os.path.join(BUILD, "proto")],
            f"fw-{MODE}-{TRANSPORT}")
N = 8
blobs = h.blobs(("g2v",))
folder, frames = h.frames("scene", N)
_, (goal,) = h.frames("goal", 1, seed=9)
link = os.path.join(h.tmp, "link.sock")
console_path = os.path.join(h.tmp, "console.log")

console = open(console_path, "w")
if MODE == "qemu":
    fw = subprocess.Popen(["timeout", str(TIMEOUT_S), "qemu-system-arm", "-M", "mps2-an386", "-nographic",
                           "-monitor", "none", "-semihosting-config", "enable=on,target=native",
                           "-serial", "file:" + console_path, "-serial", f"unix:{link},server=on,wait=on",
                           "-kernel", TARGET], stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
else:
    env = dict(os.environ, ERT_FW_LINK="pty" if TRANSPORT == "pty" else "unix-listen:" + link)
    fw = subprocess.Popen(["timeout", str(TIMEOUT_S), TARGET], stdout=console, stderr=subprocess.STDOUT, env=env)
h.procs.append(fw)

# The port the daemon opens: QEMU's (or the host port's) listening socket, or the pty it names.
port = None
deadline = time.monotonic() + 20
while port is None and time.monotonic() < deadline and fw.poll() is None:
    if TRANSPORT == "pty":
        m = re.search(r"link: pty (/dev/\S+)", open(console_path, errors="replace").read())
        port = "tty:" + m.group(1) if m else None
    elif os.path.exists(link):
        port = "unix:" + link
    if port is None:
        time.sleep(0.05)
h.check("firmware_opens_its_link_port", port is not None, f"exit {fw.poll()}")

if port:
    d = h.start(f"""
[daemon]
log_level = debug
[camera scene]
source = replay:{folder}
fps = 20
loop = true
[model g2v]
blob = {blobs['g2v']}
threads = 1
[link fw]
port = {port}
heartbeat_ms = 200
timeout_ms = 5000
retransmit_ms = 500
retries = 40
""")
    c = h.client(d)
    c.subscribe("rewards", model="g2v")
    gs = c.set_goal_image("g2v", goal)
    try:
        rc = fw.wait(TIMEOUT_S + 10)
    except subprocess.TimeoutExpired:
        fw.kill()
        rc = fw.wait()
    out = fw.stdout.read().decode(errors="replace") if fw.stdout else ""
    text = open(console_path, errors="replace").read()
    for line in (text + out).strip().splitlines():
        print("  firmware: " + line.rstrip())
    h.check("firmware_exit_status_0", rc == 0, f"got {rc} (2 timeout, 3 wrong reward, 4 encoding, 5 link lost; "
            f"124 killed by timeout)")
    h.check("firmware_saw_link_and_goal", "link: up (peer embedrtd" in text and f"goal: id {gs.goal_id}" in text)
    rewards = {m.group(1): m for m in re.finditer(
        r"reward: grasp 1 (\w+) value=(-?\d+\.\d{6}) goal=(\d+) frame=(\d+) seq=(\d+)", text)}
    h.check("firmware_got_both_rewards", set(rewards) == {"scene_difference", "outcome"}, str(list(rewards)))
    events = {}
    for env in c.events(3):
        if env.WhichOneof("body") == "reward" and env.reward.grasp_id == 1:
            events[env.reward.type] = env.reward
            if len(events) == 2:
                break
    oc = rewards.get("outcome")
    if oc and "outcome" in events:
        ev = events["outcome"]
        printed, frame_seq = float(oc.group(2)), int(oc.group(4))
        h.check("firmware_outcome_equals_daemon_event", abs(printed - ev.value) <= 1.5e-6 and
                frame_seq == ev.frame_seq and int(oc.group(3)) == gs.goal_id, f"{oc.group(0)} vs {ev}")
        want = h.offline_reward(blobs["g2v"], "--goal", goal, "--outcome", frames[frame_seq % N])
        h.check("firmware_outcome_equals_offline", abs(printed - want["reward"]) <= 1.5e-6 + 1e-5 * abs(want["reward"]),
                f"firmware {printed} offline {want}")
    else:
        h.check("firmware_outcome_equals_daemon_event", False, f"{list(rewards)} {list(events)}")
    st = c.stats().links[0]
    h.check("daemon_link_stats", st.peer_node == "gripper-mcu" and st.grasp_reports == 2 and st.rewards_sent >= 2
            and st.crc_errors == 0 and st.errors == 0, str(st))
    h.check("daemon_stops_cleanly", h.stop(d) == 0)
console.close()
print(f"firmware_e2e ({MODE}, {TRANSPORT}): ", end="")
h.finish()
