"""A controller-link peer in Python for the daemon's link tests: the framing of
tests/firmware/link_framing.py (written independently of firmware/core) and the messages of
proto/embedrt/v1/link.proto through the official protobuf library."""
import os
import select
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "firmware"))
from link_framing import (ACK, GOAL, GRASP, HEARTBEAT, HELLO, RELIABLE, REWARD, Deframer,  # noqa: E402,F401
                          frame)


class Peer:
    """The MCU's side (or any side) over a file descriptor: a connected socket or a pty master.
    Sends heartbeats while it waits (so the other side keeps the link up), acks reliable
    frames unless told not to, and remembers everything it received."""

    def __init__(self, fd, pb, name="py-mcu", heartbeat_s=0.1):
        self.fd, self.pb, self.name, self.heartbeat_s = fd, pb, name, heartbeat_s
        self.rx = Deframer()
        self.tx_seq = 0
        self.rel_seq = 0
        self.last_beat = 0.0
        self.received = []          # (type, seq, message), everything
        self.inbox = []             # not yet looked at by wait_for
        self.bad = 0                # payloads that did not decode (framing errors: self.rx.bad)
        self.auto_ack = True
        self.beating = True

    def write(self, data):
        view = memoryview(data)
        while view:
            n = os.write(self.fd, view)
            view = view[n:]

    def send(self, typ, msg, seq=None):
        if seq is None:
            if typ in RELIABLE:
                seq, self.rel_seq = self.rel_seq, (self.rel_seq + 1) & 0xFFFF
            else:
                seq, self.tx_seq = self.tx_seq, (self.tx_seq + 1) & 0xFFFF
        self.write(frame(typ, seq, msg.SerializeToString()))
        return seq

    def hello(self, reply=False):
        m = self.pb.LinkHello(protocol_version=1, node_name=self.name, max_payload=128,
                              heartbeat_ms=int(self.heartbeat_s * 1000), reply=reply)
        m.embedrt.major, m.embedrt.minor, m.embedrt.patch = 0, 1, 0
        return self.send(HELLO, m)

    def grasp(self, grasp_id, phase, success=False, t_ms=0, seq=None):
        return self.send(GRASP, self.pb.GraspReport(grasp_id=grasp_id, phase=phase, success=success,
                                                    mcu_time_ms=t_ms), seq)

    def _decode(self, typ, payload):
        cls = {HELLO: self.pb.LinkHello, HEARTBEAT: self.pb.Heartbeat, ACK: self.pb.LinkAck,
               GRASP: self.pb.GraspReport, REWARD: self.pb.RewardReport, GOAL: self.pb.GoalStatus}.get(typ)
        if cls is None:
            return None
        m = cls()
        m.ParseFromString(payload)
        return m

    def pump(self, timeout):
        """Reads for up to timeout seconds (heartbeating); returns the new (type, seq, msg)."""
        new, end = [], time.monotonic() + timeout
        while True:
            now = time.monotonic()
            if self.beating and now - self.last_beat >= self.heartbeat_s:
                self.last_beat = now
                try:
                    self.send(HEARTBEAT, self.pb.Heartbeat(monotonic_ms=int(now * 1000) & 0xFFFFFFFF))
                except OSError:
                    pass
            left = end - now
            if left <= 0:
                return new
            r, _, _ = select.select([self.fd], [], [], min(left, self.heartbeat_s))
            if not r:
                continue
            try:
                chunk = os.read(self.fd, 4096)
            except OSError:
                chunk = b""
            if not chunk:
                raise EOFError("the link peer closed the connection")
            for typ, seq, payload in self.rx.push(chunk):
                try:
                    msg = self._decode(typ, payload)
                except Exception:
                    self.bad += 1
                    continue
                if typ in RELIABLE and self.auto_ack:
                    self.send(ACK, self.pb.LinkAck(acked_seq=seq))
                item = (typ, seq, msg)
                self.received.append(item)
                self.inbox.append(item)
                new.append(item)

    def wait_for(self, pred, timeout):
        """The next frame (type, seq, msg) satisfying pred within timeout, else None; the
        frames before it (in arrival order) are consumed."""
        end = time.monotonic() + timeout
        while True:
            while self.inbox:
                item = self.inbox.pop(0)
                if pred(*item):
                    return item
            if time.monotonic() >= end:
                return None
            self.pump(min(0.05, max(0.0, end - time.monotonic())))
