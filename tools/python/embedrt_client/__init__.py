"""Python client of embedrtd, the embedrt daemon (proto/embedrt/v1/daemon.proto).

    from embedrt_client import Client
    with Client() as c:                       # default socket, hello -> c.capabilities
        c.subscribe("rewards", camera="scene")
        c.set_goal_image("g2v", "goal.png")
        r = c.latest_reward(camera="scene", timeout=1.0)   # newest Reward, blocks until a newer one
        print(r.value, {x.name: x.value for x in r.components})

Requests raise EmbedrtError(code, message) when the daemon answers with an Error;
ProtocolError when the stream breaks (oversize or undecodable frame, closed connection).
Uses only the standard library and Debian's python3-protobuf.
"""
import collections
import os
import select
import socket
import time

from . import _proto

pb = _proto.load()

MAX_FRAME = 4 << 20  # kMaxFrameBytes: daemon.proto, Capabilities.max_frame_bytes

_STREAMS = {"embeddings": pb.STREAM_EMBEDDINGS, "rewards": pb.STREAM_REWARDS,
            "heatmaps": pb.STREAM_HEATMAPS, "stats": pb.STREAM_STATS}
_PHASES = {"pre": pb.GRASP_PHASE_PRE, "post": pb.GRASP_PHASE_POST, "outcome": pb.GRASP_PHASE_OUTCOME,
           "closed": pb.GRASP_PHASE_CLOSED, "lifted": pb.GRASP_PHASE_LIFTED, "released": pb.GRASP_PHASE_RELEASED}
_CODES = {0: "OK", 1: "INVALID_ARGUMENT", 2: "NOT_FOUND", 3: "FORMAT", 4: "UNSUPPORTED", 5: "IO",
          6: "RESOURCE", 7: "INTERNAL"}


class EmbedrtError(Exception):
    """The daemon answered a request with an Error (code: embedrt.v1.StatusCode)."""

    def __init__(self, code, message):
        super().__init__(f"{_CODES.get(code, code)}: {message}")
        self.code = code
        self.message = message


class ProtocolError(EmbedrtError):
    """The connection is unusable (bad frame, closed, oversize); the client is closed."""

    def __init__(self, message, code=5):
        super().__init__(code, message)


def default_address():
    """$XDG_RUNTIME_DIR/embedrtd.sock, or /tmp/embedrtd-<uid>.sock (as the daemon)."""
    xdg = os.environ.get("XDG_RUNTIME_DIR")
    return os.path.join(xdg, "embedrtd.sock") if xdg else f"/tmp/embedrtd-{os.getuid()}.sock"


def _varint(n):
    out = bytearray()
    while n >= 0x80:
        out.append(n & 0x7F | 0x80)
        n >>= 7
    out.append(n)
    return bytes(out)


def encode_frame(env):
    """One frame: varint length + serialized Envelope."""
    b = env.SerializeToString()
    return _varint(len(b)) + b


def image_encoding(data):
    """The Image.Encoding of file bytes, by magic number."""
    if data[:8] == b"\x89PNG\r\n\x1a\n":
        return pb.Image.ENCODING_PNG
    if data[:3] == b"\xff\xd8\xff":
        return pb.Image.ENCODING_JPEG
    if data[:2] in (b"P5", b"P6"):
        return pb.Image.ENCODING_PPM
    raise ValueError("goal image is not PNG, JPEG or binary PPM/PGM (by its first bytes)")


class Client:
    """One connection to embedrtd. Not thread-safe: use one Client per thread."""

    def __init__(self, address=None, timeout=5.0, node_name="embedrt-python", queue_depth=256,
                 max_frame=MAX_FRAME):
        self.address = address or default_address()
        self.timeout = timeout
        self.max_frame = max_frame
        self.dropped = 0  # events dropped from the bounded queue
        self._events = collections.deque()
        self._queue_depth = queue_depth
        self._rx = bytearray()
        self._seq = 0
        self._next_id = 0
        self._counter = 0
        self._latest = {}    # (kind, model, camera) -> (counter, message)
        self._returned = {}  # (kind, model, camera) query -> counter of the last one returned
        self._sock = self._connect(self.address, timeout)
        hello = pb.Envelope()
        hello.client_hello.hello.protocol_version = 1
        hello.client_hello.hello.node_name = node_name
        hello.client_hello.hello.monotonic_ns = time.monotonic_ns()
        r = self.request(hello, timeout)
        if r.WhichOneof("body") != "capabilities":
            self.close()
            raise ProtocolError(f"{self.address}: the daemon answered the hello with {r.WhichOneof('body')}")
        self.capabilities = r.capabilities

    # ------------------------------------------------------------ connection

    @staticmethod
    def _connect(address, timeout):
        try:
            if address.startswith("tcp:"):
                host, _, port = address[4:].rpartition(":")
                s = socket.create_connection((host.strip("[]"), int(port)), timeout=timeout)
                s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            else:
                path = address[5:] if address.startswith("unix:") else address
                s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
                s.settimeout(timeout)
                s.connect(path)
        except FileNotFoundError:
            raise ConnectionError(f"{address}: no such socket - is embedrtd running?") from None
        except ConnectionRefusedError:
            raise ConnectionError(f"{address}: connection refused - is embedrtd running?") from None
        except PermissionError:
            raise ConnectionError(f"{address}: permission denied (the socket is mode 0600: connect as "
                                  "the daemon's user)") from None
        s.setblocking(False)
        return s

    def close(self):
        if self._sock is not None:
            self._sock.close()
            self._sock = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def fileno(self):
        return self._sock.fileno()

    def _broken(self, message, code=5):
        self.close()
        raise ProtocolError(f"{self.address}: {message}", code)

    def _send(self, data, deadline):
        view = memoryview(data)
        while view:
            try:
                n = self._sock.send(view)
                view = view[n:]
            except BlockingIOError:
                left = None if deadline is None else max(0.0, deadline - time.monotonic())
                if not select.select([], [self._sock], [], left)[1]:
                    raise TimeoutError(f"{self.address}: timed out sending (the daemon does not read)")
            except OSError as e:
                self._broken(f"connection lost while sending: {e}")

    def _take_frame(self):
        """A complete frame's payload from the receive buffer, or None."""
        rx, value, shift = self._rx, 0, 0
        for i in range(min(len(rx), 5)):
            b = rx[i]
            value |= (b & 0x7F) << shift
            shift += 7
            if not b & 0x80:
                if value > self.max_frame:
                    self._broken(f"frame of {value} bytes exceeds the maximum of {self.max_frame}", 3)
                if len(rx) - i - 1 < value:
                    return None
                payload = bytes(rx[i + 1:i + 1 + value])
                del rx[:i + 1 + value]
                return payload
        if len(rx) >= 5:
            self._broken("frame length prefix longer than 5 bytes", 3)
        return None

    def _read_frame(self, deadline):
        """The next Envelope from the daemon, or None at the deadline (None: wait forever)."""
        if self._sock is None:
            raise ProtocolError(f"{self.address}: the connection is closed")
        while True:
            payload = self._take_frame()
            if payload is not None:
                env = pb.Envelope()
                try:
                    env.ParseFromString(payload)
                except Exception as e:  # google.protobuf.message.DecodeError
                    self._broken(f"the daemon sent a message that does not decode: {e}", 3)
                return env
            left = None if deadline is None else max(0.0, deadline - time.monotonic())
            if not select.select([self._sock], [], [], left)[0]:
                return None
            try:
                chunk = self._sock.recv(1 << 16)
            except BlockingIOError:
                continue
            except OSError as e:
                self._broken(f"connection lost: {e}")
            if not chunk:
                self._broken("the daemon closed the connection")
            self._rx += chunk

    def _event(self, env):
        """Queues an event (dropping the oldest when full) and updates the latest-per-key table."""
        if len(self._events) >= self._queue_depth:
            self._events.popleft()
            self.dropped += 1
        self._events.append(env)
        kind = env.WhichOneof("body")
        if kind in ("reward", "embedding", "heatmap"):
            msg = getattr(env, kind)
            self._counter += 1
            self._latest[(kind, msg.model, msg.camera)] = (self._counter, msg)

    # ------------------------------------------------------------ requests

    def request(self, env, timeout=None):
        """Sends env with the next seq and a fresh request_id; returns the response Envelope."""
        timeout = self.timeout if timeout is None else timeout
        deadline = time.monotonic() + timeout
        self._seq += 1
        self._next_id += 1
        env.seq, env.request_id = self._seq, self._next_id
        data = encode_frame(env)
        if len(data) > self.max_frame + 5:
            raise ValueError(f"{env.WhichOneof('body')} of {len(data)} bytes exceeds the maximum frame "
                             f"of {self.max_frame}")
        self._send(data, deadline)
        while True:
            r = self._read_frame(deadline)
            if r is None:
                raise TimeoutError(f"{self.address}: no answer to {env.WhichOneof('body')} "
                                   f"(request_id {env.request_id}) within {timeout} s")
            if r.request_id == 0:
                self._event(r)
            elif r.request_id == env.request_id:
                if r.WhichOneof("body") == "error":
                    raise EmbedrtError(r.error.code, r.error.message)
                return r
            # else: the late answer of a request that timed out

    def _simple(self, field, **kw):
        env = pb.Envelope()
        getattr(env, field).SetInParent()
        for k, v in kw.items():
            if v is not None:
                setattr(getattr(env, field), k, v)
        return self.request(env)

    def subscribe(self, stream, camera=None, model=None, decimation=1):
        s = _STREAMS[stream] if isinstance(stream, str) else stream
        return self._simple("subscribe", stream=s, camera=camera, model=model, decimation=decimation)

    def unsubscribe(self, stream, camera=None, model=None):
        s = _STREAMS[stream] if isinstance(stream, str) else stream
        return self._simple("unsubscribe", stream=s, camera=camera, model=model)

    def _set_goal(self, model, fill):
        env = pb.Envelope()
        env.set_goal.model = model
        fill(env.set_goal)
        return self.request(env).goal_set

    def set_goal_image(self, model, path_or_bytes):
        """Uploads a PNG/JPEG/PPM goal image (a path or the file's bytes); returns GoalSet."""
        data = path_or_bytes
        if not isinstance(data, (bytes, bytearray, memoryview)):
            with open(path_or_bytes, "rb") as f:
                data = f.read()
        enc = image_encoding(bytes(data[:8]))

        def fill(g):
            g.image.encoding = enc
            g.image.data = bytes(data)
        return self._set_goal(model, fill)

    def set_goal_camera(self, model, camera):
        return self._set_goal(model, lambda g: setattr(g, "camera", camera))

    def set_goal_prior(self, model, seed):
        return self._set_goal(model, lambda g: setattr(g, "prior_seed", int(seed)))

    def set_goal_embedding(self, model, vector):
        return self._set_goal(model, lambda g: g.embedding.vector.extend(float(x) for x in vector))

    def clear_goal(self, model=None):
        return self._simple("clear_goal", model=model)

    def reset_episode(self, model=None):
        return self._simple("reset_episode", model=model)

    def load_demo(self, model, path=None, embeddings=None):
        """A demonstration from a path on the robot, or uploaded embeddings [T, D]."""
        if (path is None) == (embeddings is None):
            raise ValueError("load_demo needs exactly one of path= and embeddings=")
        env = pb.Envelope()
        env.load_demo.model = model
        if path is not None:
            env.load_demo.path = str(path)
        else:
            rows = [list(map(float, r)) for r in embeddings]
            dim = len(rows[0]) if rows else 0
            if any(len(r) != dim for r in rows):
                raise ValueError("load_demo: embeddings rows differ in length")
            e = env.load_demo.embeddings
            e.frames, e.dim = len(rows), dim
            for r in rows:
                e.values.extend(r)
        return self.request(env)

    def grasp(self, model, phase, success=False, grasp_id=0):
        env = pb.Envelope()
        g = env.grasp_event
        g.model = model or ""
        g.phase = _PHASES[phase] if isinstance(phase, str) else phase
        g.success = bool(success)
        g.grasp_id = grasp_id
        g.source_time_ns = time.monotonic_ns()
        return self.request(env)

    def load_model(self, model, blob):
        return self._simple("load_model", model=model, blob_path=str(blob))

    def stats(self):
        return self._simple("get_stats").stats

    # ------------------------------------------------------------ events

    def next_event(self, timeout=None):
        """The next event Envelope (queued first), or None after timeout seconds (None: wait forever)."""
        if self._events:
            return self._events.popleft()
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            env = self._read_frame(deadline)
            if env is None:
                return None
            if env.request_id == 0:
                self._event(env)
                return self._events.popleft()

    def events(self, timeout=None):
        """Iterates over events; stops when none arrives within timeout seconds (None: never)."""
        while True:
            env = self.next_event(timeout)
            if env is None:
                return
            yield env

    def _pump(self, deadline):
        """Reads whatever has arrived (until deadline when nothing has); True when something came."""
        env = self._read_frame(deadline)
        if env is None:
            return False
        if env.request_id == 0:
            self._event(env)
        while True:  # drain what is already buffered or readable without waiting
            env = self._read_frame(time.monotonic())
            if env is None:
                return True
            if env.request_id == 0:
                self._event(env)

    def _latest_of(self, kind, camera, model, timeout):
        key = (kind, model, camera)
        deadline = time.monotonic() + timeout

        def newest():
            best = None
            for (k, m, cam), (n, msg) in self._latest.items():
                if k == kind and (model is None or m == model) and (camera is None or cam == camera):
                    if best is None or n > best[0]:
                        best = (n, msg)
            return best
        self._pump(time.monotonic())
        while True:
            best = newest()
            if best is not None and best[0] > self._returned.get(key, 0):
                self._returned[key] = best[0]
                return best[1]
            if time.monotonic() >= deadline:
                raise TimeoutError(f"{self.address}: no new {kind} event (camera={camera}, model={model}) "
                                   f"within {timeout} s - subscribed to the stream?")
            self._pump(deadline)

    def latest_reward(self, camera=None, model=None, timeout=1.0):
        """The newest Reward for camera/model (None: any) newer than the last one this call
        returned for the same query; blocks up to timeout seconds, else TimeoutError."""
        return self._latest_of("reward", camera, model, timeout)

    def latest_embedding(self, camera=None, model=None, timeout=1.0):
        """As latest_reward, for Embedding events."""
        return self._latest_of("embedding", camera, model, timeout)

    def latest_heatmap(self, camera=None, model=None, timeout=1.0):
        return self._latest_of("heatmap", camera, model, timeout)


__all__ = ["Client", "EmbedrtError", "ProtocolError", "default_address", "encode_frame", "image_encoding", "pb",
           "MAX_FRAME"]
