/* The scripted pushing motion (see script.h). Kinematic: the puck moves only while the
 * gripper's face is in contact, so it never slides on its own. */
#include "script.h"

#include "scene.h"

#define Z_LOW 0.004f
#define Z_HIGH 0.09f
#define BACKOFF 0.04f

static const char *const phase_names[] = {"approach", "push", "retreat"};
const char *sw_phase_name(sw_phase ph) { return phase_names[ph]; }

float sw_push_contact(void) { return SW_PUCK_R + SW_FINGER_HY + 0.002f; }

static float ease(float t) { return t * t * (3.0f - 2.0f * t); }
static float clamp01(float t) { return t < 0 ? 0 : t > 1 ? 1 : t; }

static void seg_dir(const sw_push_plan *p, int k, float *ux, float *uy, float *len)
{
    float dx = p->pts[k + 1][0] - p->pts[k][0], dy = p->pts[k + 1][1] - p->pts[k][1];
    *len = sqrtf(dx * dx + dy * dy);
    *ux = *len > 0 ? dx / *len : 1.0f;
    *uy = *len > 0 ? dy / *len : 0.0f;
}

void sw_push_plan_finish(sw_push_plan *p)
{
    float units[2 * SW_MAX_SEGMENTS + 1];
    int n = 0;
    for (int k = 0; k < p->nseg; k++) {
        float ux, uy, len;
        seg_dir(p, k, &ux, &uy, &len);
        units[n++] = 1.0f;
        units[n++] = fmaxf(1.0f, len / 0.08f);
    }
    units[n++] = 0.4f;
    float total = 0;
    for (int i = 0; i < n; i++)
        total += units[i];
    float acc = 0;
    for (int i = 0; i < n; i++) {
        p->t0[i] = acc / total;
        acc += units[i];
        p->t1[i] = acc / total;
    }
    p->t1[n - 1] = 1.0f;
    p->nphases = n;
}

/* Where push k really starts (the puck's actual position after the previous pushes). */
static void actual_start(const sw_push_plan *p, int k, float out[2])
{
    out[0] = p->pts[k][0];
    out[1] = p->pts[k][1];
    if (k > 0) {
        out[0] += p->err[k - 1][0];
        out[1] += p->err[k - 1][1];
    }
}

/* State during push k at phase time tau. */
static void push_state(const sw_push_plan *p, int k, float tau, sw_push_state *o)
{
    float ux, uy, len;
    seg_dir(p, k, &ux, &uy, &len);
    float A[2];
    actual_start(p, k, A);
    float c = sw_push_contact();
    float g_along = -(c + BACKOFF) + (len + BACKOFF) * ease(tau);
    float along = g_along + c > 0 ? g_along + c : 0;
    float frac = len > 0 ? along / len : 1.0f;
    if (frac > 1)
        frac = 1;
    /* Error relative to the intended end, minus what the previous push already put in. */
    float ex = p->err[k][0] - (k > 0 ? p->err[k - 1][0] : 0), ey = p->err[k][1] - (k > 0 ? p->err[k - 1][1] : 0);
    float lat = p->lat[k] * sinf(3.14159265f * frac);
    o->puck[0] = A[0] + ux * along - uy * lat + ex * frac;
    o->puck[1] = A[1] + uy * along + ux * lat + ey * frac;
    if (along > 0)
        o->grip = sw_v3(o->puck[0] - ux * c, o->puck[1] - uy * c, Z_LOW);
    else
        o->grip = sw_v3(A[0] + ux * g_along, A[1] + uy * g_along, Z_LOW);
    /* Fingers side by side across the push direction: yaw turns the finger axis (x) to
     * the perpendicular of u. */
    o->yaw = atan2f(uy, ux) + 0.5f * 3.14159265f;
}

static float wrap_angle(float a)
{
    while (a > 3.14159265f)
        a -= 2.0f * 3.14159265f;
    while (a < -3.14159265f)
        a += 2.0f * 3.14159265f;
    return a;
}

void sw_push_eval(const sw_push_plan *p, float s, sw_push_state *o)
{
    s = clamp01(s);
    int ph = 0;
    while (ph < p->nphases - 1 && s >= p->t1[ph])
        ph++;
    float span = p->t1[ph] - p->t0[ph];
    float tau = clamp01(span > 0 ? (s - p->t0[ph]) / span : 1.0f);
    o->phase_progress = tau;
    if (ph == p->nphases - 1) {
        /* Retreat: lift and back away from the final push. */
        int k = p->nseg - 1;
        sw_push_state end;
        push_state(p, k, 1.0f, &end);
        float ux, uy, len;
        seg_dir(p, k, &ux, &uy, &len);
        float e = ease(tau);
        *o = end;
        o->grip = sw_v3(end.grip.x - ux * 0.05f * e, end.grip.y - uy * 0.05f * e, Z_LOW + (0.12f - Z_LOW) * e);
        o->phase = SW_PHASE_RETREAT;
        o->segment = k;
        o->phase_progress = tau;
        return;
    }
    int k = ph / 2;
    o->segment = k;
    if (ph % 2 == 1) {
        push_state(p, k, tau, o);
        o->phase = SW_PHASE_PUSH;
        o->phase_progress = tau;
        return;
    }
    /* Approach k: from the park pose (k = 0) or the end of push k-1, up, across, down. */
    sw_vec3 from;
    float from_yaw;
    if (k == 0) {
        from = sw_v3(p->park[0], p->park[1], p->park[2]);
        push_state(p, 0, 0.0f, o);
        from_yaw = o->yaw;
    } else {
        sw_push_state prev;
        push_state(p, k - 1, 1.0f, &prev);
        from = prev.grip;
        from_yaw = prev.yaw;
    }
    sw_push_state to;
    push_state(p, k, 0.0f, &to);
    float A[2];
    actual_start(p, k, A);
    sw_vec3 g;
    float yaw;
    if (tau < 0.3f) {
        float e = ease(tau / 0.3f);
        g = sw_v3(from.x, from.y, from.z + (Z_HIGH - from.z) * e);
        yaw = from_yaw;
    } else if (tau < 0.7f) {
        float e = ease((tau - 0.3f) / 0.4f);
        g = sw_v3(from.x + (to.grip.x - from.x) * e, from.y + (to.grip.y - from.y) * e, Z_HIGH);
        yaw = from_yaw + wrap_angle(to.yaw - from_yaw) * e;
    } else {
        float e = ease((tau - 0.7f) / 0.3f);
        g = sw_v3(to.grip.x, to.grip.y, Z_HIGH + (Z_LOW - Z_HIGH) * e);
        yaw = to.yaw;
    }
    o->grip = g;
    o->yaw = yaw;
    o->puck[0] = A[0];
    o->puck[1] = A[1];
    o->phase = SW_PHASE_APPROACH;
    o->phase_progress = tau;
}
