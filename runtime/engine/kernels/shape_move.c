/* Kernels: data-movement ops that copy blocks by element size (Transpose and the shared
 * permute, Concat, Split, Slice); listed in shape.c. */
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

ert_status ert_shape_parse_concat(ert_graph *g, ert_node *n, ert_attrs *a, int opset, ert_error *err)
{
    (void)g, (void)opset;
    return ert_shape_parse_axis(n, a, "axis", INT64_MIN, err);
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
    int axis = 0;
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
    int axis = 0;
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
        int a = 0;
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
