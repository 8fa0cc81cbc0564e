"""Controller-link framing in Python, written independently of the C core (zlib's crc32,
a COBS written here): one frame = 0x00, COBS(version u8 | type u8 | seq u16le | payload |
crc32le), 0x00 (see firmware/core/ert_link_frame.h). Shared by the link tests:
tests/integration/test_link_python.py, tests/firmware/qemu_link.py and host_link.py.
"""
import struct
import zlib

VERSION = 1
HELLO, HEARTBEAT, ACK, GRASP, REWARD, GOAL = 1, 2, 3, 4, 5, 6
RELIABLE = (GRASP, REWARD, GOAL)
MAX_FRAME = 512  # this peer's own cap on a decoded frame: hostile until checked


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
    body = struct.pack("<BBH", VERSION, typ, seq) + payload
    return b"\x00" + cobs_encode(body + struct.pack("<I", zlib.crc32(body))) + b"\x00"


def parse(part):
    """One frame's COBS bytes (no delimiters) -> (type, seq, payload); ValueError if bad."""
    raw = cobs_decode(part)
    if len(raw) < 8:
        raise ValueError("short frame")
    body, crc = raw[:-4], struct.unpack("<I", raw[-4:])[0]
    if zlib.crc32(body) != crc:
        raise ValueError("CRC mismatch")
    ver, typ, seq = struct.unpack("<BBH", body[:4])
    if ver != VERSION:
        raise ValueError(f"protocol version {ver}")
    return typ, seq, body[4:]


def unframe(stream):
    """A whole byte stream -> [(type, seq, payload)]; raises on the first bad frame."""
    frames = []
    for part in stream.split(b"\x00"):
        if part:
            frames.append(parse(part))
    return frames


class Deframer:
    """Incremental: push bytes, get good frames; bad ones are counted and skipped."""

    def __init__(self):
        self.buf = bytearray()
        self.bad = 0

    def push(self, data):
        out = []
        for b in data:
            if b == 0:
                if self.buf:
                    try:
                        out.append(parse(bytes(self.buf)))
                    except ValueError:
                        self.bad += 1
                self.buf = bytearray()
            elif len(self.buf) < MAX_FRAME + MAX_FRAME // 254 + 2:
                self.buf.append(b)
            else:  # oversize: drop it, resync on the next delimiter
                self.bad += 1
                self.buf = bytearray()
        return out
