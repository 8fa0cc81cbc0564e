#!/usr/bin/python3
"""Reward quality of the shipped RIG and CC-VAE demo blobs through embedrtd (issue 8), on a
reduced held-out set: 4 simworld push episodes of seed 1001 (training used seed 1 only),
fp32 and int8 blobs of both families. Asserts per blob a mean Spearman correlation between
the daemon's reward and minus the true puck-to-goal distance >= 0.9, and int8 within 0.02
of fp32. tools/eval/eval_vae.py does the work (the full table: 20 episodes, see README).

usage: test_eval_vae.py BUILD_ROOT SOURCE_ROOT PROTO_PY_DIR"""
import json
import os
import sys
import tempfile

build, root, proto = sys.argv[1:4]
sys.path.insert(0, os.path.join(root, "tools", "eval"))
import eval_vae  # noqa: E402

EPISODES = 4
passed = failed = 0


def check(name, ok, detail=""):
    global passed, failed
    print(f"{'ok  ' if ok else 'FAIL'} {name}" + (f": {detail}" if detail else ""), flush=True)
    passed, failed = passed + bool(ok), failed + (not ok)


with tempfile.TemporaryDirectory(prefix="embedrt-test-eval-") as tmp:
    out = os.path.join(tmp, "out.txt")
    stdout = sys.stdout
    with open(out, "w") as f:
        sys.stdout = f
        try:
            rc = eval_vae.main(["--build", build, "--proto-py", proto, "--episodes", str(EPISODES), "--seed", "1001",
                                "--work", tmp, "--json"])
        finally:
            sys.stdout = stdout
    text = open(out).read()
    print(text)
    res = json.loads([line for line in text.splitlines() if line.startswith("{")][-1])["results"]

check("eval_exit_status", rc == 0, f"exit {rc}")
check("four_blobs_judged", sorted(os.path.basename(r["blob"]) for r in res) ==
      ["ccvae.erb", "ccvae.int8.erb", "rig.erb", "rig.int8.erb"], str([r["blob"] for r in res]))
by = {os.path.basename(r["blob"]): r for r in res}
for name, r in sorted(by.items()):
    check(f"{name}_episodes", len(r["per_episode"]) == EPISODES, str(r["per_episode"]))
    check(f"{name}_mean_spearman_ge_0.9", r["mean"] >= 0.9, f"{r['mean']:.4f} {r['per_episode']}")
for fam in ("rig", "ccvae"):
    f32, i8 = by.get(f"{fam}.erb"), by.get(f"{fam}.int8.erb")
    if f32 and i8:
        check(f"{fam}_int8_within_0.02_of_fp32", f32["mean"] - i8["mean"] <= 0.02,
              f"fp32 {f32['mean']:.4f} int8 {i8['mean']:.4f}")
print(f"{passed} passed, {failed} failed")
sys.exit(1 if failed else 0)
