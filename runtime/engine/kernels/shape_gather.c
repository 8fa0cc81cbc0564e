/* Kernels: indexed and rearranging copies by element size (Gather, GatherElements, Tile,
 * DepthToSpace, SpaceToDepth); listed in shape.c. */
#include "shape_common.h"

#include <string.h>

/* ---- Gather / GatherElements: indices checked at run time (they may be activations) ---- */

ert_status ert_shape_parse_gather(ert_graph *g, ert_node *n, ert_attrs *a, int opset, ert_error *err)
{
    (void)g, (void)opset;
    return ert_shape_parse_axis(n, a, "axis", 0, err);
}

ert_status ert_shape_parse_gather_elements(ert_graph *g, ert_node *n, ert_attrs *a, int opset, ert_error *err)
{
    (void)g, (void)opset;
    return ert_shape_parse_axis(n, a, "axis", 0, err);
}

static ert_status gather_inputs(const ert_graph *g, const ert_node *n, const ert_tensor **x, const ert_tensor **ix,
                                int *axis, ert_error *err)
{
    ert_status st;
    if ((st = ert_shape_check_io(g, n, 2, 2, 1, 1, err)) != ERT_OK ||
        (st = ert_shape_data_input(g, n, 0, "data", true, x, err)) != ERT_OK ||
        (st = ert_shape_data_input(g, n, 1, "indices", true, ix, err)) != ERT_OK)
        return st;
    if ((*ix)->dtype != ERT_DT_I64 && (*ix)->dtype != ERT_DT_I32)
        return ert_node_fail(err, n, ERT_EUNSUPPORTED, "indices dtype %s not supported", ert_dtype_name((*ix)->dtype));
    if (n->n_ints != 1)
        return ert_node_fail(err, n, ERT_EFORMAT, "expects 1 int param (axis), has %u", n->n_ints);
    return ert_shape_axis(n, "axis", n->ints[0], (*x)->shape.rank, axis, err);
}

static inline int64_t index_at(const ert_tensor *ix, size_t k)
{
    return ix->dtype == ERT_DT_I32 ? ((const int32_t *)ix->data)[k] : ((const int64_t *)ix->data)[k];
}

static ert_status bad_index(const ert_node *n, int64_t v, size_t pos, int axis, int64_t dim, ert_error *err)
{
    return ert_node_fail(err, n, ERT_EINVAL, "index %lld at position %zu is out of range for axis %d of size %lld",
                         (long long)v, pos, axis, (long long)dim);
}

/* Params: [axis]. */
ert_status ert_shape_infer_gather(ert_graph *g, ert_node *n, ert_error *err)
{
    const ert_tensor *x, *ix;
    int axis = 0;
    ert_status st = gather_inputs(g, n, &x, &ix, &axis, err);
    if (st != ERT_OK)
        return st;
    int r = x->shape.rank, q = ix->shape.rank;
    if (r - 1 + q > ERT_MAX_RANK)
        return ert_node_fail(err, n, ERT_EUNSUPPORTED, "output rank %d exceeds %d", r - 1 + q, ERT_MAX_RANK);
    ert_shape out = {.rank = r - 1 + q};
    for (int i = 0; i < axis; i++)
        out.dims[i] = x->shape.dims[i];
    for (int i = 0; i < q; i++)
        out.dims[axis + i] = ix->shape.dims[i];
    for (int i = axis + 1; i < r; i++)
        out.dims[q + i - 1] = x->shape.dims[i];
    return ert_shape_set_out(g, n, 0, x->dtype, &out, err);
}

ert_status ert_shape_run_gather(const ert_ctx *ctx, const ert_graph *g, const ert_node *n, ert_error *err)
{
    (void)ctx;
    const ert_tensor *x = ert_node_input(g, n, 0), *ix = ert_node_input(g, n, 1);
    int axis = (int)(n->ints[0] < 0 ? n->ints[0] + x->shape.rank : n->ints[0]);
    int64_t dim = x->shape.dims[axis];
    size_t outer = ert_shape_span(&x->shape, 0, axis), nidx;
    size_t blk = ert_shape_span(&x->shape, axis + 1, x->shape.rank) * ert_dtype_size(x->dtype);
    ert_shape_numel(&ix->shape, &nidx);
    for (size_t k = 0; k < nidx; k++) {
        int64_t v = index_at(ix, k);
        if (v < -dim || v >= dim)
            return bad_index(n, v, k, axis, dim, err);
    }
    const char *src = x->data;
    char *dst = ert_node_output(g, n, 0)->data;
    for (size_t o = 0; o < outer; o++, src += (size_t)dim * blk)
        for (size_t k = 0; k < nidx; k++, dst += blk) {
            int64_t v = index_at(ix, k);
            memcpy(dst, src + (size_t)(v < 0 ? v + dim : v) * blk, blk);
        }
    return ERT_OK;
}

/* Params: [axis]. indices have data's rank; output has the indices' shape. */
ert_status ert_shape_infer_gather_elements(ert_graph *g, ert_node *n, ert_error *err)
{
    const ert_tensor *x, *ix;
    int axis = 0;
    ert_status st = gather_inputs(g, n, &x, &ix, &axis, err);
    if (st != ERT_OK)
        return st;
    bool ok = ix->shape.rank == x->shape.rank;
    for (int i = 0; ok && i < x->shape.rank; i++)
        ok = i == axis || ix->shape.dims[i] <= x->shape.dims[i];
    if (!ok) {
        char a[160], b[160];
        return ert_node_fail(err, n, ERT_EFORMAT, "indices shape %s does not fit data shape %s",
                             ert_shape_str(&ix->shape, a, sizeof a), ert_shape_str(&x->shape, b, sizeof b));
    }
    return ert_shape_set_out(g, n, 0, x->dtype, &ix->shape, err);
}

ert_status ert_shape_run_gather_elements(const ert_ctx *ctx, const ert_graph *g, const ert_node *n, ert_error *err)
{
    (void)ctx;
    const ert_tensor *x = ert_node_input(g, n, 0), *ix = ert_node_input(g, n, 1);
    int r = x->shape.rank, axis = (int)(n->ints[0] < 0 ? n->ints[0] + r : n->ints[0]);
    int64_t dim = x->shape.dims[axis];
    size_t es = ert_dtype_size(x->dtype), nidx, xs[ERT_MAX_RANK], c[ERT_MAX_RANK] = {0}, base = 0;
    ert_shape_numel(&ix->shape, &nidx);
    for (int j = r - 1; j >= 0; j--)
        xs[j] = j == r - 1 ? 1 : xs[j + 1] * (size_t)x->shape.dims[j + 1];
    const char *src = x->data;
    char *dst = ert_node_output(g, n, 0)->data;
    /* base: data offset of the current index position with the axis coordinate zeroed. */
    for (size_t k = 0; k < nidx; k++) {
        int64_t v = index_at(ix, k);
        if (v < -dim || v >= dim)
            return bad_index(n, v, k, axis, dim, err);
        memcpy(dst + k * es, src + (base + (size_t)(v < 0 ? v + dim : v) * xs[axis]) * es, es);
        for (int j = r - 1; j >= 0; j--) {
            if (j != axis)
                base += xs[j];
            if (++c[j] < (size_t)ix->shape.dims[j])
                break;
            if (j != axis)
                base -= c[j] * xs[j];
            c[j] = 0;
        }
    }
    return ERT_OK;
}

/* ---- Tile: repeats must be constant ---- */

static ert_status tile_repeats(const ert_graph *g, const ert_node *n, const ert_tensor *x, int64_t *rep,
                               ert_error *err)
{
    const ert_tensor *t;
    size_t k;
    ert_status st = ert_shape_const_vec(g, n, 1, "repeats", false, &t, &k, err);
    if (st != ERT_OK)
        return st;
    if (!t || k != (size_t)x->shape.rank)
        return ert_node_fail(err, n, ERT_EFORMAT, "repeats needs %d entries", x->shape.rank);
    for (size_t i = 0; i < k; i++) {
        rep[i] = ert_shape_vec_at(t, i);
        if (rep[i] < 0)
            return ert_node_fail(err, n, ERT_EFORMAT, "repeats[%zu] = %lld is negative", i, (long long)rep[i]);
    }
    return ERT_OK;
}

/* Params: none (repeats from input 1). */
ert_status ert_shape_infer_tile(ert_graph *g, ert_node *n, ert_error *err)
{
    const ert_tensor *x;
    int64_t rep[ERT_MAX_RANK];
    ert_status st;
    if ((st = ert_shape_check_io(g, n, 2, 2, 1, 1, err)) != ERT_OK ||
        (st = ert_shape_data_input(g, n, 0, "input", true, &x, err)) != ERT_OK ||
        (st = tile_repeats(g, n, x, rep, err)) != ERT_OK)
        return st;
    ert_shape out = x->shape;
    for (int i = 0; i < out.rank; i++)
        if (__builtin_mul_overflow(out.dims[i], rep[i], &out.dims[i]))
            return ert_node_fail(err, n, ERT_EFORMAT, "tiled axis %d overflows", i);
    return ert_shape_set_out(g, n, 0, x->dtype, &out, err);
}

typedef struct tile_job {
    int rank;
    size_t es;
    const int64_t *dims, *rep;
    size_t is[ERT_MAX_RANK], os[ERT_MAX_RANK]; /* byte strides of input and output */
} tile_job;

/* Writes one copy of the input block at axis a, then replicates it rep[a] times with
 * memcpy: only the innermost axis copies input bytes, everything else doubles up. */
static void tile_fill(const tile_job *j, int a, const char *src, char *dst)
{
    size_t blk = (size_t)j->dims[a] * j->os[a];
    if (a == j->rank - 1)
        memcpy(dst, src, blk);
    else
        for (int64_t i = 0; i < j->dims[a]; i++)
            tile_fill(j, a + 1, src + (size_t)i * j->is[a], dst + (size_t)i * j->os[a]);
    for (int64_t r = 1; r < j->rep[a]; r++)
        memcpy(dst + (size_t)r * blk, dst, blk);
}

ert_status ert_shape_run_tile(const ert_ctx *ctx, const ert_graph *g, const ert_node *n, ert_error *err)
{
    (void)ctx;
    const ert_tensor *x = ert_node_input(g, n, 0);
    const ert_tensor *y = ert_node_output(g, n, 0);
    int64_t rep[ERT_MAX_RANK];
    ert_status st = tile_repeats(g, n, x, rep, err);
    if (st != ERT_OK)
        return st;
    tile_job j = {.rank = x->shape.rank, .es = ert_dtype_size(x->dtype), .dims = x->shape.dims, .rep = rep};
    size_t numel;
    ert_shape_numel(&y->shape, &numel);
    if (numel == 0)
        return ERT_OK;
    if (j.rank == 0) {
        memcpy(y->data, x->data, j.es);
        return ERT_OK;
    }
    for (int a = j.rank - 1; a >= 0; a--) {
        j.is[a] = a == j.rank - 1 ? j.es : j.is[a + 1] * (size_t)x->shape.dims[a + 1];
        j.os[a] = a == j.rank - 1 ? j.es : j.os[a + 1] * (size_t)y->shape.dims[a + 1];
    }
    tile_fill(&j, 0, x->data, y->data);
    return ERT_OK;
}

/* ---- DepthToSpace / SpaceToDepth: a 6-D permute of the NCHW input ---- */

ert_status ert_shape_parse_depth_to_space(ert_graph *g, ert_node *n, ert_attrs *a, int opset, ert_error *err)
{
    (void)g, (void)opset;
    int64_t p[2];
    const char *mode;
    ert_status st;
    if ((st = ert_attr_int(a, n, "blocksize", 0, &p[0], err)) != ERT_OK ||
        (st = ert_attr_string(a, n, "mode", "DCR", &mode, err)) != ERT_OK)
        return st;
    if (strcmp(mode, "DCR") != 0 && strcmp(mode, "CRD") != 0)
        return ert_node_fail(err, n, ERT_EUNSUPPORTED, "mode '%s' not supported", mode);
    p[1] = strcmp(mode, "CRD") == 0;
    return ert_node_set_params(n, p, 2, NULL, 0, err);
}

ert_status ert_shape_parse_space_to_depth(ert_graph *g, ert_node *n, ert_attrs *a, int opset, ert_error *err)
{
    (void)g, (void)opset;
    int64_t b;
    ert_status st = ert_attr_int(a, n, "blocksize", 0, &b, err);
    if (st != ERT_OK)
        return st;
    return ert_node_set_params(n, &b, 1, NULL, 0, err);
}

/* Checks params [blocksize(, mode)] against the input and builds the 6-D view and
 * permutation: DCR (N,b,b,C',H,W)->(N,C',H,b,W,b); CRD (N,C',b,b,H,W)->(N,C',H,b,W,b);
 * SpaceToDepth (N,C,H',b,W',b)->(N,b,b,C,H',W'). */
static ert_status block_plan(const ert_graph *g, const ert_node *n, bool to_space, ert_shape *out, int64_t *view,
                             int *perm, ert_error *err)
{
    const ert_tensor *x;
    ert_status st;
    if ((st = ert_shape_check_io(g, n, 1, 1, 1, 1, err)) != ERT_OK ||
        (st = ert_shape_data_input(g, n, 0, "input", true, &x, err)) != ERT_OK)
        return st;
    if (n->n_ints != (to_space ? 2u : 1u) || n->ints[0] < 1 || n->ints[0] > 4096 ||
        (to_space && (n->ints[1] < 0 || n->ints[1] > 1)))
        return ert_node_fail(err, n, ERT_EFORMAT, "expects params [blocksize 1..4096%s]", to_space ? ", mode" : "");
    if (x->shape.rank != 4)
        return ert_node_fail(err, n, ERT_EFORMAT, "input must be 4-D, has rank %d", x->shape.rank);
    int64_t b = n->ints[0], N = x->shape.dims[0], C = x->shape.dims[1], H = x->shape.dims[2], W = x->shape.dims[3];
    if (to_space) {
        if (C % (b * b))
            return ert_node_fail(err, n, ERT_EFORMAT, "channels %lld not divisible by blocksize^2 %lld", (long long)C,
                                 (long long)(b * b));
        int64_t c2 = C / (b * b);
        if (H > INT64_MAX / b || W > INT64_MAX / b)
            return ert_node_fail(err, n, ERT_EFORMAT, "output size overflows");
        *out = (ert_shape){.rank = 4, .dims = {N, c2, H * b, W * b}};
        if (n->ints[1]) {
            int64_t v[6] = {N, c2, b, b, H, W};
            int p[6] = {0, 1, 4, 2, 5, 3};
            memcpy(view, v, sizeof v), memcpy(perm, p, sizeof p);
        } else {
            int64_t v[6] = {N, b, b, c2, H, W};
            int p[6] = {0, 3, 4, 1, 5, 2};
            memcpy(view, v, sizeof v), memcpy(perm, p, sizeof p);
        }
    } else {
        if (H % b || W % b)
            return ert_node_fail(err, n, ERT_EFORMAT, "spatial size %lldx%lld not divisible by blocksize %lld",
                                 (long long)H, (long long)W, (long long)b);
        if (C > INT64_MAX / (b * b))
            return ert_node_fail(err, n, ERT_EFORMAT, "output size overflows");
        *out = (ert_shape){.rank = 4, .dims = {N, C * b * b, H / b, W / b}};
        int64_t v[6] = {N, C, H / b, b, W / b, b};
        int p[6] = {0, 3, 5, 1, 2, 4};
        memcpy(view, v, sizeof v), memcpy(perm, p, sizeof p);
    }
    return ERT_OK;
}

static ert_status block_infer(ert_graph *g, ert_node *n, bool to_space, ert_error *err)
{
    ert_shape out;
    int64_t view[6];
    int perm[6];
    ert_status st = block_plan(g, n, to_space, &out, view, perm, err);
    if (st != ERT_OK)
        return st;
    return ert_shape_set_out(g, n, 0, ert_node_input(g, n, 0)->dtype, &out, err);
}

static ert_status block_run(const ert_graph *g, const ert_node *n, bool to_space, ert_error *err)
{
    ert_shape out;
    int64_t view[6];
    int perm[6];
    ert_status st = block_plan(g, n, to_space, &out, view, perm, err);
    if (st != ERT_OK)
        return st;
    const ert_tensor *x = ert_node_input(g, n, 0);
    ert_shape_permute(x->data, ert_node_output(g, n, 0)->data, ert_dtype_size(x->dtype), 6, view, perm);
    return ERT_OK;
}

/* Params: [blocksize, mode (0 DCR, 1 CRD)]. */
ert_status ert_shape_infer_depth_to_space(ert_graph *g, ert_node *n, ert_error *err)
{
    return block_infer(g, n, true, err);
}

ert_status ert_shape_run_depth_to_space(const ert_ctx *ctx, const ert_graph *g, const ert_node *n, ert_error *err)
{
    (void)ctx;
    return block_run(g, n, true, err);
}

/* Params: [blocksize]. */
ert_status ert_shape_infer_space_to_depth(ert_graph *g, ert_node *n, ert_error *err)
{
    return block_infer(g, n, false, err);
}

ert_status ert_shape_run_space_to_depth(const ert_ctx *ctx, const ert_graph *g, const ert_node *n, ert_error *err)
{
    (void)ctx;
    return block_run(g, n, false, err);
}
