/* The ray caster: exact ray/primitive intersections in each primitive's local frame, a
 * procedural wood table with cast shadows, Lambert + ambient light, sensor noise. */
#include "world.h"

#include <float.h>
#include <stdlib.h>
#include <string.h>

static const char *const shape_names[SW_SHAPE_COUNT] = {"box", "cylinder", "sphere", "cone", "capsule"};
static const char *const colour_names[SW_COLOUR_COUNT] = {"red",     "green", "blue",   "yellow",
                                                          "magenta", "cyan",  "orange", "white"};
static const float colour_albedo[SW_COLOUR_COUNT][3] = {
    {0.80f, 0.08f, 0.07f}, {0.10f, 0.60f, 0.12f}, {0.08f, 0.18f, 0.85f}, {0.88f, 0.78f, 0.08f},
    {0.78f, 0.10f, 0.68f}, {0.08f, 0.72f, 0.78f}, {0.95f, 0.42f, 0.04f}, {0.88f, 0.88f, 0.86f},
};

const char *sw_shape_name(sw_shape s) { return (unsigned)s < SW_SHAPE_COUNT ? shape_names[s] : "?"; }
const char *sw_colour_name(int c) { return c >= 0 && c < SW_COLOUR_COUNT ? colour_names[c] : "?"; }
sw_vec3 sw_colour_albedo(int c)
{
    if (c < 0 || c >= SW_COLOUR_COUNT)
        return sw_v3(0.5f, 0.5f, 0.5f);
    return sw_v3(colour_albedo[c][0], colour_albedo[c][1], colour_albedo[c][2]);
}

void sw_camera_look(sw_camera *c, sw_vec3 eye, sw_vec3 target, float fov_deg, uint32_t w, uint32_t h)
{
    c->eye = eye;
    c->fwd = sw_norm(sw_sub(target, eye));
    c->right = sw_norm(sw_cross(c->fwd, sw_v3(0, 0, 1)));
    c->down = sw_cross(c->fwd, c->right);
    c->width = w;
    c->height = h;
    c->cx = 0.5f * (float)w;
    c->cy = 0.5f * (float)h;
    c->f = 0.5f * (float)w / tanf(0.5f * fov_deg * 3.14159265f / 180.0f);
}

int sw_scene_entity(sw_scene *s, const char *name, int catalogue)
{
    if (s->nentities >= SW_MAX_ENTITIES)
        return -1;
    sw_entity *e = &s->entities[s->nentities];
    memset(e, 0, sizeof *e);
    size_t n = strlen(name);
    if (n >= sizeof e->name)
        n = sizeof e->name - 1;
    memcpy(e->name, name, n);
    e->catalogue = catalogue;
    return s->nentities++;
}

int sw_scene_prim(sw_scene *s, sw_shape shape, sw_vec3 a, sw_vec3 pos, sw_mat3 rot, sw_vec3 albedo, int entity)
{
    if (s->nprims >= SW_MAX_PRIMS)
        return -1;
    sw_prim *p = &s->prims[s->nprims];
    p->shape = shape;
    p->a = a;
    p->pos = pos;
    p->rot = rot;
    p->albedo = albedo;
    p->entity = entity;
    return s->nprims++;
}

/* ---- intersections (local frame, unit d) ---------------------------------------------- */

#define T_EPS 1e-5f

static bool hit_box(sw_vec3 o, sw_vec3 d, sw_vec3 a, float *t, sw_vec3 *n)
{
    float tn = -FLT_MAX, tf = FLT_MAX;
    int ax = -1;
    float sign = 0;
    const float oo[3] = {o.x, o.y, o.z}, dd[3] = {d.x, d.y, d.z}, aa[3] = {a.x, a.y, a.z};
    for (int i = 0; i < 3; i++) {
        if (fabsf(dd[i]) < 1e-12f) {
            if (oo[i] < -aa[i] || oo[i] > aa[i])
                return false;
            continue;
        }
        float inv = 1.0f / dd[i];
        float t1 = (-aa[i] - oo[i]) * inv, t2 = (aa[i] - oo[i]) * inv;
        float s = -1.0f;
        if (t1 > t2) {
            float tmp = t1;
            t1 = t2;
            t2 = tmp;
            s = 1.0f;
        }
        if (t1 > tn) {
            tn = t1;
            ax = i;
            sign = s;
        }
        if (t2 < tf)
            tf = t2;
        if (tn > tf)
            return false;
    }
    if (ax < 0 || tn <= T_EPS)
        return false;
    *t = tn;
    *n = sw_v3(ax == 0 ? sign : 0, ax == 1 ? sign : 0, ax == 2 ? sign : 0);
    return true;
}

static bool hit_sphere(sw_vec3 o, sw_vec3 d, float r, float *t, sw_vec3 *n)
{
    float b = sw_dot(o, d), c = sw_dot(o, o) - r * r;
    float disc = b * b - c;
    if (disc < 0)
        return false;
    float s = sqrtf(disc);
    float t0 = -b - s;
    if (t0 <= T_EPS)
        return false;
    *t = t0;
    *n = sw_scale(sw_add(o, sw_scale(d, t0)), 1.0f / r);
    return true;
}

/* Side of a vertical cylinder |z| <= h. */
static bool hit_tube(sw_vec3 o, sw_vec3 d, float r, float h, float *t, sw_vec3 *n)
{
    float A = d.x * d.x + d.y * d.y;
    if (A < 1e-12f)
        return false;
    float B = o.x * d.x + o.y * d.y, C = o.x * o.x + o.y * o.y - r * r;
    float disc = B * B - A * C;
    if (disc < 0)
        return false;
    float t0 = (-B - sqrtf(disc)) / A;
    if (t0 <= T_EPS)
        return false;
    float z = o.z + t0 * d.z;
    if (z < -h || z > h)
        return false;
    *t = t0;
    *n = sw_v3((o.x + t0 * d.x) / r, (o.y + t0 * d.y) / r, 0);
    return true;
}

static bool hit_cap(sw_vec3 o, sw_vec3 d, float r, float z, float nz, float *t, sw_vec3 *n)
{
    if (fabsf(d.z) < 1e-12f)
        return false;
    float t0 = (z - o.z) / d.z;
    if (t0 <= T_EPS)
        return false;
    float x = o.x + t0 * d.x, y = o.y + t0 * d.y;
    if (x * x + y * y > r * r)
        return false;
    *t = t0;
    *n = sw_v3(0, 0, nz);
    return true;
}

static void keep(bool hit, float t1, sw_vec3 n1, float *t, sw_vec3 *n, bool *any)
{
    if (hit && t1 < *t) {
        *t = t1;
        *n = n1;
        *any = true;
    }
}

static bool hit_cone(sw_vec3 o, sw_vec3 d, float r, float h, float *t, sw_vec3 *n)
{
    float k = r / (2.0f * h), k2 = k * k;
    float hz = h - o.z;
    float A = d.x * d.x + d.y * d.y - k2 * d.z * d.z;
    float B = o.x * d.x + o.y * d.y + k2 * hz * d.z;
    float C = o.x * o.x + o.y * o.y - k2 * hz * hz;
    float best = FLT_MAX;
    sw_vec3 bn = {0, 0, 0};
    bool any = false;
    if (fabsf(A) > 1e-12f) {
        float disc = B * B - A * C;
        if (disc >= 0) {
            float s = sqrtf(disc);
            float roots[2] = {(-B - s) / A, (-B + s) / A};
            for (int i = 0; i < 2; i++) {
                float tr = roots[i];
                if (tr <= T_EPS)
                    continue;
                float z = o.z + tr * d.z;
                if (z < -h || z > h)
                    continue;
                sw_vec3 p = sw_add(o, sw_scale(d, tr));
                keep(true, tr, sw_norm(sw_v3(p.x, p.y, k2 * (h - z))), &best, &bn, &any);
            }
        }
    }
    float tc;
    sw_vec3 nc;
    if (hit_cap(o, d, r, -h, -1.0f, &tc, &nc))
        keep(true, tc, nc, &best, &bn, &any);
    if (any) {
        *t = best;
        *n = bn;
    }
    return any;
}

static bool hit_prim(const sw_prim *p, sw_vec3 o, sw_vec3 d, float *t, sw_vec3 *n)
{
    sw_vec3 a = p->a;
    float best = FLT_MAX, t1 = 0;
    sw_vec3 bn = {0, 0, 0}, n1 = {0, 0, 0};
    bool any = false;
    switch (p->shape) {
    case SW_BOX: return hit_box(o, d, a, t, n);
    case SW_SPHERE: return hit_sphere(o, d, a.x, t, n);
    case SW_CONE: return hit_cone(o, d, a.x, a.z, t, n);
    case SW_CYLINDER:
        keep(hit_tube(o, d, a.x, a.z, &t1, &n1), t1, n1, &best, &bn, &any);
        keep(hit_cap(o, d, a.x, a.z, 1.0f, &t1, &n1), t1, n1, &best, &bn, &any);
        keep(hit_cap(o, d, a.x, -a.z, -1.0f, &t1, &n1), t1, n1, &best, &bn, &any);
        break;
    case SW_CAPSULE:
        keep(hit_tube(o, d, a.x, a.z, &t1, &n1), t1, n1, &best, &bn, &any);
        for (int s = -1; s <= 1; s += 2) {
            sw_vec3 oc = sw_sub(o, sw_v3(0, 0, (float)s * a.z));
            keep(hit_sphere(oc, d, a.x, &t1, &n1), t1, n1, &best, &bn, &any);
        }
        break;
    default: break;
    }
    if (any) {
        *t = best;
        *n = bn;
    }
    return any;
}

/* ---- table texture -------------------------------------------------------------------- */

static float lattice(int32_t x, int32_t y)
{
    uint32_t h = (uint32_t)x * 0x8da6b343u ^ (uint32_t)y * 0xd8163841u;
    h ^= h >> 15;
    h *= 0x2c1b3c6du;
    h ^= h >> 12;
    h *= 0x297a2d39u;
    h ^= h >> 15;
    return (float)(h >> 8) * (1.0f / 16777216.0f);
}

/* Value noise on a lattice that repeats every px x py cells. */
static float value_noise_wrap(float x, float y, int32_t px, int32_t py)
{
    float fx = floorf(x), fy = floorf(y);
    int32_t ix = (int32_t)fx, iy = (int32_t)fy;
    float tx = x - fx, ty = y - fy;
    tx = tx * tx * (3.0f - 2.0f * tx);
    ty = ty * ty * (3.0f - 2.0f * ty);
    int32_t ix1 = (ix + 1) % px, iy1 = (iy + 1) % py;
    ix %= px;
    iy %= py;
    float a = lattice(ix, iy), b = lattice(ix1, iy), c = lattice(ix, iy1), d = lattice(ix1, iy1);
    return (a + (b - a) * tx) + ((c + (d - c) * tx) - (a + (b - a) * tx)) * ty;
}

/* One periodic wood tile computed once per process (the same for every seed); episodes
 * differ by offset, scale and tint. The tile spans 2 m (3.9 mm texels), sampled bilinearly. */
#define TEX_N 512
static float wood_tile[TEX_N * TEX_N];

static void wood_tile_init(void)
{
    for (int j = 0; j < TEX_N; j++)
        for (int i = 0; i < TEX_N; i++) {
            /* Noise lattices with integer periods so the tile wraps seamlessly. */
            float u = (float)i / TEX_N, v = (float)j / TEX_N;
            float g = value_noise_wrap(u * 12.0f, v * 80.0f, 12, 80);
            float rings = 0.5f + 0.5f * sinf(2.0f * 3.14159265f * (u * 14.0f) + g * 7.0f);
            float fine = value_noise_wrap(u * 120.0f, v * 50.0f, 120, 50);
            wood_tile[j * TEX_N + i] = 0.72f + 0.18f * rings + 0.12f * fine;
        }
}

static sw_vec3 wood(const sw_scene *s, float x, float y)
{
    float u = (x * s->tex_scale + s->tex_offset[0]) * (float)TEX_N * 0.5f;
    float v = (y * s->tex_scale + s->tex_offset[1]) * (float)TEX_N * 0.5f;
    float fu = floorf(u), fv = floorf(v);
    float tu = u - fu, tv = v - fv;
    int iu = (int)fu & (TEX_N - 1), iv = (int)fv & (TEX_N - 1);
    int iu1 = (iu + 1) & (TEX_N - 1), iv1 = (iv + 1) & (TEX_N - 1);
    float a = wood_tile[iv * TEX_N + iu], b = wood_tile[iv * TEX_N + iu1];
    float c = wood_tile[iv1 * TEX_N + iu], d = wood_tile[iv1 * TEX_N + iu1];
    float top = a + (b - a) * tu, bot = c + (d - c) * tu;
    return sw_scale(s->table_tint, top + (bot - top) * tv);
}

/* ---- rendering ------------------------------------------------------------------------ */

int sw_view_init(sw_view *v, const sw_camera *cam, bool aa)
{
    v->cam = *cam;
    v->aa = aa;
    size_t n = (size_t)cam->width * cam->height * (aa ? 5 : 1);
    v->rays = malloc(n * sizeof *v->rays);
    if (!v->rays)
        return -1;
    static const float off[5][2] = {{0.5f, 0.5f}, {0.25f, 0.25f}, {0.75f, 0.25f}, {0.25f, 0.75f}, {0.75f, 0.75f}};
    int ns = aa ? 5 : 1;
    size_t i = 0;
    for (uint32_t y = 0; y < cam->height; y++)
        for (uint32_t x = 0; x < cam->width; x++)
            for (int k = 0; k < ns; k++) {
                float px = ((float)x + off[k][0] - cam->cx) / cam->f;
                float py = ((float)y + off[k][1] - cam->cy) / cam->f;
                v->rays[i++] = sw_norm(sw_add(cam->fwd, sw_add(sw_scale(cam->right, px), sw_scale(cam->down, py))));
            }
    return 0;
}

void sw_view_free(sw_view *v)
{
    free(v->rays);
    v->rays = NULL;
}

typedef struct prim_cache {
    int x0, y0, x1, y1;       /* pixel range whose rays may hit (inclusive) */
    sw_vec3 o;                /* camera eye in the prim's local frame */
    float sx0, sy0, sx1, sy1; /* shadow footprint on the table (box of the projected hull) */
} prim_cache;

static bool in_shadow(const sw_scene *s, const prim_cache *pc, sw_vec3 p)
{
    sw_vec3 L = s->light.dir;
    for (int i = 0; i < s->nprims; i++) {
        if (p.x < pc[i].sx0 || p.x > pc[i].sx1 || p.y < pc[i].sy0 || p.y > pc[i].sy1)
            continue;
        const sw_prim *pr = &s->prims[i];
        sw_vec3 o = sw_mat_apply_t(&pr->rot, sw_sub(p, pr->pos));
        sw_vec3 d = sw_mat_apply_t(&pr->rot, L);
        float t;
        sw_vec3 n;
        if (hit_prim(pr, o, d, &t, &n))
            return true;
    }
    return false;
}

static sw_vec3 shade(const sw_scene *s, sw_vec3 albedo, sw_vec3 n, bool shadow)
{
    float lam = sw_dot(n, s->light.dir);
    if (lam < 0 || shadow)
        lam = 0;
    float k = s->light.ambient + s->light.intensity * lam;
    return sw_v3(albedo.x * k * s->light.tint.x, albedo.y * k * s->light.tint.y, albedo.z * k * s->light.tint.z);
}

static sw_vec3 backdrop(const sw_scene *s, sw_vec3 d)
{
    float k = 0.75f + 0.25f * d.z;
    return sw_scale(s->backdrop, k);
}

/* Colour and entity of one ray from the camera eye. */
static sw_vec3 trace(const sw_scene *s, const prim_cache *pc, sw_vec3 eye, sw_vec3 d, int px, int py, int *entity)
{
    float best = FLT_MAX;
    int hit = -1;
    sw_vec3 hn = {0, 0, 0};
    for (int i = 0; i < s->nprims; i++) {
        if (px < pc[i].x0 || px > pc[i].x1 || py < pc[i].y0 || py > pc[i].y1)
            continue;
        const sw_prim *pr = &s->prims[i];
        sw_vec3 dl = sw_mat_apply_t(&pr->rot, d);
        float t;
        sw_vec3 n;
        if (hit_prim(pr, pc[i].o, dl, &t, &n) && t < best) {
            best = t;
            hit = i;
            hn = n;
        }
    }
    if (s->table && d.z < 0) {
        float t = -eye.z / d.z;
        if (t > 0 && t < best) {
            sw_vec3 p = sw_add(eye, sw_scale(d, t));
            if (fabsf(p.x) <= SW_TABLE_HX && fabsf(p.y) <= SW_TABLE_HY) {
                *entity = -1;
                return shade(s, wood(s, p.x, p.y), sw_v3(0, 0, 1), in_shadow(s, pc, p));
            }
        }
    }
    if (hit >= 0) {
        const sw_prim *pr = &s->prims[hit];
        *entity = pr->entity;
        return shade(s, pr->albedo, sw_mat_apply(&pr->rot, hn), false);
    }
    *entity = -1;
    return backdrop(s, d);
}

void sw_render(const sw_scene *s, const sw_view *v, float *rgb, uint8_t *ids, sw_box *ent_box, uint32_t *ent_px)
{
    const sw_camera *c = &v->cam;
    prim_cache pc[SW_MAX_PRIMS];
    for (int e = 0; e < s->nentities; e++) {
        ent_box[e] = (sw_box){0, 0, 0, 0};
        ent_px[e] = 0;
    }
    sw_vec3 L = s->light.dir;
    for (int i = 0; i < s->nprims; i++) {
        const sw_prim *pr = &s->prims[i];
        sw_box b = sw_prim_box(c, pr);
        if (b.x0 < b.x1) {
            /* Pixel centres (x + 0.5) inside the box, widened by the AA sample offsets. */
            pc[i].x0 = (int)floorf(b.x0 - 0.75f);
            pc[i].x1 = (int)floorf(b.x1 + 0.25f);
            pc[i].y0 = (int)floorf(b.y0 - 0.75f);
            pc[i].y1 = (int)floorf(b.y1 + 0.25f);
            sw_box *eb = &ent_box[pr->entity];
            if (eb->x0 >= eb->x1) {
                *eb = b;
            } else {
                if (b.x0 < eb->x0) eb->x0 = b.x0;
                if (b.y0 < eb->y0) eb->y0 = b.y0;
                if (b.x1 > eb->x1) eb->x1 = b.x1;
                if (b.y1 > eb->y1) eb->y1 = b.y1;
            }
        } else {
            pc[i].x0 = pc[i].y0 = 1;
            pc[i].x1 = pc[i].y1 = 0;
        }
        pc[i].o = sw_mat_apply_t(&pr->rot, sw_sub(c->eye, pr->pos));
        /* The shadow on z = 0 lies inside the projection, along the light, of the prim's
         * oriented bounding box. */
        float lz = L.z > 0.05f ? L.z : 0.05f;
        sw_vec3 h = pr->a;
        if (pr->shape == SW_CAPSULE)
            h.z += h.x;
        else if (pr->shape != SW_BOX)
            h.y = h.x;
        pc[i].sx0 = pc[i].sy0 = FLT_MAX;
        pc[i].sx1 = pc[i].sy1 = -FLT_MAX;
        for (int q = 0; q < 8; q++) {
            sw_vec3 w = sw_add(pr->pos, sw_mat_apply(&pr->rot, sw_v3(q & 1 ? h.x : -h.x, q & 2 ? h.y : -h.y, q & 4 ? h.z : -h.z)));
            float k = w.z / lz, x = w.x - k * L.x, y = w.y - k * L.y;
            if (x < pc[i].sx0) pc[i].sx0 = x;
            if (x > pc[i].sx1) pc[i].sx1 = x;
            if (y < pc[i].sy0) pc[i].sy0 = y;
            if (y > pc[i].sy1) pc[i].sy1 = y;
        }
    }
    int ns = v->aa ? 5 : 1;
    const sw_vec3 *ray = v->rays;
    uint32_t W = c->width, H = c->height;
    for (uint32_t y = 0; y < H; y++) {
        for (uint32_t x = 0; x < W; x++, ray += ns) {
            int ent;
            sw_vec3 col = trace(s, pc, c->eye, ray[0], (int)x, (int)y, &ent);
            if (ns > 1) {
                sw_vec3 acc = {0, 0, 0};
                int dummy;
                for (int k = 1; k < ns; k++)
                    acc = sw_add(acc, trace(s, pc, c->eye, ray[k], (int)x, (int)y, &dummy));
                col = sw_scale(acc, 0.25f);
            }
            size_t i = (size_t)y * W + x;
            rgb[3 * i] = col.x;
            rgb[3 * i + 1] = col.y;
            rgb[3 * i + 2] = col.z;
            ids[i] = (uint8_t)(ent + 1);
            if (ent >= 0)
                ent_px[ent]++;
        }
    }
}

static uint8_t gamma_lut[4097];
/* 4096 fixed draws of sw_rng_gauss: a pixel's noise indexes it with 12 random bits per
 * channel, one PRNG draw per pixel instead of three. */
static float gauss_table[4096];

void sw_world_init(void)
{
    wood_tile_init();
    sw_rng r;
    sw_rng_seed(&r, 0x6a055ULL);
    for (int i = 0; i < 4096; i++)
        gauss_table[i] = sw_rng_gauss(&r);
    for (int i = 0; i <= 4096; i++)
        gamma_lut[i] = (uint8_t)lrintf(255.0f * powf((float)i / 4096.0f, 1.0f / 2.2f));
}

void sw_post(const float *rgb, uint32_t npix, sw_vec3 gain, float sigma, sw_rng *rng, uint8_t *out)
{
    const float g[3] = {gain.x, gain.y, gain.z};
    for (uint32_t p = 0; p < npix; p++) {
        uint64_t bits = sigma > 0 ? sw_rng_next(rng) : 0;
        for (int c = 0; c < 3; c++) {
            size_t i = 3 * (size_t)p + (size_t)c;
            /* Branch-free clamps (maxss/minss): the branches mispredicted on textures. */
            float v = fminf(fmaxf(rgb[i] * g[c], 0.0f), 1.0f);
            float o = (float)gamma_lut[(int)(v * 4096.0f + 0.5f)] + sigma * gauss_table[(bits >> (12 * c)) & 4095];
            /* Round half up without libm: o + 1024.5 is positive for any sane sigma. */
            int oi = (int)(o + 1024.5f) - 1024;
            oi = oi < 0 ? 0 : oi;
            out[i] = (uint8_t)(oi > 255 ? 255 : oi);
        }
    }
}
