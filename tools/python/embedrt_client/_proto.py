"""Finds the Python code protoc generates from proto/embedrt/v1/*.proto.

Order: $EMBEDRT_PROTO_PY (a directory holding embedrt/v1/daemon_pb2.py), then
<repo>/build/proto (what meson generates), then protoc --python_out into
~/.cache/embedrt/proto-<hash of the .proto files> (generated once per protocol change).
"""
import hashlib
import importlib
import os
import shutil
import subprocess
import sys
from pathlib import Path

_REPO = Path(__file__).resolve().parents[3]
_PROTO_SRC = _REPO / "proto"
_FILES = ["core", "daemon"]


def _has_pb2(d):
    return d is not None and (Path(d) / "embedrt" / "v1" / "daemon_pb2.py").is_file()


def _generate():
    srcs = [_PROTO_SRC / "embedrt" / "v1" / f"{n}.proto" for n in _FILES]
    missing = [str(s) for s in srcs if not s.is_file()]
    if missing:
        raise ImportError(f"embedrt_client: cannot find {missing[0]}; set EMBEDRT_PROTO_PY to a directory "
                          "holding embedrt/v1/daemon_pb2.py (meson generates it in build/proto)")
    h = hashlib.sha256()
    for s in srcs:
        h.update(s.read_bytes())
    cache = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "embedrt" / f"proto-{h.hexdigest()[:16]}"
    if _has_pb2(cache):
        return cache
    protoc = shutil.which("protoc")
    if not protoc:
        raise ImportError("embedrt_client: protoc not found (apt-get install protobuf-compiler), and no generated "
                          "daemon_pb2.py in $EMBEDRT_PROTO_PY or build/proto")
    tmp = cache.with_name(cache.name + f".tmp{os.getpid()}")
    tmp.mkdir(parents=True, exist_ok=True)
    r = subprocess.run([protoc, f"--python_out={tmp}", "-I", str(_PROTO_SRC), *map(str, srcs)],
                       capture_output=True, text=True)
    if r.returncode != 0:
        raise ImportError(f"embedrt_client: protoc failed: {r.stderr.strip()}")
    try:
        tmp.rename(cache)
    except OSError:  # another process won the race: use its copy
        shutil.rmtree(tmp, ignore_errors=True)
    return cache


def load():
    """Returns the daemon_pb2 module."""
    env = os.environ.get("EMBEDRT_PROTO_PY")
    if env and not _has_pb2(env):
        raise ImportError(f"embedrt_client: EMBEDRT_PROTO_PY={env} holds no embedrt/v1/daemon_pb2.py")
    d = env or (_REPO / "build" / "proto" if _has_pb2(_REPO / "build" / "proto") else _generate())
    d = str(d)
    if d not in sys.path:
        sys.path.insert(0, d)
    return importlib.import_module("embedrt.v1.daemon_pb2")
