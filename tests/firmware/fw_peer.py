"""A scripted daemon side of the controller link, in Python, for the firmware tests
(tests/firmware/qemu_link.py: the ELF under QEMU; tests/firmware/host_link.py: the POSIX
host port embedrt-fw-host). Framing from link_framing.py, messages from the protobuf code
the host build generates (build/proto/embedrt/v1/link_pb2.py).

The script: hello exchange and heartbeats (200 ms), a GoalStatus with a goal, ack the
firmware's grasp reports (CLOSED then LIFTED), answer with the RewardReports
"scene_difference" then "outcome" for grasp 1, and keep the link alive until the firmware
exits. Options: `gap` skips one reliable sequence number before the outcome reward (the
firmware must exit 3); `drop_first_ack` withholds the ack of the first grasp report's
first transmission (the firmware must retransmit it). `mute` never sends anything (the
firmware must time out waiting for the link: exit 2); `silent_after_grasp` goes quiet at
the first grasp report (the link must go down and, not coming back, exit 5).
"""
import os
import select
import socket
import time

import link_framing as lf

GOAL_ID = 7
FIRST_SEQ = 40000  # the daemon's first reliable seq; not 0, so the firmware cannot assume it
# (type, value, frame_seq): the values exercise the firmware's own float formatter: a
# negative with more digits than printed, the largest float32 (39 integer digits), the
# smallest negative denormal, a fraction that rounds up into the integer part, and an
# exact tie (0.0078125) that "%.6f" rounds to even. The "probe_*" types are not grasp2vec
# rewards; the firmware prints and checks any type and finishes on "outcome".
REWARDS = [("scene_difference", -12.3456789, 12345678901), ("probe_max", 3.4028234663852886e38, 1),
           ("probe_denormal", -1.401298464324817e-45, 2), ("probe_carry", 0.9999999, 3),
           ("outcome", 0.0078125, 12345678933)]


class Transport:
    """A non-blocking byte pipe over a socket or a tty fd."""

    def __init__(self, fd, sock=None):
        self.fd, self.sock = fd, sock
        self.closed = False

    @classmethod
    def connect_unix(cls, path, deadline, alive=lambda: True):
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        while True:  # the server (QEMU or the host port) creates the socket, then accepts
            try:
                s.connect(path)
                break
            except (FileNotFoundError, ConnectionRefusedError):
                if not alive() or time.monotonic() > deadline:
                    raise RuntimeError(f"nothing listening on {path}")
                time.sleep(0.05)
        s.setblocking(False)
        return cls(s.fileno(), s)

    @classmethod
    def open_tty(cls, path):
        import tty
        fd = os.open(path, os.O_RDWR | os.O_NOCTTY | os.O_NONBLOCK)
        tty.setraw(fd)
        return cls(fd)

    def send(self, data):
        while data and not self.closed:
            try:
                n = os.write(self.fd, data)
                data = data[n:]
            except BlockingIOError:
                select.select([], [self.fd], [], 0.1)
            except OSError:
                self.closed = True

    def recv(self, timeout):
        if self.closed:
            time.sleep(timeout)
            return b""
        r, _, _ = select.select([self.fd], [], [], timeout)
        if not r:
            return b""
        try:
            data = os.read(self.fd, 4096)
        except BlockingIOError:
            return b""
        except OSError:
            data = b""
        if not data:
            self.closed = True
        return data

    def close(self):
        if self.sock:
            self.sock.close()
        else:
            os.close(self.fd)


class DaemonPeer:
    def __init__(self, transport, link_pb2, gap=False, drop_first_ack=False, mute=False,
                 silent_after_grasp=False):
        self.t, self.l = transport, link_pb2
        self.gap, self.drop_first_ack = gap, drop_first_ack
        self.muted, self.silent_after_grasp = mute, silent_after_grasp
        self.deframer = lf.Deframer()
        self.tx_seq = 0
        self.rel_seq = FIRST_SEQ
        self.pending = {}       # our reliable seq -> [type, payload, last send time]
        self.acked = []         # our reliable seqs the firmware acknowledged
        self.hellos = []        # the firmware's LinkHello messages
        self.grasp_rx = {}      # firmware seq -> [GraspReport, transmissions seen]
        self.grasp_order = []   # firmware seqs in order of first arrival
        self.acks_withheld = 0
        self.reward_seqs = []   # (type, value, frame_seq, our seq) as sent
        self.goal_seq = None
        self.bad_payloads = 0
        self.last_beat = 0.0
        self.stage = "hello"

    def _send(self, typ, seq, msg):
        if self.muted:
            return
        self.t.send(lf.frame(typ, seq, msg.SerializeToString()))

    def _unreliable(self, typ, msg):
        self._send(typ, self.tx_seq, msg)
        self.tx_seq = (self.tx_seq + 1) & 0xFFFF

    def _reliable(self, typ, msg):
        seq = self.rel_seq
        self.rel_seq = (self.rel_seq + 1) & 0xFFFF
        self.pending[seq] = [typ, msg, time.monotonic()]
        self._send(typ, seq, msg)
        return seq

    def hello(self, reply):
        self._unreliable(lf.HELLO, self.l.LinkHello(
            protocol_version=1, node_name="embedrtd", heartbeat_ms=200, max_payload=256,
            reply=reply, embedrt={"major": 0, "minor": 1, "patch": 0, "describe": "fw-peer"}))

    def _handle(self, typ, seq, payload):
        msgs = {lf.HELLO: self.l.LinkHello, lf.HEARTBEAT: self.l.Heartbeat, lf.ACK: self.l.LinkAck,
                lf.GRASP: self.l.GraspReport}
        if typ not in msgs:
            self.bad_payloads += 1
            return
        m = msgs[typ]()
        try:
            m.ParseFromString(payload)
        except Exception:
            self.bad_payloads += 1
            return
        if typ == lf.HELLO:
            self.hellos.append(m)
            if not m.reply:
                self.hello(True)
        elif typ == lf.ACK:
            if m.acked_seq in self.pending:
                del self.pending[m.acked_seq]
                self.acked.append(m.acked_seq)
        elif typ == lf.GRASP:
            first = seq not in self.grasp_rx
            if first:
                self.grasp_rx[seq] = [m, 0]
                self.grasp_order.append(seq)
            self.grasp_rx[seq][1] += 1
            if self.silent_after_grasp:
                self.muted = True  # the daemon "dies" with the link still connected
            if self.drop_first_ack and seq == self.grasp_order[0] and self.grasp_rx[seq][1] == 1:
                self.acks_withheld += 1  # the line "loses" this ack: the firmware must resend
                return
            self._unreliable(lf.ACK, self.l.LinkAck(acked_seq=seq))

    def _timers(self):
        now = time.monotonic()
        if now - self.last_beat >= 0.2:
            self.last_beat = now
            if self.hellos:
                self._unreliable(lf.HEARTBEAT, self.l.Heartbeat(monotonic_ms=int(now * 1000) & 0xFFFFFFFF))
            else:
                self.hello(False)
        for seq, p in self.pending.items():
            if now - p[2] >= 0.3:
                p[2] = now
                self._send(p[0], seq, p[1])

    def _script(self):
        if self.stage == "hello" and self.hellos:
            self.goal_seq = self._reliable(lf.GOAL, self.l.GoalStatus(goal_id=GOAL_ID, has_goal=True))
            self.stage = "grasps"
        elif self.stage == "grasps" and len(self.grasp_order) >= 2:
            for i, (typ, value, frame_seq) in enumerate(REWARDS):
                if self.gap and i == len(REWARDS) - 1:
                    self.rel_seq = (self.rel_seq + 1) & 0xFFFF  # a reliable message "lost"
                seq = self._reliable(lf.REWARD, self.l.RewardReport(
                    grasp_id=1, value=value, type=typ, goal_id=GOAL_ID, frame_seq=frame_seq))
                self.reward_seqs.append((typ, value, frame_seq, seq))
            self.stage = "rewards"

    def run(self, deadline, done):
        """Plays the daemon until done() (the firmware exited) or the deadline."""
        self.hello(False)
        self.last_beat = time.monotonic()
        while time.monotonic() < deadline and not done():
            for typ, seq, payload in self.deframer.push(self.t.recv(0.02)):
                self._handle(typ, seq, payload)
            self._timers()
            self._script()
        # The firmware's last acks were written just before it exited: read what is left.
        end = time.monotonic() + 0.5
        while not self.t.closed and time.monotonic() < end:
            for typ, seq, payload in self.deframer.push(self.t.recv(0.05)):
                self._handle(typ, seq, payload)

    def grasps(self):
        return [self.grasp_rx[s][0] for s in self.grasp_order]

    def retransmissions_seen(self):
        return sum(n - 1 for _, n in self.grasp_rx.values())


def reward_lines(peer):
    """The console lines the firmware must print for the rewards the peer sent."""
    import struct
    out = []
    for typ, value, frame_seq, seq in peer.reward_seqs:
        v32 = struct.unpack("<f", struct.pack("<f", value))[0]  # what crosses the wire
        out.append(f"reward: grasp 1 {typ} value={v32:.6f} goal={GOAL_ID} frame={frame_seq} seq={seq}")
    return out


def check_session(check, peer, console, rc, want_rc, name):
    """The checks every boot/run shares; `check(cond, what)` records one result."""
    lines = [ln.rstrip("\r") for ln in console.splitlines()]
    check(rc == want_rc, f"{name}: exit status {want_rc} (got {rc})")
    check(any(ln.startswith("embedrt firmware ") and ln.endswith(": link starting") for ln in lines),
          f"{name}: console starts the link")
    check("link: up (peer embedrtd v0.1.0)" in lines, f"{name}: console shows the link up with the peer's name")
    check(f"goal: id {GOAL_ID}" in lines, f"{name}: console shows goal {GOAL_ID}")
    h = peer.hellos[0] if peer.hellos else None
    check(h is not None and h.node_name == "gripper-mcu" and h.protocol_version == 1 and h.heartbeat_ms == 200
          and (h.embedrt.major, h.embedrt.minor, h.embedrt.patch) == (0, 1, 0),
          f"{name}: LinkHello from gripper-mcu v0.1.0, heartbeat 200 ms")
    g = peer.grasps()
    # GraspPhase (daemon.proto): CLOSED = 4, LIFTED = 5.
    ok = (len(g) == 2 and g[0].grasp_id == 1 and g[1].grasp_id == 1 and g[0].phase == 4 and not g[0].success
          and g[1].phase == 5 and g[1].success and g[1].mcu_time_ms >= g[0].mcu_time_ms + 100)
    check(ok, f"{name}: grasp 1 CLOSED then LIFTED success >= 100 ms later (MCU ms "
              f"{[x.mcu_time_ms for x in g]}, phases {[x.phase for x in g]})")
    check(peer.goal_seq in peer.acked, f"{name}: the firmware acked the GoalStatus")
    return lines
