/* What a scenario writes: y4m streams (through libembedrt's writer), optional id buffers
 * (.ids: raw uint8 width*height per frame) and one ground-truth JSON line per frame. */
#ifndef SIMWORLD_OUT_H
#define SIMWORLD_OUT_H

#include <stdio.h>

#include "embedrt/image.h"
#include "scene.h"

/* One stream: a y4m per view (views of one stream are frame-synchronous). */
typedef struct sw_stream {
    char name[SW_MAX_VIEWS][96];
    char stream[32];
    uint32_t index;         /* order of opening within the episode */
    ert_y4m_writer *y4m[SW_MAX_VIEWS];
    FILE *ids[SW_MAX_VIEWS];
    uint32_t nviews, frames;
    sw_view views[SW_MAX_VIEWS];
} sw_stream;

/* One episode's output: buffers sized once, ground truth text in memory (written in
 * episode order by main, so threads do not change the file). */
typedef struct sw_episode {
    const sw_opts *o;
    uint32_t index;
    FILE *gt;
    char *gt_text;
    size_t gt_len;
    float *rgb;
    uint8_t *ids[SW_MAX_VIEWS];
    uint8_t *pix[SW_MAX_VIEWS];
    sw_box boxes[SW_MAX_VIEWS][SW_MAX_ENTITIES];
    uint32_t px[SW_MAX_VIEWS][SW_MAX_ENTITIES];
    sw_vec3 gain;
    uint32_t frame_counter; /* frames rendered so far: keys each frame's noise */
    uint64_t images;        /* images written (frames x views) */
    ert_error err;
    /* Preview (episode 0 only): view 0 of every frame, and the stream each came from. */
    uint8_t *preview;
    uint16_t *preview_stream;
    uint32_t preview_count, preview_cap, streams_opened;
} sw_episode;

int sw_episode_open(sw_episode *ep, const sw_opts *o, uint32_t index);
/* Flushes the ground truth text (ep->gt_text stays until sw_episode_close). */
int sw_episode_finish(sw_episode *ep);
void sw_episode_close(sw_episode *ep);

/* Opens DIR/epNNNN_<name>_v<k>.y4m for k < nviews with these cameras. */
int sw_stream_open(sw_episode *ep, sw_stream *st, const char *name, const sw_camera *cams, uint32_t nviews);
/* Renders every view of the scene, writes the frames and the ground-truth line:
 * {"type":"frame",...common..., <extra>, "entities":[...]}. extra is a JSON fragment
 * without braces (may be empty). Each frame's sensor noise has its own PRNG stream,
 * keyed by seed, episode and the episode's frame counter. */
int sw_stream_frame(sw_episode *ep, sw_stream *st, const sw_scene *s, const char *kind, float t, const char *extra);
int sw_stream_close(sw_episode *ep, sw_stream *st);

/* The episode header line {"type":"episode",...}: cameras of a stream, light, extra. */
void sw_episode_header(sw_episode *ep, const sw_stream *const *streams, int nstreams, const sw_env *env,
                       const char *extra);

/* Writes rows of width*height RGB images side by side as an 8-bit RGB PNG (zlib). */
int sw_write_png(const char *path, const uint8_t *rgb, uint32_t width, uint32_t height, ert_error *err);

void sw_json_vec(FILE *f, sw_vec3 v);

#endif
