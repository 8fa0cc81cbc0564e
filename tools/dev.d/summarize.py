"""Sums the per-test "name: N passed, N failed" lines of a meson test log (and the
fuzz-smoke results) into the closing line of `tools/dev test`.

A test that failed without reporting failures itself (a crash, a sanitizer abort,
a timeout) counts as one more failure, so nothing that broke can hide."""
import json
import re
import sys

LINE = re.compile(r"^(?:[\w:.-]+: )?(\d+) passed, (\d+) failed(?:, (\d+) skipped)?", re.M)

passed = failed = skipped = 0
with open(sys.argv[1]) as f:
    for raw in f:
        t = json.loads(raw)
        out = t.get("stdout") or ""
        m = LINE.findall(out)
        p, fl = (int(m[-1][0]), int(m[-1][1])) if m else (0, 0)
        skipped += int(m[-1][2]) if m and m[-1][2] else 0
        ok = t.get("result") in ("OK", "EXPECTEDFAIL", "SKIP")
        if not ok and fl == 0:
            fl = 1
        if ok and not m:
            p = 1
        passed += p
        failed += fl
if len(sys.argv) > 2:
    with open(sys.argv[2]) as f:
        for line in f:
            if line.strip().endswith(" ok"):
                passed += 1
            elif line.strip():
                failed += 1
print(f"{passed} passed, {failed} failed" + (f", {skipped} skipped" if skipped else ""))
sys.exit(1 if failed else 0)
