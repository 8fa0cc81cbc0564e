"""Wire compatibility of nanopb (C) and Python's official protobuf library.

Both directions, field by field and byte for byte, with the code both sides
generate from proto/embedrt/v1/core.proto at build time.
usage: test_proto_python.py PROTO_PEER GENERATED_PYTHON_DIR
"""
import json
import struct
import subprocess
import sys

peer, gen_dir = sys.argv[1], sys.argv[2]
sys.path.insert(0, gen_dir)
from embedrt.v1 import core_pb2  # noqa: E402  (generated into the build tree)
from embedrt.v1 import daemon_pb2 as d  # noqa: E402

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

# ---- daemon envelopes (daemon.proto) through runtime/wire: the same list as proto_peer.c


def frame(env):
    b = env.SerializeToString()
    n, pre = len(b), bytearray()
    while n >= 0x80:
        pre.append(n & 0x7F | 0x80)
        n >>= 7
    pre.append(n)
    return bytes(pre) + b


def split_frames(data):
    out, i = [], 0
    while i < len(data):
        n, shift = 0, 0
        while True:
            b = data[i]
            i += 1
            n |= (b & 0x7F) << shift
            shift += 7
            if not b & 0x80:
                break
        out.append(data[i:i + n])
        i += n
    return out


def sample_envelopes():
    envs = []
    for i in range(12):
        e = d.Envelope(seq=i + 1, request_id=i * 1000)
        envs.append(e)
    envs[0].ack.SetInParent()
    envs[1].subscribe.stream, envs[1].subscribe.camera, envs[1].subscribe.decimation = d.STREAM_HEATMAPS, "scene", 3
    envs[2].set_goal.model = "g2v"
    envs[2].set_goal.image.encoding = d.Image.ENCODING_PNG
    envs[2].set_goal.image.data = b"\x89PNG\r\n\x1a\n\x00\x01\x02\xff"
    envs[3].set_goal.model, envs[3].set_goal.prior_seed = "rig", 2**64 - 1
    envs[4].load_demo.model = "tcn"
    dm = envs[4].load_demo.embeddings
    dm.frames, dm.dim = 2, 3
    dm.values.extend([0.5, -1.0, 2.0, 3.25, struct.unpack("<f", struct.pack("<f", 1e-3))[0], -0.0])
    envs[5].grasp_event.CopyFrom(d.GraspEvent(phase=d.GRASP_PHASE_LIFTED, success=True,
                                              source_time_ns=1234567890123, grasp_id=7))
    envs[6].goal_set.CopyFrom(d.GoalSet(model="g2v", goal_id=1, embedding=[-0.5]))
    envs[7].error.CopyFrom(d.Error(code=core_pb2.STATUS_NOT_FOUND, message="SetGoal.model: no model 'x' (loaded: g2v)"))
    envs[8].embedding.CopyFrom(d.Embedding(model="tcn", camera="view_a", role="embedder",
                                           vector=[k * 0.5 - 1.0 for k in range(5)], frame_seq=42,
                                           capture_ns=1000000007, publish_ns=1000500007))
    r = envs[9].reward
    r.model, r.family, r.type, r.value = "rig", "rig", "latent_distance", -1.0 / 3.0
    r.components.add(name="distance", value=1.0 / 3.0)
    r.components.add(name="sparse", value=0.0)
    r.goal_id, r.camera, r.frame_seq, r.capture_ns, r.publish_ns = 2, "scene", 99, 5, 6
    envs[10].heatmap.CopyFrom(d.Heatmap(model="g2v", height=2, width=2, values=[0.125, 0.25, 0.5, 0.125],
                                        keypoint_x=0.75, keypoint_y=0.25, frame_seq=3))
    c = envs[11].capabilities
    c.hello.CopyFrom(sample_hello())
    c.cameras.add(name="scene", source="replay:/srv/ep1.y4m", width=224, height=224, pixel_format="YUV420", fps=29.97)
    m = c.models.add(name="g2v", family="grasp2vec", blob_path="/srv/g2v.erb", roles=["scene", "object"],
                     embedding_dim=512, cameras=["scene"], generation=2)
    m.params.add(name="similarity", version="cosine")
    c.max_frame_bytes, c.client_queue_depth = 4 << 20, 64
    return envs


envs = sample_envelopes()
r = run_peer("encode", "envelopes")
check("c_encodes_envelopes", r.returncode == 0, r.stderr.decode())
got = split_frames(r.stdout) if r.returncode == 0 else []
check("c_envelope_frame_count", len(got) == len(envs), f"{len(got)}")
for want, payload in zip(envs, got):
    body = want.WhichOneof("body")
    p = d.Envelope()
    p.ParseFromString(payload)
    check(f"python_decodes_c_envelope_{want.seq}_{body}", p == want, f"\n got {p}\n want {want}")
    check(f"c_envelope_{want.seq}_{body}_bytes_equal_python", payload == want.SerializeToString(),
          f"\n c  {payload.hex()}\n py {want.SerializeToString().hex()}")

# Python -> C -> Python: C decodes (views for the bulk fields) and re-encodes each frame.
stream = b"".join(frame(e) for e in envs)
big = d.Envelope(seq=99, request_id=5)
big.set_goal.model = "g2v"
big.set_goal.image.encoding = d.Image.ENCODING_JPEG
big.set_goal.image.data = bytes(range(256)) * 4096  # 1 MiB: split over many reads
big_demo = d.Envelope(seq=100, request_id=6)
big_demo.load_demo.model = "tcn"
big_demo.load_demo.embeddings.frames, big_demo.load_demo.embeddings.dim = 1000, 64
big_demo.load_demo.embeddings.values.extend([(k % 977) * 0.125 for k in range(64000)])
stream += frame(big) + frame(big_demo)
r = run_peer("decode", "envelopes", data=stream)
check("c_decodes_python_envelopes", r.returncode == 0, r.stderr.decode())
back = split_frames(r.stdout) if r.returncode == 0 else []
for want, payload in zip(envs + [big, big_demo], back):
    body = want.WhichOneof("body")
    p = d.Envelope()
    p.ParseFromString(payload)
    check(f"c_round_trips_python_envelope_{want.seq}_{body}", p == want and payload == want.SerializeToString())
check("c_round_trip_count", len(back) == len(envs) + 2, f"{len(back)}")

# Unpacked bulk floats (proto2-style writers) are refused with the field named.
unpacked = bytes.fromhex("f2020e18012002") + b"\x2d" + struct.pack("<f", 1.0) + b"\x2d" + struct.pack("<f", 2.0)
r = run_peer("decode", "envelopes", data=bytes([len(unpacked)]) + unpacked)
check("c_refuses_unpacked_heatmap_values", r.returncode == 1 and b"Heatmap.values: not a length-delimited field"
      in r.stderr, r.stderr.decode())
over = d.Envelope(set_goal=d.SetGoal(model="x" * 33))
r = run_peer("decode", "envelopes", data=frame(over))
check("c_refuses_envelope_string_over_max_size", r.returncode == 1 and b"in body set_goal: string overflow"
      in r.stderr, r.stderr.decode())
r = run_peer("decode", "envelopes", data=frame(big)[:-1])
check("c_refuses_truncated_frame", r.returncode == 1 and b"unfinished frame" in r.stderr, r.stderr.decode())

print(f"proto-python: {passed} passed, {failed} failed")
sys.exit(1 if failed else 0)
