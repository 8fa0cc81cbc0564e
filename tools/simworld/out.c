/* Episode output: y4m streams, id buffers, ground-truth lines, the preview PNG. */
#include "out.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

static const char *const scenario_names[] = {"grasp", "push", "demo"};

int sw_episode_open(sw_episode *ep, const sw_opts *o, uint32_t index)
{
    memset(ep, 0, sizeof *ep);
    ep->o = o;
    ep->index = index;
    ep->gt = open_memstream(&ep->gt_text, &ep->gt_len);
    size_t npix = (size_t)o->width * o->height;
    ep->rgb = malloc(npix * 3 * sizeof(float));
    bool ok = ep->gt && ep->rgb;
    for (int k = 0; k < SW_MAX_VIEWS && ok; k++) {
        ep->ids[k] = malloc(npix);
        ep->pix[k] = malloc(npix * 3);
        ok = ep->ids[k] && ep->pix[k];
    }
    if (ok && o->preview && index == 0) {
        ep->preview_cap = 256;
        ep->preview = malloc(npix * 3 * ep->preview_cap);
        ep->preview_stream = malloc(ep->preview_cap * sizeof *ep->preview_stream);
        ok = ep->preview && ep->preview_stream;
    }
    if (!ok) {
        ert_fail(&ep->err, ERT_ENOMEM, "episode %u: out of memory for %ux%u buffers", index, o->width, o->height);
        return -1;
    }
    return 0;
}

int sw_episode_finish(sw_episode *ep)
{
    if (ep->gt && fflush(ep->gt) != 0) {
        ert_fail(&ep->err, ERT_ENOMEM, "episode %u: ground truth buffer: %s", ep->index, strerror(errno));
        return -1;
    }
    return 0;
}

void sw_episode_close(sw_episode *ep)
{
    if (ep->gt)
        fclose(ep->gt);
    ep->gt = NULL;
    free(ep->gt_text);
    ep->gt_text = NULL;
    free(ep->rgb);
    for (int k = 0; k < SW_MAX_VIEWS; k++) {
        free(ep->ids[k]);
        free(ep->pix[k]);
    }
    free(ep->preview);
    free(ep->preview_stream);
    ep->rgb = NULL;
    ep->preview = NULL;
    ep->preview_stream = NULL;
}

int sw_stream_open(sw_episode *ep, sw_stream *st, const char *name, const sw_camera *cams, uint32_t nviews)
{
    memset(st, 0, sizeof *st);
    snprintf(st->stream, sizeof st->stream, "%s", name);
    st->index = ep->streams_opened++;
    st->nviews = nviews;
    for (uint32_t k = 0; k < nviews; k++) {
        snprintf(st->name[k], sizeof st->name[k], "ep%04u_%s_v%u.y4m", ep->index, name, k);
        char path[4200];
        snprintf(path, sizeof path, "%s/%s", ep->o->out, st->name[k]);
        if (sw_view_init(&st->views[k], &cams[k], ep->o->aa) != 0)
            return ert_fail(&ep->err, ERT_ENOMEM, "%s: out of memory for rays", path), -1;
        if (ert_y4m_create(path, ep->o->width, ep->o->height, SW_FPS, 1, &st->y4m[k], &ep->err) != ERT_OK)
            return -1;
        if (ep->o->masks) {
            size_t n = strlen(path);
            memcpy(path + n - 4, ".ids", 5);
            st->ids[k] = fopen(path, "wb");
            if (!st->ids[k])
                return ert_fail(&ep->err, ERT_EIO, "%s: cannot create: %s", path, strerror(errno)), -1;
        }
    }
    return 0;
}

void sw_json_vec(FILE *f, sw_vec3 v) { fprintf(f, "[%.4f,%.4f,%.4f]", v.x, v.y, v.z); }

int sw_stream_frame(sw_episode *ep, sw_stream *st, const sw_scene *s, const char *kind, float t, const char *extra)
{
    const sw_opts *o = ep->o;
    uint32_t npix = o->width * o->height;
    for (uint32_t k = 0; k < st->nviews; k++) {
        sw_render(s, &st->views[k], ep->rgb, ep->ids[k], ep->boxes[k], ep->px[k]);
        sw_rng noise;
        sw_rng_seed(&noise, sw_hash(o->seed, 0x4015eULL, ep->index, (uint64_t)ep->frame_counter * SW_MAX_VIEWS + k));
        sw_post(ep->rgb, npix, ep->gain, o->noise, &noise, ep->pix[k]);
        ert_frame f = {.format = ERT_PIX_RGB24, .width = o->width, .height = o->height};
        f.stride[0] = o->width * 3;
        f.plane[0] = ep->pix[k];
        if (ert_y4m_write(st->y4m[k], &f, &ep->err) != ERT_OK)
            return -1;
        ep->images++;
        if (st->ids[k] && fwrite(ep->ids[k], 1, npix, st->ids[k]) != npix)
            return ert_fail(&ep->err, ERT_EIO, "%s/%s: writing the id buffer failed", o->out, st->name[k]), -1;
        if (k == 0 && ep->preview && ep->preview_count < ep->preview_cap) {
            ep->preview_stream[ep->preview_count] = (uint16_t)st->index;
            memcpy(ep->preview + (size_t)npix * 3 * ep->preview_count++, ep->pix[k], (size_t)npix * 3);
        }
    }
    ep->frame_counter++;
    FILE *g = ep->gt;
    fprintf(g, "{\"type\":\"frame\",\"scenario\":\"%s\",\"episode\":%u,\"stream\":\"%s\",\"kind\":\"%s\",\"frame\":%u,\"t\":%.4f,\"files\":[",
            scenario_names[o->scenario], ep->index, st->stream, kind, st->frames, t);
    for (uint32_t k = 0; k < st->nviews; k++)
        fprintf(g, "%s\"%s\"", k ? "," : "", st->name[k]);
    fputs("]", g);
    if (extra && extra[0])
        fprintf(g, ",%s", extra);
    fputs(",\"entities\":[", g);
    for (int e = 0; e < s->nentities; e++) {
        const sw_entity *en = &s->entities[e];
        fprintf(g, "%s{\"mask\":%d,\"name\":\"%s\"", e ? "," : "", e + 1, en->name);
        if (en->catalogue >= 0)
            fprintf(g, ",\"id\":%d,\"shape\":\"%s\",\"colour\":\"%s\"", en->catalogue,
                    sw_shape_name((sw_shape)(en->catalogue / SW_COLOUR_COUNT)), sw_colour_name(en->catalogue % SW_COLOUR_COUNT));
        fputs(",\"pos\":", g);
        sw_json_vec(g, en->pos);
        fputs(",\"box\":[", g);
        for (uint32_t k = 0; k < st->nviews; k++) {
            const sw_box *b = &ep->boxes[k][e];
            fprintf(g, "%s[%.2f,%.2f,%.2f,%.2f]", k ? "," : "", b->x0, b->y0, b->x1, b->y1);
        }
        fputs("],\"px\":[", g);
        for (uint32_t k = 0; k < st->nviews; k++)
            fprintf(g, "%s%u", k ? "," : "", ep->px[k][e]);
        fputs("]}", g);
    }
    fputs("]}\n", g);
    st->frames++;
    return 0;
}

int sw_stream_close(sw_episode *ep, sw_stream *st)
{
    int rc = 0;
    for (uint32_t k = 0; k < st->nviews; k++) {
        if (st->y4m[k] && ert_y4m_finish(st->y4m[k], rc ? NULL : &ep->err) != ERT_OK)
            rc = -1;
        st->y4m[k] = NULL;
        if (st->ids[k] && fclose(st->ids[k]) != 0 && rc == 0) {
            ert_fail(&ep->err, ERT_EIO, "%s/%s: closing the id buffer failed", ep->o->out, st->name[k]);
            rc = -1;
        }
        st->ids[k] = NULL;
        sw_view_free(&st->views[k]);
    }
    return rc;
}

void sw_episode_header(sw_episode *ep, const sw_stream *const *streams, int nstreams, const sw_env *env,
                       const char *extra)
{
    FILE *g = ep->gt;
    fprintf(g, "{\"type\":\"episode\",\"scenario\":\"%s\",\"episode\":%u,\"seed\":%llu,\"width\":%u,\"height\":%u,\"fps\":%d",
            scenario_names[ep->o->scenario], ep->index, (unsigned long long)ep->o->seed, ep->o->width, ep->o->height,
            SW_FPS);
    fprintf(g, ",\"light\":{\"azimuth\":%.4f,\"elevation\":%.4f,\"drift\":%.4f,\"intensity\":%.4f,\"ambient\":%.4f}",
            env->light_az, env->light_el, env->drift, env->light0.intensity, env->light0.ambient);
    fputs(",\"cameras\":{", g);
    for (int i = 0; i < nstreams; i++) {
        const sw_stream *st = streams[i];
        fprintf(g, "%s\"%s\":[", i ? "," : "", st->stream);
        for (uint32_t k = 0; k < st->nviews; k++) {
            const sw_camera *c = &st->views[k].cam;
            fprintf(g, "%s{\"eye\":", k ? "," : "");
            sw_json_vec(g, c->eye);
            fputs(",\"right\":", g);
            sw_json_vec(g, c->right);
            fputs(",\"down\":", g);
            sw_json_vec(g, c->down);
            fputs(",\"fwd\":", g);
            sw_json_vec(g, c->fwd);
            fprintf(g, ",\"f\":%.4f,\"cx\":%.4f,\"cy\":%.4f}", c->f, c->cx, c->cy);
        }
        fputs("]", g);
    }
    fputs("}", g);
    if (extra && extra[0])
        fprintf(g, ",%s", extra);
    fputs("}\n", g);
}

/* ---- PNG ------------------------------------------------------------------------------ */

static void be32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

static int png_chunk(FILE *f, const char *type, const uint8_t *data, uint32_t len)
{
    uint8_t hdr[8];
    be32(hdr, len);
    memcpy(hdr + 4, type, 4);
    uLong crc = crc32(0L, (const Bytef *)type, 4);
    if (len)
        crc = crc32(crc, data, len);
    uint8_t tail[4];
    be32(tail, (uint32_t)crc);
    if (fwrite(hdr, 1, 8, f) != 8 || (len && fwrite(data, 1, len, f) != len) || fwrite(tail, 1, 4, f) != 4)
        return -1;
    return 0;
}

int sw_write_png(const char *path, const uint8_t *rgb, uint32_t width, uint32_t height, ert_error *err)
{
    size_t row = (size_t)width * 3 + 1, raw_len = row * height;
    uint8_t *raw = malloc(raw_len);
    uLongf zlen = compressBound(raw_len);
    uint8_t *z = malloc(zlen);
    if (!raw || !z) {
        free(raw);
        free(z);
        return ert_fail(err, ERT_ENOMEM, "%s: out of memory for a %ux%u PNG", path, width, height), -1;
    }
    /* Filter "Up" on every row but the first: smooth renders compress far better. */
    for (uint32_t y = 0; y < height; y++) {
        uint8_t *dst = raw + row * y;
        const uint8_t *src = rgb + (size_t)width * 3 * y;
        dst[0] = y ? 2 : 0;
        for (size_t i = 0; i < (size_t)width * 3; i++)
            dst[1 + i] = y ? (uint8_t)(src[i] - src[i - (size_t)width * 3]) : src[i];
    }
    int rc = compress2(z, &zlen, raw, raw_len, 9);
    free(raw);
    if (rc != Z_OK) {
        free(z);
        return ert_fail(err, ERT_EINTERNAL, "%s: zlib compress2 failed (%d)", path, rc), -1;
    }
    FILE *f = fopen(path, "wb");
    if (!f) {
        free(z);
        return ert_fail(err, ERT_EIO, "%s: cannot create: %s", path, strerror(errno)), -1;
    }
    static const uint8_t sig[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
    uint8_t ihdr[13];
    be32(ihdr, width);
    be32(ihdr + 4, height);
    ihdr[8] = 8;  /* bit depth */
    ihdr[9] = 2;  /* RGB */
    ihdr[10] = ihdr[11] = ihdr[12] = 0;
    int bad = fwrite(sig, 1, 8, f) != 8 || png_chunk(f, "IHDR", ihdr, 13) || png_chunk(f, "IDAT", z, (uint32_t)zlen) ||
              png_chunk(f, "IEND", NULL, 0);
    free(z);
    if (fclose(f) != 0)
        bad = 1;
    if (bad)
        return ert_fail(err, ERT_EIO, "%s: write failed", path), -1;
    return 0;
}
