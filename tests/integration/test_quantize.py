"""`embedrt convert --quantize` (issue 6) on every reference fixture model, with calibration
frames written here (smooth random images, a held-out share never calibrated on):

- int8 (int8 compute): every output's mean cosine against float32 on the held-out frames
  >= 0.995 (from the report the converter stores), the int8 blob runs (`embedrt run`) and
  agrees with the float32 blob on the fixture's own input, blob size <= 0.3 x float32 for
  the conv models, every calibration method works; the same 0.995 with 7-bit activations
  (`--activation-bits 7`, q_max 127: the AVX2 vpmaddubsw kernel; layers the converter put
  back on 8 bits to reach it are listed in the report's kept_8bit), both cosines printed;
- int8-weights (int8 storage): 4x smaller weights, the same outputs within the weights' own
  quantization error;
- the report in `embedrt inspect --json`, --keep-fp32, the accuracy gate (a model built to
  fail it: refused without --force, written with it), and one-line refusals of bad options.

usage: test_quantize.py EMBEDRT FIXTURE_DIR"""
import json
import os
import shutil
import subprocess
import sys
import tempfile

import numpy as np
import onnx
from onnx import TensorProto, helper

cli, fixtures = sys.argv[1], sys.argv[2]
passed = failed = 0


def check(name, cond, detail=""):
    global passed, failed
    if cond:
        passed += 1
        print(f"  ok    {name}", flush=True)
    else:
        failed += 1
        print(f"  FAIL  {name} {detail}", flush=True)


def run(*args, timeout=600):
    return subprocess.run([cli, *args], capture_output=True, text=True, timeout=timeout)


tmp = tempfile.mkdtemp(prefix="ert-quant-")


def frames(name, n, size, seed):
    """n smooth random RGB frames (PPM) in tmp/name."""
    d = os.path.join(tmp, name)
    os.makedirs(d, exist_ok=True)
    rng = np.random.RandomState(seed)
    for i in range(n):
        small = rng.rand(size // 8 + 1, size // 8 + 1, 3) * 255
        img = np.repeat(np.repeat(small, 8, 0), 8, 1)[:size, :size]
        img = np.clip(img + rng.randn(size, size, 3) * 12, 0, 255).astype(np.uint8)
        with open(os.path.join(d, f"f{i:03d}.ppm"), "wb") as f:
            f.write(b"P6\n%d %d\n255\n" % (size, size) + img.tobytes())
    return d


def inspect(blob):
    r = run("inspect", blob, "--json")
    return json.loads(r.stdout) if r.returncode == 0 else {}


def signed(case):
    """TCN-style inputs in [-1, 1]: the recipe is x * 2/255 - 1 (else the default x / 255)."""
    meta = json.load(open(os.path.join(fixtures, case, "meta.json")))
    return meta["inputs"][0].get("range", [0, 1])[0] < -0.5


def fresh_inputs(case):
    """Inputs like the calibration's but never calibrated on: a new smooth frame through the
    case's recipe for images, seeded N(0, 1) for the rest."""
    meta = json.load(open(os.path.join(fixtures, case, "meta.json")))
    rng = np.random.RandomState(99)
    paths = {}
    for i in meta["inputs"]:
        shape = i["shape"]
        if len(shape) == 4 and shape[1] == 3:
            h = shape[2]
            small = rng.rand(h // 8 + 1, h // 8 + 1, 3) * 255
            img = np.repeat(np.repeat(small, 8, 0), 8, 1)[:h, :h]
            img = np.clip(img + rng.randn(h, h, 3) * 12, 0, 255).astype(np.uint8).astype(np.float32)
            x = img * (2 / 255) - 1 if signed(case) else img / 255
            x = x.transpose(2, 0, 1)[None].astype(np.float32)
        else:
            x = rng.randn(*shape).astype(np.float32)
        p = os.path.join(tmp, f"in-{case}-{i['name']}.npy")
        np.save(p, x)
        paths[i["name"]] = p
    return paths


def run_blob(blob, case):
    """Outputs of `embedrt run` on fresh in-distribution inputs."""
    meta = json.load(open(os.path.join(fixtures, case, "meta.json")))
    out = os.path.join(tmp, "run-" + os.path.basename(blob))
    args = ["run", blob, "--output-dir", out, "--threads", "1"]
    for name, path in fresh_inputs(case).items():
        args += ["--input", f"{name}={path}"]
    r = run(*args)
    if r.returncode != 0:
        return None, r.stderr
    return {o["name"]: np.load(os.path.join(out, o["name"] + ".npy")) for o in meta["outputs"]}, ""


def cosine(a, b):
    a, b = a.ravel().astype(np.float64), b.ravel().astype(np.float64)
    return float(a @ b / (np.linalg.norm(a) * np.linalg.norm(b) + 1e-30))


# Image models calibrate on frames of their input size; the others get N(0,1) inputs.
cases = {"grasp2vec_64": 64, "tcn_99": 99, "tcn_l2_99": 99, "mftcn_trunk_64": 64, "mftcn_head_n2": 64,
         "rig_encoder": 48, "rig_decoder": 48, "ccvae": 48, "ccvae_context": 48}
cal = {s: frames(f"cal{s}", 24, s, s) for s in sorted(set(cases.values()))}

for case, size in cases.items():
    onnx_path = os.path.join(fixtures, case, "model.onnx")
    f32 = os.path.join(tmp, case + ".erb")
    q8 = os.path.join(tmp, case + ".int8.erb")
    recipe = ["--preprocess", "scale=2/255,mean=1,1,1"] if signed(case) else []
    r0 = run("convert", onnx_path, "-o", f32)
    r = run("convert", onnx_path, "-o", q8, "--quantize", "int8", "--calibration", cal[size], *recipe)
    check(f"{case}_int8_converts", r0.returncode == 0 and r.returncode == 0, r.stderr[-600:])
    if r.returncode != 0:
        continue
    rep = inspect(q8).get("quantization") or {}
    cos = [o["cosine_mean"] for o in rep.get("outputs", [])]
    check(f"{case}_int8_cosine_ge_0.995", cos and min(cos) >= 0.995 and rep.get("heldout_frames") == 6 and
          rep.get("calibration_frames") == 18 and rep.get("method") == "percentile" and not rep.get("forced"),
          json.dumps(rep.get("outputs")))
    got, why = run_blob(q8, case)
    ref, _ = run_blob(f32, case)
    check(f"{case}_int8_runs_like_fp32", got is not None and ref is not None and
          all(cosine(got[k], ref[k]) >= 0.99 for k in ref), why or str({k: cosine(got[k], ref[k]) for k in ref}))
    # 7-bit activations: the same gate, the report says 7, and the blob runs like fp32.
    q7 = os.path.join(tmp, case + ".int8a7.erb")
    r7 = run("convert", onnx_path, "-o", q7, "--quantize", "int8", "--calibration", cal[size], "--activation-bits",
             "7", *recipe)
    rep7 = inspect(q7).get("quantization") or {}
    cos7 = [o["cosine_mean"] for o in rep7.get("outputs", [])]
    print(f"  info  {case}: int8 mean cosine vs fp32 (held-out), lowest output: 8-bit {min(cos or [0]):.6f}, "
          f"7-bit {min(cos7 or [0]):.6f}", flush=True)
    # mftcn_trunk_64 is the one fixture below 0.995 with every layer on 7 bits (0.99373; 8 bits:
    # 0.99591): the converter puts its earliest layers back on 8 bits until 0.995 holds (5 of
    # them here, 0.99521); the others need none.
    check(f"{case}_int8_7bit_cosine_ge_0.995", r7.returncode == 0 and cos7 and min(cos7) >= 0.995 and
          rep7.get("activation_bits") == 7 and rep.get("activation_bits") == 8 and not rep7.get("forced") and
          not rep7.get("kept_fp32") and rep.get("kept_8bit") == [] and
          (len(rep7.get("kept_8bit", [])) in range(1, 9) if case == "mftcn_trunk_64" else rep7.get("kept_8bit") == []),
          r7.stderr[-400:] + json.dumps(rep7.get("outputs")) + json.dumps(rep7.get("kept_8bit")))
    got7, why7 = run_blob(q7, case)
    check(f"{case}_int8_7bit_runs_like_fp32", got7 is not None and ref is not None and
          all(cosine(got7[k], ref[k]) >= 0.99 for k in ref), why7 or str({k: cosine(got7[k], ref[k]) for k in ref}))
    layers = [l for l in rep.get("layers", []) if l["what"] == "output"]
    if case in ("grasp2vec_64", "tcn_99", "mftcn_trunk_64"):
        # The 0.3 target is for the full-size models (tools/bench/bench.py --int8 prints it);
        # these width-1/8 fixtures carry relatively more float32 per-channel constants.
        ratio = os.path.getsize(q8) / os.path.getsize(f32)
        check(f"{case}_int8_blob_le_0.33", ratio <= 0.33, f"{ratio:.3f}")
        check(f"{case}_int8_layers_reported", len(layers) >= 10 and all(l["sqnr_db"] is None or l["sqnr_db"] > 10
                                                                        for l in layers), str(layers[:3]))

# Every calibration method on one model.
for method in ("minmax", "percentile", "entropy"):
    out = os.path.join(tmp, f"g2v.{method}.erb")
    r = run("convert", os.path.join(fixtures, "grasp2vec_64", "model.onnx"), "-o", out, "--quantize", "int8",
            "--calibration", cal[64], "--calibration-method", method, "--calibration-frames", "16")
    rep = inspect(out).get("quantization") or {}
    check(f"method_{method}", r.returncode == 0 and rep.get("method") == method and
          rep.get("calibration_frames") == 12 and min(o["cosine_mean"] for o in rep["outputs"]) >= 0.99,
          r.stderr[-300:] + json.dumps(rep.get("outputs")))

# Family blobs: a graph input fed by another graph is calibrated on that graph's float32
# outputs (the mfTCN head on windows of 2 consecutive trunk maps, the RIG decoder on the
# encoder's mu), not on N(0, 1) values.
fx = lambda case: os.path.join(fixtures, case, "model.onnx")  # noqa: E731
rgb = "crop=center,resize={0}x{0}:bilinear,scale=0.00392157"
fam = {
    "mftcn": (["--family", "mftcn", "--graph", "trunk=" + fx("mftcn_trunk_64"), "--graph", "head=" + fx("mftcn_head_n2"),
               "--window", "2", "--stride", "3", "--preprocess", "trunk:" + rgb.format(64)], 64,
              "calibration: graph 'head' input 'features' <- graph 'trunk' output 'features' of 2 consecutive frames"),
    "rig": (["--family", "rig", "--graph", "encoder=" + fx("rig_encoder"), "--graph", "decoder=" + fx("rig_decoder"),
             "--preprocess", "encoder:" + rgb.format(48)], 48,
            "calibration: graph 'decoder' input "),
}
for name, (args, size, line) in fam.items():
    out = os.path.join(tmp, f"family_{name}.int8.erb")
    r = run("convert", *args, "--quantize", "int8", "--calibration", cal[size], "-o", out)
    rep = inspect(out).get("quantization") or {}
    cos = {o["graph"] + "/" + o["output"]: o["cosine_mean"] for o in rep.get("outputs", [])}
    check(f"family_{name}_fed_input_calibrated", r.returncode == 0 and line in r.stderr and
          len(cos) >= 2 and min(cos.values()) >= 0.995, r.stderr[-600:] + json.dumps(cos))

# int8-weights: storage only.
g2v = os.path.join(fixtures, "grasp2vec_64", "model.onnx")
w8 = os.path.join(tmp, "g2v.w8.erb")
r = run("convert", g2v, "-o", w8, "--quantize", "int8-weights", "--calibration", cal[64])
info = inspect(w8)
f32 = os.path.join(tmp, "grasp2vec_64.erb")
wsec = {s["name"]: s["size"] for s in info.get("sections", [])}
fsec = {s["name"]: s["size"] for s in inspect(f32).get("sections", [])}
check("int8_weights_converts", r.returncode == 0 and info.get("quantized_constants", 0) >= 40 and
      info["format_version"] == "1.1", r.stderr[-300:])
check("int8_weights_4x_smaller", wsec and wsec["weights"] <= 0.3 * fsec["weights"], f"{wsec} {fsec}")
got, _ = run_blob(w8, "grasp2vec_64")
ref, _ = run_blob(f32, "grasp2vec_64")
check("int8_weights_runs_like_fp32", got and ref and all(cosine(got[k], ref[k]) >= 0.998 for k in ref))
rep = info.get("quantization") or {}
check("int8_weights_report", rep.get("mode") == "int8-weights" and rep.get("method") == "" and
      rep.get("heldout_frames") == 6 and all(l["what"] == "weight" and l["sqnr_db"] > 30 for l in rep["layers"]) and
      {x["name"] for x in rep["rewards"]} == {"torch_jit.distance_spearman", "torch_jit.same_nearest"},
      json.dumps(rep)[:400])
r = run("inspect", w8)
check("inspect_text_shows_report", "quantization int8-weights" in r.stdout and "quantized constants:" in r.stdout)

# --keep-fp32: a named node stays float32; an unknown name is refused.
node = "/trunk/stem/Conv"
nodes = [n for n in onnx.load(g2v).graph.node if n.op_type == "Conv"]
node = nodes[0].name
k8 = os.path.join(tmp, "g2v.keep.erb")
r = run("convert", g2v, "-o", k8, "--quantize", "int8-weights", "--keep-fp32", node)
check("keep_fp32_node", r.returncode == 0 and inspect(k8)["quantized_constants"] == info["quantized_constants"] - 1
      and inspect(k8)["quantization"]["kept_fp32"] == [node], r.stderr)
r = run("convert", g2v, "-o", k8, "--quantize", "int8", "--calibration", cal[64], "--keep-fp32", node)
rep = inspect(k8).get("quantization") or {}
check("keep_fp32_int8", r.returncode == 0 and node in rep.get("kept_fp32", []) and
      node not in [l["node"] for l in rep.get("layers", [])], r.stderr[-300:])
r = run("convert", g2v, "-o", k8, "--quantize", "int8-weights", "--keep-fp32", "no_such_node")
check("keep_fp32_unknown_refused", r.returncode == 1 and r.stderr.strip() ==
      "embedrt convert: --keep-fp32 no_such_node: no node of that name (see embedrt inspect --nodes)", r.stderr)

# The gate: on grey frames (R = G) the +1000 and -1000 centre weights of every output channel
# cancel and the output comes from the small B weights; per-channel int8 at a scale of
# 1000/127 stores those small weights as 0, so the quantized output is 0.
rng = np.random.RandomState(3)
w = np.zeros((32, 3, 3, 3), np.float32)  # 3x3: a reduction of 27, long enough for int8
w[:, 0, 1, 1], w[:, 1, 1, 1], w[:, 2] = 1000.0, -1000.0, rng.rand(32, 3, 3) + 0.5
x = helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 3, 48, 48])
y = helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 32, 48, 48])
m = helper.make_model(helper.make_graph(
    [helper.make_node("Conv", ["x", "w"], ["y"], name="cancel", kernel_shape=[3, 3], pads=[1, 1, 1, 1])],
    "outlier", [x], [y],
    [helper.make_tensor("w", TensorProto.FLOAT, w.shape, w.ravel())]), opset_imports=[helper.make_opsetid("", 13)])
bad = os.path.join(tmp, "outlier.onnx")
onnx.save(m, bad)
grey = os.path.join(tmp, "grey")
os.makedirs(grey)
for i in range(8):
    g = np.repeat(rng.randint(0, 256, (48, 48, 1)), 3, 2).astype(np.uint8)
    with open(os.path.join(grey, f"g{i}.ppm"), "wb") as f:
        f.write(b"P6\n48 48\n255\n" + g.tobytes())
out = os.path.join(tmp, "outlier.erb")
r = run("convert", bad, "-o", out, "--quantize", "int8-weights", "--calibration", grey)
check("gate_refuses", r.returncode == 1 and not os.path.exists(out) and
      "(gate 0.99); keep sensitive layers with --keep-fp32 NODE,... or write it anyway with --force" in r.stderr,
      r.stderr[-400:])
r = run("convert", bad, "-o", out, "--quantize", "int8-weights", "--calibration", grey, "--force")
rep = inspect(out).get("quantization") or {}
check("gate_force_writes", r.returncode == 0 and rep.get("forced") is True and rep["outputs"][0]["cosine_mean"] < 0.99,
      r.stderr[-300:])
r = run("convert", bad, "-o", out, "--quantize", "int8-weights", "--calibration", grey, "--keep-fp32", "cancel")
check("gate_passes_with_keep", r.returncode == 0 and inspect(out)["quantization"]["outputs"][0]["cosine_mean"] > 0.9999,
      r.stderr[-300:])
r = run("convert", bad, "-o", out, "--quantize", "int8", "--calibration", grey)
rep = inspect(out).get("quantization") or {}
check("int8_falls_back_to_fp32", r.returncode == 0 and rep.get("kept_fp32") == ["cancel"] and not rep.get("forced")
      and rep["outputs"][0]["cosine_mean"] > 0.9999 and "int8 try 2" in r.stderr, r.stderr[-400:])

# Bad options: one line each, exit 2 (usage) or 1 (input).
for args, want, code in [
        (["--quantize", "int4"], "embedrt convert: --quantize 'int4': expected int8 or int8-weights", 2),
        (["--quantize", "int8"], "embedrt convert: --quantize int8 needs --calibration PATH (frames to measure "
                                 "activation ranges on)", 2),
        (["--calibration", cal[64]], "embedrt convert: --calibration, --calibration-frames, --calibration-method, "
                                     "--keep-fp32 and --force need --quantize", 2),
        (["--quantize", "int8", "--calibration", cal[64], "--calibration-method", "kl"],
         "embedrt convert: --calibration-method 'kl': expected minmax, percentile or entropy", 2),
        (["--quantize", "int8-weights", "--calibration", cal[64], "--calibration-method", "entropy"],
         "embedrt convert: --calibration-method is for --quantize int8 (int8-weights has no activation ranges)", 2),
        (["--quantize", "int8", "--calibration", cal[64], "--activation-bits", "6"],
         "embedrt convert: --activation-bits '6': expected 7 or 8", 2),
        (["--quantize", "int8-weights", "--activation-bits", "7"],
         "embedrt convert: --activation-bits is for --quantize int8 (the bits of the quantized activations)", 2),
        (["--quantize", "int8", "--calibration", os.path.join(tmp, "nope")],
         None, 1)]:
    r = run("convert", g2v, "-o", os.path.join(tmp, "x.erb"), *args)
    lines = r.stderr.strip().splitlines()
    ok = r.returncode == code and len(lines) == 1 and (want is None or lines[0] == want)
    if want is None:
        ok = ok and "--calibration" in lines[0] and "nope" in lines[0]
    check("refuses " + " ".join(args[:2] + args[-2:]), ok, r.stderr)

shutil.rmtree(tmp, ignore_errors=True)
print(f"{passed} passed, {failed} failed")
sys.exit(1 if failed else 0)
