/* Projection of primitives into a camera: the conservative 2D boxes ground truth and
 * the renderer's culling share (exact for boxes and spheres, near-plane clipped). */
#include "world.h"

#include <float.h>

bool sw_project(const sw_camera *c, sw_vec3 p, float *u, float *v)
{
    sw_vec3 q = sw_sub(p, c->eye);
    float z = sw_dot(q, c->fwd);
    if (z <= 1e-3f)
        return false;
    *u = c->f * sw_dot(q, c->right) / z + c->cx;
    *v = c->f * sw_dot(q, c->down) / z + c->cy;
    return true;
}

/* Hull points of a primitive in camera coordinates; projected at the end, clipped
 * against the near plane when some lie behind it. */
#define NEAR_Z 0.01f
#define ACC_MAX 40
typedef struct box_acc {
    float x0, y0, x1, y1;
    sw_vec3 pts[ACC_MAX];
    int n;
    bool behind;
} box_acc;

static void acc_uv(box_acc *b, float u, float v)
{
    if (u < b->x0) b->x0 = u;
    if (u > b->x1) b->x1 = u;
    if (v < b->y0) b->y0 = v;
    if (v > b->y1) b->y1 = v;
}

static void acc_point(const sw_camera *c, box_acc *b, sw_vec3 p)
{
    sw_vec3 q = sw_sub(p, c->eye);
    sw_vec3 k = sw_v3(sw_dot(q, c->right), sw_dot(q, c->down), sw_dot(q, c->fwd));
    if (b->n < ACC_MAX)
        b->pts[b->n++] = k;
    if (k.z < NEAR_Z)
        b->behind = true;
}

/* The box of the hull clipped to z >= NEAR_Z: the points in front plus where segments
 * between a point in front and one behind cross the plane (all pairs: the hull's edges
 * are among them, the other crossings lie inside the clipped hull). */
static void acc_finish(const sw_camera *c, box_acc *b)
{
    for (int i = 0; i < b->n; i++) {
        sw_vec3 p = b->pts[i];
        if (p.z >= NEAR_Z)
            acc_uv(b, c->f * p.x / p.z + c->cx, c->f * p.y / p.z + c->cy);
        if (!b->behind)
            continue;
        for (int j = i + 1; j < b->n; j++) {
            sw_vec3 q = b->pts[j];
            if ((p.z < NEAR_Z) == (q.z < NEAR_Z))
                continue;
            float t = (NEAR_Z - p.z) / (q.z - p.z);
            float x = p.x + (q.x - p.x) * t, y = p.y + (q.y - p.y) * t;
            acc_uv(b, c->f * x / NEAR_Z + c->cx, c->f * y / NEAR_Z + c->cy);
        }
    }
}

/* Exact extent of a sphere's perspective image: tangent planes through the camera's
 * vertical (horizontal) axis. */
static void acc_sphere(const sw_camera *c, box_acc *b, sw_vec3 centre, float r)
{
    sw_vec3 q = sw_sub(centre, c->eye);
    float X = sw_dot(q, c->right), Y = sw_dot(q, c->down), Z = sw_dot(q, c->fwd);
    if (Z <= r + NEAR_Z) {
        /* Near or behind the camera: the circumscribed cube instead (conservative). */
        for (int i = 0; i < 8; i++)
            acc_point(c, b, sw_add(centre, sw_v3(i & 1 ? r : -r, i & 2 ? r : -r, i & 4 ? r : -r)));
        return;
    }
    float den = Z * Z - r * r;
    float sx = sqrtf(X * X + Z * Z - r * r), sy = sqrtf(Y * Y + Z * Z - r * r);
    float kx0 = (X * Z - r * sx) / den, kx1 = (X * Z + r * sx) / den;
    float ky0 = (Y * Z - r * sy) / den, ky1 = (Y * Z + r * sy) / den;
    float u0 = c->f * kx0 + c->cx, u1 = c->f * kx1 + c->cx;
    float v0 = c->f * ky0 + c->cy, v1 = c->f * ky1 + c->cy;
    acc_uv(b, u0, v0);
    acc_uv(b, u1, v1);
}

/* A circumscribed 16-gon of the circle of radius r at local height z: contains the disc. */
static void acc_disc(const sw_camera *c, box_acc *b, const sw_prim *p, float r, float z)
{
    const int n = 16;
    float rr = r / cosf(3.14159265f / (float)n);
    for (int i = 0; i < n; i++) {
        float a = 2.0f * 3.14159265f * (float)i / (float)n;
        sw_vec3 l = sw_v3(rr * cosf(a), rr * sinf(a), z);
        acc_point(c, b, sw_add(p->pos, sw_mat_apply(&p->rot, l)));
    }
}

sw_box sw_prim_box(const sw_camera *c, const sw_prim *p)
{
    box_acc b;
    b.x0 = b.y0 = FLT_MAX;
    b.x1 = b.y1 = -FLT_MAX;
    b.n = 0;
    b.behind = false;
    sw_vec3 a = p->a;
    switch (p->shape) {
    case SW_BOX:
        for (int i = 0; i < 8; i++) {
            sw_vec3 l = sw_v3(i & 1 ? a.x : -a.x, i & 2 ? a.y : -a.y, i & 4 ? a.z : -a.z);
            acc_point(c, &b, sw_add(p->pos, sw_mat_apply(&p->rot, l)));
        }
        break;
    case SW_CYLINDER:
        acc_disc(c, &b, p, a.x, -a.z);
        acc_disc(c, &b, p, a.x, a.z);
        break;
    case SW_CONE:
        acc_disc(c, &b, p, a.x, -a.z);
        acc_point(c, &b, sw_add(p->pos, sw_mat_apply(&p->rot, sw_v3(0, 0, a.z))));
        break;
    case SW_SPHERE: acc_sphere(c, &b, p->pos, a.x); break;
    case SW_CAPSULE:
        /* The hull of two spheres projects to the hull of their images. */
        acc_sphere(c, &b, sw_add(p->pos, sw_mat_apply(&p->rot, sw_v3(0, 0, -a.z))), a.x);
        acc_sphere(c, &b, sw_add(p->pos, sw_mat_apply(&p->rot, sw_v3(0, 0, a.z))), a.x);
        break;
    default: break;
    }
    acc_finish(c, &b);
    sw_box out;
    float W = (float)c->width, H = (float)c->height;
    /* A hair of padding for float rounding between rays and projections. */
    const float pad = 0.02f;
    out.x0 = b.x0 - pad < 0 ? 0 : b.x0 - pad;
    out.y0 = b.y0 - pad < 0 ? 0 : b.y0 - pad;
    out.x1 = b.x1 + pad > W ? W : b.x1 + pad;
    out.y1 = b.y1 + pad > H ? H : b.y1 + pad;
    if (out.x0 >= out.x1 || out.y0 >= out.y1)
        out = (sw_box){0, 0, 0, 0};
    return out;
}
