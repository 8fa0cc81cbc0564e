/* `grasp`: a cluttered scene before and after one object is taken, the taken object held
 * up to the outcome camera, and one goal image per scene object (held, another pose). */
#include <stdio.h>
#include <string.h>

#include "scenarios.h"

void sw_episode_rng(const sw_episode *ep, uint64_t purpose, sw_rng *r)
{
    sw_rng_seed(r, sw_hash(ep->o->seed, ep->index, purpose, (uint64_t)ep->o->scenario));
}

/* Renders a held object in front of the outcome camera (one frame of stream st). */
static int held_frame(sw_episode *ep, sw_stream *st, const sw_env *env, sw_vec3 show, int cat, sw_rng *rng,
                      const char *kind, float t, const char *extra)
{
    sw_scene s;
    sw_scene_begin(&s, env, t, false);
    sw_object ob;
    float opening = sw_object_held(&ob, cat, show, rng);
    sw_scene_add_object(&s, &ob);
    sw_scene_add_gripper(&s, show, 0.0f, opening);
    return sw_stream_frame(ep, st, &s, kind, t, extra);
}

int sw_run_grasp(sw_episode *ep)
{
    const sw_opts *o = ep->o;
    sw_rng r_env, r_cam, r_obj, r_pick, r_held;
    sw_episode_rng(ep, 1, &r_env);
    sw_episode_rng(ep, 2, &r_cam);
    sw_episode_rng(ep, 3, &r_obj);
    sw_episode_rng(ep, 4, &r_pick);
    sw_episode_rng(ep, 5, &r_held);
    sw_env env;
    sw_env_init(&env, &r_env, o);
    ep->gain = env.gain;
    sw_camera cams[SW_MAX_VIEWS], ocam;
    sw_vec3 show;
    sw_rig_cameras(cams, o->views, &r_cam, o);
    sw_outcome_camera(&ocam, &show, &r_cam, o);

    sw_object obs[SW_MAX_OBJECTS];
    int n = sw_place_objects(obs, (int)o->objects, NULL, 0, &r_obj);

    sw_stream scene, outcome, goals;
    int rc = -1;
    if (n < 1)
        return ert_fail(&ep->err, ERT_EINTERNAL, "episode %u: no object could be placed", ep->index), -1;
    memset(&scene, 0, sizeof scene);
    memset(&outcome, 0, sizeof outcome);
    memset(&goals, 0, sizeof goals);
    if (sw_stream_open(ep, &scene, "scene", cams, o->views) || sw_stream_open(ep, &outcome, "outcome", &ocam, 1) ||
        sw_stream_open(ep, &goals, "goals", &ocam, 1))
        goto done;

    /* Pre-grasp: every object, gripper parked out of view. Pick among the objects visible
     * in view 0 (all, if none is). */
    sw_scene s;
    sw_scene_begin(&s, &env, 0.0f, true);
    for (int i = 0; i < n; i++)
        sw_scene_add_object(&s, &obs[i]);
    int visible[SW_MAX_OBJECTS] = {0}, nvis = 0;
    {
        /* A cheap id pass at view 0 decides visibility before anything is written. */
        sw_render(&s, &scene.views[0], ep->rgb, ep->ids[0], ep->boxes[0], ep->px[0]);
        for (int i = 0; i < n; i++)
            if (ep->px[0][i] >= 20)
                visible[nvis++] = i;
        if (nvis == 0)
            for (int i = 0; i < n; i++)
                visible[nvis++] = i;
    }
    int g = visible[sw_rng_below(&r_pick, (uint32_t)nvis)];
    char extra[256];
    snprintf(extra, sizeof extra, "\"grasped\":{\"id\":%d,\"index\":%d}", obs[g].catalogue, g);
    const sw_stream *hdr[] = {&scene, &outcome, &goals};
    char hx[600];
    int len = snprintf(hx, sizeof hx, "\"objects\":[");
    for (int i = 0; i < n; i++)
        len += snprintf(hx + len, sizeof hx - (size_t)len, "%s%d", i ? "," : "", obs[i].catalogue);
    snprintf(hx + len, sizeof hx - (size_t)len, "],%s", extra);
    sw_episode_header(ep, hdr, 3, &env, hx);
    if (sw_stream_frame(ep, &scene, &s, "pre", 0.0f, extra))
        goto done;
    /* Post-grasp: the same scene a moment later without the grasped object. */
    sw_scene_begin(&s, &env, 1.0f, true);
    for (int i = 0; i < n; i++) {
        if (i == g)
            continue;
        sw_scene_add_object(&s, &obs[i]);
    }
    if (sw_stream_frame(ep, &scene, &s, "post", 1.0f, extra))
        goto done;
    if (held_frame(ep, &outcome, &env, show, obs[g].catalogue, &r_held, "outcome", 2.0f, extra))
        goto done;
    for (int i = 0; i < n; i++) {
        char gx[400];
        snprintf(gx, sizeof gx, "\"goal\":{\"id\":%d,\"index\":%d},%s", obs[i].catalogue, i, extra);
        if (held_frame(ep, &goals, &env, show, obs[i].catalogue, &r_held, "goal", 3.0f, gx))
            goto done;
    }
    rc = 0;
done:
    if (sw_stream_close(ep, &scene))
        rc = -1;
    if (sw_stream_close(ep, &outcome))
        rc = -1;
    if (sw_stream_close(ep, &goals))
        rc = -1;
    return rc;
}
