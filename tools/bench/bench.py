#!/usr/bin/python3
"""Speed and numerics of embedrt against ONNX Runtime and PyTorch on the reference models.
Exports the full-size graphs once (cached), converts them, times all three, prints a table.

usage: /usr/bin/python3 tools/bench/bench.py [--threads 1,2] [--iterations 20] [--warmup 3] [--rounds R]
           [--models a,b] [--size full|small] [--embedrt PATH] [--ort-bench PATH] [--cache DIR]
           [--no-ort] [--no-torch] [--no-embedrt] [--reexport] [--json FILE] [--int8] [--int8-bits 7|8]
With --int8 each model is also converted with --quantize int8 (calibrated on 32 synthetic
frames) and timed in the same rounds: a second table compares embedrt int8, embedrt fp32
and ONNX Runtime fp32. --int8-bits 7 converts with --activation-bits 7 (7-bit activations:
the AVX2 vpmaddubsw kernel); the default 8 is the converter's default.
See tools/bench/README.md for what each column means.
"""

import argparse
import glob
import hashlib
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import time

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
EXPORT = os.path.join(ROOT, "models", "export_reference.py")
DEFAULT_MODELS = {
    "full": ["grasp2vec_224", "grasp2vec_472", "tcn_299", "mftcn_trunk_224", "mftcn_head_n2",
             "rig_encoder", "rig_decoder", "ccvae", "ccvae_context"],
    "small": ["grasp2vec_64", "tcn_99", "mftcn_trunk_64", "mftcn_head_n2", "rig_encoder",
              "rig_decoder", "ccvae", "ccvae_context"],
}


class BenchError(Exception):
    """A failure of one tool on one model: reported in the table, the run goes on."""


def die(msg):
    print(f"bench: {msg}", file=sys.stderr)
    sys.exit(2)


def run_json(cmd, what, timeout):
    """Runs cmd and returns the last JSON line of its stdout."""
    try:
        p = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        raise BenchError(f"{what}: timed out after {timeout} s")
    except OSError as e:
        raise BenchError(f"{what}: cannot run {cmd[0]}: {e.strerror}")
    if p.returncode != 0:
        tail = (p.stderr.strip() or p.stdout.strip() or "no output").splitlines()[-1]
        raise BenchError(f"{what}: exit {p.returncode}: {tail}")
    for line in reversed(p.stdout.splitlines()):
        if line.startswith("{"):
            try:
                return json.loads(line)
            except json.JSONDecodeError:
                break
    raise BenchError(f"{what}: no JSON line in its output")


def run_quiet(cmd, what, timeout):
    try:
        p = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        raise BenchError(f"{what}: timed out after {timeout} s")
    except OSError as e:
        raise BenchError(f"{what}: cannot run {cmd[0]}: {e.strerror}")
    if p.returncode != 0:
        tail = (p.stderr.strip() or p.stdout.strip() or "no output").splitlines()[-1]
        raise BenchError(f"{what}: exit {p.returncode}: {tail}")


def max_rel_err(expected, got):
    """max |got - expected| / max |expected|: the definition ort-bench uses."""
    if expected.shape != got.shape:
        raise BenchError(f"shape {list(got.shape)} where {list(expected.shape)} was expected")
    scale = max(float(np.abs(expected).max()), 1e-6)
    return float(np.abs(got.astype(np.float64) - expected).max()) / scale


def sources_hash():
    h = hashlib.sha256()
    for path in sorted([EXPORT] + glob.glob(os.path.join(ROOT, "models", "*", "reference", "*.py"))):
        with open(path, "rb") as f:
            h.update(os.path.relpath(path, ROOT).encode() + b"\0" + f.read())
    return h.hexdigest()


def ensure_exported(models, size, model_dir, force):
    """Exports the missing cases; a change to the reference sources invalidates the cache."""
    stamp = os.path.join(model_dir, ".sources-sha256")
    digest = sources_hash()
    if not (os.path.exists(stamp) and open(stamp).read().strip() == digest) and os.path.isdir(model_dir):
        shutil.rmtree(model_dir)
    todo = [m for m in models if force or not os.path.exists(os.path.join(model_dir, m, "meta.json"))]
    if not todo:
        return
    print(f"bench: exporting {', '.join(todo)} ({size}) to {model_dir} ...", file=sys.stderr, flush=True)
    t0 = time.time()
    p = subprocess.run([sys.executable, EXPORT, "--size", size, "--out", model_dir, "--only", ",".join(todo),
                        "--quiet"], capture_output=True, text=True)
    if p.returncode != 0:
        die(f"export failed: {(p.stderr.strip() or p.stdout.strip() or 'no output').splitlines()[-1]}")
    print(f"bench: exported in {time.time() - t0:.1f} s", file=sys.stderr)
    with open(stamp, "w") as f:
        f.write(digest + "\n")


def case_files(case_dir, meta, kind):
    """{name: path} of the input_/output_ .npy files, in the graph's order (from meta.json)."""
    files = {}
    for entry in meta[kind + "s"]:
        path = os.path.join(case_dir, f"{kind}_{entry['name']}.npy")
        if not os.path.exists(path):
            die(f"{path} is missing: run again with --reexport")
        files[entry["name"]] = path
    return files


# ---------------------------------------------------------------------------------------------
# The three runtimes.

def embedrt_convert(exe, onnx_path, erb):
    if os.path.exists(erb) and os.path.getmtime(erb) > max(os.path.getmtime(onnx_path), os.path.getmtime(exe)):
        return
    run_quiet([exe, "convert", onnx_path, "-o", erb], "embedrt convert", 1800)


def calibration_frames(cache, size):
    """32 smooth random RGB frames of size x size (PPM), made once: int8 calibration input."""
    d = os.path.join(cache, "calib", str(size))
    if len(glob.glob(os.path.join(d, "*.ppm"))) == 32:
        return d
    os.makedirs(d, exist_ok=True)
    rng = np.random.RandomState(size)
    for i in range(32):
        small = rng.rand(size // 16 + 1, size // 16 + 1, 3) * 255
        img = np.repeat(np.repeat(small, 16, 0), 16, 1)[:size, :size]
        img = np.clip(img + rng.randn(size, size, 3) * 10, 0, 255).astype(np.uint8)
        with open(os.path.join(d, f"f{i:03d}.ppm"), "wb") as f:
            f.write(b"P6\n%d %d\n255\n" % (size, size) + img.tobytes())
    return d


def embedrt_convert_int8(exe, onnx_path, erb, frames, meta, bits=8):
    if os.path.exists(erb) and os.path.getmtime(erb) > max(os.path.getmtime(onnx_path), os.path.getmtime(exe)):
        return
    # Inputs in [-1, 1] (TCN, mfTCN) are x * 2/255 - 1 of the frame: calibrate on that.
    signed = meta["inputs"][0].get("range", [0, 1])[0] < -0.5
    recipe = ["--preprocess", "scale=2/255,mean=1,1,1"] if signed else []
    run_quiet([exe, "convert", onnx_path, "-o", erb, "--quantize", "int8", "--calibration", frames,
               "--activation-bits", str(bits)] + recipe, "embedrt convert --quantize int8", 3600)


def image_size(meta):
    for i in meta["inputs"]:
        if len(i["shape"]) == 4 and i["shape"][1] == 3:
            return i["shape"][3]
    return 64


def embedrt_check(exe, erb, inputs, outputs, out_dir):
    os.makedirs(out_dir, exist_ok=True)
    for stale in glob.glob(os.path.join(out_dir, "*.npy")):
        os.remove(stale)
    cmd = [exe, "run", erb]
    for name, path in inputs.items():
        cmd += ["--input", f"{name}={path}"]
    run_quiet(cmd + ["--output-dir", out_dir], "embedrt run", 600)
    err = 0.0
    for name, path in outputs.items():
        got = os.path.join(out_dir, name + ".npy")
        if not os.path.exists(got):
            raise BenchError(f"embedrt run wrote no {name}.npy")
        err = max(err, max_rel_err(np.load(path), np.load(got)))
    return err


def embedrt_bench(exe, erb, threads, iterations, warmup):
    return run_json([exe, "bench", erb, "--threads", str(threads), "--iterations", str(iterations),
                     "--warmup", str(warmup)], "embedrt bench", 3600)


def embedrt_compare(exe, erb, erb8, threads, iterations, warmup):
    """`embedrt bench fp32.erb --compare int8.erb`: (fp32 run, int8 run); the int8 run carries
    ratio_median and cpu_ratio_median, the medians of the per-iteration ratios int8/fp32."""
    r = run_json([exe, "bench", erb, "--compare", erb8, "--threads", str(threads), "--iterations", str(iterations),
                  "--warmup", str(warmup)], "embedrt bench --compare", 3600)
    for k in ("compare_median_ms", "compare_cpu_ms", "ratio_median", "cpu_ratio_median"):
        if k not in r:
            raise BenchError(f"embedrt bench --compare printed no {k} (an old embedrt binary?)")
    q = {"median_ms": r["compare_median_ms"], "min_ms": r.get("compare_min_ms"), "cpu_ms": r["compare_cpu_ms"],
         "ratio_median": r["ratio_median"], "cpu_ratio_median": r["cpu_ratio_median"], "threads": r.get("threads")}
    return r, q


def ort_bench(tool, onnx_path, threads, iterations, inputs, outputs):
    cmd = [tool, onnx_path, str(threads), str(iterations)]
    cmd += [f"{n}={p}" for n, p in inputs.items()]
    cmd += ["--expect"] + [f"{n}={p}" for n, p in outputs.items()]
    return run_json(cmd, "ort-bench", 3600)


def torch_models(size, names):
    """The PyTorch models, rebuilt from the same seeds as the exported graphs."""
    import importlib.util
    import torch
    spec = importlib.util.spec_from_file_location("embedrt_export_reference", EXPORT)
    ref = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(ref)
    torch.set_num_threads(1)  # the export calibrated on one thread: same weights bit for bit
    return {c.name: c.model.eval() for c in ref.build_cases(size, set(names))}


def torch_bench(model, inputs, outputs, threads, iterations, warmup):
    import torch
    torch.set_num_threads(threads)
    args = tuple(torch.from_numpy(np.load(p)) for p in inputs.values())
    with torch.no_grad():
        result = model(*args)
        result = result if isinstance(result, tuple) else (result,)
        err = max(max_rel_err(np.load(p), r.numpy()) for p, r in zip(outputs.values(), result))
        for _ in range(warmup):
            model(*args)
        times = []
        for _ in range(iterations):
            t0 = time.perf_counter()
            model(*args)
            times.append((time.perf_counter() - t0) * 1e3)
    return {"median_ms": statistics.median(times), "max_rel_err": err}


# ---------------------------------------------------------------------------------------------

def median_run(runs):
    """The run whose median_ms is the median over rounds (None when there are none)."""
    if not runs:
        return None
    return sorted(runs, key=lambda r: r["median_ms"])[(len(runs) - 1) // 2]


def fmt(v, spec):
    return "n/a" if v is None else format(v, spec)


def cpu_name():
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.machine()


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--size", choices=["full", "small"], default="full")
    ap.add_argument("--models", default="", help="comma-separated cases (default: all of --size)")
    ap.add_argument("--threads", default="1,2", help="comma-separated thread counts (default 1,2)")
    ap.add_argument("--rounds", type=int, default=1,
                    help="alternate embedrt and ONNX Runtime this many times per model and thread count; "
                         "times are the median round, the ratio the median of per-round ratios (default 1)")
    ap.add_argument("--iterations", type=int, default=20)
    ap.add_argument("--warmup", type=int, default=3)
    ap.add_argument("--embedrt", default=os.path.join(ROOT, "build", "tools", "embedrt", "embedrt"))
    ap.add_argument("--ort-bench", default=os.path.normpath(os.path.join(ROOT, "..", "shared", "peers", "ort-bench")),
                    help="ONNX Runtime peer script (default ../shared/peers/ort-bench from the repo)")
    ap.add_argument("--cache", default=os.path.join(ROOT, "build", "bench"))
    ap.add_argument("--no-embedrt", action="store_true", help="skip embedrt (peers only)")
    ap.add_argument("--no-ort", action="store_true")
    ap.add_argument("--no-torch", action="store_true")
    ap.add_argument("--reexport", action="store_true", help="export the ONNX models again")
    ap.add_argument("--json", help="also write every measurement to this file")
    ap.add_argument("--int8", action="store_true", help="also time embedrt with --quantize int8 blobs")
    ap.add_argument("--int8-bits", type=int, choices=[7, 8], default=8,
                    help="--activation-bits of the int8 conversions (7: the AVX2 vpmaddubsw kernel; default 8)")
    args = ap.parse_args()

    try:
        threads = [int(t) for t in args.threads.split(",") if t.strip()]
    except ValueError:
        die(f"--threads: expected comma-separated integers, got '{args.threads}'")
    if not threads or min(threads) < 1 or args.iterations < 1 or args.warmup < 0 or args.rounds < 1:
        die("--threads, --iterations, --rounds must be >= 1 and --warmup >= 0")
    models = [m.strip() for m in args.models.split(",") if m.strip()] or DEFAULT_MODELS[args.size]
    exe = os.path.abspath(args.embedrt)
    if not args.no_embedrt and not (os.path.isfile(exe) and os.access(exe, os.X_OK)):
        die(f"embedrt not found at {exe}: build it first (tools/dev build), pass --embedrt PATH, "
            f"or --no-embedrt to time the peers only")
    if not args.no_embedrt:
        for sub in ("convert", "run", "bench", "peak"):
            if subprocess.run([exe, sub, "--help"], capture_output=True).returncode != 0:
                die(f"{exe} has no working '{sub}' subcommand (this benchmark needs embedrt convert, run, "
                    f"bench and peak); rebuild, or pass --no-embedrt to time the peers only")
    if not args.no_ort and not os.path.isfile(args.ort_bench):
        die(f"ONNX Runtime peer not found at {args.ort_bench}: pass --ort-bench PATH or --no-ort")

    model_dir = os.path.join(args.cache, "models" if args.size == "full" else "models-small")
    ensure_exported(models, args.size, model_dir, args.reexport)
    for m in models:
        if not os.path.exists(os.path.join(model_dir, m, "model.onnx")):
            die(f"no case '{m}' for --size {args.size} (cases: {', '.join(DEFAULT_MODELS[args.size])}, "
                f"tcn_l2_*)")

    peak = {}
    if not args.no_embedrt:
        for t in threads:
            try:
                peak[t] = run_json([exe, "peak", "--threads", str(t)], "embedrt peak", 120)["gflops"]
            except (BenchError, KeyError) as e:
                die(f"embedrt peak --threads {t}: {e}")
    tms = {} if args.no_torch else torch_models(args.size, models)

    rows, problems = [], []
    for m in models:
        case_dir = os.path.join(model_dir, m)
        onnx_path = os.path.join(case_dir, "model.onnx")
        with open(os.path.join(case_dir, "meta.json")) as f:
            meta = json.load(f)
        inputs, outputs = case_files(case_dir, meta, "input"), case_files(case_dir, meta, "output")
        erb = os.path.join(args.cache, "erb", m + ".erb")
        ert_ok, ert_err = not args.no_embedrt, None
        erb8 = os.path.join(args.cache, "erb", m + (".int8.erb" if args.int8_bits == 8 else ".int8a7.erb"))
        q_ok, q_err = ert_ok and args.int8, None
        if ert_ok:
            os.makedirs(os.path.dirname(erb), exist_ok=True)
            try:
                embedrt_convert(exe, onnx_path, erb)
                ert_err = embedrt_check(exe, erb, inputs, outputs, os.path.join(args.cache, "run", m))
            except BenchError as e:
                problems.append(f"{m}: {e}")
                ert_ok = q_ok = False
        if q_ok:
            try:
                embedrt_convert_int8(exe, onnx_path, erb8, calibration_frames(args.cache, image_size(meta)), meta,
                                     args.int8_bits)
                q_err = embedrt_check(exe, erb8, inputs, outputs, os.path.join(args.cache, "run8", m))
            except BenchError as e:
                problems.append(f"{m} int8: {e}")
                q_ok = False
        for t in threads:
            row = {"model": m, "threads": t, "macs": meta["macs"], "embedrt": None, "ort": None, "torch": None,
                   "embedrt_err": ert_err, "peak_gflops": peak.get(t), "int8": None, "int8_err": q_err,
                   "int8_size": os.path.getsize(erb8) / os.path.getsize(erb) if q_ok else None}
            print(f"bench: {m} at {t} thread(s) ...", file=sys.stderr, flush=True)
            # Rounds alternate embedrt and ONNX Runtime so that a neighbour's load on a shared
            # machine hits both alike; the ratio is the median of the per-round ratios.
            e_runs, o_runs, q_runs = [], [], []
            for _ in range(args.rounds):
                if ert_ok and q_ok:
                    # fp32 and int8 in one process, one run of each per iteration: the host's
                    # swings (seconds long) then slow both sides of every ratio alike.
                    try:
                        e, q = embedrt_compare(exe, erb, erb8, t, args.iterations, args.warmup)
                        e_runs.append(e)
                        q_runs.append(q)
                    except BenchError as e:
                        problems.append(f"{m} int8 ({t} threads): {e}")
                        q_ok = False
                if ert_ok and not q_ok:
                    try:
                        e_runs.append(embedrt_bench(exe, erb, t, args.iterations, args.warmup))
                    except BenchError as e:
                        problems.append(f"{m} ({t} threads): {e}")
                        ert_ok = False
                if not args.no_ort:
                    try:
                        o_runs.append(ort_bench(args.ort_bench, onnx_path, t, args.iterations, inputs, outputs))
                    except BenchError as e:
                        problems.append(f"{m} ({t} threads): {e}")
                        break
            row["embedrt"] = median_run(e_runs)
            row["ort"] = median_run(o_runs)
            row["int8"] = median_run(q_runs)
            if e_runs and len(e_runs) == len(o_runs):
                row["ratios"] = [a["median_ms"] / b["median_ms"] for a, b in zip(e_runs, o_runs)]
            if q_runs and len(q_runs) == len(e_runs):
                row["int8_ratios"] = [q["ratio_median"] for q in q_runs]
                row["int8_cpu_ratios"] = [q["cpu_ratio_median"] for q in q_runs]
            if q_runs and len(q_runs) == len(o_runs):
                row["int8_ort_ratios"] = [a["median_ms"] / b["median_ms"] for a, b in zip(q_runs, o_runs)]
            if m in tms:
                row["torch"] = torch_bench(tms[m], inputs, outputs, t, args.iterations, args.warmup)
            rows.append(row)

    print(f"\n{cpu_name()}, {os.cpu_count()} CPUs; {args.size} models; {args.iterations} iterations after "
          f"{args.warmup} warm-up; times are medians in ms"
          + (f"; {args.rounds} alternating rounds (median round, median per-round ratio)" if args.rounds > 1 else ""))
    if peak:
        print("cblas_sgemm peak: " + ", ".join(f"{t} thread(s) {g:.1f} GFLOP/s" for t, g in peak.items()))
    print()
    print("| model | threads | embedrt ms | ORT ms | PyTorch ms | embedrt/ORT | embedrt GFLOP/s | % of peak "
          "| embedrt err | ORT err | PyTorch err |")
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    for r in rows:
        e, o, p = r["embedrt"], r["ort"], r["torch"]
        e_ms = e.get("median_ms") if e else None
        o_ms = o.get("median_ms") if o else None
        gflops = None
        if e_ms:
            gflops = e.get("gflops") or 2.0 * r["macs"] / (e_ms * 1e6)
        pct = 100.0 * gflops / r["peak_gflops"] if gflops and r["peak_gflops"] else None
        ratio = statistics.median(r["ratios"]) if r.get("ratios") else (e_ms / o_ms if e_ms and o_ms else None)
        print(f"| {r['model']} | {r['threads']} | {fmt(e_ms, '.2f')} | {fmt(o_ms, '.2f')} | "
              f"{fmt(p and p['median_ms'], '.2f')} | {fmt(ratio, '.2f')} | "
              f"{fmt(gflops, '.1f')} | {fmt(pct, '.0f')} | {fmt(r['embedrt_err'], '.1e')} | "
              f"{fmt(o and o.get('max_rel_err'), '.1e')} | {fmt(p and p['max_rel_err'], '.1e')} |")
    if args.int8:
        print(f"\nint8 (--quantize int8 --activation-bits {args.int8_bits}, percentile calibration on 32 synthetic "
              "frames): int8/fp32 is the median "
              "over rounds of `embedrt bench fp32.erb --compare int8.erb`'s median per-iteration ratio (one fp32 "
              "run and one int8 run alternate); int8/ORT the median of per-round ratios; err = max relative error "
              "vs PyTorch float32; size = int8 blob / fp32 blob; int8/fp32 CPU = the same ratio on process CPU "
              "time (at 1 thread the compute time, which other jobs cannot inflate; at 2 threads it sums both "
              "workers and is no latency)")
        print()
        print("| model | threads | int8 ms | fp32 ms | ORT fp32 ms | int8/fp32 | int8/fp32 CPU | int8/ORT | int8 err "
              "| size |")
        print("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
        for r in rows:
            q, e, o = r["int8"], r["embedrt"], r["ort"]
            med = lambda k: statistics.median(r[k]) if r.get(k) else None  # noqa: E731
            print(f"| {r['model']} | {r['threads']} | {fmt(q and q['median_ms'], '.2f')} | "
                  f"{fmt(e and e['median_ms'], '.2f')} | {fmt(o and o.get('median_ms'), '.2f')} | "
                  f"{fmt(med('int8_ratios'), '.2f')} | {fmt(med('int8_cpu_ratios'), '.2f')} | "
                  f"{fmt(med('int8_ort_ratios'), '.2f')} | "
                  f"{fmt(r['int8_err'], '.1e')} | {fmt(r['int8_size'], '.2f')} |")
    if problems:
        print("\nproblems:")
        for msg in problems:
            print(f"- {msg}")
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"cpu": cpu_name(), "size": args.size, "iterations": args.iterations, "warmup": args.warmup,
                       "rounds": args.rounds,
                       "peak_gflops": peak, "rows": rows, "problems": problems}, f, indent=1)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
