"""The `embedrt` CLI as scripts use it: convert | inspect | run | bench, exit codes and
one-line errors. usage: test_cli.py EMBEDRT_BINARY FIXTURE_DIR"""
import json
import os
import subprocess
import sys
import tempfile

import numpy as np
import onnx
from onnx import helper, TensorProto

cli, fixtures = sys.argv[1], sys.argv[2]
passed = failed = 0


def check(name, cond, detail=""):
    global passed, failed
    if cond:
        passed += 1
        print(f"  ok    {name}")
    else:
        failed += 1
        print(f"  FAIL  {name} {detail}")


def run(*args, timeout=300):
    return subprocess.run([cli, *args], capture_output=True, text=True, timeout=timeout)


def one_line_error(r):
    lines = r.stderr.strip().splitlines()
    return r.returncode != 0 and len(lines) == 1 and lines[0].startswith("embedrt ")


tmp = tempfile.mkdtemp(prefix="ert-cli-")
case = os.path.join(fixtures, "grasp2vec_64")
blob = os.path.join(tmp, "g2v.erb")

# convert
r = run("convert", os.path.join(case, "model.onnx"), "-o", blob)
check("convert_succeeds", r.returncode == 0 and os.path.getsize(blob) > 0, r.stderr)
check("convert_reports_summary", "nodes" in r.stdout and "arena" in r.stdout, r.stdout)

# run: outputs named as in the ONNX graph, equal to PyTorch's
outdir = os.path.join(tmp, "out")
r = run("run", blob, "--input", "image=" + os.path.join(case, "input_image.npy"), "--output-dir", outdir,
        "--threads", "1")
check("run_succeeds", r.returncode == 0, r.stderr)
for name in ("vector", "spatial"):
    path = os.path.join(outdir, name + ".npy")
    ok = os.path.exists(path)
    check(f"run_writes_{name}_npy", ok)
    if ok:
        got, want = np.load(path), np.load(os.path.join(case, f"output_{name}.npy"))
        err = float(np.max(np.abs(got - want))) / max(float(np.max(np.abs(want))), 1e-30)
        check(f"run_{name}_matches_pytorch", got.dtype == np.float32 and got.shape == want.shape and err <= 1e-4,
              f"dtype {got.dtype} shape {got.shape} vs {want.shape}, rel err {err:.3g}")

# inspect
r = run("inspect", blob, "--json")
check("inspect_json_succeeds", r.returncode == 0, r.stderr)
try:
    info = json.loads(r.stdout)
except ValueError:
    info = {}
check("inspect_json_is_one_object", isinstance(info, dict) and info, r.stdout[:200])
for key in ("format_version", "graphs", "sections", "provenance", "file_size"):
    check(f"inspect_has_{key}", key in info, sorted(info))
g = (info.get("graphs") or [{}])[0]
for key in ("inputs", "outputs", "op_counts", "parameters", "macs", "arena_bytes", "weight_bytes"):
    check(f"inspect_graph_has_{key}", key in g, sorted(g))
check("inspect_input_shape", g.get("inputs", [{}])[0].get("shape") == [1, 3, 64, 64], g.get("inputs"))
check("inspect_section_crcs", all("crc32" in s for s in info.get("sections", [])) and info.get("sections"))
check("inspect_provenance_names_source", info.get("provenance", {}).get("source_file") == "model.onnx",
      info.get("provenance"))
r = run("inspect", blob)
check("inspect_text_succeeds", r.returncode == 0 and "Conv" in r.stdout, r.stderr)

# bench
r = run("bench", blob, "--threads", "1", "--iterations", "3", "--warmup", "1")
check("bench_succeeds", r.returncode == 0, r.stderr)
try:
    b = json.loads(r.stdout)
except ValueError:
    b = {}
for key in ("median_ms", "p90_ms", "p99_ms", "min_ms", "cpu_ms", "macs", "gflops", "arena_bytes"):
    check(f"bench_has_{key}", key in b, r.stdout)
check("bench_macs_positive", b.get("macs", 0) > 1e6, b)

# bench --compare: one run of each blob per iteration; a blob against itself gives ~1
r = run("bench", blob, "--compare", blob, "--threads", "1", "--iterations", "9", "--warmup", "1")
check("bench_compare_succeeds", r.returncode == 0, r.stderr)
try:
    b = json.loads(r.stdout)
except ValueError:
    b = {}
for key in ("median_ms", "cpu_ms", "compare_model", "compare_median_ms", "compare_min_ms", "compare_cpu_ms",
            "ratio_median", "cpu_ratio_median"):
    check(f"bench_compare_has_{key}", key in b, r.stdout)
check("bench_compare_names_other_blob", b.get("compare_model") == blob, b.get("compare_model"))
check("bench_compare_self_ratio_near_1", 0.6 < b.get("ratio_median", 0) < 1.6, b.get("ratio_median"))
check("bench_compare_self_cpu_ratio_near_1", 0.6 < b.get("cpu_ratio_median", 0) < 1.6, b.get("cpu_ratio_median"))
check("bench_compare_times_positive", b.get("compare_median_ms", 0) > 0 and b.get("compare_cpu_ms", 0) > 0, b)
r = run("bench", blob, "--compare")
check("bench_compare_without_path_one_line", one_line_error(r) and r.returncode == 2 and "--compare" in r.stderr,
      r.stderr)
r = run("bench", blob, "--compare", os.path.join(tmp, "missing.erb"), "--iterations", "1")
check("bench_compare_missing_blob_one_line", one_line_error(r) and r.returncode == 1 and "missing.erb" in r.stderr,
      r.stderr)
r = run("bench", blob, "--compare", blob, "--profile", "--iterations", "1")
check("bench_compare_with_profile_rejected", one_line_error(r) and r.returncode == 2 and "--profile" in r.stderr,
      r.stderr)
r = run("bench", blob, "--compare", blob, "--graph", "nosuch", "--iterations", "1")
check("bench_compare_unknown_graph_one_line", one_line_error(r) and "nosuch" in r.stderr, r.stderr)

# --input-shape overrides the model's input shape
rig = os.path.join(fixtures, "rig_encoder", "model.onnx")
r = run("convert", rig, "-o", os.path.join(tmp, "rig.erb"), "--input-shape", "image=1x3x48x48", "--compress")
check("convert_input_shape_and_compress", r.returncode == 0, r.stderr)
r = run("convert", rig, "-o", os.path.join(tmp, "rig2.erb"), "--input-shape", "nosuch=1x3x48x48")
check("convert_rejects_unknown_input_name", one_line_error(r) and "nosuch" in r.stderr, r.stderr)
r = run("convert", rig, "-o", os.path.join(tmp, "rig3.erb"), "--input-shape", "image=1x3x4x4")
check("convert_rejects_too_small_input", one_line_error(r), r.stderr)

# failures: non-zero exit and one actionable line
r = run("convert", os.path.join(tmp, "missing.onnx"), "-o", os.path.join(tmp, "x.erb"))
check("convert_missing_file_one_line", one_line_error(r) and "missing.onnx" in r.stderr, r.stderr)
model = helper.make_model(helper.make_graph(
    [helper.make_node("Hardmax", ["x"], ["y"], name="hm")], "g",
    [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 4])],
    [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 4])]), opset_imports=[helper.make_opsetid("", 13)])
bad = os.path.join(tmp, "hardmax.onnx")
onnx.save(model, bad)
r = run("convert", bad, "-o", os.path.join(tmp, "hm.erb"))
check("convert_unsupported_op_names_node_op_opset_and_list",
      one_line_error(r) and "'hm'" in r.stderr and "Hardmax" in r.stderr and "opset 13" in r.stderr
      and "Conv" in r.stderr, r.stderr)
model = helper.make_model(helper.make_graph(
    [helper.make_node("Relu", ["x"], ["y"], name="r", bogus=3)], "g",
    [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 4])],
    [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 4])]), opset_imports=[helper.make_opsetid("", 13)])
onnx.save(model, bad)
r = run("convert", bad, "-o", os.path.join(tmp, "hm.erb"))
check("convert_unsupported_attribute_named", one_line_error(r) and "bogus" in r.stderr, r.stderr)

data = open(blob, "rb").read()
trunc = os.path.join(tmp, "trunc.erb")
open(trunc, "wb").write(data[: len(data) // 2])
r = run("inspect", trunc)
check("inspect_truncated_blob_one_line", one_line_error(r) and "trunc.erb" in r.stderr, r.stderr)
flip = bytearray(data)
flip[len(flip) - 100] ^= 0x10
flipped = os.path.join(tmp, "flip.erb")
open(flipped, "wb").write(bytes(flip))
r = run("run", flipped, "--input", "image=" + os.path.join(case, "input_image.npy"), "--output-dir", outdir)
check("run_bitflipped_blob_crc_error", one_line_error(r) and "CRC" in r.stderr, r.stderr)
r = run("run", blob, "--input", "image=" + os.path.join(fixtures, "rig_encoder", "input_image.npy"),
        "--output-dir", outdir)
check("run_wrong_input_shape_one_line", one_line_error(r) and "image" in r.stderr, r.stderr)
r = run("run", blob, "--output-dir", outdir)
check("run_missing_input_one_line", one_line_error(r) and "--input image=" in r.stderr, r.stderr)
r = run("frobnicate")
check("unknown_command_exit_2", r.returncode == 2 and "frobnicate" in r.stderr, r.stderr)
for sub in ("convert", "inspect", "run", "bench", "peak"):
    r = run(sub, "--help")
    check(f"{sub}_help", r.returncode == 0 and "usage: embedrt " + sub in r.stdout, r.stderr)

print(f"cli: {passed} passed, {failed} failed")
sys.exit(1 if failed else 0)
