/* The tabletop world: primitives (objects, gripper, puck), cameras, light, and a ray
 * caster that renders RGB plus an entity-id buffer and the 2D boxes ground truth needs. */
#ifndef SIMWORLD_WORLD_H
#define SIMWORLD_WORLD_H

#include <stdbool.h>
#include <stdint.h>

#include "sw_math.h"

/* Table top: z = 0 inside this rectangle (metres). */
#define SW_TABLE_HX 0.45f
#define SW_TABLE_HY 0.35f

typedef enum sw_shape {
    SW_BOX = 0,
    SW_CYLINDER,
    SW_SPHERE,
    SW_CONE,
    SW_CAPSULE,
    SW_SHAPE_COUNT
} sw_shape;
#define SW_COLOUR_COUNT 8
#define SW_CATALOGUE_SIZE (SW_SHAPE_COUNT * SW_COLOUR_COUNT)

const char *sw_shape_name(sw_shape s);
const char *sw_colour_name(int colour);
sw_vec3 sw_colour_albedo(int colour);

/* One rigid primitive in its local frame (centred at the origin):
 * box half extents a; cylinder radius a.x, half height a.z (axis local z); sphere radius a.x;
 * cone base radius a.x at z = -a.z, apex at z = +a.z; capsule radius a.x, segment z in [-a.z, a.z]. */
typedef struct sw_prim {
    sw_shape shape;
    sw_vec3 a;
    sw_vec3 pos;
    sw_mat3 rot;      /* local -> world */
    sw_vec3 albedo;   /* linear RGB in [0, 1] */
    int entity;       /* index into the scene's entities (id buffer value is entity + 1) */
} sw_prim;

/* A thing ground truth talks about: an object instance, the gripper (several prims), the puck. */
typedef struct sw_entity {
    char name[24];    /* "object", "gripper", "puck" */
    int catalogue;    /* catalogue id for objects, -1 otherwise */
    sw_vec3 pos;      /* reference point written to ground truth (centre; gripper: between the fingertips) */
} sw_entity;

#define SW_MAX_PRIMS 32
#define SW_MAX_ENTITIES 24

typedef struct sw_camera {
    sw_vec3 eye, right, down, fwd;
    float f, cx, cy;  /* focal length and principal point in pixels */
    uint32_t width, height;
} sw_camera;

typedef struct sw_light {
    sw_vec3 dir;      /* towards the light, unit, z > 0 */
    float intensity, ambient;
    sw_vec3 tint;     /* multiplies the light (white ~ 1,1,1) */
} sw_light;

typedef struct sw_scene {
    sw_prim prims[SW_MAX_PRIMS];
    int nprims;
    sw_entity entities[SW_MAX_ENTITIES];
    int nentities;
    sw_light light;
    bool table;             /* false: only the backdrop (outcome camera) */
    sw_vec3 table_tint;     /* per-episode wood colour */
    float tex_offset[2], tex_scale;
    sw_vec3 backdrop;       /* colour of walls/background */
} sw_scene;

/* Points the camera from eye at target (z up); fov_deg is the horizontal field of view. */
void sw_camera_look(sw_camera *c, sw_vec3 eye, sw_vec3 target, float fov_deg, uint32_t w, uint32_t h);

/* Adds an entity; returns its index or -1 when full. */
int sw_scene_entity(sw_scene *s, const char *name, int catalogue);
/* Adds a primitive; returns its index or -1 when full. */
int sw_scene_prim(sw_scene *s, sw_shape shape, sw_vec3 a, sw_vec3 pos, sw_mat3 rot, sw_vec3 albedo, int entity);

/* 2D box of something in pixel coordinates, [x0, x1) x [y0, y1), clipped to the image;
 * empty (x0 >= x1) when outside. */
typedef struct sw_box {
    float x0, y0, x1, y1;
} sw_box;

/* Conservative projected box of one primitive (contains every pixel centre whose ray hits
 * it), clipped to the image. */
sw_box sw_prim_box(const sw_camera *c, const sw_prim *p);

/* Rendering options; noise and jitter are applied by the caller (sw_post). */
typedef struct sw_render_opts {
    bool aa;                /* 2x2 supersampling for colour (ids from the pixel centre) */
} sw_render_opts;

/* Per-camera work memory, sized once: ray directions, per-prim boxes. */
typedef struct sw_view {
    sw_camera cam;
    sw_vec3 *rays;          /* width*height (x4 more with aa) unit directions */
    bool aa;
} sw_view;

int sw_view_init(sw_view *v, const sw_camera *cam, bool aa);
void sw_view_free(sw_view *v);

/* Renders the scene: rgb (linear floats, width*height*3) and ids (entity+1, 0 = table or
 * background). ent_box/ent_px (nentities each) receive the union of the projected boxes
 * and the visible-pixel count of each entity. */
void sw_render(const sw_scene *s, const sw_view *v, float *rgb, uint8_t *ids, sw_box *ent_box, uint32_t *ent_px);

/* Fills the gamma table sw_post uses: call once before any thread renders. */
void sw_world_init(void);
/* Linear -> 8-bit sRGB-ish with per-channel gains, additive Gaussian noise of sigma
 * (8-bit units) drawn from rng. */
void sw_post(const float *rgb, uint32_t npix, sw_vec3 gain, float sigma, sw_rng *rng, uint8_t *out);

/* Projects a world point; false when behind the camera. */
bool sw_project(const sw_camera *c, sw_vec3 p, float *u, float *v);

#endif
