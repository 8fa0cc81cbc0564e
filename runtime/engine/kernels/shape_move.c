/* Kernels: data-movement ops that copy bytes by element size (Transpose, Concat, Split,
 * Slice, Gather, GatherElements, Tile, DepthToSpace, SpaceToDepth); listed in shape.c. */
#include "shape_common.h"

#include <stdlib.h>
#include <string.h>

/* ---- strided copies typed by element size, so the compiler emits plain moves ---- */

#define ERT_STRIDED(T)                                                                                           \
    do {                                                                                                         \
        T *restrict d_ = dst;                                                                                    \
        const T *restrict s_ = src;                                                                              \
        for (size_t i_ = 0; i_ < count; i_++)                                                                    \
            d_[i_] = s_[(ptrdiff_t)i_ * stride];                                                                 \
    } while (0)

/* dst[i] = src[i * stride] for i < count (stride in elements). */
static void copy_strided(void *restrict dst, const void *restrict src, size_t count, ptrdiff_t stride, size_t es)
{
    switch (es) {
    case 1: ERT_STRIDED(uint8_t); return;
    case 2: ERT_STRIDED(uint16_t); return;
    case 4: ERT_STRIDED(uint32_t); return;
    case 8: ERT_STRIDED(uint64_t); return;
    default:
        for (size_t i = 0; i < count; i++)
            memcpy((char *)dst + i * es, (const char *)src + (ptrdiff_t)i * stride * (ptrdiff_t)es, es);
    }
}

#define ERT_TILE 32
#define ERT_TRANSPOSE_TILE(T)                                                                                    \
    do {                                                                                                         \
        T *restrict d_ = dst;                                                                                    \
        const T *restrict s_ = src;                                                                              \
        for (size_t i0 = 0; i0 < rows; i0 += ERT_TILE)                                                           \
            for (size_t j0 = 0; j0 < cols; j0 += ERT_TILE) {                                                     \
                size_t i1 = i0 + ERT_TILE < rows ? i0 + ERT_TILE : rows;                                         \
                size_t j1 = j0 + ERT_TILE < cols ? j0 + ERT_TILE : cols;                                         \
                for (size_t i = i0; i < i1; i++)                                                                 \
                    for (size_t j = j0; j < j1; j++)                                                             \
                        d_[i * cols + j] = s_[i + j * col_stride];                                               \
            }                                                                                                    \
    } while (0)

/* dst (rows x cols, dense) [i][j] = src[i + j * col_stride]: the 2-D transpose, in
 * tiles so both sides stay in cache. */
static void transpose_tiled(void *restrict dst, const void *restrict src, size_t rows, size_t cols,
                            size_t col_stride, size_t es)
{
    switch (es) {
    case 1: ERT_TRANSPOSE_TILE(uint8_t); return;
    case 2: ERT_TRANSPOSE_TILE(uint16_t); return;
    case 4: ERT_TRANSPOSE_TILE(uint32_t); return;
    case 8: ERT_TRANSPOSE_TILE(uint64_t); return;
    default:
        for (size_t i = 0; i < rows; i++)
            for (size_t j = 0; j < cols; j++)
                memcpy((char *)dst + (i * cols + j) * es, (const char *)src + (i + j * col_stride) * es, es);
    }
}

void ert_shape_permute(const void *src, void *dst, size_t es, int rank, const int64_t *dims, const int *perm)
{
    /* Size-1 axes do not move data: drop them and renumber the rest in input order. */
    int map[ERT_MAX_RANK], m = 0;
    int64_t d[ERT_MAX_RANK];
    size_t total = 1;
    for (int i = 0; i < rank; i++) {
        total *= (size_t)dims[i];
        map[i] = dims[i] == 1 ? -1 : m;
        if (dims[i] != 1)
            d[m++] = dims[i];
    }
    if (total == 0)
        return;
    size_t istride[ERT_MAX_RANK];
    for (int j = m - 1; j >= 0; j--)
        istride[j] = j == m - 1 ? 1 : istride[j + 1] * (size_t)d[j + 1];
    /* Output axes that are consecutive input axes form one group: fewer, longer loops. */
    size_t gd[ERT_MAX_RANK], gs[ERT_MAX_RANK];
    int ng = 0, prev = -2;
    for (int i = 0; i < rank; i++) {
        int j = map[perm[i]];
        if (j < 0)
            continue;
        if (ng && j == prev + 1) {
            gd[ng - 1] *= (size_t)d[j];
            gs[ng - 1] = istride[j];
        } else {
            gd[ng] = (size_t)d[j];
            gs[ng] = istride[j];
            ng++;
        }
        prev = j;
    }
    if (ng <= 1) {
        memcpy(dst, src, total * es);
        return;
    }
    const char *s = src;
    char *o = dst;
    /* Inner work per step of the odometer over the outer groups. */
    int outer_groups;
    size_t inner;
    int kind; /* 0: contiguous block, 1: 2-D tile, 2: strided row */
    if (gs[ng - 1] == 1) {
        kind = 0, outer_groups = ng - 1, inner = gd[ng - 1];
    } else if (gs[ng - 2] == 1) {
        kind = 1, outer_groups = ng - 2, inner = gd[ng - 2] * gd[ng - 1];
    } else {
        kind = 2, outer_groups = ng - 1, inner = gd[ng - 1];
    }
    size_t outer = total / inner, c[ERT_MAX_RANK] = {0}, off = 0;
    for (size_t k = 0; k < outer; k++) {
        if (kind == 0)
            memcpy(o, s + off * es, inner * es);
        else if (kind == 1)
            transpose_tiled(o, s + off * es, gd[ng - 2], gd[ng - 1], gs[ng - 1], es);
        else
            copy_strided(o, s + off * es, inner, (ptrdiff_t)gs[ng - 1], es);
        o += inner * es;
        for (int j = outer_groups - 1; j >= 0; j--) {
            off += gs[j];
            if (++c[j] < gd[j])
                break;
            off -= gd[j] * gs[j];
            c[j] = 0;
        }
    }
}

/* ---- Transpose ---- */

ert_status ert_shape_parse_transpose(ert_graph *g, ert_node *n, ert_attrs *a, int opset, ert_error *err)
{
    (void)g, (void)opset;
    const int64_t *perm;
    size_t k;
    ert_status st = ert_attr_ints(a, n, "perm", &perm, &k, err);
    if (st != ERT_OK)
        return st;
    if (k > ERT_MAX_RANK)
        return ert_node_fail(err, n, ERT_EUNSUPPORTED, "perm of %zu axes exceeds rank limit %d", k, ERT_MAX_RANK);
    return ert_node_set_params(n, perm, (uint32_t)k, NULL, 0, err);
}

/* Params: perm (empty: reverse the axes). */
static ert_status transpose_perm(const ert_node *n, int rank, int *perm, ert_error *err)
{
    if (n->n_ints == 0) {
        for (int i = 0; i < rank; i++)
            perm[i] = rank - 1 - i;
        return ERT_OK;
    }
    if (n->n_ints != (uint32_t)rank)
        return ert_node_fail(err, n, ERT_EFORMAT, "perm has %u entries for an input of rank %d", n->n_ints, rank);
    bool seen[ERT_MAX_RANK] = {false};
    for (int i = 0; i < rank; i++) {
        int64_t p = n->ints[i];
        if (p < 0 || p >= rank || seen[p])
            return ert_node_fail(err, n, ERT_EFORMAT, "perm[%d] = %lld is not a permutation entry", i, (long long)p);
        seen[p] = true;
        perm[i] = (int)p;
    }
    return ERT_OK;
}

ert_status ert_shape_infer_transpose(ert_graph *g, ert_node *n, ert_error *err)
{
    const ert_tensor *x;
    int perm[ERT_MAX_RANK];
    ert_status st;
    if ((st = ert_shape_check_io(g, n, 1, 1, 1, 1, err)) != ERT_OK ||
        (st = ert_shape_data_input(g, n, 0, "data", true, &x, err)) != ERT_OK ||
        (st = transpose_perm(n, x->shape.rank, perm, err)) != ERT_OK)
        return st;
    ert_shape out = {.rank = x->shape.rank};
    for (int i = 0; i < out.rank; i++)
        out.dims[i] = x->shape.dims[perm[i]];
    return ert_shape_set_out(g, n, 0, x->dtype, &out, err);
}

ert_status ert_shape_run_transpose(const ert_ctx *ctx, const ert_graph *g, const ert_node *n, ert_error *err)
{
    (void)ctx;
    const ert_tensor *x = ert_node_input(g, n, 0);
    int perm[ERT_MAX_RANK];
    ert_status st = transpose_perm(n, x->shape.rank, perm, err);
    if (st != ERT_OK)
        return st;
    ert_shape_permute(x->data, ert_node_output(g, n, 0)->data, ert_dtype_size(x->dtype), x->shape.rank,
                      x->shape.dims, perm);
    return ERT_OK;
}

/* ---- Concat ---- */

static ert_status parse_axis(ert_node *n, ert_attrs *a, const char *name, int64_t def, ert_error *err)
{
    int64_t axis;
    ert_status st = ert_attr_int(a, n, name, def, &axis, err);
    if (st != ERT_OK)
        return st;
    if (axis == INT64_MIN)
        return ert_node_fail(err, n, ERT_EFORMAT, "attribute '%s' is required", name);
    return ert_node_set_params(n, &axis, 1, NULL, 0, err);
}

ert_status ert_shape_parse_concat(ert_graph *g, ert_node *n, ert_attrs *a, int opset, ert_error *err)
{
    (void)g, (void)opset;
    return parse_axis(n, a, "axis", INT64_MIN, err);
}

/* PyTorch's legacy cat accepts 1-D empty tensors next to tensors of any rank. */
static bool concat_skippable(const ert_tensor *t)
{
    return t->shape.rank == 1 && t->shape.dims[0] == 0;
}

/* Params: [axis]. */
ert_status ert_shape_infer_concat(ert_graph *g, ert_node *n, ert_error *err)
{
    ert_status st;
    if ((st = ert_shape_check_io(g, n, 1, UINT32_MAX, 1, 1, err)) != ERT_OK)
        return st;
    if (n->n_ints != 1)
        return ert_node_fail(err, n, ERT_EFORMAT, "expects 1 int param (axis), has %u", n->n_ints);
    const ert_tensor *ref = NULL;
    for (uint32_t i = 0; i < n->n_in; i++) {
        const ert_tensor *t;
        if ((st = ert_shape_data_input(g, n, i, "inputs", true, &t, err)) != ERT_OK)
            return st;
        if (!ref || (concat_skippable(ref) && !concat_skippable(t)))
            ref = t;
    }
    int axis;
    if ((st = ert_shape_axis(n, "axis", n->ints[0], ref->shape.rank, &axis, err)) != ERT_OK)
        return st;
    ert_shape out = ref->shape;
    out.dims[axis] = 0;
    for (uint32_t i = 0; i < n->n_in; i++) {
        const ert_tensor *t = ert_node_input(g, n, i);
        if (t->dtype != ref->dtype)
            return ert_node_fail(err, n, ERT_EFORMAT, "input %u is %s, input 0 %s", i, ert_dtype_name(t->dtype),
                                 ert_dtype_name(ref->dtype));
        if (t->shape.rank != ref->shape.rank && concat_skippable(t))
            continue;
        bool ok = t->shape.rank == ref->shape.rank;
        for (int k = 0; ok && k < out.rank; k++)
            ok = k == axis || t->shape.dims[k] == ref->shape.dims[k];
        if (!ok) {
            char a[160], b[160];
            return ert_node_fail(err, n, ERT_EFORMAT, "input %u shape %s does not match %s outside axis %d", i,
                                 ert_shape_str(&t->shape, a, sizeof a), ert_shape_str(&ref->shape, b, sizeof b),
                                 axis);
        }
        if (__builtin_add_overflow(out.dims[axis], t->shape.dims[axis], &out.dims[axis]))
            return ert_node_fail(err, n, ERT_EFORMAT, "concatenated axis overflows");
    }
    return ert_shape_set_out(g, n, 0, ref->dtype, &out, err);
}

ert_status ert_shape_run_concat(const ert_ctx *ctx, const ert_graph *g, const ert_node *n, ert_error *err)
{
    (void)ctx, (void)err;
    const ert_tensor *y = ert_node_output(g, n, 0);
    int axis = (int)(n->ints[0] < 0 ? n->ints[0] + y->shape.rank : n->ints[0]);
    size_t outer = ert_shape_span(&y->shape, 0, axis), es = ert_dtype_size(y->dtype);
    if (outer == 0)
        return ERT_OK;
    char *dst = y->data;
    /* Each input contributes one contiguous block per outer index. */
    for (size_t o = 0; o < outer; o++)
        for (uint32_t i = 0; i < n->n_in; i++) {
            const ert_tensor *t = ert_node_input(g, n, i);
            size_t numel;
            ert_shape_numel(&t->shape, &numel);
            size_t blk = numel / outer * es;
            if (!blk)
                continue;
            memcpy(dst, (const char *)t->data + o * blk, blk);
            dst += blk;
        }
    return ERT_OK;
}

/* ---- Split: sizes from input 1 (>= 13), params (< 13), or equal parts ---- */

ert_status ert_shape_parse_split(ert_graph *g, ert_node *n, ert_attrs *a, int opset, ert_error *err)
{
    (void)g;
    int64_t axis, num = 0;
    const int64_t *split = NULL;
    size_t k = 0;
    ert_status st = ert_attr_int(a, n, "axis", 0, &axis, err);
    if (st == ERT_OK && opset < 13)
        st = ert_attr_ints(a, n, "split", &split, &k, err);
    if (st == ERT_OK && opset >= 18)
        st = ert_attr_int(a, n, "num_outputs", 0, &num, err);
    if (st != ERT_OK)
        return st;
    if (num && num != n->n_out)
        return ert_node_fail(err, n, ERT_EFORMAT, "num_outputs %lld but %u outputs", (long long)num, n->n_out);
    if (k > UINT32_MAX - 2)
        return ert_node_fail(err, n, ERT_EFORMAT, "split list too long");
    int64_t *p = malloc((k + 2) * sizeof *p);
    if (!p)
        return ert_node_fail(err, n, ERT_ENOMEM, "out of memory");
    p[0] = axis;
    p[1] = num != 0;
    if (k)
        memcpy(p + 2, split, k * sizeof *p);
    st = ert_node_set_params(n, p, (uint32_t)(k + 2), NULL, 0, err);
    free(p);
    return st;
}

/* Params: [axis, uneven (opset-18 num_outputs: last part may be smaller), split sizes...]. */
ert_status ert_shape_infer_split(ert_graph *g, ert_node *n, ert_error *err)
{
    const ert_tensor *x, *sp;
    size_t k;
    int axis;
    ert_status st;
    if ((st = ert_shape_check_io(g, n, 1, 2, 1, UINT32_MAX, err)) != ERT_OK ||
        (st = ert_shape_data_input(g, n, 0, "input", true, &x, err)) != ERT_OK ||
        (st = ert_shape_const_vec(g, n, 1, "split", false, &sp, &k, err)) != ERT_OK)
        return st;
    if (n->n_ints < 2 || (n->ints[1] != 0 && n->ints[1] != 1))
        return ert_node_fail(err, n, ERT_EFORMAT, "expects params [axis, uneven 0|1, split...]");
    if ((st = ert_shape_axis(n, "axis", n->ints[0], x->shape.rank, &axis, err)) != ERT_OK)
        return st;
    if (sp && n->n_ints > 2)
        return ert_node_fail(err, n, ERT_EFORMAT, "split given both as params and as input");
    if (!sp)
        k = n->n_ints - 2;
    if (k && k != n->n_out)
        return ert_node_fail(err, n, ERT_EFORMAT, "split has %zu entries for %u outputs", k, n->n_out);
    int64_t dim = x->shape.dims[axis], parts = n->n_out, chunk = dim / parts;
    if (!k && n->ints[1])
        chunk = dim / parts + (dim % parts != 0);
    else if (!k && dim % parts)
        return ert_node_fail(err, n, ERT_EFORMAT, "axis %d of size %lld does not split into %u equal parts", axis,
                             (long long)dim, n->n_out);
    int64_t sum = 0;
    for (uint32_t i = 0; i < n->n_out; i++) {
        int64_t v = k ? (sp ? ert_shape_vec_at(sp, i) : n->ints[2 + i]) : chunk;
        if (!k && i == n->n_out - 1)
            v = dim - sum;
        if (v < 0 || v > dim - sum)
            return ert_node_fail(err, n, ERT_EFORMAT, "split[%u] = %lld is negative or exceeds axis size %lld", i,
                                 (long long)v, (long long)dim);
        sum += v;
        ert_shape out = x->shape;
        out.dims[axis] = v;
        if ((st = ert_shape_set_out(g, n, i, x->dtype, &out, err)) != ERT_OK)
            return st;
    }
    if (sum != dim)
        return ert_node_fail(err, n, ERT_EFORMAT, "split sizes sum to %lld, axis %d has %lld", (long long)sum, axis,
                             (long long)dim);
    return ERT_OK;
}

ert_status ert_shape_run_split(const ert_ctx *ctx, const ert_graph *g, const ert_node *n, ert_error *err)
{
    (void)ctx, (void)err;
    const ert_tensor *x = ert_node_input(g, n, 0);
    int axis = (int)(n->ints[0] < 0 ? n->ints[0] + x->shape.rank : n->ints[0]);
    size_t outer = ert_shape_span(&x->shape, 0, axis);
    size_t inner = ert_shape_span(&x->shape, axis + 1, x->shape.rank) * ert_dtype_size(x->dtype);
    const char *src = x->data;
    for (size_t o = 0; o < outer; o++)
        for (uint32_t i = 0; i < n->n_out; i++) {
            const ert_tensor *y = ert_node_output(g, n, i);
            size_t blk = (size_t)y->shape.dims[axis] * inner;
            if (!blk)
                continue;
            memcpy((char *)y->data + o * blk, src, blk);
            src += blk;
        }
    return ERT_OK;
}

/* ---- Slice: starts/ends/axes params (< 10) or inputs starts, ends, axes, steps ---- */

ert_status ert_shape_parse_slice(ert_graph *g, ert_node *n, ert_attrs *a, int opset, ert_error *err)
{
    (void)g;
    if (opset >= 10)
        return ERT_OK;
    const int64_t *starts, *ends, *axes;
    size_t ks, ke, ka;
    ert_status st;
    if ((st = ert_attr_ints(a, n, "starts", &starts, &ks, err)) != ERT_OK ||
        (st = ert_attr_ints(a, n, "ends", &ends, &ke, err)) != ERT_OK ||
        (st = ert_attr_ints(a, n, "axes", &axes, &ka, err)) != ERT_OK)
        return st;
    if (ks != ke || (axes && ka != ks) || ks > ERT_MAX_RANK)
        return ert_node_fail(err, n, ERT_EFORMAT, "starts/ends/axes have %zu/%zu/%zu entries", ks, ke, ka);
    int64_t p[1 + 3 * ERT_MAX_RANK];
    p[0] = (int64_t)ks;
    for (size_t i = 0; i < ks; i++) {
        p[1 + i] = starts[i];
        p[1 + ks + i] = ends[i];
        p[1 + 2 * ks + i] = axes ? axes[i] : (int64_t)i;
    }
    return ert_node_set_params(n, p, (uint32_t)(1 + 3 * ks), NULL, 0, err);
}

typedef struct slice_plan {
    int64_t start[ERT_MAX_RANK], step[ERT_MAX_RANK], count[ERT_MAX_RANK];
} slice_plan;

/* Resolves one axis the ONNX way: negative indices count from the end, then clamp to
 * [0, dim] (step > 0) or [-1, dim - 1] (step < 0). */
static void slice_axis(int64_t dim, int64_t s, int64_t e, int64_t step, int64_t *start, int64_t *count)
{
    s = s < 0 ? s + dim : s;
    e = e < 0 ? e + dim : e;
    uint64_t span = 0, mag = step > 0 ? (uint64_t)step : 0 - (uint64_t)step;
    if (step > 0) {
        s = s < 0 ? 0 : (s > dim ? dim : s);
        e = e < 0 ? 0 : (e > dim ? dim : e);
        span = e > s ? (uint64_t)(e - s) : 0;
    } else {
        s = s < 0 ? -1 : (s > dim - 1 ? dim - 1 : s);
        e = e < -1 ? -1 : (e > dim - 1 ? dim - 1 : e);
        span = s > e ? (uint64_t)(s - e) : 0;
    }
    *start = s;
    *count = (int64_t)(span / mag + (span % mag != 0));
}

/* Params: [k, starts(k), ends(k), axes(k)] (opset < 10) or none (inputs 1..4). */
static ert_status slice_make(const ert_graph *g, const ert_node *n, const ert_shape *xs, slice_plan *p, ert_error *err)
{
    int r = xs->rank;
    for (int i = 0; i < r; i++)
        p->start[i] = 0, p->step[i] = 1, p->count[i] = xs->dims[i];
    const ert_tensor *t[4] = {NULL};
    size_t k = 0, cnt[4] = {0};
    ert_status st;
    if (n->n_in == 1) {
        if (n->n_ints < 1 || n->ints[0] < 0 || n->ints[0] > ERT_MAX_RANK || n->n_ints != 1 + 3 * (uint64_t)n->ints[0])
            return ert_node_fail(err, n, ERT_EFORMAT, "expects params [k, starts(k), ends(k), axes(k)]");
        k = (size_t)n->ints[0];
    } else {
        static const char *const roles[4] = {"starts", "ends", "axes", "steps"};
        if (n->n_ints)
            return ert_node_fail(err, n, ERT_EFORMAT, "starts/ends given both as params and as inputs");
        for (uint32_t i = 0; i < 4; i++)
            if ((st = ert_shape_const_vec(g, n, i + 1, roles[i], false, &t[i], &cnt[i], err)) != ERT_OK)
                return st;
        if (!t[0] || !t[1])
            return ert_node_fail(err, n, ERT_EFORMAT, "inputs 'starts' and 'ends' are required");
        k = cnt[0];
        if (cnt[1] != k || (t[2] && cnt[2] != k) || (t[3] && cnt[3] != k))
            return ert_node_fail(err, n, ERT_EFORMAT, "starts/ends/axes/steps have %zu/%zu/%zu/%zu entries", cnt[0],
                                 cnt[1], cnt[2], cnt[3]);
    }
    if (k > (size_t)r)
        return ert_node_fail(err, n, ERT_EFORMAT, "%zu sliced axes for rank %d", k, r);
    bool seen[ERT_MAX_RANK] = {false};
    for (size_t i = 0; i < k; i++) {
        int64_t s, e, ax, step = 1;
        if (n->n_in == 1) {
            s = n->ints[1 + i], e = n->ints[1 + k + i], ax = n->ints[1 + 2 * k + i];
        } else {
            s = ert_shape_vec_at(t[0], i), e = ert_shape_vec_at(t[1], i);
            ax = t[2] ? ert_shape_vec_at(t[2], i) : (int64_t)i;
            step = t[3] ? ert_shape_vec_at(t[3], i) : 1;
        }
        int a;
        if ((st = ert_shape_axis(n, "axis", ax, r, &a, err)) != ERT_OK)
            return st;
        if (seen[a])
            return ert_node_fail(err, n, ERT_EFORMAT, "axis %d sliced twice", a);
        if (step == 0)
            return ert_node_fail(err, n, ERT_EFORMAT, "step for axis %d is 0", a);
        seen[a] = true;
        p->step[a] = step;
        slice_axis(xs->dims[a], s, e, step, &p->start[a], &p->count[a]);
    }
    return ERT_OK;
}

ert_status ert_shape_infer_slice(ert_graph *g, ert_node *n, ert_error *err)
{
    const ert_tensor *x;
    slice_plan p;
    ert_status st;
    if ((st = ert_shape_check_io(g, n, 1, 5, 1, 1, err)) != ERT_OK ||
        (st = ert_shape_data_input(g, n, 0, "data", true, &x, err)) != ERT_OK)
        return st;
    if (n->n_in == 2)
        return ert_node_fail(err, n, ERT_EFORMAT, "needs 'ends' with 'starts'");
    if ((st = slice_make(g, n, &x->shape, &p, err)) != ERT_OK)
        return st;
    ert_shape out = {.rank = x->shape.rank};
    memcpy(out.dims, p.count, sizeof out.dims);
    return ert_shape_set_out(g, n, 0, x->dtype, &out, err);
}

ert_status ert_shape_run_slice(const ert_ctx *ctx, const ert_graph *g, const ert_node *n, ert_error *err)
{
    (void)ctx;
    const ert_tensor *x = ert_node_input(g, n, 0);
    slice_plan p;
    ert_status st = slice_make(g, n, &x->shape, &p, err);
    if (st != ERT_OK)
        return st;
    int r = x->shape.rank;
    size_t es = ert_dtype_size(x->dtype), total = 1;
    int64_t is[ERT_MAX_RANK];
    for (int j = r - 1; j >= 0; j--) {
        is[j] = j == r - 1 ? 1 : is[j + 1] * x->shape.dims[j + 1];
        total *= (size_t)p.count[j];
    }
    if (total == 0)
        return ERT_OK;
    /* Trailing axes taken whole are one contiguous run; so is a step-1 range on the
     * axis before them. */
    int a = r - 1;
    size_t inner = 1;
    while (a >= 0 && p.start[a] == 0 && p.step[a] == 1 && p.count[a] == x->shape.dims[a])
        inner *= (size_t)x->shape.dims[a--];
    char *dst = ert_node_output(g, n, 0)->data;
    if (a < 0) {
        memcpy(dst, x->data, inner * es);
        return ERT_OK;
    }
    int64_t off = 0;
    for (int j = 0; j <= a; j++)
        off += p.start[j] * is[j];
    int last = p.step[a] == 1 ? a : a + 1;
    size_t blk = p.step[a] == 1 ? (size_t)p.count[a] * inner : inner;
    size_t outer = total / blk;
    int64_t c[ERT_MAX_RANK] = {0};
    const char *src = x->data;
    for (size_t o = 0; o < outer; o++) {
        memcpy(dst, src + off * (int64_t)es, blk * es);
        dst += blk * es;
        for (int j = last - 1; j >= 0; j--) {
            off += p.step[j] * is[j];
            if (++c[j] < p.count[j])
                break;
            off -= p.count[j] * p.step[j] * is[j];
            c[j] = 0;
        }
    }
    return ERT_OK;
}

/* ---- Gather / GatherElements: indices checked at run time (they may be activations) ---- */

ert_status ert_shape_parse_gather(ert_graph *g, ert_node *n, ert_attrs *a, int opset, ert_error *err)
{
    (void)g, (void)opset;
    return parse_axis(n, a, "axis", 0, err);
}

ert_status ert_shape_parse_gather_elements(ert_graph *g, ert_node *n, ert_attrs *a, int opset, ert_error *err)
{
    (void)g, (void)opset;
    return parse_axis(n, a, "axis", 0, err);
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
    int axis;
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
    int axis;
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
