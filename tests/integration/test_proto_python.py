"""Wire compatibility of nanopb (C) and Python's official protobuf library.

Both directions, field by field and byte for byte, with the code both sides
generate from proto/embedrt/v1/core.proto at build time.
usage: test_proto_python.py PROTO_PEER GENERATED_PYTHON_DIR
"""
import json
import subprocess
import sys

peer, gen_dir = sys.argv[1], sys.argv[2]
sys.path.insert(0, gen_dir)
from embedrt.v1 import core_pb2  # noqa: E402  (generated into the build tree)

passed = failed = 0


def check(name, cond, detail=""):
    global passed, failed
    if cond:
        passed += 1
        print(f"  ok    {name}")
    else:
        failed += 1
        print(f"  FAIL  {name} {detail}")


def run_peer(*args, data=b""):
    return subprocess.run([peer, *args], input=data, capture_output=True, timeout=30)


def sample_hello():
    h = core_pb2.Hello(protocol_version=1, node_name="embedrtd@röbot-3",
                       monotonic_ns=2**64 - 1, capabilities=["camera", "int8"])
    h.embedrt.major, h.embedrt.minor, h.embedrt.patch = 0, 1, 0
    h.embedrt.describe = "v0.1.0-7-g0123abc-dirty"
    for name, ver in [("openblas", "OpenBLAS 0.3.21 DYNAMIC_ARCH NO_AFFINITY Haswell MAX_THREADS=64"),
                      ("zlib", "1.2.13"), ("nanopb", "nanopb-0.4.7"), ("libcamera", "")]:
        h.components.add(name=name, version=ver)
    return h


def sample_status():
    return core_pb2.Status(code=core_pb2.STATUS_FORMAT, request_id=4242,
                           message="g2v.erb: section 'weights' CRC mismatch (expected 0x1234abcd, got 0x0badf00d)")


def hello_as_dict(h):
    return {
        "protocol_version": h.protocol_version, "has_embedrt": h.HasField("embedrt"),
        "embedrt": {"major": h.embedrt.major, "minor": h.embedrt.minor, "patch": h.embedrt.patch,
                    "describe": h.embedrt.describe},
        "node_name": h.node_name,
        "components": [{"name": c.name, "version": c.version} for c in h.components],
        "capabilities": list(h.capabilities), "monotonic_ns": h.monotonic_ns,
    }


def status_as_dict(s):
    return {"code": s.code, "message": s.message, "request_id": s.request_id}


# C -> Python
for kind, sample, cls in [("hello", sample_hello(), core_pb2.Hello),
                          ("status", sample_status(), core_pb2.Status)]:
    r = run_peer("encode", kind)
    check(f"c_encodes_{kind}", r.returncode == 0, r.stderr.decode())
    got = cls()
    got.ParseFromString(r.stdout)
    check(f"python_decodes_c_{kind}_field_by_field", got == sample, f"\n got {got}\n want {sample}")
    check(f"c_{kind}_bytes_equal_python_serialization", r.stdout == sample.SerializeToString(),
          f"\n c  {r.stdout.hex()}\n py {sample.SerializeToString().hex()}")

# Python -> C, including edge values
variants = {
    "sample": sample_hello(),
    "empty": core_pb2.Hello(),
    "max_bounds": core_pb2.Hello(node_name="n" * 63, capabilities=["c" * 31] * 16,
                                 protocol_version=2**32 - 1),
}
mb = variants["max_bounds"]
for i in range(8):
    mb.components.add(name="x" * 23, version="é" * 63 + "v")  # 127 bytes of UTF-8
for name, msg in variants.items():
    r = run_peer("decode", "hello", data=msg.SerializeToString())
    ok = r.returncode == 0
    check(f"c_decodes_python_hello_{name}", ok, r.stderr.decode())
    if ok:
        got = json.loads(r.stdout)
        want = hello_as_dict(msg)
        check(f"c_fields_equal_python_hello_{name}", got == want, f"\n got {got}\n want {want}")

s = sample_status()
r = run_peer("decode", "status", data=s.SerializeToString())
check("c_decodes_python_status", r.returncode == 0 and json.loads(r.stdout) == status_as_dict(s),
      r.stdout.decode() + r.stderr.decode())

# Messages beyond the .options bounds are refused by C, not truncated.
too_long = core_pb2.Hello(node_name="n" * 64)
r = run_peer("decode", "hello", data=too_long.SerializeToString())
check("c_refuses_string_over_max_size", r.returncode == 1 and b"overflow" in r.stderr, r.stderr.decode())
too_many = core_pb2.Hello(capabilities=["c"] * 17)
r = run_peer("decode", "hello", data=too_many.SerializeToString())
check("c_refuses_repeated_over_max_count", r.returncode == 1 and b"decode failed" in r.stderr, r.stderr.decode())
r = run_peer("decode", "hello", data=sample_hello().SerializeToString()[:-3])
check("c_refuses_truncated_message", r.returncode == 1, r.stderr.decode())

print(f"proto-python: {passed} passed, {failed} failed")
sys.exit(1 if failed else 0)
