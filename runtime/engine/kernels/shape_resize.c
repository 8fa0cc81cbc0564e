/* Kernels: Pad (constant, reflect, edge; negative pads crop) and Resize/Upsample
 * (nearest, linear, cubic over any axes, as per-axis taps); listed in shape.c. */
#include "shape_common.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- Pad ---- */

enum { PAD_CONSTANT, PAD_REFLECT, PAD_EDGE };

ert_status ert_shape_parse_pad(ert_graph *g, ert_node *n, ert_attrs *a, int opset, ert_error *err)
{
    (void)g;
    const char *mode;
    ert_status st = ert_attr_string(a, n, "mode", "constant", &mode, err);
    if (st != ERT_OK)
        return st;
    int64_t p[1 + 2 * ERT_MAX_RANK];
    if (strcmp(mode, "constant") == 0)
        p[0] = PAD_CONSTANT;
    else if (strcmp(mode, "reflect") == 0)
        p[0] = PAD_REFLECT;
    else if (strcmp(mode, "edge") == 0)
        p[0] = PAD_EDGE;
    else
        return ert_node_fail(err, n, ERT_EUNSUPPORTED, "mode '%s' not supported", mode);
    if (opset >= 11)
        return ert_node_set_params(n, p, 1, NULL, 0, err);
    const int64_t *pads;
    size_t k;
    float value;
    if ((st = ert_attr_ints(a, n, "pads", &pads, &k, err)) != ERT_OK ||
        (st = ert_attr_float(a, n, "value", 0.0f, &value, err)) != ERT_OK)
        return st;
    if (!pads || k > 2 * ERT_MAX_RANK)
        return ert_node_fail(err, n, ERT_EFORMAT, "attribute 'pads' is missing or too long (%zu)", k);
    memcpy(p + 1, pads, k * sizeof *pads);
    return ert_node_set_params(n, p, (uint32_t)(1 + k), &value, 1, err);
}

/* Negative pads crop first (as onnxruntime does); the remaining pads then extend the
 * cropped axis [crop[i], crop[i] + len[i]) of the input, reflecting within it. */
typedef struct pad_plan {
    int mode;
    int64_t begin[ERT_MAX_RANK], end[ERT_MAX_RANK], out[ERT_MAX_RANK];
    int64_t crop[ERT_MAX_RANK], len[ERT_MAX_RANK], lead[ERT_MAX_RANK];
} pad_plan;

/* Params: [mode, pads(2*rank)] + floats [value] (opset < 11), or [mode] with inputs
 * pads (constant), constant_value (optional scalar) and axes (optional, constant). */
static ert_status pad_make(const ert_graph *g, const ert_node *n, const ert_tensor *x, pad_plan *p, ert_error *err)
{
    int r = x->shape.rank;
    memset(p, 0, sizeof *p);
    if (n->n_ints < 1 || n->ints[0] < PAD_CONSTANT || n->ints[0] > PAD_EDGE)
        return ert_node_fail(err, n, ERT_EFORMAT, "expects params [mode 0..2, ...]");
    p->mode = (int)n->ints[0];
    ert_status st;
    if (n->n_in == 1) {
        if (n->n_floats != 1 || n->n_ints != 1 + 2 * (uint32_t)r)
            return ert_node_fail(err, n, ERT_EFORMAT, "pads have %u entries for rank %d", n->n_ints - 1, r);
        for (int i = 0; i < r; i++)
            p->begin[i] = n->ints[1 + i], p->end[i] = n->ints[1 + r + i];
    } else {
        const ert_tensor *pads, *axes;
        size_t k, ka;
        if (n->n_ints != 1 || n->n_floats != 0)
            return ert_node_fail(err, n, ERT_EFORMAT, "pads given both as params and as input");
        if ((st = ert_shape_const_vec(g, n, 1, "pads", false, &pads, &k, err)) != ERT_OK ||
            (st = ert_shape_const_vec(g, n, 3, "axes", false, &axes, &ka, err)) != ERT_OK)
            return st;
        if (!pads)
            return ert_node_fail(err, n, ERT_EFORMAT, "input 'pads' is required");
        size_t na = axes ? ka : (size_t)r;
        if (na > (size_t)r || k != 2 * na)
            return ert_node_fail(err, n, ERT_EFORMAT, "pads have %zu entries for %zu axes", k, na);
        bool seen[ERT_MAX_RANK] = {false};
        for (size_t i = 0; i < na; i++) {
            int ax = (int)i;
            if (axes && (st = ert_shape_axis(n, "axis", ert_shape_vec_at(axes, i), r, &ax, err)) != ERT_OK)
                return st;
            if (seen[ax])
                return ert_node_fail(err, n, ERT_EFORMAT, "axis %d repeated", ax);
            seen[ax] = true;
            p->begin[ax] = ert_shape_vec_at(pads, i);
            p->end[ax] = ert_shape_vec_at(pads, na + i);
        }
        const ert_tensor *cv;
        if ((st = ert_shape_data_input(g, n, 2, "constant_value", false, &cv, err)) != ERT_OK)
            return st;
        size_t numel;
        if (cv && (cv->dtype != x->dtype || !ert_shape_numel(&cv->shape, &numel) || numel > 1))
            return ert_node_fail(err, n, ERT_EFORMAT, "constant_value must be a %s scalar", ert_dtype_name(x->dtype));
    }
    for (int i = 0; i < r; i++) {
        int64_t d = x->shape.dims[i], b = p->begin[i], e = p->end[i];
        int64_t cl = 0, cr = 0, o;
        /* Crops may remove at most the whole axis; this also keeps index math in range. */
        if (b >= -d && e >= -d)
            cl = b < 0 ? -b : 0, cr = e < 0 ? -e : 0;
        if (b < -d || e < -d || cl + cr > d || __builtin_add_overflow(d, b, &o) || __builtin_add_overflow(o, e, &o))
            return ert_node_fail(err, n, ERT_EFORMAT, "pads %lld/%lld are invalid for axis %d of size %lld",
                                 (long long)b, (long long)e, i, (long long)d);
        p->crop[i] = cl, p->len[i] = d - cl - cr, p->lead[i] = b > 0 ? b : 0, p->out[i] = o;
        if (p->len[i] == 0 && o > 0 && p->mode != PAD_CONSTANT)
            return ert_node_fail(err, n, ERT_EFORMAT, "cannot %s-pad axis %d: nothing left of it",
                                 p->mode == PAD_REFLECT ? "reflect" : "edge", i);
    }
    return ERT_OK;
}

ert_status ert_shape_infer_pad(ert_graph *g, ert_node *n, ert_error *err)
{
    const ert_tensor *x;
    pad_plan p;
    ert_status st;
    if ((st = ert_shape_check_io(g, n, 1, 4, 1, 1, err)) != ERT_OK ||
        (st = ert_shape_data_input(g, n, 0, "data", true, &x, err)) != ERT_OK ||
        (st = pad_make(g, n, x, &p, err)) != ERT_OK)
        return st;
    ert_shape out = {.rank = x->shape.rank};
    memcpy(out.dims, p.out, sizeof out.dims);
    return ert_shape_set_out(g, n, 0, x->dtype, &out, err);
}

/* Index into the cropped axis [0, d) for output coordinate o, or -1 for the fill value. */
static int64_t pad_src(int64_t o, int64_t lead, int64_t d, int mode)
{
    int64_t i = o - lead;
    if (i >= 0 && i < d)
        return i;
    if (mode == PAD_CONSTANT)
        return -1;
    if (mode == PAD_EDGE || d == 1)
        return i < 0 ? 0 : d - 1;
    int64_t period = 2 * (d - 1), m = i % period;
    m = m < 0 ? m + period : m;
    return m >= d ? period - m : m;
}

/* The fill value as one element of dtype dt. */
static void pad_value(const ert_graph *g, const ert_node *n, ert_dtype dt, unsigned char *val)
{
    memset(val, 0, 8);
    const ert_tensor *cv = ert_node_input(g, n, 2);
    if (n->n_in == 1) {
        double v = n->floats[0];
        switch (dt) {
        case ERT_DT_F32: { float f = (float)v; memcpy(val, &f, 4); break; }
        case ERT_DT_F64: memcpy(val, &v, 8); break;
        case ERT_DT_BOOL: val[0] = v != 0.0; break;
        default: {
            /* Integer types: saturate, then store the low bytes (little-endian). */
            int64_t iv = isnan(v) ? 0 : (v >= 9.2e18 ? INT64_MAX : (v <= -9.2e18 ? INT64_MIN : (int64_t)v));
            int32_t i32 = (int32_t)iv;
            int8_t i8 = (int8_t)iv;
            if (dt == ERT_DT_I64)
                memcpy(val, &iv, 8);
            else if (dt == ERT_DT_I32)
                memcpy(val, &i32, 4);
            else
                memcpy(val, &i8, 1);
        }
        }
    } else if (cv) {
        size_t nb = 0;
        ert_shape_bytes(&cv->shape, cv->dtype, &nb);
        if (nb)
            memcpy(val, cv->data, nb);
    }
}

ert_status ert_shape_run_pad(const ert_ctx *ctx, const ert_graph *g, const ert_node *n, ert_error *err)
{
    (void)ctx;
    const ert_tensor *x = ert_node_input(g, n, 0);
    const ert_tensor *y = ert_node_output(g, n, 0);
    pad_plan p;
    ert_status st = pad_make(g, n, x, &p, err);
    if (st != ERT_OK)
        return st;
    int r = x->shape.rank;
    size_t es = ert_dtype_size(x->dtype), numel;
    unsigned char val[8];
    pad_value(g, n, x->dtype, val);
    ert_shape_numel(&y->shape, &numel);
    if (numel == 0)
        return ERT_OK;
    if (r == 0) {
        memcpy(y->data, x->data, es);
        return ERT_OK;
    }
    const int64_t *d = x->shape.dims;
    int64_t is[ERT_MAX_RANK], c[ERT_MAX_RANK] = {0};
    for (int j = r - 1; j >= 0; j--)
        is[j] = j == r - 1 ? 1 : is[j + 1] * d[j + 1];
    /* Along the last axis, [m0, m1) maps onto the cropped input in order: one memcpy. */
    int64_t len = p.out[r - 1], m0 = p.lead[r - 1], dl = p.len[r - 1], m1 = m0 + dl;
    size_t rows = numel / (size_t)len;
    const char *src = x->data;
    char *dst = y->data;
    for (size_t row = 0; row < rows; row++, dst += (size_t)len * es) {
        int64_t off = p.crop[r - 1];
        bool fill = false;
        for (int a = 0; a < r - 1; a++) {
            int64_t i = pad_src(c[a], p.lead[a], p.len[a], p.mode);
            fill |= i < 0;
            off += (p.crop[a] + i) * is[a];
        }
        if (fill) {
            ert_shape_fill(dst, (size_t)len, val, es);
        } else {
            const char *s = src + off * (int64_t)es;
            for (int64_t j = 0; j < m0; j++) {
                int64_t i = pad_src(j, m0, dl, p.mode);
                memcpy(dst + j * (int64_t)es, i < 0 ? (const char *)val : s + i * (int64_t)es, es);
            }
            if (dl > 0)
                memcpy(dst + m0 * (int64_t)es, s, (size_t)dl * es);
            for (int64_t j = m1; j < len; j++) {
                int64_t i = pad_src(j, m0, dl, p.mode);
                memcpy(dst + j * (int64_t)es, i < 0 ? (const char *)val : s + i * (int64_t)es, es);
            }
        }
        for (int a = r - 2; a >= 0; a--) {
            if (++c[a] < p.out[a])
                break;
            c[a] = 0;
        }
    }
    return ERT_OK;
}

/* ---- Resize / Upsample ---- */

enum { RS_NEAREST, RS_LINEAR, RS_CUBIC };
enum { CT_HALF_PIXEL, CT_ASYMMETRIC, CT_ALIGN_CORNERS, CT_PYTORCH_HALF_PIXEL, CT_TF_HALF_PIXEL_NN, CT_TF_CROP };
enum { NM_ROUND_PREFER_FLOOR, NM_ROUND_PREFER_CEIL, NM_FLOOR, NM_CEIL };

static const char *const rs_modes[] = {"nearest", "linear", "cubic"};
static const char *const rs_coords[] = {"half_pixel",          "asymmetric",           "align_corners",
                                        "pytorch_half_pixel", "tf_half_pixel_for_nn", "tf_crop_and_resize"};
static const char *const rs_nearests[] = {"round_prefer_floor", "round_prefer_ceil", "floor", "ceil"};

#define ERT_RESIZE_MAX_COMBOS 256 /* tap combinations over the outer resized axes of one row */

static int lookup(const char *s, const char *const *names, int count)
{
    for (int i = 0; i < count; i++)
        if (strcmp(s, names[i]) == 0)
            return i;
    return -1;
}

/* Moves the inputs to Resize-11's layout [X, roi, scales] so one infer/run serves all. */
static ert_status set_resize_inputs(ert_node *n, uint32_t x, uint32_t scales, ert_error *err)
{
    uint32_t *in = realloc(n->in, 3 * sizeof *in);
    if (!in)
        return ert_node_fail(err, n, ERT_ENOMEM, "out of memory");
    in[0] = x, in[1] = ERT_NO_TENSOR, in[2] = scales;
    n->in = in;
    n->n_in = 3;
    return ERT_OK;
}

ert_status ert_shape_parse_resize(ert_graph *g, ert_node *n, ert_attrs *a, int opset, ert_error *err)
{
    (void)g;
    const char *mode, *coord = "asymmetric", *nearest = "floor", *policy = "stretch";
    float f[2] = {-0.75f, 0.0f};
    int64_t exclude = 0, antialias = 0;
    ert_status st = ert_attr_string(a, n, "mode", "nearest", &mode, err);
    if (st == ERT_OK && opset >= 11) {
        if ((st = ert_attr_string(a, n, "coordinate_transformation_mode", "half_pixel", &coord, err)) != ERT_OK ||
            (st = ert_attr_string(a, n, "nearest_mode", "round_prefer_floor", &nearest, err)) != ERT_OK ||
            (st = ert_attr_float(a, n, "cubic_coeff_a", -0.75f, &f[0], err)) != ERT_OK ||
            (st = ert_attr_int(a, n, "exclude_outside", 0, &exclude, err)) != ERT_OK ||
            (st = ert_attr_float(a, n, "extrapolation_value", 0.0f, &f[1], err)) != ERT_OK)
            return st;
    }
    if (st == ERT_OK && opset >= 18) {
        if ((st = ert_attr_int(a, n, "antialias", 0, &antialias, err)) != ERT_OK ||
            (st = ert_attr_string(a, n, "keep_aspect_ratio_policy", "stretch", &policy, err)) != ERT_OK)
            return st;
    }
    if (st != ERT_OK)
        return st;
    if (antialias)
        return ert_node_fail(err, n, ERT_EUNSUPPORTED, "antialias not supported");
    if (strcmp(policy, "stretch") != 0)
        return ert_node_fail(err, n, ERT_EUNSUPPORTED, "keep_aspect_ratio_policy '%s' not supported", policy);
    int64_t p[4] = {lookup(mode, rs_modes, 3), lookup(coord, rs_coords, 6), lookup(nearest, rs_nearests, 4),
                    exclude != 0};
    if (p[0] < 0 || p[1] < 0 || p[2] < 0)
        return ert_node_fail(err, n, ERT_EUNSUPPORTED, "mode '%s' / coordinate_transformation_mode '%s' / "
                             "nearest_mode '%s' not supported", mode, coord, nearest);
    if (opset < 11) {
        /* Resize-10: inputs X, scales; asymmetric coordinates, floor for nearest. */
        if (n->n_in != 2 || n->in[1] == ERT_NO_TENSOR)
            return ert_node_fail(err, n, ERT_EFORMAT, "expects inputs X, scales (opset %d)", opset);
        if ((st = set_resize_inputs(n, n->in[0], n->in[1], err)) != ERT_OK)
            return st;
    }
    return ert_node_set_params(n, p, 4, f, 2, err);
}

ert_status ert_shape_parse_upsample(ert_graph *g, ert_node *n, ert_attrs *a, int opset, ert_error *err)
{
    const char *mode;
    ert_status st = ert_attr_string(a, n, "mode", "nearest", &mode, err);
    if (st != ERT_OK)
        return st;
    int64_t p[4] = {lookup(mode, rs_modes, 2), CT_ASYMMETRIC, NM_FLOOR, 0};
    float f[2] = {-0.75f, 0.0f};
    if (p[0] < 0)
        return ert_node_fail(err, n, ERT_EUNSUPPORTED, "mode '%s' not supported", mode);
    uint32_t scales;
    if (opset < 9) {
        const float *s;
        size_t k;
        if ((st = ert_attr_floats(a, n, "scales", &s, &k, err)) != ERT_OK)
            return st;
        if (!s || k == 0 || k > ERT_MAX_RANK || n->n_in != 1 || n->n_out != 1)
            return ert_node_fail(err, n, ERT_EFORMAT, "needs one input and a 'scales' attribute of 1..%d values",
                                 ERT_MAX_RANK);
        char name[256];
        snprintf(name, sizeof name, "%s#scales", g->tensors[n->out[0]].name);
        ert_shape sh = {.rank = 1, .dims = {(int64_t)k}};
        if ((st = ert_graph_add_tensor(g, name, ERT_DT_F32, &sh, (void *)s, true, &scales, err)) != ERT_OK)
            return st;
    } else {
        if (n->n_in != 2 || n->in[1] == ERT_NO_TENSOR)
            return ert_node_fail(err, n, ERT_EFORMAT, "expects inputs X, scales");
        scales = n->in[1];
    }
    if ((st = set_resize_inputs(n, n->in[0], scales, err)) != ERT_OK)
        return st;
    return ert_node_set_params(n, p, 4, f, 2, err);
}

typedef struct resize_plan {
    int rank, mode, coord, nearest;
    bool exclude;
    double cubic_a;
    float extrap;
    int64_t in[ERT_MAX_RANK], out[ERT_MAX_RANK];
    double scale[ERT_MAX_RANK], roi_s[ERT_MAX_RANK], roi_e[ERT_MAX_RANK];
} resize_plan;

static double resize_coord(const resize_plan *p, int a, int64_t o)
{
    /* As the ONNX reference does, align_corners and tf_crop_and_resize use the unrounded
     * output length in * scale (equal to sizes[a] when sizes are given). */
    double x = (double)o, s = p->scale[a], in = (double)p->in[a], out = in * s;
    switch (p->coord) {
    case CT_HALF_PIXEL: return (x + 0.5) / s - 0.5;
    case CT_ASYMMETRIC: return x / s;
    case CT_ALIGN_CORNERS: return out == 1 ? 0 : x * (in - 1) / (out - 1);
    case CT_PYTORCH_HALF_PIXEL: return p->out[a] > 1 ? (x + 0.5) / s - 0.5 : 0;
    case CT_TF_HALF_PIXEL_NN: return (x + 0.5) / s;
    default:
        return out > 1 ? p->roi_s[a] * (in - 1) + x * (p->roi_e[a] - p->roi_s[a]) * (in - 1) / (out - 1)
                       : 0.5 * (p->roi_s[a] + p->roi_e[a]) * (in - 1);
    }
}

static int resize_taps(const resize_plan *p)
{
    return p->mode == RS_NEAREST ? 1 : (p->mode == RS_LINEAR ? 2 : 4);
}

/* Nearest needs one tap; so do axes whose coordinates map onto themselves. */
static bool resize_one_tap(const resize_plan *p, int a)
{
    if (p->mode == RS_NEAREST || p->in[a] != p->out[a])
        return p->mode == RS_NEAREST;
    for (int64_t o = 0; o < p->out[a]; o++)
        if (resize_coord(p, a, o) != (double)o)
            return false;
    return true;
}

/* Taps (input indices, weights) for output coordinate o on axis a; *oob marks
 * tf_crop_and_resize coordinates outside the input. Returns the tap count. */
static int axis_taps(const resize_plan *p, int a, int64_t o, int64_t *idx, double *w, bool *oob)
{
    int64_t in = p->in[a];
    double x = resize_coord(p, a, o);
    *oob = p->coord == CT_TF_CROP && !(x >= 0 && x <= (double)(in - 1));
    /* Further out than this, every tap clamps to the same edge; keeps the casts defined. */
    x = x < -2.0 ? -2.0 : (x > (double)in + 1.0 ? (double)in + 1.0 : x);
    double fl = floor(x), t = x - fl;
    int64_t i0 = (int64_t)fl;
    int k;
    if (p->mode == RS_NEAREST) {
        bool up = (p->nearest == NM_ROUND_PREFER_FLOOR && t > 0.5) ||
                  (p->nearest == NM_ROUND_PREFER_CEIL && t >= 0.5) || (p->nearest == NM_CEIL && t > 0.0);
        idx[0] = i0 + up, w[0] = 1.0, k = 1;
    } else if (p->mode == RS_LINEAR) {
        idx[0] = i0, idx[1] = i0 + 1, w[0] = 1.0 - t, w[1] = t, k = 2;
    } else {
        double A = p->cubic_a, d[4] = {t + 1.0, t, 1.0 - t, 2.0 - t}, sum = 0.0;
        for (int j = 0; j < 4; j++) {
            double z = d[j];
            w[j] = z <= 1.0 ? ((A + 2.0) * z - (A + 3.0)) * z * z + 1.0 : ((A * z - 5.0 * A) * z + 8.0 * A) * z - 4.0 * A;
            idx[j] = i0 - 1 + j;
            if (p->exclude && (idx[j] < 0 || idx[j] >= in))
                w[j] = 0.0;
            sum += w[j];
        }
        if (p->exclude && sum != 0.0)
            for (int j = 0; j < 4; j++)
                w[j] /= sum;
        k = 4;
    }
    for (int j = 0; j < k; j++)
        idx[j] = idx[j] < 0 ? 0 : (idx[j] >= in ? in - 1 : idx[j]);
    return k;
}

/* Params: [mode (0 nearest, 1 linear, 2 cubic), coordinate mode (0 half_pixel,
 * 1 asymmetric, 2 align_corners, 3 pytorch_half_pixel, 4 tf_half_pixel_for_nn,
 * 5 tf_crop_and_resize), nearest mode (0 round_prefer_floor, 1 round_prefer_ceil,
 * 2 floor, 3 ceil), exclude_outside] + floats [cubic_coeff_a, extrapolation_value].
 * Inputs X, roi (constant, tf_crop_and_resize only), scales or sizes (constant). */
static ert_status resize_make(const ert_graph *g, const ert_node *n, resize_plan *p, ert_error *err)
{
    const ert_tensor *x, *sc, *sz, *roi = NULL;
    size_t ksc, ksz, kroi;
    ert_status st;
    if ((st = ert_shape_check_io(g, n, 1, 4, 1, 1, err)) != ERT_OK ||
        (st = ert_shape_data_input(g, n, 0, "X", true, &x, err)) != ERT_OK)
        return st;
    if (n->n_ints != 4 || n->n_floats != 2 || n->ints[0] < RS_NEAREST || n->ints[0] > RS_CUBIC ||
        n->ints[1] < CT_HALF_PIXEL || n->ints[1] > CT_TF_CROP || n->ints[2] < NM_ROUND_PREFER_FLOOR ||
        n->ints[2] > NM_CEIL || n->ints[3] < 0 || n->ints[3] > 1 || !isfinite(n->floats[0]))
        return ert_node_fail(err, n, ERT_EFORMAT, "expects params [mode, coordinate mode, nearest mode, exclude] "
                             "and [cubic_coeff_a, extrapolation_value]");
    memset(p, 0, sizeof *p);
    p->rank = x->shape.rank;
    p->mode = (int)n->ints[0], p->coord = (int)n->ints[1], p->nearest = (int)n->ints[2];
    p->exclude = n->ints[3] != 0, p->cubic_a = n->floats[0], p->extrap = n->floats[1];
    if ((p->mode != RS_NEAREST || p->coord == CT_TF_CROP) && x->dtype != ERT_DT_F32)
        return ert_node_fail(err, n, ERT_EUNSUPPORTED, "dtype %s not supported with mode %s", ert_dtype_name(x->dtype),
                             rs_modes[p->mode]);
    if (p->rank < 1)
        return ert_node_fail(err, n, ERT_EFORMAT, "input X must have rank >= 1");
    if ((st = ert_shape_const_vec(g, n, 2, "scales", true, &sc, &ksc, err)) != ERT_OK ||
        (st = ert_shape_const_vec(g, n, 3, "sizes", false, &sz, &ksz, err)) != ERT_OK)
        return st;
    /* Opset 11 passes the unused one of scales/sizes as an empty tensor. */
    sc = ksc ? sc : NULL, sz = ksz ? sz : NULL;
    if (!sc == !sz)
        return ert_node_fail(err, n, ERT_EFORMAT, "needs exactly one of 'scales' and 'sizes'");
    if ((sc ? ksc : ksz) != (size_t)p->rank)
        return ert_node_fail(err, n, ERT_EFORMAT, "%s has %zu entries for rank %d", sc ? "scales" : "sizes",
                             sc ? ksc : ksz, p->rank);
    if (p->coord == CT_TF_CROP) {
        if ((st = ert_shape_const_vec(g, n, 1, "roi", true, &roi, &kroi, err)) != ERT_OK)
            return st;
        if (!roi || kroi != 2 * (size_t)p->rank)
            return ert_node_fail(err, n, ERT_EFORMAT, "tf_crop_and_resize needs 'roi' with %d entries", 2 * p->rank);
    }
    for (int a = 0; a < p->rank; a++) {
        int64_t in = x->shape.dims[a], out;
        p->in[a] = in;
        if (roi) {
            p->roi_s[a] = ((const float *)roi->data)[a];
            p->roi_e[a] = ((const float *)roi->data)[p->rank + a];
            if (!isfinite(p->roi_s[a]) || !isfinite(p->roi_e[a]))
                return ert_node_fail(err, n, ERT_EFORMAT, "roi for axis %d is not finite", a);
        }
        if (sc) {
            double s = ((const float *)sc->data)[a];
            double len = floor((double)in * s * (roi ? p->roi_e[a] - p->roi_s[a] : 1.0));
            if (!(s > 0) || !(len >= 0 && len < 4.0e18))
                return ert_node_fail(err, n, ERT_EFORMAT, "scale %g for axis %d is invalid", s, a);
            out = (int64_t)len;
            p->scale[a] = s;
        } else {
            out = ert_shape_vec_at(sz, (size_t)a);
            if (out < 0)
                return ert_node_fail(err, n, ERT_EFORMAT, "sizes[%d] = %lld is negative", a, (long long)out);
            p->scale[a] = in ? (double)out / (double)in : 1.0;
        }
        if (in == 0 && out > 0)
            return ert_node_fail(err, n, ERT_EFORMAT, "cannot resize the empty axis %d to %lld", a, (long long)out);
        p->out[a] = out;
    }
    /* The tap tables (see resize_scratch_bytes) must be addressable. */
    size_t bytes = 0, per = (size_t)resize_taps(p) * (sizeof(size_t) + sizeof(float)) + 1, b;
    for (int a = 0; a < p->rank; a++)
        if (!ert_mul_size((size_t)p->out[a], per, &b) || !ert_add_size(bytes, b, &bytes) || bytes > SIZE_MAX / 2)
            return ert_node_fail(err, n, ERT_EFORMAT, "output dims are too large");
    size_t combos = 1;
    for (int a = 0; a < p->rank - 1; a++)
        if (!resize_one_tap(p, a) && (combos *= (size_t)resize_taps(p)) > ERT_RESIZE_MAX_COMBOS)
            return ert_node_fail(err, n, ERT_EUNSUPPORTED, "too many resized axes for mode %s", rs_modes[p->mode]);
    return ERT_OK;
}

ert_status ert_shape_infer_resize(ert_graph *g, ert_node *n, ert_error *err)
{
    resize_plan p;
    ert_status st = resize_make(g, n, &p, err);
    if (st != ERT_OK)
        return st;
    ert_shape out = {.rank = p.rank};
    memcpy(out.dims, p.out, sizeof out.dims);
    return ert_shape_set_out(g, n, 0, ert_node_input(g, n, 0)->dtype, &out, err);
}

/* Scratch: per axis and output coordinate, the taps' element offsets and weights, and
 * an out-of-roi flag. */
static size_t resize_scratch_bytes(const resize_plan *p, size_t *entries, size_t *coords)
{
    size_t e = 0, c = 0;
    for (int a = 0; a < p->rank; a++) {
        c += (size_t)p->out[a];
        e += (size_t)p->out[a] * (size_t)resize_taps(p);
    }
    *entries = e, *coords = c;
    return e * (sizeof(size_t) + sizeof(float)) + c;
}

size_t ert_shape_scratch_resize(const ert_graph *g, const ert_node *n)
{
    resize_plan p;
    size_t e, c, numel = 1;
    if (resize_make(g, n, &p, NULL) != ERT_OK)
        return 0;
    /* An empty output needs no tables, however long its other axes. */
    for (int a = 0; a < p.rank; a++)
        numel *= (size_t)(p.out[a] != 0);
    return numel ? resize_scratch_bytes(&p, &e, &c) : 0;
}

#define ERT_GATHER_ROW(T)                                                                                        \
    do {                                                                                                         \
        T *restrict d_ = dst;                                                                                    \
        const T *restrict s_ = src;                                                                              \
        for (size_t j_ = 0; j_ < count; j_++)                                                                    \
            d_[j_] = s_[idx[j_]];                                                                                \
    } while (0)

static void gather_row(void *restrict dst, const void *restrict src, const size_t *idx, size_t count, size_t es)
{
    switch (es) {
    case 1: ERT_GATHER_ROW(uint8_t); return;
    case 4: ERT_GATHER_ROW(uint32_t); return;
    case 8: ERT_GATHER_ROW(uint64_t); return;
    default:
        for (size_t j = 0; j < count; j++)
            memcpy((char *)dst + j * es, (const char *)src + idx[j] * es, es);
    }
}

ert_status ert_shape_run_resize(const ert_ctx *ctx, const ert_graph *g, const ert_node *n, ert_error *err)
{
    resize_plan p;
    ert_status st = resize_make(g, n, &p, err);
    if (st != ERT_OK)
        return st;
    const ert_tensor *x = ert_node_input(g, n, 0);
    const ert_tensor *y = ert_node_output(g, n, 0);
    size_t es = ert_dtype_size(x->dtype), numel, entries, coords;
    ert_shape_numel(&y->shape, &numel);
    if (numel == 0)
        return ERT_OK;
    if (ctx->scratch_bytes < resize_scratch_bytes(&p, &entries, &coords))
        return ert_node_fail(err, n, ERT_EINTERNAL, "scratch buffer too small");
    size_t *offs = ctx->scratch;
    float *ws = (float *)(offs + entries);
    unsigned char *oobs = (unsigned char *)(ws + entries);
    int r = p.rank, tmax = resize_taps(&p), T[ERT_MAX_RANK];
    size_t tap0[ERT_MAX_RANK], c0[ERT_MAX_RANK], is = 1;
    /* Axis a's taps start at offs/ws + tap0[a]; its flags at oobs + c0[a]. */
    size_t te = 0, tc = 0;
    for (int a = 0; a < r; a++) {
        tap0[a] = te, c0[a] = tc;
        te += (size_t)p.out[a] * (size_t)tmax;
        tc += (size_t)p.out[a];
    }
    for (int a = r - 1; a >= 0; is *= (size_t)p.in[a], a--) {
        T[a] = resize_one_tap(&p, a) ? 1 : tmax;
        for (int64_t o = 0; o < p.out[a]; o++) {
            int64_t idx[4];
            double w[4];
            bool oob;
            if (T[a] == 1 && p.mode != RS_NEAREST) {
                idx[0] = o, w[0] = 1.0, oob = false;
            } else {
                axis_taps(&p, a, o, idx, w, &oob);
            }
            for (int t = 0; t < T[a]; t++) {
                offs[tap0[a] + (size_t)o * (size_t)T[a] + (size_t)t] = (size_t)idx[t] * is;
                ws[tap0[a] + (size_t)o * (size_t)T[a] + (size_t)t] = (float)w[t];
            }
            oobs[c0[a] + (size_t)o] = oob;
        }
    }
    size_t len = (size_t)p.out[r - 1], rows = numel / len, tl = (size_t)T[r - 1], prev = SIZE_MAX;
    const size_t *offl = offs + tap0[r - 1];
    const float *wl = ws + tap0[r - 1];
    const unsigned char *oobl = oobs + c0[r - 1];
    size_t combo_off[ERT_RESIZE_MAX_COMBOS], c[ERT_MAX_RANK] = {0};
    float combo_w[ERT_RESIZE_MAX_COMBOS];
    const char *src = x->data;
    char *dst = y->data;
    for (size_t row = 0; row < rows; row++, dst += len * es) {
        size_t nc = 1;
        bool fill = false;
        combo_off[0] = 0, combo_w[0] = 1.0f;
        for (int a = 0; a < r - 1; a++) {
            size_t ta = (size_t)T[a], base = tap0[a] + c[a] * ta;
            fill |= oobs[c0[a] + c[a]] != 0;
            /* Expand in place from the back: entry k becomes entries k*ta .. k*ta+ta-1. */
            for (size_t k = nc; k-- > 0;) {
                size_t o = combo_off[k];
                float w = combo_w[k];
                for (size_t t = ta; t-- > 0;) {
                    combo_off[k * ta + t] = o + offs[base + t];
                    combo_w[k * ta + t] = w * ws[base + t];
                }
            }
            nc *= ta;
        }
        if (fill) {
            ert_shape_fill(dst, len, &p.extrap, 4);
            prev = SIZE_MAX;
        } else if (p.mode == RS_NEAREST && p.coord != CT_TF_CROP) {
            /* Upsampling repeats source rows: copy the previous output row. */
            if (combo_off[0] == prev)
                memcpy(dst, dst - len * es, len * es);
            else
                gather_row(dst, src + combo_off[0] * es, offl, len, es);
            prev = combo_off[0];
        } else {
            float *d = (float *)dst;
            for (size_t j = 0; j < len; j++) {
                float acc = 0.0f;
                for (size_t k = 0; k < nc; k++) {
                    const float *s = (const float *)src + combo_off[k];
                    for (size_t t = 0; t < tl; t++)
                        acc += combo_w[k] * wl[j * tl + t] * s[offl[j * tl + t]];
                }
                d[j] = oobl[j] ? p.extrap : acc;
            }
        }
        for (int a = r - 2; a >= 0; a--) {
            if (++c[a] < (size_t)p.out[a])
                break;
            c[a] = 0;
        }
    }
    return ERT_OK;
}
