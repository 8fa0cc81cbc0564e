"""numpy reference of the TCN and mfTCN formulas the C runtime implements (tcn.h, mftcn.h).

Prints the expected values pasted into tests/unit/test_tcn.c (each C test names the
section it comes from). Run: /usr/bin/python3 models/tcn/reference/tcn_math.py

  imitation reward  R(v, w) = -alpha * ||w - v||^2 - beta * sqrt(gamma + ||w - v||^2)
  nearest neighbour argmin_i ||demo_i - q||_2, ties to the lowest index
  alignment error   mean_i |nn_b(a_i) - i| (frames)
  L2 normalisation  scale * v / sqrt(max(||v||^2, 1e-12))   (tf.nn.l2_normalize, x scale)
  mfTCN window      max(0, t - (n-1-i) s), i = 0..n-1, oldest first
  mfTCN head input  np.stack(window maps, axis=1): [C, h, w] maps -> [C, n, h, w]
"""

import importlib.util
import os

import numpy as np

np.set_printoptions(precision=9, floatmode="maxprec")


def reward(v, w, alpha=0.5, beta=0.5, gamma=1e-3):
    d2 = float(np.sum((np.asarray(w, np.float64) - np.asarray(v, np.float64)) ** 2))
    return -alpha * d2 - beta * np.sqrt(gamma + d2), d2, -alpha * d2, -beta * np.sqrt(gamma + d2)


def nearest(demo, q):
    d = np.sqrt(np.sum((np.asarray(demo, np.float64) - np.asarray(q, np.float64)) ** 2, axis=1))
    return int(np.argmin(d)), float(d.min()), d  # np.argmin returns the first minimum


def alignment_error(a, b):
    return float(np.mean([abs(nearest(b, a[i])[0] - i) for i in range(len(a))]))


def l2_normalize(v, scale):
    v = np.asarray(v, np.float64)
    return scale * v / np.sqrt(max(float(np.sum(v * v)), 1e-12))


def window_indices(t, n, s):
    return [max(0, t - (n - 1 - i) * s) for i in range(n)]


def c_floats(x):
    return "{" + ", ".join(f"{float(v):.9g}f" for v in np.ravel(x)) + "}"


def section(name):
    print(f"\n== {name}")


section("reward")
V = [0.5, -1.0, 2.0, 0.25]
W = [1.0, -0.5, 1.0, 0.75]
for params in [(0.5, 0.5, 1e-3), (2.0, 0.25, 0.01), (1.0, 0.0, 0.0), (0.0, 1.0, 0.0)]:
    r, d2, quad, rob = reward(V, W, *params)
    print(f"alpha,beta,gamma={params}: R={r:.9g} dist2={d2:.9g} quadratic={quad:.9g} robust={rob:.9g}")
print(f"identical, defaults: R={reward(V, V)[0]:.9g} (= -0.5*sqrt(1e-3))")
print(f"identical, beta=2 gamma=0.04: R={reward(V, V, 0.5, 2.0, 0.04)[0]:.9g}")
print(f"d=0: R={-0.5 * np.sqrt(1e-3):.9g}")

section("nearest")
DEMO = np.array([[0, 0, 0], [1, 0, 0], [0, 1, 0], [1, 1, 0], [0, 0, 2]], np.float32)
for q in ([0.9, 0.1, 0.0], [0.5, 0.5, 0.0], [0.0, 0.0, 1.0], [0.5, 0.0, 0.0], [1.0, 0.5, 0.0], [3.0, 3.0, 3.0]):
    i, dist, all_d = nearest(DEMO, q)
    print(f"q={q}: index={i} dist={dist:.9g} all={c_floats(all_d)}")
print(f"single frame [[2,0,0]], q=[0,0,1]: {nearest([[2, 0, 0]], [0, 0, 1])[:2]}")

section("alignment")
A = np.array([[0, 0], [1, 0], [2, 0], [3, 0]], np.float32)
B = np.array([[0, 0.1], [0.2, 0], [2.1, 0], [2.9, 0], [3.2, 0]], np.float32)
print(f"A vs B: {alignment_error(A, B):.9g} (nn of A in B: {[nearest(B, a)[0] for a in A]})")
print(f"B vs A: {alignment_error(B, A):.9g} (nn of B in A: {[nearest(A, b)[0] for b in B]})")
print(f"A vs A: {alignment_error(A, A):.9g}")

section("l2")
for v, s in (([3.0, 4.0], 10.0), ([3.0, 4.0], 1.0), ([1.0, -2.0, 2.0, 0.5], 10.0), ([1e-7, 0.0], 1.0),
             ([0.0, 0.0, 0.0], 10.0)):
    print(f"v={v} scale={s}: {c_floats(l2_normalize(v, s))}")

section("window")
for n, s in ((2, 15), (3, 4), (1, 7), (4, 1)):
    for t in (0, 1, 3, 4, 8, 14, 15, 16, 45, 100):
        print(f"n={n} s={s} t={t}: {window_indices(t, n, s)}")

ref = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "mftcn", "reference", "mftcn.py")
try:
    spec = importlib.util.spec_from_file_location("embedrt_ref_mftcn", ref)
    mftcn = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mftcn)
except ImportError as e:  # torch missing: the window check needs the PyTorch reference
    print(f"(mftcn.py not importable: {e})")
else:
    for n, s in ((2, 15), (3, 4), (1, 7), (4, 1)):
        for t in range(0, 70):
            assert mftcn.window_indices(t, n, s) == window_indices(t, n, s)
    print("window_indices agrees with models/mftcn/reference/mftcn.py for t < 70")

section("stack")
# Frame f's map: value 100 f + 10 c + j at channel c, pixel j (C = 2, h*w = 3).
C, HW = 2, 3


def frame_map(f):
    return np.array([[100 * f + 10 * c + j for j in range(HW)] for c in range(C)], np.float32)


for n, s, t in ((3, 2, 0), (3, 2, 3), (3, 2, 4), (3, 2, 11), (1, 5, 6)):
    stacked = np.stack([frame_map(i) for i in window_indices(t, n, s)], axis=1)  # [C, n, HW]
    try:
        import torch
        ts = mftcn.stack_frames([torch.from_numpy(frame_map(i)[None]) for i in window_indices(t, n, s)])
        assert np.array_equal(ts.numpy()[0], stacked)
    except (ImportError, NameError):
        pass
    print(f"n={n} s={s} newest={t}: {c_floats(stacked)}")
