/* The scripted pushing motion shared by `push` and `demo`: the gripper approaches behind
 * the puck, pushes it along one or more straight segments, and retreats. Evaluated at a
 * script time s in [0, 1], so attempts can replay it time-warped. */
#ifndef SIMWORLD_SCRIPT_H
#define SIMWORLD_SCRIPT_H

#include "sw_math.h"

#define SW_MAX_SEGMENTS 3

typedef enum sw_phase { SW_PHASE_APPROACH = 0, SW_PHASE_PUSH, SW_PHASE_RETREAT } sw_phase;

typedef struct sw_push_plan {
    int nseg;
    float pts[SW_MAX_SEGMENTS + 1][2]; /* puck: start, then the end of each segment (intended) */
    float lat[SW_MAX_SEGMENTS];        /* lateral wobble amplitude of each push (m) */
    float err[SW_MAX_SEGMENTS][2];     /* where each push really ends, relative to its target (m) */
    float park[3];                     /* gripper's parked pose (start) */
    /* Derived by sw_push_plan_finish: phase boundaries in script time. */
    int nphases;
    float t0[2 * SW_MAX_SEGMENTS + 1], t1[2 * SW_MAX_SEGMENTS + 1];
} sw_push_plan;

typedef struct sw_push_state {
    sw_vec3 grip;      /* grasp point of the gripper */
    float yaw;
    float puck[2];
    sw_phase phase;
    int segment;       /* which segment the phase belongs to (retreat: nseg - 1) */
    float phase_progress; /* in [0, 1] within the phase */
} sw_push_state;

void sw_push_plan_finish(sw_push_plan *p);
void sw_push_eval(const sw_push_plan *p, float s, sw_push_state *out);
const char *sw_phase_name(sw_phase ph);
/* Contact distance gripper grasp point -> puck centre while pushing. */
float sw_push_contact(void);

#endif
