/* `embedrt reward` for TCN: the imitation reward of every live frame against the
 * time-aligned demonstration frame (within the blob's time_window), with the nearest demo
 * frame (alignment). */
#include "reward_cli.h"

#include "embedrt/image.h"
#include "embedrt/tcn.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static bool ends_with(const char *s, const char *suffix)
{
    size_t a = strlen(s), b = strlen(suffix);
    return a >= b && strcmp(s + a - b, suffix) == 0;
}

int ert_reward_tcn(ert_family_model *fm, const ert_reward_args *a)
{
    if (!a->demo || !a->live) {
        fprintf(stderr, "embedrt reward: tcn needs --demo VIDEO.y4m|EMBEDDINGS.npy and --live VIDEO.y4m\n");
        return 2;
    }
    ert_error err;
    ert_tcn *t = NULL;
    ert_tcn_params p;
    ert_tcn_demo *demo = NULL;
    ert_tcn_tracker tr;
    ert_y4m *live = NULL;
    float *w = NULL;
    int rc = 1;
    ert_status st = ert_tcn_create(fm, &t, &err);
    if (st == ERT_OK)
        st = ert_tcn_params_parse(a->params, a->n_params, &p, &err);
    if (st == ERT_OK)
        st = ends_with(a->demo, ".npy") ? ert_tcn_demo_load_npy(a->demo, ert_tcn_dim(t), &demo, &err)
                                        : ert_tcn_demo_from_video(t, &p, a->demo, &demo, &err);
    if (st == ERT_OK)
        st = ert_tcn_tracker_init(&tr, demo, &p, &err);
    if (st == ERT_OK)
        st = ert_y4m_open(a->live, &live, &err);
    if (st == ERT_OK && !(w = malloc(ert_tcn_dim(t) * sizeof *w)))
        st = ert_fail(&err, ERT_ENOMEM, "out of memory");
    for (size_t i = 0; st == ERT_OK; i++) {
        ert_frame f;
        bool eof;
        if ((st = ert_y4m_next(live, &f, &eof, &err)) != ERT_OK || eof)
            break;
        if ((st = ert_tcn_embed(t, &p, &f, w, &err)) != ERT_OK) {
            ert_error_prefix(&err, "%s: frame %zu", a->live, i);
            break;
        }
        /* Time-indexed: live frame t against demo frame t (the demo's last beyond its end), or
         * the closest demo frame within t +- time_window. */
        ert_tcn_step s;
        if ((st = ert_tcn_tracker_step(&tr, w, ert_tcn_dim(t), &s, &err)) != ERT_OK)
            break;
        double norm = 0;
        for (size_t k = 0; k < ert_tcn_dim(t); k++)
            norm += (double)w[k] * w[k];
        ert_reward_begin(a, "tcn", "imitation", s.reward);
        ert_reward_field(a, "frame", (double)i);
        ert_reward_field(a, "demo_frame", (double)s.demo_index);
        ert_reward_field(a, "distance", sqrt(s.dist2));
        ert_reward_field(a, "nn_index", (double)s.nearest);
        ert_reward_field(a, "nn_distance", s.nearest_dist);
        ert_reward_field(a, "embedding_norm", sqrt(norm));
        ert_reward_end(a);
    }
    if (st != ERT_OK)
        fprintf(stderr, "embedrt reward: %s\n", err.msg);
    else
        rc = 0;
    free(w);
    ert_y4m_close(live);
    ert_tcn_demo_free(demo);
    ert_tcn_free(t);
    return rc;
}
