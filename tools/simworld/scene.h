/* Building blocks the scenarios share: options, per-episode environment (light, table,
 * camera rig with jitter), catalogue objects at rest or held, the gripper and the puck. */
#ifndef SIMWORLD_SCENE_H
#define SIMWORLD_SCENE_H

#include <stdbool.h>
#include <stdint.h>

#include "world.h"

#define SW_MAX_VIEWS 3
#define SW_MAX_OBJECTS 12
#define SW_MAX_ATTEMPTS 64
#define SW_FPS 30

typedef enum sw_scenario { SW_GRASP = 0, SW_PUSH, SW_DEMO } sw_scenario;

typedef struct sw_opts {
    sw_scenario scenario;
    uint64_t seed;
    const char *out;
    uint32_t episodes, first_episode;
    uint32_t width, height, views, frames, objects, attempts, threads;
    float deviation;   /* demo: path/target offset of the deviating attempts, [0, 1] */
    float noise;       /* sensor noise sigma in 8-bit units */
    float colour_jitter; /* per-episode per-channel gain spread */
    float jitter;      /* camera pose jitter scale (1 = +-3 deg, +-3 cm) */
    bool aa, masks;
    const char *preview; /* PNG contact sheet of episode 0, or NULL */
    /* Main rig, per view: azimuth and elevation (degrees) around the table centre,
     * distance (m) and horizontal field of view (degrees); jitter is added per episode. */
    float cam_az[SW_MAX_VIEWS], cam_el[SW_MAX_VIEWS], cam_dist[SW_MAX_VIEWS], cam_fov[SW_MAX_VIEWS];
} sw_opts;

/* Fills the rig's default poses (view 0 in front, 1 and 2 to the sides). */
void sw_rig_defaults(sw_opts *o);

/* Per-episode environment: the light at t = 0 and how it drifts, table look, backdrop. */
typedef struct sw_env {
    sw_light light0;
    float light_az, light_el, drift; /* azimuth/elevation (rad) and azimuth drift (rad/s) */
    sw_vec3 table_tint, backdrop, gain;
    float tex_offset[2], tex_scale;
} sw_env;

void sw_env_init(sw_env *env, sw_rng *rng, const sw_opts *o);
/* Empty scene with the environment's light at time t (seconds). */
void sw_scene_begin(sw_scene *s, const sw_env *env, float t, bool table);

/* The main rig: view k looks at the table from its own azimuth, jittered per episode. */
void sw_rig_cameras(sw_camera *cams, uint32_t nviews, sw_rng *rng, const sw_opts *o);
/* The outcome camera close to the gripper's show pose, and that pose's grasp point. */
void sw_outcome_camera(sw_camera *cam, sw_vec3 *show_point, sw_rng *rng, const sw_opts *o);

/* Catalogue object `cat` (shape = cat / colours, colour = cat % colours) with a size
 * jitter scale in [0.92, 1.08]. */
typedef struct sw_object {
    int catalogue;
    sw_shape shape;
    int colour;
    sw_vec3 a;        /* primitive dimensions (see sw_prim) */
    sw_mat3 rot;
    sw_vec3 pos;
    float radius_xy;  /* footprint radius on the table for placement */
} sw_object;

/* A resting pose for the catalogue object at (x, y) with a random yaw (and lying or
 * upright for cylinders and capsules). */
void sw_object_rest(sw_object *ob, int cat, float x, float y, sw_rng *rng);
/* The object held at the gripper's grasp point with a random orientation; returns the
 * gripper opening that clamps it. */
float sw_object_held(sw_object *ob, int cat, sw_vec3 grasp_point, sw_rng *rng);
int sw_scene_add_object(sw_scene *s, const sw_object *ob);

/* Gripper: grasp point g (between the fingertips, at their lower end), yaw, opening between
 * the fingers. Returns the entity. */
int sw_scene_add_gripper(sw_scene *s, sw_vec3 g, float yaw, float opening);
#define SW_FINGER_HY 0.014f   /* fingers' half depth: the pushing face */
#define SW_PUCK_R 0.035f
#define SW_PUCK_HZ 0.012f
int sw_scene_add_puck(sw_scene *s, float x, float y);

/* Places up to n catalogue objects (distinct ids) in the workspace away from the given
 * keep-out points (each with its radius); returns how many fit. */
int sw_place_objects(sw_object *obs, int n, const float (*keep)[3], int nkeep, sw_rng *rng);

#endif
