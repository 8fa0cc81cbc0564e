/* simworld's small vector algebra and its seeded integer PRNG (splitmix64 to seed,
 * xoshiro256** to draw): everything random in the world comes from here, never rand(). */
#ifndef SIMWORLD_SW_MATH_H
#define SIMWORLD_SW_MATH_H

#include <math.h>
#include <stdint.h>

typedef struct sw_vec3 {
    float x, y, z;
} sw_vec3;

static inline sw_vec3 sw_v3(float x, float y, float z) { return (sw_vec3){x, y, z}; }
static inline sw_vec3 sw_add(sw_vec3 a, sw_vec3 b) { return sw_v3(a.x + b.x, a.y + b.y, a.z + b.z); }
static inline sw_vec3 sw_sub(sw_vec3 a, sw_vec3 b) { return sw_v3(a.x - b.x, a.y - b.y, a.z - b.z); }
static inline sw_vec3 sw_scale(sw_vec3 a, float s) { return sw_v3(a.x * s, a.y * s, a.z * s); }
static inline float sw_dot(sw_vec3 a, sw_vec3 b) { return a.x * b.x + a.y * b.y + a.z * b.z; }
static inline sw_vec3 sw_cross(sw_vec3 a, sw_vec3 b)
{
    return sw_v3(a.y * b.z - a.z * b.y, a.z * b.x - a.x * b.z, a.x * b.y - a.y * b.x);
}
static inline float sw_len(sw_vec3 a) { return sqrtf(sw_dot(a, a)); }
static inline sw_vec3 sw_norm(sw_vec3 a)
{
    float l = sw_len(a);
    return l > 0.0f ? sw_scale(a, 1.0f / l) : a;
}

/* Rotation as three columns: world = c0*x + c1*y + c2*z (local -> world). */
typedef struct sw_mat3 {
    sw_vec3 c[3];
} sw_mat3;

static inline sw_vec3 sw_mat_apply(const sw_mat3 *m, sw_vec3 v)
{
    return sw_add(sw_add(sw_scale(m->c[0], v.x), sw_scale(m->c[1], v.y)), sw_scale(m->c[2], v.z));
}
/* world -> local (the transpose, as the matrix is orthonormal). */
static inline sw_vec3 sw_mat_apply_t(const sw_mat3 *m, sw_vec3 v)
{
    return sw_v3(sw_dot(m->c[0], v), sw_dot(m->c[1], v), sw_dot(m->c[2], v));
}
sw_mat3 sw_mat_identity(void);
/* Rz(yaw) * Ry(pitch) * Rx(roll), angles in radians. */
sw_mat3 sw_mat_euler(float yaw, float pitch, float roll);

/* PRNG: one independent stream per (seed, purpose, episode, ...) via sw_hash. */
typedef struct sw_rng {
    uint64_t s[4];
} sw_rng;

uint64_t sw_splitmix64(uint64_t *state);
/* Mixes up to four words into one 64-bit key (order matters). */
uint64_t sw_hash(uint64_t a, uint64_t b, uint64_t c, uint64_t d);
void sw_rng_seed(sw_rng *r, uint64_t key);
/* xoshiro256**; inline because the noise pass draws once per pixel. */
static inline uint64_t sw_rng_next(sw_rng *r)
{
    uint64_t *s = r->s;
    uint64_t x = s[1] * 5;
    uint64_t result = ((x << 7) | (x >> 57)) * 9;
    uint64_t t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = (s[3] << 45) | (s[3] >> 19);
    return result;
}
/* Uniform in [0, 1) with 24 bits, then [lo, hi). */
float sw_rng_unit(sw_rng *r);
float sw_rng_range(sw_rng *r, float lo, float hi);
/* Integer in [0, n), n > 0 (no modulo bias worth noting at these n). */
uint32_t sw_rng_below(sw_rng *r, uint32_t n);
/* Approximately standard normal (Irwin-Hall of four 16-bit uniforms): integer work only,
 * so identical everywhere. */
float sw_rng_gauss(sw_rng *r);

#endif
