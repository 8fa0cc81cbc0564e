/* Calibration frames for quantization (issue 6): a folder of images or a .y4m video, read
 * through the replay source (the daemon's own reader), each frame kept as RGB24; turned
 * into a graph's input with the blob's preprocessing recipe. Frames are split into
 * calibration frames and held-out frames (every 4th, at least one) that accuracy is
 * measured on and never calibrated on. */
#ifndef ERT_CALIB_H
#define ERT_CALIB_H

#include "embedrt/blob.h"
#include "embedrt/graph.h"
#include "embedrt/image.h"
#include "embedrt/model.h"

#include <stdbool.h>
#include <stddef.h>

/* Calibration values of a graph input that is not an image: an earlier graph's float32
 * output on the same frame (same shape), or, for an input [1,C,n,h,w], that output
 * [1,C,h,w] of the frames i-n+1 .. i stacked on dim 2, oldest first, clamped at frame 0
 * (the mfTCN window of trunk maps). Computed once from the float32 model. */
typedef struct ert_calib_feed {
    uint32_t graph, input;           /* the fed input */
    uint32_t src_graph, src_output;  /* where its values come from */
    uint32_t window;                 /* 0: the same shape; n: stacked over n frames */
    size_t per_frame;                /* floats of the source output per frame */
    float *values;                   /* n_frames x per_frame */
} ert_calib_feed;

typedef struct ert_calib_set {
    ert_image *frames;
    size_t n;
    ert_calib_feed *feeds;
    size_t n_feeds;
} ert_calib_set;

/* Reads up to max_frames frames (0: all, at most 100000) of PATH (folder of .ppm/.pgm/.png,
 * or .y4m). Fails naming the path when it has fewer than 2 frames. Progress goes to
 * stderr: a bar when stderr is a terminal, else one line. */
ert_status ert_calib_load(const char *path, size_t max_frames, ert_calib_set *out, ert_error *err);
void ert_calib_free(ert_calib_set *s);
/* Finds, for every non-image float32 input of m's graphs, an earlier graph output to feed
 * it from (see ert_calib_feed: first match in graph and output order) and records that
 * output on every frame of s (held-out frames too). Inputs without a match keep seeded
 * N(0, 1) values. Prints one line per feed on stderr. */
ert_status ert_calib_feed_build(ert_model *m, const ert_preprocess *const *pps, ert_calib_set *s,
                                ert_error *err);

/* Frame i is held out (accuracy) rather than used for calibration. */
bool ert_calib_heldout(const ert_calib_set *s, size_t i);
size_t ert_calib_heldout_count(const ert_calib_set *s);

/* Writes graph input 0 of g (float32 [1,3,H,W]) from frame f with pp, or without a recipe
 * with a plain resize to H x W (bilinear) and x / 255. */
ert_status ert_calib_input(const ert_graph *g, const ert_preprocess *pp, const ert_frame *f, float *dst,
                           ert_error *err);

/* Runs every graph of m on every calibration (not held-out) frame, for an observer
 * (ert_model_set_observer) collecting statistics. Progress as ert_calib_progress(label). */
ert_status ert_calib_run(ert_model *m, const ert_preprocess *const *pps, const ert_calib_set *frames,
                         const char *label, ert_error *err);

/* Accuracy of one graph output, quantized vs float32, over the held-out frames. */
typedef struct ert_calib_accuracy {
    uint32_t graph, output;
    double cosine_mean, cosine_min, max_rel_err;
    /* Output 0 of each graph (NaN for the others, and with fewer than 3 held-out frames):
     * Spearman correlation of the pairwise distances between held-out frames, quantized vs
     * float32, and the share of frames whose nearest other frame is the same in both. */
    double rank_corr, nn_agree;
} ert_calib_accuracy;

/* Runs every graph of fp32 and quant (the same graphs, same order, inputs of the same
 * shape) on the held-out frames and compares each output. acc gets one entry per graph
 * output (at most cap; *n says how many). Inputs that are not images get the values of
 * ert_calib_feed_build's feeds (the float32 source, for both models) or N(0, 1). */
ert_status ert_calib_compare(ert_model *fp32, ert_model *quant, const ert_preprocess *const *pps,
                             const ert_calib_set *frames, ert_calib_accuracy *acc, size_t cap, size_t *n,
                             ert_error *err);

/* Draws a progress line "label [#####.....] i/n" on stderr (a terminal: redrawn in place;
 * otherwise only the final line is printed). */
void ert_calib_progress(const char *label, size_t i, size_t n);

#endif
