/* The mftcn family's descriptor: roles, parameters with their defaults, and the conversion
 * check of the trunk and head graphs against each other and the window (mftcn_internal.h). */
#include "embedrt/mftcn.h"
#include "embedrt/tcn.h"

#include "mftcn_internal.h"
#include "../tcn/tcn_internal.h"

#include <stdio.h>

static const ert_family_role_def roles[] = {
    {"trunk", true, "per-frame trunk: image float32 [1,3,H,W] -> features [1,C,h,w] (run once per new frame)"},
    {"head", true,
     "window head: features [1,C,n,h,w] (trunk maps stacked on dim 2, oldest first) -> embedding [1,D]"},
    {NULL, false, NULL},
};

static const ert_family_param_def params[] = {
    {"window",
     "frames n per window (converter --window); must equal the head's dim 2; 2 as in Dwibedi et al. 2018 "
     "(families.md)",
     NULL, 2},
    {"stride", "frames s between window members (converter --stride); 15 as in Dwibedi et al. 2018 (families.md)",
     NULL, 15},
    {"time_window",
     "imitation reward tempo tolerance in frames, as tcn's: live frame t is compared with the closest demo frame "
     "within t +- time_window (0: demo frame t); whole number 0..300",
     NULL, 0},
    {NULL, NULL, NULL, 0},
};

ert_status ert_mftcn_check_graphs(const ert_graph *trunk, const ert_graph *head, const ert_mftcn_params *p,
                                  ert_mftcn_layout *lay, ert_error *err)
{
    if (!trunk || !head)
        return ert_fail(err, ERT_EINVAL, "mftcn: role '%s' is required (%s)", trunk ? "head" : "trunk",
                        trunk ? "stacked features -> embedding" : "image -> features");
    ert_status st = ert_tcn_want_image_input(trunk, "mftcn", "trunk", &lay->trunk_input, err);
    if (st == ERT_OK)
        st = ert_tcn_want_output(trunk, "mftcn", "trunk", "features", 4, &lay->features, err);
    if (st == ERT_OK)
        st = ert_tcn_want_one_input(head, "mftcn", "head", 5, &lay->head_input, err);
    if (st == ERT_OK)
        st = ert_tcn_want_output(head, "mftcn", "head", "embedding", 2, &lay->embedding, err);
    if (st != ERT_OK)
        return st;
    const ert_shape *fs = &trunk->tensors[lay->features].shape;
    const ert_tensor *hin = &head->tensors[lay->head_input];
    ert_shape want = {.rank = 5, .dims = {1, fs->dims[1], (int64_t)p->window, fs->dims[2], fs->dims[3]}};
    if (!ert_shape_equal(&want, &hin->shape)) {
        char w[128], got[128], f[128];
        ert_shape_str(&want, w, sizeof w);
        ert_shape_str(&hin->shape, got, sizeof got);
        ert_shape_str(fs, f, sizeof f);
        want.dims[2] = hin->shape.dims[2];
        if (ert_shape_equal(&want, &hin->shape))
            return ert_fail(err, ERT_EINVAL,
                            "mftcn role 'head': input '%s' stacks %lld frames (%s) but parameter 'window' is %u "
                            "(converter --window), which needs [1,%lld,%u,%lld,%lld]",
                            hin->name ? hin->name : "?", (long long)hin->shape.dims[2], got, p->window,
                            (long long)fs->dims[1], p->window, (long long)fs->dims[2], (long long)fs->dims[3]);
        return ert_fail(err, ERT_EINVAL,
                        "mftcn role 'head': input '%s' must be %s (trunk features %s stacked over window = %u), got %s",
                        hin->name ? hin->name : "?", w, f, p->window, got);
    }
    lay->c = (size_t)fs->dims[1];
    lay->h = (size_t)fs->dims[2];
    lay->w = (size_t)fs->dims[3];
    lay->window = p->window;
    lay->dim = (size_t)head->tensors[lay->embedding].shape.dims[1];
    /* The ring the model layer allocates: span frames of c*h*w floats. */
    size_t span = (size_t)(p->window - 1) * p->stride + 1, n;
    if (!ert_mul_size(lay->c * lay->h * lay->w, span, &n) || !ert_mul_size(n, sizeof(float), &n))
        return ert_fail(err, ERT_EINVAL, "mftcn: a ring of %zu frames of %zux%zux%zu features overflows", span, lay->c,
                        lay->h, lay->w);
    return ERT_OK;
}

static ert_status check(const ert_graph *const *graphs, const ert_family_param *prm, size_t n_params, ert_error *err)
{
    ert_mftcn_params p;
    ert_mftcn_layout lay;
    ert_tcn_params reward;
    ert_status st = ert_mftcn_params_parse(prm, n_params, &p, err);
    if (st == ERT_OK) /* time_window (the reward's keys; window and stride are ignored there) */
        st = ert_tcn_params_parse(prm, n_params, &reward, err);
    if (st == ERT_OK)
        st = ert_mftcn_check_graphs(graphs ? graphs[0] : NULL, graphs ? graphs[1] : NULL, &p, &lay, err);
    return st;
}

const ert_family_desc ert_family_mftcn = {"mftcn", roles, params, check};
