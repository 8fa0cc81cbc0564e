/* `push` and `demo`: the gripper pushes the puck along a scripted path (script.c).
 * push: one segment from start to goal, plus a goal image; demo: a two-segment path from
 * two views and attempts that replay it time-warped, faithfully or deviating. */
#include <stdio.h>
#include <string.h>

#include "scenarios.h"
#include "script.h"

#define PI_F 3.14159265f
#define PATH_HX 0.2f
#define PATH_HY 0.15f

static bool in_path_area(float x, float y) { return fabsf(x) <= PATH_HX && fabsf(y) <= PATH_HY; }

/* Distractors kept off the swept corridor (puck path and the gripper behind it). */
static int place_distractors(sw_object *obs, int n, const sw_push_plan *p, sw_rng *rng)
{
    float keep[64][3];
    int nk = 0;
    for (int k = 0; k < p->nseg; k++) {
        for (int i = -2; i <= 8 && nk < 62; i++) {
            float f = (float)i / 8.0f;
            keep[nk][0] = p->pts[k][0] + (p->pts[k + 1][0] - p->pts[k][0]) * f;
            keep[nk][1] = p->pts[k][1] + (p->pts[k + 1][1] - p->pts[k][1]) * f;
            keep[nk][2] = 0.1f;
            nk++;
        }
    }
    return sw_place_objects(obs, n, (const float(*)[3])keep, nk, rng);
}

static void build(sw_scene *s, const sw_env *env, float t, const sw_object *obs, int n, const float puck[2], sw_vec3 grip,
                  float yaw)
{
    sw_scene_begin(s, env, t, true);
    for (int i = 0; i < n; i++)
        sw_scene_add_object(s, &obs[i]);
    sw_scene_add_puck(s, puck[0], puck[1]);
    sw_scene_add_gripper(s, grip, yaw, 0.012f);
}

static void park_pose(sw_push_plan *p)
{
    p->park[0] = 0.36f;
    p->park[1] = 0.24f;
    p->park[2] = 0.2f;
}

int sw_run_push(sw_episode *ep)
{
    const sw_opts *o = ep->o;
    sw_rng r_env, r_cam, r_plan, r_obj;
    sw_episode_rng(ep, 1, &r_env);
    sw_episode_rng(ep, 2, &r_cam);
    sw_episode_rng(ep, 6, &r_plan);
    sw_episode_rng(ep, 3, &r_obj);
    sw_env env;
    sw_env_init(&env, &r_env, o);
    ep->gain = env.gain;
    sw_camera cams[SW_MAX_VIEWS];
    sw_rig_cameras(cams, o->views, &r_cam, o);

    sw_push_plan plan;
    memset(&plan, 0, sizeof plan);
    plan.nseg = 1;
    park_pose(&plan);
    for (int tries = 0; tries < 1000; tries++) {
        float sx = sw_rng_range(&r_plan, -PATH_HX, PATH_HX), sy = sw_rng_range(&r_plan, -PATH_HY, PATH_HY);
        float ang = sw_rng_range(&r_plan, -PI_F, PI_F), len = sw_rng_range(&r_plan, 0.12f, 0.28f);
        float gx = sx + len * cosf(ang), gy = sy + len * sinf(ang);
        /* The gripper starts behind the puck: keep that spot on the table too. */
        float bx = sx - 0.1f * cosf(ang), by = sy - 0.1f * sinf(ang);
        plan.pts[0][0] = sx;
        plan.pts[0][1] = sy;
        plan.pts[1][0] = gx;
        plan.pts[1][1] = gy;
        if (in_path_area(gx, gy) && fabsf(bx) < SW_TABLE_HX - 0.03f && fabsf(by) < SW_TABLE_HY - 0.03f)
            break;
    }
    plan.lat[0] = 0.006f * sw_rng_gauss(&r_plan);
    plan.err[0][0] = 0.005f * sw_rng_gauss(&r_plan);
    plan.err[0][1] = 0.005f * sw_rng_gauss(&r_plan);
    sw_push_plan_finish(&plan);
    sw_object obs[SW_MAX_OBJECTS];
    int n = place_distractors(obs, (int)o->objects, &plan, &r_obj);

    sw_stream vid, goal;
    memset(&vid, 0, sizeof vid);
    memset(&goal, 0, sizeof goal);
    int rc = -1;
    if (sw_stream_open(ep, &vid, "push", cams, o->views) || sw_stream_open(ep, &goal, "goal", cams, o->views))
        goto done;
    char hx[256];
    snprintf(hx, sizeof hx, "\"start\":[%.4f,%.4f],\"goal\":[%.4f,%.4f],\"frames\":%u", plan.pts[0][0], plan.pts[0][1],
             plan.pts[1][0], plan.pts[1][1], o->frames);
    const sw_stream *hdr[] = {&vid, &goal};
    sw_episode_header(ep, hdr, 2, &env, hx);

    sw_rng r_jit;
    sw_episode_rng(ep, 7, &r_jit);
    float prev[2] = {plan.pts[0][0], plan.pts[0][1]};
    for (uint32_t i = 0; i < o->frames; i++) {
        float s = o->frames > 1 ? (float)i / (float)(o->frames - 1) : 1.0f;
        float t = (float)i / (float)SW_FPS;
        sw_push_state st;
        sw_push_eval(&plan, s, &st);
        sw_vec3 grip = sw_add(st.grip, sw_v3(0.0008f * sw_rng_gauss(&r_jit), 0.0008f * sw_rng_gauss(&r_jit), 0));
        sw_scene sc;
        build(&sc, &env, t, obs, n, st.puck, grip, st.yaw);
        float dx = st.puck[0] - plan.pts[1][0], dy = st.puck[1] - plan.pts[1][1];
        float vx = i ? (st.puck[0] - prev[0]) * SW_FPS : 0.0f, vy = i ? (st.puck[1] - prev[1]) * SW_FPS : 0.0f;
        prev[0] = st.puck[0];
        prev[1] = st.puck[1];
        char ex[512];
        snprintf(ex, sizeof ex,
                 "\"puck\":[%.4f,%.4f],\"goal\":[%.4f,%.4f],\"distance\":%.4f,\"gripper\":[%.4f,%.4f,%.4f],"
                 "\"velocity\":[%.4f,%.4f],\"phase\":\"%s\",\"progress\":%.4f",
                 st.puck[0], st.puck[1], plan.pts[1][0], plan.pts[1][1], sqrtf(dx * dx + dy * dy), grip.x, grip.y, grip.z,
                 vx, vy, sw_phase_name(st.phase), s);
        if (sw_stream_frame(ep, &vid, &sc, "push", t, ex))
            goto done;
    }
    /* The goal image: puck at the goal, gripper parked. */
    {
        sw_scene sc;
        build(&sc, &env, 0.0f, obs, n, plan.pts[1], sw_v3(plan.park[0], plan.park[1], plan.park[2]), 0.0f);
        char ex[256];
        snprintf(ex, sizeof ex, "\"puck\":[%.4f,%.4f],\"goal\":[%.4f,%.4f],\"distance\":0.0000", plan.pts[1][0],
                 plan.pts[1][1], plan.pts[1][0], plan.pts[1][1]);
        if (sw_stream_frame(ep, &goal, &sc, "goal", 0.0f, ex))
            goto done;
    }
    rc = 0;
done:
    if (sw_stream_close(ep, &vid))
        rc = -1;
    if (sw_stream_close(ep, &goal))
        rc = -1;
    return rc;
}

/* ---- demo ----------------------------------------------------------------------------- */

static int demo_video(sw_episode *ep, sw_stream *st, const sw_env *env, const sw_object *obs, int n, const sw_push_plan *p,
                      int attempt, float deviation, float warp, uint64_t jitter_key)
{
    const sw_opts *o = ep->o;
    sw_rng r_jit;
    sw_episode_rng(ep, jitter_key, &r_jit);
    float sigma = attempt < 0 ? 0.0005f : 0.0012f;
    float prev[2] = {p->pts[0][0], p->pts[0][1]};
    for (uint32_t i = 0; i < o->frames; i++) {
        float x = o->frames > 1 ? (float)i / (float)(o->frames - 1) : 1.0f;
        /* Monotone time warp (|warp| * pi < 1), fixed ends. */
        float s = x + warp * sinf(PI_F * x);
        float t = (float)i / (float)SW_FPS;
        sw_push_state ps;
        sw_push_eval(p, s, &ps);
        sw_vec3 grip = sw_add(ps.grip, sw_v3(sigma * sw_rng_gauss(&r_jit), sigma * sw_rng_gauss(&r_jit), 0));
        sw_scene sc;
        build(&sc, env, t, obs, n, ps.puck, grip, ps.yaw);
        float vx = i ? (ps.puck[0] - prev[0]) * SW_FPS : 0.0f, vy = i ? (ps.puck[1] - prev[1]) * SW_FPS : 0.0f;
        prev[0] = ps.puck[0];
        prev[1] = ps.puck[1];
        char ex[600];
        snprintf(ex, sizeof ex,
                 "\"attempt\":%d,\"deviation\":%.4f,\"warp\":%.4f,\"progress\":%.4f,\"phase\":\"%s\",\"segment\":%d,"
                 "\"phase_progress\":%.4f,\"puck\":[%.4f,%.4f],\"velocity\":[%.4f,%.4f],\"gripper\":[%.4f,%.4f,%.4f],"
                 "\"yaw\":%.4f",
                 attempt, deviation, warp, s, sw_phase_name(ps.phase), ps.segment, ps.phase_progress, ps.puck[0], ps.puck[1],
                 vx, vy, grip.x, grip.y, grip.z, ps.yaw);
        if (sw_stream_frame(ep, st, &sc, attempt < 0 ? "demo" : "attempt", t, ex))
            return -1;
    }
    return 0;
}

int sw_run_demo(sw_episode *ep)
{
    const sw_opts *o = ep->o;
    sw_rng r_env, r_cam, r_plan, r_obj;
    sw_episode_rng(ep, 1, &r_env);
    sw_episode_rng(ep, 2, &r_cam);
    sw_episode_rng(ep, 6, &r_plan);
    sw_episode_rng(ep, 3, &r_obj);
    sw_env env;
    sw_env_init(&env, &r_env, o);
    ep->gain = env.gain;
    sw_camera cams[SW_MAX_VIEWS];
    sw_rig_cameras(cams, o->views, &r_cam, o);

    /* Start -> waypoint -> goal with a 60-120 degree turn, all inside the path area even
     * when the deviating attempts shift waypoint and goal by up to 12 and 10 cm. */
    sw_push_plan demo;
    memset(&demo, 0, sizeof demo);
    demo.nseg = 2;
    park_pose(&demo);
    float perp1[2] = {0, 0}, perp2[2] = {0, 0};
    for (int tries = 0; tries < 1000; tries++) {
        float sx = sw_rng_range(&r_plan, -0.12f, 0.12f), sy = sw_rng_range(&r_plan, -0.08f, 0.08f);
        float a1 = sw_rng_range(&r_plan, -PI_F, PI_F), l1 = sw_rng_range(&r_plan, 0.1f, 0.16f);
        float turn = sw_rng_range(&r_plan, 60.0f, 120.0f) * PI_F / 180.0f * (sw_rng_unit(&r_plan) < 0.5f ? -1.0f : 1.0f);
        float a2 = a1 + turn, l2 = sw_rng_range(&r_plan, 0.1f, 0.16f);
        float wx = sx + l1 * cosf(a1), wy = sy + l1 * sinf(a1);
        float gx = wx + l2 * cosf(a2), gy = wy + l2 * sinf(a2);
        perp1[0] = -sinf(a1);
        perp1[1] = cosf(a1);
        perp2[0] = -sinf(a2);
        perp2[1] = cosf(a2);
        demo.pts[0][0] = sx;
        demo.pts[0][1] = sy;
        demo.pts[1][0] = wx;
        demo.pts[1][1] = wy;
        demo.pts[2][0] = gx;
        demo.pts[2][1] = gy;
        if (in_path_area(wx + 0.12f * perp1[0], wy + 0.12f * perp1[1]) && in_path_area(wx, wy) &&
            in_path_area(gx, gy) && in_path_area(gx + 0.1f * perp2[0], gy + 0.1f * perp2[1]))
            break;
    }
    for (int k = 0; k < 2; k++) {
        demo.lat[k] = 0.004f * sw_rng_gauss(&r_plan);
        demo.err[k][0] = 0.003f * sw_rng_gauss(&r_plan);
        demo.err[k][1] = 0.003f * sw_rng_gauss(&r_plan);
    }
    sw_push_plan_finish(&demo);
    /* Keep distractors clear of the deviated path as well. */
    sw_push_plan wide = demo;
    wide.nseg = 3;
    wide.pts[3][0] = demo.pts[2][0] + 0.1f * perp2[0];
    wide.pts[3][1] = demo.pts[2][1] + 0.1f * perp2[1];
    wide.pts[2][0] = demo.pts[1][0] + 0.12f * perp1[0];
    wide.pts[2][1] = demo.pts[1][1] + 0.12f * perp1[1];
    wide.pts[1][0] = demo.pts[1][0];
    wide.pts[1][1] = demo.pts[1][1];
    sw_object obs[SW_MAX_OBJECTS];
    int n = place_distractors(obs, (int)o->objects, &wide, &r_obj);

    sw_stream st;
    memset(&st, 0, sizeof st);
    if (sw_stream_open(ep, &st, "demo", cams, o->views))
        goto fail;
    char hx[1024];
    int len = snprintf(hx, sizeof hx, "\"path\":[[%.4f,%.4f],[%.4f,%.4f],[%.4f,%.4f]],\"frames\":%u,\"attempts\":[",
                       demo.pts[0][0], demo.pts[0][1], demo.pts[1][0], demo.pts[1][1], demo.pts[2][0], demo.pts[2][1],
                       o->frames);
    float dev[SW_MAX_ATTEMPTS], warp[SW_MAX_ATTEMPTS];
    sw_rng r_att;
    sw_episode_rng(ep, 8, &r_att);
    for (uint32_t a = 0; a < o->attempts; a++) {
        /* Even attempts are faithful, odd ones deviate by --deviation. */
        dev[a] = (a % 2) ? o->deviation : 0.0f;
        warp[a] = sw_rng_range(&r_att, -0.1f, 0.1f);
        len += snprintf(hx + len, sizeof hx - (size_t)len, "%s{\"attempt\":%u,\"deviation\":%.4f,\"warp\":%.4f}", a ? "," : "",
                        a, dev[a], warp[a]);
        if (len >= (int)sizeof hx - 64)
            break;
    }
    snprintf(hx + len, sizeof hx - (size_t)len, "]");
    const sw_stream *hdr[] = {&st};
    sw_episode_header(ep, hdr, 1, &env, hx);
    if (demo_video(ep, &st, &env, obs, n, &demo, -1, 0.0f, 0.0f, 9))
        goto fail;
    if (sw_stream_close(ep, &st))
        return -1;
    for (uint32_t a = 0; a < o->attempts; a++) {
        sw_rng r_noise;
        sw_episode_rng(ep, 100 + a, &r_noise);
        sw_push_plan p = demo;
        p.pts[1][0] += dev[a] * 0.12f * perp1[0];
        p.pts[1][1] += dev[a] * 0.12f * perp1[1];
        p.pts[2][0] += dev[a] * 0.1f * perp2[0];
        p.pts[2][1] += dev[a] * 0.1f * perp2[1];
        for (int k = 0; k < 2; k++) {
            p.lat[k] = 0.004f * sw_rng_gauss(&r_noise);
            p.err[k][0] = 0.003f * sw_rng_gauss(&r_noise);
            p.err[k][1] = 0.003f * sw_rng_gauss(&r_noise);
        }
        sw_push_plan_finish(&p);
        char name[16];
        snprintf(name, sizeof name, "att%02u", a);
        if (sw_stream_open(ep, &st, name, cams, o->views))
            goto fail;
        if (demo_video(ep, &st, &env, obs, n, &p, (int)a, dev[a], warp[a], 200 + a))
            goto fail;
        if (sw_stream_close(ep, &st))
            return -1;
    }
    return 0;
fail:
    sw_stream_close(ep, &st);
    return -1;
}
