/* Shared scene building: environment, camera rig, catalogue objects, gripper, puck. */
#include "scene.h"

#include <string.h>

#define PI_F 3.14159265f
#define DEG (PI_F / 180.0f)

/* Workspace where objects and the puck live (table is larger). */
#define WS_HX 0.22f
#define WS_HY 0.17f

void sw_env_init(sw_env *env, sw_rng *rng, const sw_opts *o)
{
    memset(env, 0, sizeof *env);
    env->light_az = sw_rng_range(rng, -PI_F, PI_F);
    env->light_el = sw_rng_range(rng, 35.0f, 75.0f) * DEG;
    env->drift = sw_rng_range(rng, -0.15f, 0.15f);
    env->light0.intensity = sw_rng_range(rng, 0.65f, 1.05f);
    env->light0.ambient = sw_rng_range(rng, 0.22f, 0.38f);
    env->light0.tint = sw_v3(sw_rng_range(rng, 0.92f, 1.05f), 1.0f, sw_rng_range(rng, 0.9f, 1.06f));
    float w = sw_rng_range(rng, 0.8f, 1.1f);
    env->table_tint = sw_v3(0.62f * w, 0.43f * w * sw_rng_range(rng, 0.9f, 1.1f), 0.25f * w * sw_rng_range(rng, 0.8f, 1.2f));
    float b = sw_rng_range(rng, 0.45f, 0.8f);
    env->backdrop = sw_v3(b * sw_rng_range(rng, 0.9f, 1.1f), b, b * sw_rng_range(rng, 0.9f, 1.1f));
    env->tex_offset[0] = sw_rng_range(rng, 0.0f, 2.0f);
    env->tex_offset[1] = sw_rng_range(rng, 0.0f, 2.0f);
    env->tex_scale = sw_rng_range(rng, 0.8f, 1.25f);
    float cj = o->colour_jitter;
    env->gain = sw_v3(1.0f + cj * sw_rng_range(rng, -1, 1), 1.0f + cj * sw_rng_range(rng, -1, 1),
                      1.0f + cj * sw_rng_range(rng, -1, 1));
}

void sw_scene_begin(sw_scene *s, const sw_env *env, float t, bool table)
{
    memset(s, 0, sizeof *s);
    s->light = env->light0;
    float az = env->light_az + env->drift * t;
    float el = env->light_el;
    s->light.dir = sw_v3(cosf(el) * cosf(az), cosf(el) * sinf(az), sinf(el));
    /* A slow breathing of the intensity (clouds, flicker-free lamps drifting). */
    s->light.intensity = env->light0.intensity * (1.0f + 0.05f * sinf(0.7f * t + env->light_az));
    s->table = table;
    s->table_tint = env->table_tint;
    s->tex_offset[0] = env->tex_offset[0];
    s->tex_offset[1] = env->tex_offset[1];
    s->tex_scale = env->tex_scale;
    s->backdrop = env->backdrop;
}

void sw_rig_defaults(sw_opts *o)
{
    static const float az[SW_MAX_VIEWS] = {-90.0f, -35.0f, -145.0f};
    static const float el[SW_MAX_VIEWS] = {55.0f, 40.0f, 45.0f};
    for (int k = 0; k < SW_MAX_VIEWS; k++) {
        o->cam_az[k] = az[k];
        o->cam_el[k] = el[k];
        o->cam_dist[k] = 0.58f;
        o->cam_fov[k] = 50.0f;
    }
}

void sw_rig_cameras(sw_camera *cams, uint32_t nviews, sw_rng *rng, const sw_opts *o)
{
    float j = o->jitter;
    for (uint32_t k = 0; k < nviews && k < SW_MAX_VIEWS; k++) {
        float a = (o->cam_az[k] + j * sw_rng_range(rng, -3, 3)) * DEG;
        float e = (o->cam_el[k] + j * sw_rng_range(rng, -3, 3)) * DEG;
        float dist = o->cam_dist[k] + j * sw_rng_range(rng, -0.03f, 0.03f);
        sw_vec3 target = sw_v3(j * sw_rng_range(rng, -0.02f, 0.02f), j * sw_rng_range(rng, -0.02f, 0.02f), 0.02f);
        sw_vec3 eye = sw_add(target, sw_v3(dist * cosf(e) * cosf(a), dist * cosf(e) * sinf(a), dist * sinf(e)));
        sw_camera_look(&cams[k], eye, target, o->cam_fov[k] + j * sw_rng_range(rng, -1.5f, 1.5f), o->width, o->height);
    }
}

void sw_outcome_camera(sw_camera *cam, sw_vec3 *show_point, sw_rng *rng, const sw_opts *o)
{
    /* Beyond the table's far edge, so the camera sees gripper and backdrop only. */
    sw_vec3 g = sw_v3(0.0f, 0.9f, 0.35f);
    *show_point = g;
    float j = o->jitter;
    sw_vec3 centre = sw_add(g, sw_v3(0, 0, 0.035f));
    sw_vec3 eye = sw_add(centre, sw_v3(j * sw_rng_range(rng, -0.02f, 0.02f), -0.26f + j * sw_rng_range(rng, -0.02f, 0.02f),
                                       0.03f + j * sw_rng_range(rng, -0.02f, 0.02f)));
    sw_camera_look(cam, eye, centre, 42.0f, o->width, o->height);
}

/* Dimensions of a catalogue object: fixed per id (not per seed), so an id is one object. */
static sw_vec3 catalogue_dims(int cat, float scale)
{
    sw_rng r;
    sw_rng_seed(&r, sw_hash(0x5eed0b1ec7ULL, (uint64_t)cat, 0, 0));
    float s = sw_rng_range(&r, 0.032f, 0.05f) * scale;
    switch ((sw_shape)(cat / SW_COLOUR_COUNT)) {
    case SW_BOX: return sw_v3(s * sw_rng_range(&r, 0.6f, 1.0f), s * sw_rng_range(&r, 0.6f, 1.0f), s * sw_rng_range(&r, 0.6f, 1.1f));
    case SW_CYLINDER: return sw_v3(s * 0.7f, s * 0.7f, s * sw_rng_range(&r, 0.8f, 1.3f));
    case SW_SPHERE: return sw_v3(s * 0.85f, s * 0.85f, s * 0.85f);
    case SW_CONE: return sw_v3(s * 0.85f, s * 0.85f, s * sw_rng_range(&r, 0.9f, 1.3f));
    case SW_CAPSULE: return sw_v3(s * 0.5f, s * 0.5f, s * sw_rng_range(&r, 0.6f, 1.0f));
    default: return sw_v3(s, s, s);
    }
}

static void object_common(sw_object *ob, int cat, sw_rng *rng)
{
    memset(ob, 0, sizeof *ob);
    ob->catalogue = cat;
    ob->shape = (sw_shape)(cat / SW_COLOUR_COUNT);
    ob->colour = cat % SW_COLOUR_COUNT;
    ob->a = catalogue_dims(cat, sw_rng_range(rng, 0.92f, 1.08f));
}

void sw_object_rest(sw_object *ob, int cat, float x, float y, sw_rng *rng)
{
    object_common(ob, cat, rng);
    float yaw = sw_rng_range(rng, -PI_F, PI_F);
    bool lying = (ob->shape == SW_CYLINDER || ob->shape == SW_CAPSULE) && sw_rng_unit(rng) < 0.5f;
    sw_vec3 a = ob->a;
    float z;
    if (lying) {
        ob->rot = sw_mat_euler(yaw, 0.5f * PI_F, 0);
        z = a.x;
        ob->radius_xy = a.z + (ob->shape == SW_CAPSULE ? a.x : 0.0f) + 0.004f;
    } else {
        ob->rot = sw_mat_euler(yaw, 0, 0);
        switch (ob->shape) {
        case SW_BOX: z = a.z; ob->radius_xy = sqrtf(a.x * a.x + a.y * a.y); break;
        case SW_SPHERE: z = a.x; ob->radius_xy = a.x; break;
        case SW_CAPSULE: z = a.z + a.x; ob->radius_xy = a.x; break;
        default: z = a.z; ob->radius_xy = a.x; break;
        }
        ob->radius_xy += 0.004f;
    }
    ob->pos = sw_v3(x, y, z);
}

float sw_object_held(sw_object *ob, int cat, sw_vec3 grasp_point, sw_rng *rng)
{
    object_common(ob, cat, rng);
    ob->rot = sw_mat_euler(sw_rng_range(rng, -PI_F, PI_F), sw_rng_range(rng, -0.6f, 0.6f), sw_rng_range(rng, -PI_F, PI_F));
    ob->pos = sw_add(grasp_point, sw_v3(0, 0, 0.035f));
    /* Half extent along world x (the fingers' axis at yaw 0): the support function. */
    sw_vec3 a = ob->a;
    float ax = fabsf(ob->rot.c[2].x), rad = sqrtf(fmaxf(0.0f, 1.0f - ax * ax));
    float hw;
    switch (ob->shape) {
    case SW_BOX: hw = fabsf(ob->rot.c[0].x) * a.x + fabsf(ob->rot.c[1].x) * a.y + ax * a.z; break;
    case SW_SPHERE: hw = a.x; break;
    case SW_CAPSULE: hw = a.x + ax * a.z; break;
    default: hw = a.x * rad + ax * a.z; break;
    }
    return 2.0f * hw;
}

int sw_scene_add_object(sw_scene *s, const sw_object *ob)
{
    int e = sw_scene_entity(s, "object", ob->catalogue);
    if (e < 0)
        return -1;
    s->entities[e].pos = ob->pos;
    if (sw_scene_prim(s, ob->shape, ob->a, ob->pos, ob->rot, sw_colour_albedo(ob->colour), e) < 0)
        return -1;
    return e;
}

int sw_scene_add_gripper(sw_scene *s, sw_vec3 g, float yaw, float opening)
{
    int e = sw_scene_entity(s, "gripper", -1);
    if (e < 0)
        return -1;
    s->entities[e].pos = g;
    sw_mat3 r = sw_mat_euler(yaw, 0, 0);
    const float fx = 0.009f, fz = 0.035f;
    for (int side = -1; side <= 1; side += 2) {
        sw_vec3 off = sw_mat_apply(&r, sw_v3((float)side * (0.5f * opening + fx), 0, fz));
        sw_scene_prim(s, SW_BOX, sw_v3(fx, SW_FINGER_HY, fz), sw_add(g, off), r, sw_v3(0.16f, 0.16f, 0.18f), e);
    }
    sw_scene_prim(s, SW_BOX, sw_v3(0.5f * opening + 2 * fx, 0.018f, 0.012f), sw_add(g, sw_v3(0, 0, 2 * fz + 0.012f)), r,
                  sw_v3(0.32f, 0.32f, 0.34f), e);
    sw_scene_prim(s, SW_BOX, sw_v3(0.014f, 0.014f, 0.3f), sw_add(g, sw_v3(0, 0, 2 * fz + 0.024f + 0.3f)), r,
                  sw_v3(0.55f, 0.55f, 0.57f), e);
    return e;
}

int sw_scene_add_puck(sw_scene *s, float x, float y)
{
    int e = sw_scene_entity(s, "puck", -1);
    if (e < 0)
        return -1;
    s->entities[e].pos = sw_v3(x, y, SW_PUCK_HZ);
    sw_scene_prim(s, SW_CYLINDER, sw_v3(SW_PUCK_R, SW_PUCK_R, SW_PUCK_HZ), s->entities[e].pos, sw_mat_identity(),
                  sw_v3(0.05f, 0.07f, 0.16f), e);
    return e;
}

int sw_place_objects(sw_object *obs, int n, const float (*keep)[3], int nkeep, sw_rng *rng)
{
    bool used[SW_CATALOGUE_SIZE] = {false};
    int placed = 0;
    for (int i = 0; i < n; i++) {
        int cat;
        do
            cat = (int)sw_rng_below(rng, SW_CATALOGUE_SIZE);
        while (used[cat]);
        bool ok = false;
        for (int attempt = 0; attempt < 200 && !ok; attempt++) {
            float x = sw_rng_range(rng, -WS_HX, WS_HX), y = sw_rng_range(rng, -WS_HY, WS_HY);
            sw_object_rest(&obs[placed], cat, x, y, rng);
            float r = obs[placed].radius_xy;
            ok = true;
            for (int k = 0; k < placed && ok; k++) {
                float dx = x - obs[k].pos.x, dy = y - obs[k].pos.y, rr = r + obs[k].radius_xy;
                ok = dx * dx + dy * dy > rr * rr;
            }
            for (int k = 0; k < nkeep && ok; k++) {
                float dx = x - keep[k][0], dy = y - keep[k][1], rr = r + keep[k][2];
                ok = dx * dx + dy * dy > rr * rr;
            }
        }
        if (ok) {
            used[cat] = true;
            placed++;
        }
    }
    return placed;
}
