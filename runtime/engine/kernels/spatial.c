/* Window attributes of Conv, ConvTranspose and the pools: parsing, hostile-param checks,
 * output-size resolution (explicit pads, VALID, SAME_*, ceil_mode), and the epilogue. */
#include "spatial.h"

#include "simd.h"

#include <string.h>

static const char *const dim_names[] = {"kernel_shape", "strides", "dilations", "pads"};

ert_status ert_sp_parse(ert_attrs *a, const ert_node *n, bool kernel_required, bool with_dilations, int64_t *blk,
                        ert_error *err)
{
    const char *ap = NULL;
    ert_status st = ert_attr_string(a, n, "auto_pad", "NOTSET", &ap, err);
    if (st != ERT_OK)
        return st;
    int64_t mode;
    if (strcmp(ap, "NOTSET") == 0 || ap[0] == '\0')
        mode = ERT_SP_NOTSET;
    else if (strcmp(ap, "VALID") == 0)
        mode = ERT_SP_VALID;
    else if (strcmp(ap, "SAME_UPPER") == 0)
        mode = ERT_SP_SAME_UPPER;
    else if (strcmp(ap, "SAME_LOWER") == 0)
        mode = ERT_SP_SAME_LOWER;
    else
        return ert_node_fail(err, n, ERT_EUNSUPPORTED, "auto_pad '%s' is not one of NOTSET, VALID, SAME_UPPER, SAME_LOWER",
                             ap);

    const int64_t *lists[4] = {NULL, NULL, NULL, NULL};
    size_t counts[4] = {0, 0, 0, 0};
    st = ert_attr_ints(a, n, "kernel_shape", &lists[0], &counts[0], err);
    if (st == ERT_OK)
        st = ert_attr_ints(a, n, "strides", &lists[1], &counts[1], err);
    if (st == ERT_OK && with_dilations)
        st = ert_attr_ints(a, n, "dilations", &lists[2], &counts[2], err);
    if (st == ERT_OK)
        st = ert_attr_ints(a, n, "pads", &lists[3], &counts[3], err);
    if (st != ERT_OK)
        return st;

    /* Every list given must describe the same spatial rank (pads twice over). */
    size_t nsp = 0;
    for (int i = 0; i < 4; i++) {
        if (!lists[i])
            continue;
        size_t r = i == 3 ? counts[i] / 2 : counts[i];
        if ((i == 3 && counts[i] % 2) || r == 0 || (nsp && r != nsp))
            return ert_node_fail(err, n, ERT_EFORMAT, "attribute '%s' has %zu values, inconsistent with the other window attributes",
                                 dim_names[i], counts[i]);
        nsp = r;
    }
    if (nsp > ERT_SP_MAXDIM)
        return ert_node_fail(err, n, ERT_EUNSUPPORTED, "%zu spatial dims: only 1-D, 2-D and 3-D windows are supported", nsp);
    if (kernel_required && !lists[0])
        return ert_node_fail(err, n, ERT_EFORMAT, "attribute 'kernel_shape' is required");

    for (int i = 0; i < ERT_SP_INTS; i++)
        blk[i] = 0;
    blk[0] = mode;
    blk[1] = (int64_t)nsp;
    for (size_t i = 0; i < ERT_SP_MAXDIM; i++) {
        bool have = i < nsp;
        blk[2 + i] = have && lists[0] ? lists[0][i] : 0;
        blk[5 + i] = have && lists[1] ? lists[1][i] : 1;
        blk[8 + i] = have && lists[2] ? lists[2][i] : 1;
        blk[11 + i] = have && lists[3] ? lists[3][i] : 0;
        blk[14 + i] = have && lists[3] ? lists[3][nsp + i] : 0;
    }
    return ert_sp_check(n, blk, kernel_required, err);
}

ert_status ert_sp_check(const ert_node *n, const int64_t *blk, bool kernel_required, ert_error *err)
{
    if (blk[0] < ERT_SP_NOTSET || blk[0] > ERT_SP_SAME_LOWER)
        return ert_node_fail(err, n, ERT_EFORMAT, "bad auto_pad code %lld", (long long)blk[0]);
    if (blk[1] < 0 || blk[1] > ERT_SP_MAXDIM)
        return ert_node_fail(err, n, ERT_EFORMAT, "bad spatial rank %lld (1-D..3-D supported)", (long long)blk[1]);
    if (kernel_required && blk[1] == 0)
        return ert_node_fail(err, n, ERT_EFORMAT, "kernel_shape is required");
    for (int i = 0; i < ERT_SP_MAXDIM; i++) {
        int64_t k = blk[2 + i], s = blk[5 + i], d = blk[8 + i], pb = blk[11 + i], pe = blk[14 + i];
        bool used = i < blk[1];
        if (k < (kernel_required && used ? 1 : 0) || k > ERT_SP_LIMIT)
            return ert_node_fail(err, n, ERT_EFORMAT, "kernel_shape[%d] = %lld is out of range", i, (long long)k);
        if (s < 1 || s > ERT_SP_LIMIT)
            return ert_node_fail(err, n, ERT_EFORMAT, "strides[%d] = %lld must be in 1..2^31", i, (long long)s);
        if (d < 1 || d > ERT_SP_LIMIT)
            return ert_node_fail(err, n, ERT_EFORMAT, "dilations[%d] = %lld must be in 1..2^31", i, (long long)d);
        if (pb < 0 || pe < 0 || pb > ERT_SP_LIMIT || pe > ERT_SP_LIMIT)
            return ert_node_fail(err, n, ERT_EFORMAT, "pads for spatial dim %d (%lld, %lld) must be in 0..2^31", i,
                                 (long long)pb, (long long)pe);
    }
    return ERT_OK;
}

ert_status ert_sp_resolve(const ert_node *n, const int64_t *blk, const ert_shape *x, const int64_t *wk,
                          bool ceil_mode, ert_sp_geom *g, ert_error *err)
{
    int nsp = x->rank - 2;
    if (nsp < 1 || nsp > ERT_SP_MAXDIM)
        return ert_node_fail(err, n, ERT_EUNSUPPORTED, "input rank %d: only 1-D, 2-D and 3-D (rank 3..5) inputs are supported",
                             x->rank);
    if (blk[1] != 0 && blk[1] != nsp)
        return ert_node_fail(err, n, ERT_EFORMAT, "window attributes are %lld-D but the input has %d spatial dims",
                             (long long)blk[1], nsp);
    memset(g, 0, sizeof *g);
    g->nsp = nsp;
    g->in_size = g->out_size = g->k_size = 1;
    int lead = ERT_SP_MAXDIM - nsp;
    for (int j = 0; j < ERT_SP_MAXDIM; j++) {
        g->in[j] = g->k[j] = g->out[j] = g->s[j] = g->d[j] = 1;
        g->pb[j] = g->pe[j] = 0;
    }
    for (int i = 0; i < nsp; i++) {
        int j = lead + i;
        int64_t in = x->dims[2 + i];
        int64_t k = wk ? wk[i] : blk[2 + i];
        if (wk && blk[2 + i] != 0 && blk[2 + i] != k)
            return ert_node_fail(err, n, ERT_EFORMAT, "kernel_shape[%d] = %lld does not match the weight's %lld", i,
                                 (long long)blk[2 + i], (long long)k);
        if (in < 0 || in > ERT_SP_DIM_MAX || k < 1 || k > ERT_SP_LIMIT)
            return ert_node_fail(err, n, ERT_EFORMAT, "bad input dim %lld or kernel dim %lld (spatial dim %d)",
                                 (long long)in, (long long)k, i);
        int64_t s = blk[5 + i], d = blk[8 + i], pb = blk[11 + i], pe = blk[14 + i];
        int64_t ek = (k - 1) * d + 1; /* both <= 2^31: no overflow */
        int64_t out;
        switch (blk[0]) {
        case ERT_SP_VALID:
            pb = pe = 0;
            if (in < ek)
                return ert_node_fail(err, n, ERT_EINVAL, "kernel extent %lld is larger than the input (%lld) in spatial dim %d",
                                     (long long)ek, (long long)in, i);
            out = (in - ek) / s + 1;
            break;
        case ERT_SP_SAME_UPPER:
        case ERT_SP_SAME_LOWER: {
            out = in / s + (in % s != 0);
            int64_t total = (out > 0 ? (out - 1) * s : 0) + ek - in;
            if (total < 0)
                total = 0;
            pb = blk[0] == ERT_SP_SAME_UPPER ? total / 2 : total - total / 2;
            pe = total - pb;
            break;
        }
        default: {
            int64_t span = in + pb + pe; /* < 2^63: in bounded by a tensor, pads by 2^31 */
            if (span < ek)
                return ert_node_fail(err, n, ERT_EINVAL,
                                     "kernel extent %lld is larger than the padded input (%lld) in spatial dim %d",
                                     (long long)ek, (long long)span, i);
            out = (span - ek) / s + 1;
            if (ceil_mode && (span - ek) % s != 0) {
                out++;
                /* A window may not start in the end padding (PyTorch/ONNX rule). */
                if ((out - 1) * s >= in + pb)
                    out--;
            }
            break;
        }
        }
        if (out < 1)
            return ert_node_fail(err, n, ERT_EINVAL, "empty output in spatial dim %d (input %lld)", i, (long long)in);
        g->in[j] = in, g->k[j] = k, g->s[j] = s, g->d[j] = d, g->pb[j] = pb, g->pe[j] = pe, g->out[j] = out;
        if (!ert_mul_size(g->in_size, (size_t)in, &g->in_size) || !ert_mul_size(g->out_size, (size_t)out, &g->out_size) ||
            !ert_mul_size(g->k_size, (size_t)k, &g->k_size))
            return ert_node_fail(err, n, ERT_EINVAL, "window geometry overflows");
    }
    return ERT_OK;
}

void ert_sp_bias_act(float *restrict y, size_t len, float bias, const ert_node *n)
{
    const ert_f4 vb = f4_splat(bias);
    size_t i = 0;
    switch (n->act) {
    case ERT_ACT_NONE:
        if (bias == 0.0f)
            return;
        for (; i + 4 <= len; i += 4)
            f4_store(y + i, f4_load(y + i) + vb);
        for (; i < len; i++)
            y[i] += bias;
        break;
    case ERT_ACT_RELU: {
        const ert_f4 z = f4_splat(0.0f);
        for (; i + 4 <= len; i += 4) {
            ert_f4 v = f4_load(y + i) + vb;
            f4_store(y + i, f4_select(v > z, v, z));
        }
        for (; i < len; i++) {
            float v = y[i] + bias;
            y[i] = v > 0.0f ? v : 0.0f;
        }
        break;
    }
    case ERT_ACT_CLIP: {
        const float lo = n->act_alpha, hi = n->act_beta;
        const ert_f4 vlo = f4_splat(lo), vhi = f4_splat(hi);
        for (; i + 4 <= len; i += 4) {
            ert_f4 v = f4_load(y + i) + vb;
            f4_store(y + i, f4_select(v < vlo, vlo, f4_select(v > vhi, vhi, v)));
        }
        for (; i < len; i++) {
            float v = y[i] + bias;
            y[i] = v < lo ? lo : (v > hi ? hi : v);
        }
        break;
    }
    default:
        if (bias != 0.0f)
            for (; i < len; i++)
                y[i] += bias;
        ert_act_apply(y, len, n->act, n->act_alpha, n->act_beta);
        break;
    }
}
