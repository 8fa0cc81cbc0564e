/* Kernels: MatMul (numpy semantics, batch broadcast), Gemm (alpha, beta, transposes,
 * broadcast C) over ert_gemm, and inference-mode BatchNormalization; float32, fused act. */
#include "../op.h"
#include "embedrt/gemm.h"
#include "embedrt/pool.h"
#include "simd.h"
#include "spatial.h"

#include <math.h>
#include <string.h>

/* Applies the fused activation to a contiguous block (vectorised for ReLU / Clip). */
static void apply_act(float *y, size_t len, const ert_node *n)
{
    if (n->act != ERT_ACT_NONE)
        ert_sp_bias_act(y, len, 0.0f, n);
}

static ert_status no_params(const ert_node *n, ert_error *err)
{
    if (n->n_ints || n->n_floats)
        return ert_node_fail(err, n, ERT_EFORMAT, "takes no params, got %u int / %u float", n->n_ints, n->n_floats);
    return ERT_OK;
}

/* ---- MatMul: no params ---- */

typedef struct mm_plan {
    size_t M, N, K;
    int nb;                         /* output batch rank */
    int64_t ob[ERT_MAX_RANK];       /* output batch dims */
    size_t sa[ERT_MAX_RANK], sb[ERT_MAX_RANK]; /* batch strides of A and B in elements (0: broadcast) */
    bool b_batched;
    size_t a_batch;                 /* A's batch element count (for the folded path) */
    ert_shape out;
} mm_plan;

static ert_status mm_plan_make(const ert_graph *gr, const ert_node *n, mm_plan *p, ert_error *err)
{
    memset(p, 0, sizeof *p);
    if (n->n_in != 2 || n->n_out != 1)
        return ert_node_fail(err, n, ERT_EFORMAT, "needs 2 inputs and 1 output, got %u and %u", n->n_in, n->n_out);
    ert_status st = no_params(n, err);
    if (st != ERT_OK)
        return st;
    const ert_tensor *a = ert_node_input(gr, n, 0), *b = ert_node_input(gr, n, 1);
    if (!a || !b)
        return ert_node_fail(err, n, ERT_EFORMAT, "inputs A and B are required");
    if (a->dtype != ERT_DT_F32 || b->dtype != ERT_DT_F32)
        return ert_node_fail(err, n, ERT_EUNSUPPORTED, "dtype %s not supported (float32 only)",
                             ert_dtype_name(a->dtype != ERT_DT_F32 ? a->dtype : b->dtype));
    const ert_shape *sa = &a->shape, *sb = &b->shape;
    size_t bytes;
    if (sa->rank < 1 || sb->rank < 1 || sa->rank > ERT_MAX_RANK || sb->rank > ERT_MAX_RANK ||
        !ert_shape_bytes(sa, ERT_DT_F32, &bytes) || !ert_shape_bytes(sb, ERT_DT_F32, &bytes))
        return ert_node_fail(err, n, ERT_EFORMAT, "inputs must have rank >= 1 and valid shapes (got ranks %d and %d)",
                             sa->rank, sb->rank);
    int ra = sa->rank, rb = sb->rank;
    int64_t ka = sa->dims[ra - 1], kb = rb >= 2 ? sb->dims[rb - 2] : sb->dims[0];
    if (ka != kb)
        return ert_node_fail(err, n, ERT_EINVAL, "inner dims differ: A has %lld, B has %lld", (long long)ka, (long long)kb);
    p->K = (size_t)ka;
    p->M = ra >= 2 ? (size_t)sa->dims[ra - 2] : 1;
    p->N = rb >= 2 ? (size_t)sb->dims[rb - 1] : 1;
    int ba = ra > 2 ? ra - 2 : 0, bb = rb > 2 ? rb - 2 : 0;
    p->nb = ba > bb ? ba : bb;
    p->b_batched = bb > 0;
    p->a_batch = 1;
    for (int i = 0; i < ba; i++)
        p->a_batch *= (size_t)sa->dims[i]; /* A's numel fits */
    /* Right-aligned broadcast of the batch dims; strides from the innermost batch dim out. */
    size_t stra = p->M * p->K, strb = p->K * p->N;
    for (int i = p->nb - 1; i >= 0; i--) {
        int ia = i - (p->nb - ba), ib = i - (p->nb - bb);
        int64_t da = ia >= 0 ? sa->dims[ia] : 1, db = ib >= 0 ? sb->dims[ib] : 1;
        if (da != db && da != 1 && db != 1)
            return ert_node_fail(err, n, ERT_EINVAL, "batch dims %lld and %lld do not broadcast", (long long)da,
                                 (long long)db);
        p->ob[i] = da == 1 ? db : da;
        p->sa[i] = da == 1 ? 0 : stra;
        p->sb[i] = db == 1 ? 0 : strb;
        stra *= (size_t)da; /* bounded by the numel of A / B */
        strb *= (size_t)db;
    }
    p->out.rank = p->nb + (ra >= 2) + (rb >= 2);
    for (int i = 0; i < p->nb; i++)
        p->out.dims[i] = p->ob[i];
    int r = p->nb;
    if (ra >= 2)
        p->out.dims[r++] = (int64_t)p->M;
    if (rb >= 2)
        p->out.dims[r++] = (int64_t)p->N;
    if (!ert_shape_bytes(&p->out, ERT_DT_F32, &bytes))
        return ert_node_fail(err, n, ERT_EINVAL, "output is too large");
    return ERT_OK;
}

static ert_status mm_infer(ert_graph *gr, ert_node *n, ert_error *err)
{
    mm_plan p;
    ert_status st = mm_plan_make(gr, n, &p, err);
    if (st != ERT_OK)
        return st;
    ert_tensor *y = ert_node_output(gr, n, 0);
    y->dtype = ERT_DT_F32;
    y->shape = p.out;
    return ERT_OK;
}

static ert_status mm_run(const ert_ctx *ctx, const ert_graph *gr, const ert_node *n, ert_error *err)
{
    (void)ctx;
    mm_plan p;
    ert_status st = mm_plan_make(gr, n, &p, err);
    if (st != ERT_OK)
        return st;
    const float *a = ert_node_input(gr, n, 0)->data, *b = ert_node_input(gr, n, 1)->data;
    float *y = ert_node_output(gr, n, 0)->data;
    const size_t mn = p.M * p.N;
    size_t numel;
    if (!ert_shape_numel(&p.out, &numel) || numel == 0)
        return ERT_OK; /* an empty output may still have huge batch dims: do not walk them */
    if (!p.b_batched) {
        /* B is one matrix (typically a weight): fold A's batch into the rows, one call. */
        size_t rows = p.a_batch * p.M;
        st = ert_gemm_mt(ctx->pool, false, false, rows, p.N, p.K, 1.0f, a, p.K, b, p.N, 0.0f, y, p.N, err);
        if (st != ERT_OK)
            return ert_error_prefix(err, "node '%s' (MatMul)", n->name);
        apply_act(y, rows * p.N, n);
        return ERT_OK;
    }
    size_t total = 1;
    for (int i = 0; i < p.nb; i++)
        total *= (size_t)p.ob[i];
    int64_t idx[ERT_MAX_RANK] = {0};
    size_t oa = 0, ob = 0;
    for (size_t t = 0; t < total; t++) {
        float *yt = y + t * mn;
        st = ert_gemm_mt(ctx->pool, false, false, p.M, p.N, p.K, 1.0f, a + oa, p.K, b + ob, p.N, 0.0f, yt, p.N, err);
        if (st != ERT_OK)
            return ert_error_prefix(err, "node '%s' (MatMul)", n->name);
        apply_act(yt, mn, n);
        /* Odometer over the output batch dims, keeping the A/B offsets in step. */
        for (int i = p.nb - 1; i >= 0; i--) {
            oa += p.sa[i], ob += p.sb[i];
            if (++idx[i] < p.ob[i])
                break;
            oa -= p.sa[i] * (size_t)p.ob[i], ob -= p.sb[i] * (size_t)p.ob[i];
            idx[i] = 0;
        }
    }
    return ERT_OK;
}

/* ---- Gemm: ints [transA, transB] (0/1), floats [alpha, beta] ---- */

static ert_status gemm_parse(ert_graph *gr, ert_node *n, ert_attrs *a, int opset, ert_error *err)
{
    (void)gr;
    int64_t ta, tb, bc;
    float alpha, beta;
    ert_status st = ert_attr_int(a, n, "transA", 0, &ta, err);
    if (st == ERT_OK)
        st = ert_attr_int(a, n, "transB", 0, &tb, err);
    if (st == ERT_OK)
        st = ert_attr_float(a, n, "alpha", 1.0f, &alpha, err);
    if (st == ERT_OK)
        st = ert_attr_float(a, n, "beta", 1.0f, &beta, err);
    /* Before opset 7 'broadcast' only allowed what infer checks anyway. */
    if (st == ERT_OK && opset < 7)
        st = ert_attr_int(a, n, "broadcast", 0, &bc, err);
    if (st != ERT_OK)
        return st;
    int64_t ints[2] = {ta != 0, tb != 0};
    float floats[2] = {alpha, beta};
    return ert_node_set_params(n, ints, 2, floats, 2, err);
}

typedef struct gemm_plan {
    bool ta, tb;
    float alpha, beta;
    size_t M, N, K;
    size_t c_rs, c_cs; /* C strides per row / column of Y (0: broadcast); valid when has_c */
    bool has_c;
} gemm_plan;

static ert_status gemm_plan_make(const ert_graph *gr, const ert_node *n, gemm_plan *p, ert_error *err)
{
    memset(p, 0, sizeof *p);
    if (n->n_in < 2 || n->n_in > 3 || n->n_out != 1)
        return ert_node_fail(err, n, ERT_EFORMAT, "needs inputs (A, B[, C]) and one output, got %u and %u", n->n_in,
                             n->n_out);
    if (n->n_ints != 2 || n->n_floats != 2 || !n->ints || !n->floats)
        return ert_node_fail(err, n, ERT_EFORMAT, "has %u int / %u float params, expected 2 / 2", n->n_ints, n->n_floats);
    if ((n->ints[0] != 0 && n->ints[0] != 1) || (n->ints[1] != 0 && n->ints[1] != 1))
        return ert_node_fail(err, n, ERT_EFORMAT, "transA/transB must be 0 or 1");
    p->ta = n->ints[0], p->tb = n->ints[1], p->alpha = n->floats[0], p->beta = n->floats[1];
    const ert_tensor *a = ert_node_input(gr, n, 0), *b = ert_node_input(gr, n, 1), *c = ert_node_input(gr, n, 2);
    if (!a || !b)
        return ert_node_fail(err, n, ERT_EFORMAT, "inputs A and B are required");
    if (a->dtype != ERT_DT_F32 || b->dtype != ERT_DT_F32 || (c && c->dtype != ERT_DT_F32))
        return ert_node_fail(err, n, ERT_EUNSUPPORTED, "dtype %s not supported (float32 only)",
                             ert_dtype_name(a->dtype != ERT_DT_F32 ? a->dtype : b->dtype != ERT_DT_F32 ? b->dtype : c->dtype));
    size_t bytes;
    if (a->shape.rank != 2 || b->shape.rank != 2 || !ert_shape_bytes(&a->shape, ERT_DT_F32, &bytes) ||
        !ert_shape_bytes(&b->shape, ERT_DT_F32, &bytes))
        return ert_node_fail(err, n, ERT_EFORMAT, "A and B must be matrices (got ranks %d and %d)", a->shape.rank,
                             b->shape.rank);
    int64_t m = a->shape.dims[p->ta ? 1 : 0], k = a->shape.dims[p->ta ? 0 : 1];
    int64_t kb = b->shape.dims[p->tb ? 1 : 0], nn = b->shape.dims[p->tb ? 0 : 1];
    if (k != kb)
        return ert_node_fail(err, n, ERT_EINVAL, "inner dims differ: op(A) is %lldx%lld, op(B) is %lldx%lld", (long long)m,
                             (long long)k, (long long)kb, (long long)nn);
    p->M = (size_t)m, p->N = (size_t)nn, p->K = (size_t)k;
    ert_shape ys = {.rank = 2, .dims = {m, nn}};
    if (!ert_shape_bytes(&ys, ERT_DT_F32, &bytes))
        return ert_node_fail(err, n, ERT_EINVAL, "output is too large");
    if (c) {
        const ert_shape *cs = &c->shape;
        bool ok = cs->rank <= 2;
        int64_t c0 = cs->rank == 2 ? cs->dims[0] : 1, c1 = cs->rank >= 1 ? cs->dims[cs->rank - 1] : 1;
        ok = ok && (c0 == 1 || c0 == m) && (c1 == 1 || c1 == nn);
        if (!ok) {
            char buf[96];
            return ert_node_fail(err, n, ERT_EINVAL, "C of shape %s does not broadcast to [%lld, %lld]",
                                 ert_shape_str(cs, buf, sizeof buf), (long long)m, (long long)nn);
        }
        p->has_c = true;
        p->c_cs = c1 == 1 ? 0 : 1;
        p->c_rs = c0 == 1 ? 0 : (size_t)c1;
    }
    return ERT_OK;
}

static ert_status gemm_infer(ert_graph *gr, ert_node *n, ert_error *err)
{
    gemm_plan p;
    ert_status st = gemm_plan_make(gr, n, &p, err);
    if (st != ERT_OK)
        return st;
    ert_tensor *y = ert_node_output(gr, n, 0);
    y->dtype = ERT_DT_F32;
    y->shape = (ert_shape){.rank = 2, .dims = {(int64_t)p.M, (int64_t)p.N}};
    return ERT_OK;
}

static ert_status gemm_run(const ert_ctx *ctx, const ert_graph *gr, const ert_node *n, ert_error *err)
{
    (void)ctx;
    gemm_plan p;
    ert_status st = gemm_plan_make(gr, n, &p, err);
    if (st != ERT_OK)
        return st;
    const float *a = ert_node_input(gr, n, 0)->data, *b = ert_node_input(gr, n, 1)->data;
    const ert_tensor *ct = ert_node_input(gr, n, 2);
    float *y = ert_node_output(gr, n, 0)->data;
    float beta = 0.0f;
    if (p.has_c && p.beta != 0.0f) {
        /* Y starts as C broadcast to [M, N]; the gemm then adds alpha * op(A) op(B). */
        const float *c = ct->data;
        for (size_t i = 0; i < p.M; i++) {
            const float *cr = c + i * p.c_rs;
            float *yr = y + i * p.N;
            if (p.c_cs)
                memcpy(yr, cr, p.N * sizeof *yr);
            else
                for (size_t j = 0; j < p.N; j++)
                    yr[j] = cr[0];
        }
        beta = p.beta;
    }
    size_t lda = p.ta ? p.M : p.K, ldb = p.tb ? p.K : p.N;
    st = ert_gemm_mt(ctx->pool, p.ta, p.tb, p.M, p.N, p.K, p.alpha, a, lda, b, ldb, beta, y, p.N, err);
    if (st != ERT_OK)
        return ert_error_prefix(err, "node '%s' (Gemm)", n->name);
    apply_act(y, p.M * p.N, n);
    return ERT_OK;
}

/* ---- BatchNormalization (inference): floats [epsilon], no ints ---- */

static ert_status bn_parse(ert_graph *gr, ert_node *n, ert_attrs *a, int opset, ert_error *err)
{
    (void)gr;
    float eps;
    int64_t v;
    ert_status st = ert_attr_float(a, n, "epsilon", 1e-5f, &eps, err);
    if (st != ERT_OK)
        return st;
    ert_attr_ignore(a, "momentum"); /* only moves running stats in training */
    if (opset < 6)
        ert_attr_ignore(a, "consumed_inputs");
    if (opset < 9) {
        st = ert_attr_int(a, n, "spatial", 1, &v, err);
        if (st != ERT_OK)
            return st;
        if (v != 1)
            return ert_node_fail(err, n, ERT_EUNSUPPORTED, "spatial = %lld: only per-channel (spatial=1) is supported",
                                 (long long)v);
    }
    if (opset < 7) {
        st = ert_attr_int(a, n, "is_test", 0, &v, err);
        if (st != ERT_OK)
            return st;
        if (v == 0)
            return ert_node_fail(err, n, ERT_EUNSUPPORTED, "is_test = 0 (training mode) is not supported");
    }
    if (opset >= 14) {
        st = ert_attr_int(a, n, "training_mode", 0, &v, err);
        if (st != ERT_OK)
            return st;
        if (v != 0)
            return ert_node_fail(err, n, ERT_EUNSUPPORTED, "training_mode = %lld is not supported (inference only)",
                                 (long long)v);
    }
    if (n->n_out != 1)
        return ert_node_fail(err, n, ERT_EUNSUPPORTED, "%u outputs: the training outputs (running mean/var) are not supported",
                             n->n_out);
    return ert_node_set_params(n, NULL, 0, &eps, 1, err);
}

static ert_status bn_check(const ert_graph *gr, const ert_node *n, ert_error *err)
{
    if (n->n_in != 5 || n->n_out != 1)
        return ert_node_fail(err, n, ERT_EUNSUPPORTED, "needs 5 inputs and 1 output (inference), got %u and %u", n->n_in,
                             n->n_out);
    if (n->n_ints != 0 || n->n_floats != 1 || !n->floats)
        return ert_node_fail(err, n, ERT_EFORMAT, "has %u int / %u float params, expected 0 / 1", n->n_ints, n->n_floats);
    const ert_tensor *x = ert_node_input(gr, n, 0);
    if (!x)
        return ert_node_fail(err, n, ERT_EFORMAT, "input X is required");
    size_t bytes;
    if (x->dtype != ERT_DT_F32)
        return ert_node_fail(err, n, ERT_EUNSUPPORTED, "dtype %s not supported (float32 only)", ert_dtype_name(x->dtype));
    if (x->shape.rank < 2 || !ert_shape_bytes(&x->shape, ERT_DT_F32, &bytes))
        return ert_node_fail(err, n, ERT_EFORMAT, "X must be [N, C, ...] (rank %d)", x->shape.rank);
    static const char *const names[] = {"scale", "B", "mean", "var"};
    for (uint32_t i = 1; i < 5; i++) {
        const ert_tensor *t = ert_node_input(gr, n, i);
        if (!t)
            return ert_node_fail(err, n, ERT_EFORMAT, "input '%s' is required", names[i - 1]);
        if (t->dtype != ERT_DT_F32)
            return ert_node_fail(err, n, ERT_EUNSUPPORTED, "input '%s' dtype %s not supported", names[i - 1],
                                 ert_dtype_name(t->dtype));
        if (t->shape.rank != 1 || t->shape.dims[0] != x->shape.dims[1])
            return ert_node_fail(err, n, ERT_EFORMAT, "input '%s' must have shape [%lld]", names[i - 1],
                                 (long long)x->shape.dims[1]);
    }
    return ERT_OK;
}

static ert_status bn_infer(ert_graph *gr, ert_node *n, ert_error *err)
{
    ert_status st = bn_check(gr, n, err);
    if (st != ERT_OK)
        return st;
    ert_tensor *y = ert_node_output(gr, n, 0);
    y->dtype = ERT_DT_F32;
    y->shape = ert_node_input(gr, n, 0)->shape;
    return ERT_OK;
}

typedef struct bn_job {
    const float *x, *scale, *bias, *mean, *var;
    float *y;
    float eps;
    size_t C, S;
    const ert_node *n;
} bn_job;

/* Planes (image, channel) [p0, p1). */
static void bn_planes(void *arg, size_t p0, size_t p1, int worker)
{
    (void)worker;
    const bn_job *j = arg;
    for (size_t pl = p0; pl < p1; pl++) {
        size_t c = pl % j->C, S = j->S;
        const float k = j->scale[c] / sqrtf(j->var[c] + j->eps), o = j->bias[c] - j->mean[c] * k;
        const float *xc = j->x + pl * S;
        float *yc = j->y + pl * S;
        const ert_f4 vk = f4_splat(k), vo = f4_splat(o), z = f4_splat(0.0f);
        size_t i = 0;
        switch (j->n->act) {
        case ERT_ACT_NONE:
            for (; i + 4 <= S; i += 4)
                f4_store(yc + i, f4_load(xc + i) * vk + vo);
            for (; i < S; i++)
                yc[i] = xc[i] * k + o;
            break;
        case ERT_ACT_RELU:
            /* One pass instead of BN then ert_sp_bias_act over the plane: the same
             * operations (its "+ 0.0f" turns -0 into +0, then the select), same bits. */
            for (; i + 4 <= S; i += 4) {
                ert_f4 v = (f4_load(xc + i) * vk + vo) + z;
                f4_store(yc + i, f4_select(v > z, v, z));
            }
            for (; i < S; i++) {
                float v = (xc[i] * k + o) + 0.0f;
                yc[i] = v > 0.0f ? v : 0.0f;
            }
            break;
        default:
            for (; i + 4 <= S; i += 4)
                f4_store(yc + i, f4_load(xc + i) * vk + vo);
            for (; i < S; i++)
                yc[i] = xc[i] * k + o;
            apply_act(yc, S, j->n);
            break;
        }
    }
}

static ert_status bn_run(const ert_ctx *ctx, const ert_graph *gr, const ert_node *n, ert_error *err)
{
    ert_status st = bn_check(gr, n, err);
    if (st != ERT_OK)
        return st;
    const ert_tensor *xt = ert_node_input(gr, n, 0);
    size_t numel;
    if (!ert_shape_numel(&xt->shape, &numel) || numel == 0)
        return ERT_OK; /* empty: N or C may still be huge */
    bn_job j = {.x = xt->data, .scale = ert_node_input(gr, n, 1)->data, .bias = ert_node_input(gr, n, 2)->data,
                .mean = ert_node_input(gr, n, 3)->data, .var = ert_node_input(gr, n, 4)->data,
                .y = ert_node_output(gr, n, 0)->data, .eps = n->floats[0], .C = (size_t)xt->shape.dims[1], .S = 1,
                .n = n};
    for (int i = 2; i < xt->shape.rank; i++)
        j.S *= (size_t)xt->shape.dims[i];
    /* Split across the pool from 64K elements, in runs of at least 16K. */
    size_t planes = (size_t)xt->shape.dims[0] * j.C;
    ert_pool_run(numel >= ((size_t)1 << 16) ? ctx->pool : NULL, planes, j.S >= 16384 ? 1 : 16384 / j.S + 1, bn_planes,
                 &j);
    return ERT_OK;
}

/* Inference BN is y = x * k[c] + o[c]: the converter folds it into a producing
 * Conv/Gemm/MatMul when the statistics are constants (op.h channel_affine). */
static bool bn_affine(const ert_graph *gr, const ert_node *n, float *scale, float *shift, size_t c)
{
    if (bn_check(gr, n, NULL) != ERT_OK)
        return false;
    const ert_tensor *x = ert_node_input(gr, n, 0);
    if ((size_t)x->shape.dims[1] != c)
        return false;
    for (uint32_t i = 1; i < 5; i++)
        if (!ert_node_input(gr, n, i)->is_const)
            return false;
    const float *sc = ert_node_input(gr, n, 1)->data, *bias = ert_node_input(gr, n, 2)->data;
    const float *mean = ert_node_input(gr, n, 3)->data, *var = ert_node_input(gr, n, 4)->data;
    for (size_t i = 0; i < c; i++) {
        scale[i] = sc[i] / sqrtf(var[i] + n->floats[0]);
        shift[i] = bias[i] - mean[i] * scale[i];
    }
    return true;
}

const ert_op_def ert_ops_linear[] = {
    ERT_OP("MatMul", NULL, mm_infer, NULL, mm_run, true),
    ERT_OP("Gemm", gemm_parse, gemm_infer, NULL, gemm_run, true),
    {.name = "BatchNormalization", .parse = bn_parse, .infer = bn_infer, .run = bn_run, .fuses_act = true,
     .channel_affine = bn_affine},
    ERT_OP_END,
};
