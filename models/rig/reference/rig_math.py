"""Reference (numpy) of every RIG and CC-VAE formula in models/rig/rig_math.c and
models/ccvae/ccvae_math.c, and of the seeded goal sampler, bit for bit.

Run `/usr/bin/python3 models/rig/reference/rig_math.py` to print the expected values
pasted into tests/unit/test_rig.c (floats as IEEE bit patterns where the C code must
be bit-exact, doubles with 17 significant digits elsewhere).

Formulas (families.md "RIG", "CC-VAE"; rlkit VAEWrappedEnv.compute_rewards):
  distance   ||g - mu||_p, p = 1, 2, inf or any real p >= 1 (computed in double)
  dense      r = -||g - mu||_p                             ("latent_distance")
  per-dim    r_i = -|g_i - mu_i| (float32)                 ("vectorized_latent_distance")
  sparse     r = 0 if ||g - mu||_p < epsilon else -1       ("latent_sparse", same p)
  mahalanobis  sum_i (g_i - mu_i)^2 / (2 max(exp(logvar_i), 1e-3))   (diagnostic)
  CC-VAE goal  [z ~ N(0, I_M), c(x_0)], reward -||goal - latent||_p

Seeded sampler (reproducible across runs, machines and libms):
  PRNG: xoshiro256** (Blackman and Vigna), its 256-bit state filled by four
  splitmix64 outputs from the caller's 64-bit seed.
  Uniforms: v = (int64(x >> 10) - 2^53) * 2^-53, exactly representable, in [-1, 1).
  Gaussians: Marsaglia's polar method on pairs (v1, v2): s = v1^2 + v2^2, rejected
  unless 0 < s < 1; f = sqrt(-2 ln(s) / s); z1 = v1 f, z2 = v2 f, used in order (the
  spare of an odd count is dropped). ln is not libm's: ln(s) = e ln2 + 2 atanh(t) with
  s = m 2^e (frexp, exact), m in [sqrt(1/2), sqrt(2)), t = (m - 1) / (m + 1) and the
  atanh series to t^21 (Horner, coefficients 1/(2k+1) divided at run time), so only
  +, -, *, / and sqrt are used: each correctly rounded in IEEE double.
  Output: float32(mean_i + std_i * z_i) in double (mean 0, std 1 when not given).
The 64-bit integer arithmetic below uses Python ints masked to 64 bits (exact uint64
wrap-around; numpy's uint64 scalars silently turn into float64 when mixed with Python
ints in numpy 1.x). The floating-point part uses numpy float64, one IEEE operation per
step, never a fused multiply-add: the C code forces the same rounding of every product.
"""

import math

import numpy as np

MASK = (1 << 64) - 1
LN2 = np.float64(float.fromhex("0x1.62e42fefa39efp-1"))
SQRT_HALF = np.float64(float.fromhex("0x1.6a09e667f3bcdp-1"))
ATANH_TERMS = 11  # k = 0..10: t^(2k+1) / (2k+1), |t| <= 0.1716
VAR_FLOOR = 1e-3


# ---- rewards ----

def distance(a, b, p):
    d = np.abs(np.asarray(a, np.float64) - np.asarray(b, np.float64))
    if d.size == 0:
        return 0.0
    if p == 1:
        return float(np.sum(d))
    if p == 2:
        return float(np.sqrt(np.sum(d * d)))
    if math.isinf(p):
        return float(np.max(d))
    m = np.max(d)
    if m == 0:
        return 0.0
    return float(m * np.sum((d / m) ** p) ** (1.0 / p))


def reward_per_dim(goal, mu):
    return -np.abs(np.asarray(goal, np.float32) - np.asarray(mu, np.float32))


def sparse(goal, mu, p, epsilon):
    return 0.0 if distance(goal, mu, p) < epsilon else -1.0


def mahalanobis(goal, mu, logvar):
    d = np.asarray(goal, np.float64) - np.asarray(mu, np.float64)
    var = np.maximum(np.exp(np.asarray(logvar, np.float64)), VAR_FLOOR)
    return float(np.sum(d * d / (2.0 * var)))


# ---- seeded sampler ----

def splitmix64(state):
    state = (state + 0x9E3779B97F4A7C15) & MASK
    z = state
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & MASK
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & MASK
    return state, z ^ (z >> 31)


def rotl(x, k):
    return ((x << k) | (x >> (64 - k))) & MASK


class Xoshiro256ss:
    def __init__(self, seed):
        st = seed & MASK
        self.s = []
        for _ in range(4):
            st, z = splitmix64(st)
            self.s.append(z)

    def next(self):
        s = self.s
        result = (rotl((s[1] * 5) & MASK, 7) * 9) & MASK
        t = (s[1] << 17) & MASK
        s[2] ^= s[0]
        s[3] ^= s[1]
        s[1] ^= s[2]
        s[0] ^= s[3]
        s[2] ^= t
        s[3] = rotl(s[3], 45)
        return result


def uniform_pm1(rng):
    n = (rng.next() >> 10) - (1 << 53)
    return np.float64(n) * np.float64(2.0 ** -53)


def det_log(s):
    """ln(s) for 0 < s < 1 from +, -, *, / only (frexp is exact)."""
    m, e = np.frexp(np.float64(s))
    m, e = np.float64(m), int(e)
    if m < SQRT_HALF:
        m = m * np.float64(2.0)
        e -= 1
    t = (m - np.float64(1.0)) / (m + np.float64(1.0))
    t2 = t * t
    acc = np.float64(1.0) / np.float64(2 * (ATANH_TERMS - 1) + 1)
    for k in range(ATANH_TERMS - 2, -1, -1):
        acc = acc * t2 + np.float64(1.0) / np.float64(2 * k + 1)
    return np.float64(e) * LN2 + (np.float64(2.0) * t) * acc


def sample_prior(seed, n, mean=None, std=None):
    rng = Xoshiro256ss(seed)
    out = np.zeros(n, np.float32)
    i = 0
    while i < n:
        v1 = uniform_pm1(rng)
        v2 = uniform_pm1(rng)
        s = v1 * v1 + v2 * v2
        if not (s > 0.0 and s < 1.0):
            continue
        f = np.sqrt(np.float64(-2.0) * det_log(s) / s)
        for z in (v1 * f, v2 * f):
            if i == n:
                break
            m = np.float64(0.0) if mean is None else np.float64(mean[i])
            sd = np.float64(1.0) if std is None else np.float64(std[i])
            out[i] = np.float32(m + sd * z)
            i += 1
    return out


def ccvae_goal(seed, mu_dim, context):
    return np.concatenate([sample_prior(seed, mu_dim), np.asarray(context, np.float32)])


# ---- printing ----

def bits(x):
    return [int(v) for v in np.asarray(x, np.float32).view(np.uint32)]


def c_bits(name, x):
    b = bits(x)
    rows = ", ".join("0x%08xu" % v for v in b)
    return "static const uint32_t %s[%d] = {%s};" % (name, len(b), rows)


def c_double(x):
    return "%.17g" % x


def self_check():
    # det_log against libm: within a few ulp over (0, 1).
    worst = 0.0
    for s in np.concatenate([np.linspace(1e-6, 1 - 1e-9, 20001), [2.0 ** -106, 0.5, 0.75]]):
        ref = math.log(float(s))
        worst = max(worst, abs(float(det_log(s)) - ref) / abs(ref))
    assert worst < 1e-15, worst
    # The sampler is a standard normal.
    z = sample_prior(12345, 100000).astype(np.float64)
    assert abs(z.mean()) < 0.02 and abs(z.std() - 1) < 0.02, (z.mean(), z.std())
    assert abs(np.mean(z ** 4) - 3) < 0.15
    return worst


def main():
    worst = self_check()
    print("/* det_log max relative error vs libm: %.3g */" % worst)

    g = np.array([0.5, -1.25, 2.0, 0.125, -0.3], np.float32)
    mu = np.array([0.1, 0.75, -1.0, 0.125, 0.2], np.float32)
    lv = np.array([math.log(1e-5), 0.0, 1.5, -2.0, math.log(1e-3)], np.float32)
    print("/* g = %s, mu = %s */" % (g.tolist(), mu.tolist()))
    for p in (1, 2, math.inf, 3, 1.5):
        print("distance p=%s: %s" % (p, c_double(distance(g, mu, p))))
    print(c_bits("per_dim", reward_per_dim(g, mu)))
    print("logvar (float32) = %s" % [repr(float(v)) for v in lv])
    print("mahalanobis: %s" % c_double(mahalanobis(g, mu, lv)))
    # sparse boundary: [0.375, 0.5] vs 0 has exact distances 0.875 (p=1), 0.625 (p=2), 0.5 (inf)
    b = np.array([0.375, 0.5], np.float32)
    z0 = np.zeros(2, np.float32)
    for p in (1, 2, math.inf):
        print("boundary distance p=%s: %s" % (p, c_double(distance(b, z0, p))))
    print("sparse(eps=0.625,p=2) = %s, sparse(eps=next,p=2) = %s" %
          (sparse(b, z0, 2, 0.625), sparse(b, z0, 2, np.nextafter(0.625, 1))))

    for seed in (0, 1, 42, MASK):
        print(c_bits("prior_seed_%d" % (seed if seed != MASK else -1), sample_prior(seed, 8)))
    mean = [1.0, -2.0, 0.5, 10.0, 0.0]
    std = [0.5, 2.0, 0.0, 1e-3, 3.0]
    print(c_bits("prior_seed_7_stats", sample_prior(7, 5, mean, std)))
    # The first values of a longer draw equal a shorter draw (values are used in order).
    assert np.array_equal(sample_prior(42, 3), sample_prior(42, 8)[:3])
    ctx = [0.25, -0.5, 1.0, 2.0]
    goal = ccvae_goal(5, 6, ctx)
    print(c_bits("ccvae_goal_seed_5", goal))
    latent = np.array([0.1, -0.2, 0.3, 0.4, -0.5, 0.6, 0.25, -0.5, 1.0, 2.0], np.float32)
    print("ccvae reward p=2: %s" % c_double(-distance(goal, latent, 2)))


if __name__ == "__main__":
    main()
