/* `embedrt reward` for grasp2vec: outcome, scene-difference and heatmap/keypoint. */
#include "reward_cli.h"

#include "embedrt/grasp2vec.h"
#include "embedrt/image.h"
#include "embedrt/npy.h"

#include <stdio.h>
#include <stdlib.h>

int ert_reward_grasp2vec(ert_family_model *fm, const ert_reward_args *a)
{
    ert_error err;
    ert_g2v *g = NULL;
    ert_g2v_params p;
    ert_image goal = {0}, x = {0}, y = {0};
    float *heat = NULL, *prob = NULL;
    int rc = 1;
    int mode = a->outcome ? 1 : (a->pre && a->post) ? 2 : a->scene ? 3 : 0;
    if (!a->goal || !mode) {
        fprintf(stderr, "embedrt reward: grasp2vec needs --goal IMG with --outcome IMG, --pre IMG --post IMG, or "
                        "--scene IMG\n");
        return 2;
    }
    const char *xp = mode == 1 ? a->outcome : mode == 2 ? a->pre : a->scene;
    if (ert_g2v_create(fm, &g, &err) != ERT_OK || ert_g2v_params_parse(a->params, a->n_params, &p, &err) != ERT_OK ||
        ert_image_read(a->goal, &goal, &err) != ERT_OK || ert_image_read(xp, &x, &err) != ERT_OK ||
        (mode == 2 && ert_image_read(a->post, &y, &err) != ERT_OK)) {
        fprintf(stderr, "embedrt reward: %s\n", err.msg);
        goto done;
    }
    ert_g2v_reward r;
    if (mode == 1 || mode == 2) {
        ert_status st = mode == 1 ? ert_g2v_outcome_reward(g, &p, &goal.frame, &x.frame, &r, &err)
                                  : ert_g2v_scene_diff_reward(g, &p, &goal.frame, &x.frame, &y.frame, &r, &err);
        if (st != ERT_OK) {
            fprintf(stderr, "embedrt reward: %s\n", err.msg);
            goto done;
        }
        ert_reward_begin(a, "grasp2vec", mode == 1 ? "outcome" : "scene_difference", r.value);
        ert_reward_field(a, "cosine", r.cosine);
        ert_reward_field(a, "dot", r.dot);
        ert_reward_field(a, "goal_norm", r.norm_goal);
        ert_reward_field(a, mode == 1 ? "outcome_norm" : "difference_norm", r.norm_other);
        ert_reward_end(a);
        rc = 0;
        goto done;
    }
    size_t c, h, w;
    ert_g2v_spatial_dims(g, &c, &h, &w);
    heat = malloc(h * w * sizeof *heat);
    prob = malloc(h * w * sizeof *prob);
    float kp[2];
    if (!heat || !prob) {
        fprintf(stderr, "embedrt reward: out of memory\n");
        goto done;
    }
    if (ert_g2v_locate(g, &p, &goal.frame, &x.frame, heat, prob, kp, &err) != ERT_OK) {
        fprintf(stderr, "embedrt reward: %s\n", err.msg);
        goto done;
    }
    if (a->heatmap_out) {
        ert_shape s = {.rank = 2, .dims = {(int64_t)h, (int64_t)w}};
        if (ert_npy_write(a->heatmap_out, ERT_DT_F32, &s, heat, &err) != ERT_OK) {
            fprintf(stderr, "embedrt reward: %s\n", err.msg);
            goto done;
        }
    }
    size_t best = 0;
    for (size_t i = 1; i < h * w; i++)
        if (prob[i] > prob[best])
            best = i;
    ert_reward_begin(a, "grasp2vec", "heatmap", prob[best]);
    ert_reward_field(a, "keypoint_x", kp[0]);
    ert_reward_field(a, "keypoint_y", kp[1]);
    ert_reward_field(a, "peak_row", (double)(best / w));
    ert_reward_field(a, "peak_col", (double)(best % w));
    ert_reward_field(a, "peak_prob", prob[best]);
    ert_reward_end(a);
    rc = 0;
done:
    free(heat);
    free(prob);
    ert_image_free(&goal);
    ert_image_free(&x);
    ert_image_free(&y);
    ert_g2v_free(g);
    return rc;
}
