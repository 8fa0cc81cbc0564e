/* simworld's rotations and PRNG (see sw_math.h). */
#include "sw_math.h"

sw_mat3 sw_mat_identity(void)
{
    sw_mat3 m = {{{1, 0, 0}, {0, 1, 0}, {0, 0, 1}}};
    return m;
}

sw_mat3 sw_mat_euler(float yaw, float pitch, float roll)
{
    float cy = cosf(yaw), sy = sinf(yaw), cp = cosf(pitch), sp = sinf(pitch), cr = cosf(roll), sr = sinf(roll);
    /* Columns of Rz*Ry*Rx. */
    sw_mat3 m;
    m.c[0] = sw_v3(cy * cp, sy * cp, -sp);
    m.c[1] = sw_v3(cy * sp * sr - sy * cr, sy * sp * sr + cy * cr, cp * sr);
    m.c[2] = sw_v3(cy * sp * cr + sy * sr, sy * sp * cr - cy * sr, cp * cr);
    return m;
}

uint64_t sw_splitmix64(uint64_t *state)
{
    uint64_t z = (*state += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

uint64_t sw_hash(uint64_t a, uint64_t b, uint64_t c, uint64_t d)
{
    uint64_t s = a;
    uint64_t h = sw_splitmix64(&s);
    s = h ^ b;
    h = sw_splitmix64(&s);
    s = h ^ c;
    h = sw_splitmix64(&s);
    s = h ^ d;
    return sw_splitmix64(&s);
}

void sw_rng_seed(sw_rng *r, uint64_t key)
{
    uint64_t s = key;
    for (int i = 0; i < 4; i++)
        r->s[i] = sw_splitmix64(&s);
}

float sw_rng_unit(sw_rng *r) { return (float)(sw_rng_next(r) >> 40) * (1.0f / 16777216.0f); }

float sw_rng_range(sw_rng *r, float lo, float hi) { return lo + (hi - lo) * sw_rng_unit(r); }

uint32_t sw_rng_below(sw_rng *r, uint32_t n) { return (uint32_t)(((sw_rng_next(r) >> 32) * (uint64_t)n) >> 32); }

float sw_rng_gauss(sw_rng *r)
{
    uint64_t v = sw_rng_next(r);
    int32_t sum = (int32_t)(v & 0xffff) + (int32_t)((v >> 16) & 0xffff) + (int32_t)((v >> 32) & 0xffff) +
                  (int32_t)(v >> 48);
    /* Mean 4 * 32767.5, standard deviation sqrt(4 * (65536^2 - 1) / 12) = 37837.23. */
    return ((float)sum - 131070.0f) * (1.0f / 37837.23f);
}
