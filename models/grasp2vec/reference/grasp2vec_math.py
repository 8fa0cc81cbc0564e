"""grasp2vec formulas in numpy (float64), the reference for runtime/include/embedrt/grasp2vec.h.

Prints the expected numbers that tests/unit/test_grasp2vec.c asserts, one case per block:
    /usr/bin/python3 models/grasp2vec/reference/grasp2vec_math.py
Inputs are exact in float32 (small integers, halves, patterns over powers of two), so C and numpy
start from the same values.
"""

import numpy as np


def similarity(a, b, kind):
    """cosine (0 when either vector is zero) or dot."""
    a = np.asarray(a, np.float64)
    b = np.asarray(b, np.float64)
    dot = float(a @ b)
    na, nb = float(np.linalg.norm(a)), float(np.linalg.norm(b))
    cos = 0.0 if na == 0.0 or nb == 0.0 else min(1.0, max(-1.0, dot / (na * nb)))
    return {"value": cos if kind == "cosine" else dot, "cosine": cos, "dot": dot, "norm_goal": na, "norm_other": nb}


def scene_diff(pre, post, relu):
    d = np.asarray(pre, np.float64) - np.asarray(post, np.float64)
    return np.maximum(d, 0.0) if relu else d


def grid(n):
    """Cell k of n at -1 + 2k/(n-1) (first and last cell centres at -1 and 1); 0 for n == 1."""
    return np.linspace(-1.0, 1.0, n) if n > 1 else np.zeros(1)


def softmax(x):
    e = np.exp(x - x.max())
    return e / e.sum()


def heatmap(spatial, goal, temperature):
    """spatial [C, h, w], goal [C] -> heat [h, w], prob [h, w], keypoint (x, y)."""
    spatial = np.asarray(spatial, np.float64)
    goal = np.asarray(goal, np.float64)
    heat = np.einsum("chw,c->hw", spatial, goal)
    prob = softmax(heat.ravel()).reshape(heat.shape)
    p = softmax(heat.ravel() / temperature).reshape(heat.shape)
    h, w = heat.shape
    x = float((p * grid(w)[None, :]).sum())
    y = float((p * grid(h)[:, None]).sum())
    return heat, prob, (x, y)


def pattern(n, mul, mod, off, div):
    """((i * mul) % mod - off) / div: varied values, exact in float32; the C tests use the same."""
    i = np.arange(n)
    return ((i * mul) % mod - off) / div


def fmt(v):
    return "%.9g" % v


def show(name, value):
    if isinstance(value, dict):
        print("%s: %s" % (name, ", ".join("%s %s" % (k, fmt(v)) for k, v in value.items())))
    elif np.ndim(value) == 0:
        print("%s: %s" % (name, fmt(value)))
    else:
        print("%s: {%s}" % (name, ", ".join(fmt(v) for v in np.ravel(value))))


def main():
    a, b = [1, 2, 3], [4, -5, 6]
    show("sim a.b cosine", similarity(a, b, "cosine"))
    show("sim a.b dot", similarity(a, b, "dot"))
    show("sim a.-2a cosine", similarity(a, [-2, -4, -6], "cosine"))
    show("sim zero.b cosine", similarity([0, 0, 0], b, "cosine"))
    show("sim huge cosine", similarity([3e38, 3e38], [3e38, -1e38], "cosine"))
    a1024 = pattern(1024, 37, 101, 50, 32.0)
    b1024 = pattern(1024, 53, 97, 48, 16.0)
    show("sim 1024 cosine", similarity(a1024, b1024, "cosine"))

    pre, post, goal4 = [1, 0.5, -2, 3], [0.5, 1, -3, 3], [1, 1, 1, 1]
    for relu in (False, True):
        d = scene_diff(pre, post, relu)
        show("diff relu=%d" % relu, d)
        show("diff reward relu=%d cosine" % relu, similarity(goal4, d, "cosine"))
        show("diff reward relu=%d dot" % relu, similarity(goal4, d, "dot"))

    # [3, 2, 2]: heat = 2*c0 + c1 - c2 = [[1.5, 0.5], [-1, 2]]
    spatial = [[[1, 0], [0, 0]], [[0, 1], [0, 2]], [[0.5, 0.5], [1, 0]]]
    goal3 = [2, 1, -1]
    for t in (0.1, 1.0, 10.0):
        heat, prob, kp = heatmap(spatial, goal3, t)
        show("tiny T=%g heat" % t, heat)
        show("tiny T=%g prob" % t, prob)
        show("tiny T=%g keypoint" % t, kp)

    # w == 1 and h == 1 maps: spatial [2, 3, 1] and [2, 1, 3] with the same values.
    col = [1, -1, 2, 0.5, 0, -1]
    g2 = [1, 2]
    for name, shape in (("w1", (2, 3, 1)), ("h1", (2, 1, 3))):
        heat, prob, kp = heatmap(np.reshape(col, shape), g2, 0.5)
        show("%s prob" % name, prob)
        show("%s keypoint" % name, kp)

    # A [5, 3, 4] map from the pattern, T = 0.5.
    sp = pattern(60, 7, 23, 11, 8.0).reshape(5, 3, 4)
    gp = pattern(5, 3, 7, 3, 2.0)
    heat, prob, kp = heatmap(sp, gp, 0.5)
    show("5x3x4 heat", heat)
    show("5x3x4 prob", prob)
    show("5x3x4 keypoint", kp)

    # Large magnitudes: ties at 3e38 (differences overflow float32, not float64).
    heat, prob, kp = heatmap([[[3e38, 3e38], [-3e38, 0]]], [1.0], 0.1)
    show("huge prob", prob)
    show("huge keypoint", kp)


if __name__ == "__main__":
    main()
