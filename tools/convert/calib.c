/* Calibration frames and the quantized-vs-float32 comparison (see calib.h). */
#include "calib.h"

#include "embedrt/preprocess.h"
#include "embedrt/source.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define MAX_FRAMES 100000u

void ert_calib_progress(const char *label, size_t i, size_t n)
{
    static int tty = -1;
    if (tty < 0)
        tty = isatty(STDERR_FILENO);
    if (!tty) {
        if (i == n)
            fprintf(stderr, "%s: %zu/%zu\n", label, i, n);
        return;
    }
    int w = 30, done = n ? (int)((double)i / (double)n * w) : w;
    fprintf(stderr, "\r%s [%.*s%*s] %zu/%zu%s", label, done, "##############################", w - done, "", i, n,
            i == n ? "\n" : "");
    fflush(stderr);
}

void ert_calib_free(ert_calib_set *s)
{
    if (!s)
        return;
    for (size_t i = 0; i < s->n; i++)
        ert_image_free(&s->frames[i]);
    free(s->frames);
    for (size_t i = 0; i < s->n_feeds; i++)
        free(s->feeds[i].values);
    free(s->feeds);
    s->frames = NULL;
    s->feeds = NULL;
    s->n = s->n_feeds = 0;
}

ert_status ert_calib_load(const char *path, size_t max_frames, ert_calib_set *out, ert_error *err)
{
    memset(out, 0, sizeof *out);
    if (max_frames == 0 || max_frames > MAX_FRAMES)
        max_frames = MAX_FRAMES;
    char spec[4200];
    if ((size_t)snprintf(spec, sizeof spec, "replay:%s", path) >= sizeof spec)
        return ert_fail(err, ERT_EINVAL, "--calibration: path longer than %zu bytes", sizeof spec - 8);
    ert_source src;
    ert_source_config sc = {.fps = -1.0, .loop = false};
    ert_status st = ert_source_open(spec, &sc, &src, err);
    if (st != ERT_OK)
        return ert_error_prefix(err, "--calibration"), st;
    if ((st = ert_source_start(&src, err)) != ERT_OK) {
        ert_source_close(&src);
        return ert_error_prefix(err, "--calibration"), st;
    }
    size_t cap = 0;
    while (out->n < max_frames && st == ERT_OK) {
        ert_frame f;
        ert_source_result res;
        st = ert_source_next(&src, 5000, &f, &res, err);
        if (st != ERT_OK || res != ERT_SOURCE_FRAME)
            break;
        if (out->n == cap) {
            size_t nc = cap ? cap * 2 : 64;
            ert_image *nf = realloc(out->frames, nc * sizeof *nf);
            if (!nf) {
                st = ert_fail(err, ERT_ENOMEM, "--calibration %s: out of memory after %zu frames", path, out->n);
                break;
            }
            out->frames = nf;
            cap = nc;
        }
        ert_image *im = &out->frames[out->n];
        memset(im, 0, sizeof *im);
        size_t bytes = (size_t)f.width * f.height * 3;
        if (!(im->pixels = malloc(bytes))) {
            st = ert_fail(err, ERT_ENOMEM, "--calibration %s: out of memory for frame %zu", path, out->n);
            break;
        }
        if ((st = ert_frame_to_rgb(&f, im->pixels, err)) != ERT_OK) {
            free(im->pixels);
            ert_error_prefix(err, "--calibration %s: frame %zu", path, out->n);
            break;
        }
        im->frame = (ert_frame){.format = ERT_PIX_RGB24, .width = f.width, .height = f.height,
                                .stride = {f.width * 3}, .plane = {im->pixels}, .seq = out->n};
        out->n++;
        if (out->n % 16 == 0)
            ert_calib_progress("calibration frames", out->n, max_frames < MAX_FRAMES ? max_frames : out->n);
    }
    ert_source_close(&src);
    if (st == ERT_OK && out->n < 2)
        st = ert_fail(err, ERT_EINVAL, "--calibration %s: %zu frame%s; at least 2 are needed (one is held out)",
                      path, out->n, out->n == 1 ? "" : "s");
    if (st != ERT_OK) {
        ert_calib_free(out);
        return st;
    }
    ert_calib_progress("calibration frames", out->n, out->n);
    return ERT_OK;
}

bool ert_calib_heldout(const ert_calib_set *s, size_t i)
{
    return s->n < 4 ? i == s->n - 1 : i % 4 == 3;
}

size_t ert_calib_heldout_count(const ert_calib_set *s)
{
    size_t k = 0;
    for (size_t i = 0; i < s->n; i++)
        k += ert_calib_heldout(s, i);
    return k;
}

static bool image_input(const ert_graph *g, uint32_t *h, uint32_t *w)
{
    if (g->n_inputs < 1)
        return false;
    const ert_tensor *t = &g->tensors[g->inputs[0]];
    if (t->dtype != ERT_DT_F32 || t->shape.rank != 4 || t->shape.dims[0] != 1 || t->shape.dims[1] != 3 ||
        t->shape.dims[2] < 1 || t->shape.dims[3] < 1 || t->shape.dims[2] > 32768 || t->shape.dims[3] > 32768)
        return false;
    *h = (uint32_t)t->shape.dims[2];
    *w = (uint32_t)t->shape.dims[3];
    return true;
}

ert_status ert_calib_input(const ert_graph *g, const ert_preprocess *pp, const ert_frame *f, float *dst,
                           ert_error *err)
{
    uint32_t h, w;
    if (!image_input(g, &h, &w))
        return ert_fail(err, ERT_EINVAL, "graph '%s': input 0 is not an image [1,3,H,W] float32", g->name);
    ert_preprocess def;
    if (!pp) {
        ert_preprocess_default(&def);
        if (f->width != w || f->height != h) {
            def.resize_w = w;
            def.resize_h = h;
        }
        pp = &def;
    }
    ert_status st = ert_preprocess_check(pp, f->width, f->height, w, h, err);
    if (st != ERT_OK)
        return ert_error_prefix(err, "graph '%s': calibration frame %ux%u", g->name, f->width, f->height), st;
    size_t sb = ert_preprocess_scratch(pp, f->width, f->height, w, h);
    void *scratch = sb ? malloc(sb) : NULL;
    if (sb && !scratch)
        return ert_fail(err, ERT_ENOMEM, "out of memory for preprocessing");
    st = ert_preprocess_run(pp, f, dst, w, h, scratch, sb, err);
    free(scratch);
    return st;
}

/* Deterministic N(0, 1) values (Box-Muller on a 64-bit LCG) for non-image inputs. */
static void normal_fill(float *v, size_t n, uint64_t seed)
{
    uint64_t s = seed * 6364136223846793005ull + 1442695040888963407ull;
    for (size_t i = 0; i < n; i += 2) {
        s = s * 6364136223846793005ull + 1442695040888963407ull;
        double u1 = ((s >> 11) + 1.0) / 9007199254740993.0;
        s = s * 6364136223846793005ull + 1442695040888963407ull;
        double u2 = (s >> 11) / 9007199254740992.0;
        double r = sqrt(-2.0 * log(u1));
        v[i] = (float)(r * cos(6.283185307179586 * u2));
        if (i + 1 < n)
            v[i + 1] = (float)(r * sin(6.283185307179586 * u2));
    }
}

static const ert_calib_feed *find_feed(const ert_calib_set *s, uint32_t gi, uint32_t i)
{
    for (size_t k = 0; k < s->n_feeds; k++)
        if (s->feeds[k].graph == gi && s->feeds[k].input == i)
            return &s->feeds[k];
    return NULL;
}

/* Writes a fed input for frame fi: a copy of the source output, or the window of n
 * source outputs [1,C,h,w] placed at dim 2 of [1,C,n,h,w]. */
static void fill_fed(const ert_calib_feed *fd, const ert_tensor *t, size_t fi, float *dst)
{
    if (!fd->window) {
        memcpy(dst, fd->values + fi * fd->per_frame, fd->per_frame * sizeof *dst);
        return;
    }
    size_t n = fd->window, c = (size_t)t->shape.dims[1], hw = fd->per_frame / c;
    for (size_t k = 0; k < n; k++) {
        size_t back = n - 1 - k, f = fi >= back ? fi - back : 0;
        const float *src = fd->values + f * fd->per_frame;
        for (size_t ch = 0; ch < c; ch++)
            memcpy(dst + (ch * n + k) * hw, src + ch * hw, hw * sizeof *dst);
    }
}

/* Graph gi's inputs for frame fi: the image through the recipe, fed inputs from their
 * source graph's output, other inputs N(0, 1). */
static ert_status set_inputs(ert_model *m, uint32_t gi, const ert_preprocess *pp, const ert_calib_set *frames,
                             size_t fi, ert_error *err)
{
    ert_graph *g = ert_model_graph(m, gi);
    uint32_t h, w;
    bool image = image_input(g, &h, &w);
    for (uint32_t i = 0; i < g->n_inputs; i++) {
        ert_tensor *t = ert_model_input(m, gi, i);
        if (t->dtype != ERT_DT_F32)
            return ert_fail(err, ERT_EINVAL, "graph '%s': input %u is not float32", g->name, i);
        ert_status st = ERT_OK;
        const ert_calib_feed *fd;
        if (i == 0 && image)
            st = ert_calib_input(g, pp, &frames->frames[fi].frame, t->data, err);
        else if ((fd = find_feed(frames, gi, i)) != NULL)
            fill_fed(fd, t, fi, t->data);
        else
            normal_fill(t->data, t->nbytes / 4, fi * 131 + i);
        if (st != ERT_OK)
            return st;
    }
    return ERT_OK;
}

/* How input t can be fed from output y: 0 no, 1 same shape, 2 + n a window of n frames. */
static uint32_t feed_kind(const ert_tensor *t, const ert_tensor *y)
{
    if (y->dtype != ERT_DT_F32 || t->nbytes == 0)
        return 0;
    if (t->shape.rank == y->shape.rank) {
        for (int d = 0; d < t->shape.rank; d++)
            if (t->shape.dims[d] != y->shape.dims[d])
                return 0;
        return 1;
    }
    const int64_t *a = t->shape.dims, *b = y->shape.dims;
    if (t->shape.rank == 5 && y->shape.rank == 4 && a[0] == 1 && b[0] == 1 && a[1] == b[1] && a[3] == b[2] &&
        a[4] == b[3] && a[2] >= 1 && a[2] <= 64)
        return 2 + (uint32_t)a[2];
    return 0;
}

#define MAX_FEED_BYTES ((size_t)1 << 30)

ert_status ert_calib_feed_build(ert_model *m, const ert_preprocess *const *pps, ert_calib_set *s, ert_error *err)
{
    uint32_t ng = ert_model_graph_count(m);
    size_t total = 0;
    for (uint32_t gi = 1; gi < ng; gi++) {
        ert_graph *g = ert_model_graph(m, gi);
        uint32_t h, w;
        bool image = image_input(g, &h, &w);
        for (uint32_t i = image ? 1 : 0; i < g->n_inputs; i++) {
            const ert_tensor *t = ert_model_input(m, gi, i);
            if (t->dtype != ERT_DT_F32)
                continue;
            uint32_t kind = 0, sg = 0, so = 0;
            for (uint32_t gj = 0; gj < gi && !kind; gj++)
                for (uint32_t o = 0; o < ert_model_graph(m, gj)->n_outputs && !kind; o++)
                    if ((kind = feed_kind(t, ert_model_output(m, gj, o))) != 0)
                        sg = gj, so = o;
            if (!kind)
                continue;
            const ert_tensor *y = ert_model_output(m, sg, so);
            size_t per = y->nbytes / 4;
            if (per > (MAX_FEED_BYTES - total) / 4 / s->n) {
                fprintf(stderr, "calibration: graph '%s' input %u: the source outputs would take more than 1 GiB; "
                                "seeded N(0, 1) values instead\n", g->name, i);
                continue;
            }
            ert_calib_feed fd = {.graph = gi, .input = i, .src_graph = sg, .src_output = so,
                                 .window = kind >= 2 ? kind - 2 : 0, .per_frame = per};
            ert_calib_feed *nf = realloc(s->feeds, (s->n_feeds + 1) * sizeof *nf);
            if (!nf || !(fd.values = malloc(per * s->n * sizeof *fd.values))) {
                if (nf)
                    s->feeds = nf;
                return ert_fail(err, ERT_ENOMEM, "calibration: out of memory for graph '%s' input %u", g->name, i);
            }
            s->feeds = nf;
            ert_status st = ERT_OK;
            for (size_t fi = 0; fi < s->n && st == ERT_OK; fi++) {
                st = set_inputs(m, sg, pps ? pps[sg] : NULL, s, fi, err);
                if (st == ERT_OK)
                    st = ert_model_run(m, sg, err);
                if (st == ERT_OK)
                    memcpy(fd.values + fi * per, ert_model_output(m, sg, so)->data, per * sizeof *fd.values);
            }
            if (st != ERT_OK) {
                free(fd.values);
                return ert_error_prefix(err, "calibration feed of graph '%s'", g->name), st;
            }
            s->feeds[s->n_feeds++] = fd;
            total += per * s->n * 4;
            const ert_graph *src = ert_model_graph(m, sg);
            const char *in = t->name ? t->name : "?", *out = y->name ? y->name : "?";
            if (fd.window)
                fprintf(stderr, "calibration: graph '%s' input '%s' <- graph '%s' output '%s' of %u consecutive frames\n",
                        g->name, in, src->name, out, fd.window);
            else
                fprintf(stderr, "calibration: graph '%s' input '%s' <- graph '%s' output '%s'\n", g->name, in,
                        src->name, out);
        }
    }
    return ERT_OK;
}

ert_status ert_calib_run(ert_model *m, const ert_preprocess *const *pps, const ert_calib_set *frames,
                         const char *label, ert_error *err)
{
    size_t total = frames->n - ert_calib_heldout_count(frames), done = 0;
    for (size_t fi = 0; fi < frames->n; fi++) {
        if (ert_calib_heldout(frames, fi))
            continue;
        for (uint32_t gi = 0; gi < ert_model_graph_count(m); gi++) {
            ert_status st = set_inputs(m, gi, pps ? pps[gi] : NULL, frames, fi, err);
            if (st == ERT_OK)
                st = ert_model_run(m, gi, err);
            if (st != ERT_OK)
                return st;
        }
        ert_calib_progress(label, ++done, total);
    }
    return ERT_OK;
}

/* Ranks (average ranks for ties) of v[0..n). */
static void ranks(const double *v, size_t n, double *r, size_t *idx)
{
    for (size_t i = 0; i < n; i++)
        idx[i] = i;
    for (size_t i = 1; i < n; i++) /* insertion sort: n is a few hundred pairs at most */
        for (size_t j = i; j > 0 && v[idx[j - 1]] > v[idx[j]]; j--) {
            size_t t = idx[j];
            idx[j] = idx[j - 1];
            idx[j - 1] = t;
        }
    for (size_t i = 0; i < n;) {
        size_t j = i;
        while (j + 1 < n && v[idx[j + 1]] == v[idx[i]])
            j++;
        for (size_t k = i; k <= j; k++)
            r[idx[k]] = (double)(i + j) / 2.0;
        i = j + 1;
    }
}

static double pearson(const double *a, const double *b, size_t n)
{
    double ma = 0, mb = 0, sab = 0, saa = 0, sbb = 0;
    for (size_t i = 0; i < n; i++)
        ma += a[i], mb += b[i];
    ma /= (double)n;
    mb /= (double)n;
    for (size_t i = 0; i < n; i++) {
        sab += (a[i] - ma) * (b[i] - mb);
        saa += (a[i] - ma) * (a[i] - ma);
        sbb += (b[i] - mb) * (b[i] - mb);
    }
    return saa > 0 && sbb > 0 ? sab / sqrt(saa * sbb) : (saa == sbb ? 1.0 : 0.0);
}

/* What a family reward sees of an embedding: the Spearman correlation of all pairwise
 * distances between the held-out frames (RIG's latent distances, TCN's imitation
 * distances), and how often each frame's nearest other frame is the same (grasp2vec's best
 * match). f and q hold nf vectors of m floats. */
static void agreement(const float *f, const float *q, size_t nf, size_t m, double *spearman, double *nn)
{
    *spearman = *nn = NAN;
    if (nf < 3 || nf > 512)
        return;
    size_t np = nf * (nf - 1) / 2;
    double *df = malloc(np * sizeof *df), *dq = malloc(np * sizeof *dq);
    double *rf = malloc(np * sizeof *rf), *rq = malloc(np * sizeof *rq);
    size_t *idx = malloc(np * sizeof *idx);
    if (!df || !dq || !rf || !rq || !idx)
        goto out;
    size_t p = 0, same = 0;
    for (size_t i = 0; i < nf; i++) {
        size_t bf = SIZE_MAX, bq = SIZE_MAX;
        double best_f = INFINITY, best_q = INFINITY;
        for (size_t j = 0; j < nf; j++) {
            if (j == i)
                continue;
            double sf = 0, sq = 0;
            for (size_t k = 0; k < m; k++) {
                double a = (double)f[i * m + k] - f[j * m + k], b = (double)q[i * m + k] - q[j * m + k];
                sf += a * a;
                sq += b * b;
            }
            if (j > i) {
                df[p] = sf;
                dq[p++] = sq;
            }
            if (sf < best_f)
                best_f = sf, bf = j;
            if (sq < best_q)
                best_q = sq, bq = j;
        }
        same += bf == bq;
    }
    ranks(df, np, rf, idx);
    ranks(dq, np, rq, idx);
    *spearman = pearson(rf, rq, np);
    *nn = (double)same / (double)nf;
out:
    free(df), free(dq), free(rf), free(rq), free(idx);
}

ert_status ert_calib_compare(ert_model *fp32, ert_model *quant, const ert_preprocess *const *pps,
                             const ert_calib_set *frames, ert_calib_accuracy *acc, size_t cap, size_t *n,
                             ert_error *err)
{
    *n = 0;
    uint32_t ng = ert_model_graph_count(fp32);
    if (ng != ert_model_graph_count(quant))
        return ert_fail(err, ERT_EINTERNAL, "compare: %u vs %u graphs", ng, ert_model_graph_count(quant));
    ert_status st = ERT_OK;
    size_t nh = ert_calib_heldout_count(frames);
    for (uint32_t gi = 0; gi < ng && st == ERT_OK; gi++) {
        ert_graph *gf = ert_model_graph(fp32, gi);
        size_t first = *n;
        for (uint32_t o = 0; o < gf->n_outputs && *n < cap; o++)
            acc[(*n)++] = (ert_calib_accuracy){.graph = gi, .output = o, .cosine_mean = 0, .cosine_min = 1,
                                               .rank_corr = NAN, .nn_agree = NAN};
        /* Output 0 of every held-out frame, for the agreement of what rewards see. */
        const ert_tensor *y0 = gf->n_outputs ? ert_model_output(fp32, gi, 0) : NULL;
        size_t m0 = y0 && y0->dtype == ERT_DT_F32 ? y0->nbytes / 4 : 0;
        float *vf = m0 ? malloc(nh * m0 * sizeof *vf) : NULL, *vq = m0 ? malloc(nh * m0 * sizeof *vq) : NULL;
        size_t count = 0;
        for (size_t fi = 0; fi < frames->n && st == ERT_OK; fi++) {
            if (!ert_calib_heldout(frames, fi))
                continue;
            st = set_inputs(fp32, gi, pps ? pps[gi] : NULL, frames, fi, err);
            for (uint32_t i = 0; i < gf->n_inputs && st == ERT_OK; i++) {
                ert_tensor *tf = ert_model_input(fp32, gi, i), *tq = ert_model_input(quant, gi, i);
                if (tf->nbytes != tq->nbytes || tf->dtype != tq->dtype)
                    return ert_fail(err, ERT_EINVAL, "graph '%s': input %u differs between the models", gf->name, i);
                memcpy(tq->data, tf->data, tf->nbytes);
            }
            if (st == ERT_OK)
                st = ert_model_run(fp32, gi, err);
            if (st == ERT_OK)
                st = ert_model_run(quant, gi, err);
            for (size_t k = first; k < *n && st == ERT_OK; k++) {
                const ert_tensor *yf = ert_model_output(fp32, gi, acc[k].output);
                const ert_tensor *yq = ert_model_output(quant, gi, acc[k].output);
                if (yf->dtype != ERT_DT_F32 || yf->nbytes != yq->nbytes)
                    continue;
                const float *a = yf->data, *b = yq->data;
                size_t m = yf->nbytes / 4;
                double dot = 0, na = 0, nb = 0, maxa = 0, maxd = 0;
                for (size_t j = 0; j < m; j++) {
                    dot += (double)a[j] * b[j];
                    na += (double)a[j] * a[j];
                    nb += (double)b[j] * b[j];
                    maxa = fmax(maxa, fabs(a[j]));
                    maxd = fmax(maxd, fabs((double)a[j] - b[j]));
                }
                double cos = na > 0 && nb > 0 ? dot / sqrt(na * nb) : (na == nb ? 1.0 : 0.0);
                acc[k].cosine_mean += cos;
                acc[k].cosine_min = fmin(acc[k].cosine_min, cos);
                acc[k].max_rel_err = fmax(acc[k].max_rel_err, maxa > 0 ? maxd / maxa : maxd);
            }
            if (st == ERT_OK && vf && vq && count < nh) {
                memcpy(vf + count * m0, ert_model_output(fp32, gi, 0)->data, m0 * sizeof *vf);
                memcpy(vq + count * m0, ert_model_output(quant, gi, 0)->data, m0 * sizeof *vq);
            }
            count++;
        }
        for (size_t k = first; k < *n; k++)
            acc[k].cosine_mean = count ? acc[k].cosine_mean / (double)count : 0;
        if (st == ERT_OK && vf && vq && first < *n)
            agreement(vf, vq, count, m0, &acc[first].rank_corr, &acc[first].nn_agree);
        free(vf);
        free(vq);
    }
    return st;
}
