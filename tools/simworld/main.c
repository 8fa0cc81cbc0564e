/* simworld: renders the synthetic tabletop world's scenarios (grasp, push, demo) to y4m
 * videos and ground-truth JSON lines, byte-identical for the same seed and options. */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "scenarios.h"

static const char usage[] =
    "usage: simworld SCENARIO --out DIR [--seed N] [options]\n"
    "\n"
    "Renders a synthetic tabletop (textured table, objects of 5 shapes x 8 colours, a two-finger\n"
    "gripper, a puck) with pinhole cameras, a drifting light, cast shadows and sensor noise.\n"
    "Same seed and options -> byte-identical files.\n"
    "\n"
    "Scenarios:\n"
    "  grasp   per episode: ep<E>_scene_v<K>.y4m (frame 0 pre-grasp, frame 1 post-grasp, one object\n"
    "          gone), ep<E>_outcome.y4m (the grasped object held up to the outcome camera),\n"
    "          ep<E>_goals.y4m (each scene object held, in ground-truth order)\n"
    "  push    ep<E>_push_v<K>.y4m: the gripper pushes the puck from start to goal over --frames\n"
    "          frames; ep<E>_goal_v<K>.y4m: puck at the goal, gripper parked\n"
    "  demo    ep<E>_demo_v<K>.y4m: a two-segment push filmed from --views views; ep<E>_attNN_v<K>.y4m:\n"
    "          --attempts replays, time-warped with noise; odd attempts deviate by --deviation\n"
    "\n"
    "Ground truth: DIR/gt.jsonl, one {\"type\":\"episode\",...} line per episode (cameras, light, plan)\n"
    "then one {\"type\":\"frame\",...} line per frame (all views): entities with mask value, catalogue id,\n"
    "shape, colour, 3D position, per-view 2D box [x0,y0,x1,y1] (pixels, clipped) and visible pixels.\n"
    "\n"
    "Options:\n"
    "  --out DIR            output directory (created if missing; files in it are overwritten)\n"
    "  --seed N             world seed, 0..2^64-1 (default 1)\n"
    "  --episodes E         episodes to render, 1..100000 (default 1)\n"
    "  --first-episode N    index of the first episode (default 0): episodes are independent, so\n"
    "                       ranges can be rendered separately\n"
    "  --size WxH           frame size, 16..1024 each (default 96x96)\n"
    "  --views K            cameras of the main rig, 1..3 (default: grasp 1, push 1, demo 2)\n"
    "  --frames T           frames per video, 2..10000 (push 40, demo 60; not for grasp)\n"
    "  --objects N          distinct catalogue objects on the table (grasp 6, 2..12; push/demo 2,\n"
    "                       0..12); fewer when they do not fit (rare above 10), gt.jsonl lists them\n"
    "  --attempts A         demo: attempts per demonstration, 0..64 (default 2)\n"
    "  --deviation D        demo: deviation of the odd attempts in [0, 1] (default 0.5): the waypoint\n"
    "                       moves D*12 cm and the goal D*10 cm off the demonstrated path\n"
    "  --noise S            sensor noise sigma in 8-bit levels, 0..50 (default 2)\n"
    "  --colour-jitter J    per-episode per-channel gain spread, 0..0.5 (default 0.04)\n"
    "  --camera K=AZ,EL,DIST[,FOV]  pose of view K (0..2) around the table centre: azimuth and\n"
    "                       elevation in degrees, distance in m, horizontal field of view in degrees\n"
    "                       (defaults 0=-90,55,0.58,50  1=-35,40,0.58,50  2=-145,45,0.58,50)\n"
    "  --camera-jitter J    per-episode camera pose jitter scale, 0..5 (default 1 = +-3 deg, +-3 cm)\n"
    "  --aa                 2x2 supersampling (ids stay per pixel centre)\n"
    "  --masks              also write <video>.ids next to each video: uint8 mask values, width*height\n"
    "                       bytes per frame (0 = table or background)\n"
    "  --threads N          episodes rendered in parallel, 1..64 (default 1; output identical)\n"
    "  --preview FILE.png   contact sheet of episode 0, view 0: up to 4 frames of every stream\n"
    "  --help               this text\n"
    "\n"
    "Prints one JSON line: scenario, episodes, frames (one per view), seconds, frames_per_s.\n"
    "Bad options exit 2 with one line naming the option; I/O errors exit 1.\n";

static int bad(const char *opt, const char *val, const char *why)
{
    if (val)
        fprintf(stderr, "simworld: %s %s: %s (see --help)\n", opt, val, why);
    else
        fprintf(stderr, "simworld: %s: %s (see --help)\n", opt, why);
    return 2;
}

static int parse_u(const char *opt, const char *s, unsigned long long lo, unsigned long long hi, unsigned long long *out)
{
    char *end;
    errno = 0;
    if (!s || !*s || *s == '-' || *s == '+')
        return -1;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno || *end || v < lo || v > hi)
        return -1;
    (void)opt;
    *out = v;
    return 0;
}

static int parse_f(const char *s, float lo, float hi, float *out)
{
    char *end;
    errno = 0;
    if (!s || !*s)
        return -1;
    double v = strtod(s, &end);
    if (errno || *end || !(v >= lo && v <= hi))
        return -1;
    *out = (float)v;
    return 0;
}

typedef struct job {
    const sw_opts *o;
    pthread_mutex_t lock;
    uint32_t next, failed;
    char **gt;          /* per episode ground-truth text */
    ert_error err;
    uint8_t *preview;
    uint16_t *preview_stream;
    uint32_t preview_count;
    unsigned long long frames;
} job;

static void *worker(void *arg)
{
    job *j = arg;
    for (;;) {
        pthread_mutex_lock(&j->lock);
        uint32_t i = j->next++;
        bool stop = j->failed || i >= j->o->episodes;
        pthread_mutex_unlock(&j->lock);
        if (stop)
            return NULL;
        sw_episode ep;
        int rc = sw_episode_open(&ep, j->o, j->o->first_episode + i);
        if (rc == 0) {
            switch (j->o->scenario) {
            case SW_GRASP: rc = sw_run_grasp(&ep); break;
            case SW_PUSH: rc = sw_run_push(&ep); break;
            case SW_DEMO: rc = sw_run_demo(&ep); break;
            }
        }
        if (rc == 0)
            rc = sw_episode_finish(&ep);
        char *text = rc == 0 ? strndup(ep.gt_text ? ep.gt_text : "", ep.gt_len) : NULL;
        pthread_mutex_lock(&j->lock);
        if (rc != 0 || !text) {
            if (!j->failed) {
                j->err = ep.err;
                if (rc == 0)
                    ert_fail(&j->err, ERT_ENOMEM, "out of memory for ground truth");
            }
            j->failed = 1;
        } else {
            j->gt[i] = text;
            j->frames += ep.images;
            if (ep.preview) {
                j->preview = ep.preview;
                j->preview_stream = ep.preview_stream;
                j->preview_count = ep.preview_count;
                ep.preview = NULL;
                ep.preview_stream = NULL;
            }
        }
        pthread_mutex_unlock(&j->lock);
        sw_episode_close(&ep);
    }
}

/* The contact sheet: per stream (in opening order) up to 4 of its frames, evenly spaced
 * from first to last, side by side. */
static int write_preview(const sw_opts *o, const job *j)
{
    uint32_t w = o->width, h = o->height, pick[256], n = 0;
    for (uint32_t i = 0; i < j->preview_count;) {
        uint32_t e = i;
        while (e < j->preview_count && j->preview_stream[e] == j->preview_stream[i])
            e++;
        uint32_t m = e - i, q = m < 4 ? m : 4;
        for (uint32_t k = 0; k < q; k++)
            pick[n++] = i + (q > 1 ? (k * (m - 1) + (q - 1) / 2) / (q - 1) : 0);
        i = e;
    }
    uint8_t *sheet = malloc((size_t)w * n * h * 3);
    if (!sheet) {
        fprintf(stderr, "simworld: out of memory for the preview\n");
        return -1;
    }
    for (uint32_t k = 0; k < n; k++)
        for (uint32_t y = 0; y < h; y++)
            memcpy(sheet + ((size_t)y * w * n + (size_t)k * w) * 3, j->preview + ((size_t)pick[k] * h + y) * w * 3,
                   (size_t)w * 3);
    ert_error err;
    int rc = sw_write_png(o->preview, sheet, w * n, h, &err);
    if (rc != 0)
        fprintf(stderr, "simworld: %s\n", err.msg);
    free(sheet);
    return rc;
}

int main(int argc, char **argv)
{
    sw_opts o;
    memset(&o, 0, sizeof o);
    o.seed = 1;
    o.episodes = 1;
    o.width = o.height = 96;
    o.noise = 2.0f;
    o.colour_jitter = 0.04f;
    o.jitter = 1.0f;
    o.threads = 1;
    o.deviation = 0.5f;
    sw_rig_defaults(&o);
    long views = -1, frames = -1, objects = -1, attempts = -1;
    bool have_dev = false;
    const char *scenario = NULL;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            fputs(usage, stdout);
            return 0;
        }
        if (!strcmp(a, "--aa")) {
            o.aa = true;
            continue;
        }
        if (!strcmp(a, "--masks")) {
            o.masks = true;
            continue;
        }
        if (a[0] != '-') {
            if (scenario)
                return bad(a, NULL, "one scenario only (grasp, push or demo)");
            scenario = a;
            continue;
        }
        static const char *const with_value[] = {"--out", "--seed", "--episodes", "--first-episode", "--size", "--views",
                                                 "--frames", "--objects", "--attempts", "--deviation", "--noise",
                                                 "--colour-jitter", "--camera-jitter", "--threads", "--preview", "--camera"};
        bool known = false;
        for (size_t k = 0; k < sizeof with_value / sizeof with_value[0]; k++)
            known |= !strcmp(a, with_value[k]);
        if (!known)
            return bad(a, NULL, "unknown option");
        if (i + 1 >= argc)
            return bad(a, NULL, "needs a value");
        const char *v = argv[++i];
        unsigned long long u;
        if (!strcmp(a, "--out")) {
            if (!*v)
                return bad(a, "''", "empty directory name");
            o.out = v;
        } else if (!strcmp(a, "--camera")) {
            unsigned k;
            float az, el, dist, fov = -1;
            char tail;
            int got = sscanf(v, "%u=%f,%f,%f,%f%c", &k, &az, &el, &dist, &fov, &tail);
            if ((got != 4 && got != 5) || k >= SW_MAX_VIEWS)
                return bad(a, v, "must be K=AZ,EL,DIST[,FOV] with view K 0..2");
            if (!(az >= -360 && az <= 360) || !(el >= 5 && el <= 90) || !(dist >= 0.2f && dist <= 3.0f) ||
                (got == 5 && !(fov >= 10 && fov <= 120)))
                return bad(a, v, "azimuth -360..360, elevation 5..90 deg, distance 0.2..3 m, fov 10..120 deg");
            o.cam_az[k] = az;
            o.cam_el[k] = el;
            o.cam_dist[k] = dist;
            if (got == 5)
                o.cam_fov[k] = fov;
        } else if (!strcmp(a, "--preview")) {
            o.preview = v;
        } else if (!strcmp(a, "--seed")) {
            if (parse_u(a, v, 0, UINT64_MAX, &u))
                return bad(a, v, "must be an integer 0..18446744073709551615");
            o.seed = u;
        } else if (!strcmp(a, "--episodes")) {
            if (parse_u(a, v, 1, 100000, &u))
                return bad(a, v, "must be an integer 1..100000");
            o.episodes = (uint32_t)u;
        } else if (!strcmp(a, "--first-episode")) {
            if (parse_u(a, v, 0, 9999999, &u))
                return bad(a, v, "must be an integer 0..9999999");
            o.first_episode = (uint32_t)u;
        } else if (!strcmp(a, "--size")) {
            unsigned w, h;
            char tail;
            if (sscanf(v, "%ux%u%c", &w, &h, &tail) != 2 || w < 16 || h < 16 || w > 1024 || h > 1024 || v[0] == '-')
                return bad(a, v, "must be WxH with width and height 16..1024");
            o.width = w;
            o.height = h;
        } else if (!strcmp(a, "--views")) {
            if (parse_u(a, v, 1, SW_MAX_VIEWS, &u))
                return bad(a, v, "must be 1, 2 or 3");
            views = (long)u;
        } else if (!strcmp(a, "--frames")) {
            if (parse_u(a, v, 2, 10000, &u))
                return bad(a, v, "must be an integer 2..10000");
            frames = (long)u;
        } else if (!strcmp(a, "--objects")) {
            if (parse_u(a, v, 0, SW_MAX_OBJECTS, &u))
                return bad(a, v, "must be an integer 0..12 (grasp: 2..12)");
            objects = (long)u;
        } else if (!strcmp(a, "--attempts")) {
            if (parse_u(a, v, 0, SW_MAX_ATTEMPTS, &u))
                return bad(a, v, "must be an integer 0..64");
            attempts = (long)u;
        } else if (!strcmp(a, "--deviation")) {
            if (parse_f(v, 0.0f, 1.0f, &o.deviation))
                return bad(a, v, "must be a number in [0, 1]");
            have_dev = true;
        } else if (!strcmp(a, "--noise")) {
            if (parse_f(v, 0.0f, 50.0f, &o.noise))
                return bad(a, v, "must be a number in [0, 50]");
        } else if (!strcmp(a, "--colour-jitter")) {
            if (parse_f(v, 0.0f, 0.5f, &o.colour_jitter))
                return bad(a, v, "must be a number in [0, 0.5]");
        } else if (!strcmp(a, "--camera-jitter")) {
            if (parse_f(v, 0.0f, 5.0f, &o.jitter))
                return bad(a, v, "must be a number in [0, 5]");
        } else if (!strcmp(a, "--threads")) {
            if (parse_u(a, v, 1, 64, &u))
                return bad(a, v, "must be an integer 1..64");
            o.threads = (uint32_t)u;
        }
    }
    if (!scenario)
        return bad("SCENARIO", NULL, "missing (grasp, push or demo)");
    if (!strcmp(scenario, "grasp"))
        o.scenario = SW_GRASP;
    else if (!strcmp(scenario, "push"))
        o.scenario = SW_PUSH;
    else if (!strcmp(scenario, "demo"))
        o.scenario = SW_DEMO;
    else
        return bad("SCENARIO", scenario, "unknown (grasp, push or demo)");
    if (!o.out)
        return bad("--out", NULL, "missing: the output directory is required");
    if (o.scenario == SW_GRASP && frames >= 0)
        return bad("--frames", NULL, "not used by grasp (it writes pre, post, outcome and goal frames)");
    if (o.scenario != SW_DEMO && (attempts >= 0 || have_dev))
        return bad(attempts >= 0 ? "--attempts" : "--deviation", NULL, "only for the demo scenario");
    if (o.scenario == SW_GRASP && objects >= 0 && objects < 2)
        return bad("--objects", NULL, "grasp needs 2..12 objects");
    o.views = views > 0 ? (uint32_t)views : o.scenario == SW_DEMO ? 2 : 1;
    o.frames = frames > 0 ? (uint32_t)frames : o.scenario == SW_DEMO ? 60 : 40;
    o.objects = objects >= 0 ? (uint32_t)objects : o.scenario == SW_GRASP ? 6 : 2;
    o.attempts = attempts >= 0 ? (uint32_t)attempts : 2;
    if ((unsigned long long)o.first_episode + o.episodes > 10000000ULL)
        return bad("--first-episode", NULL, "first episode + episodes must stay below 10000000");

    if (mkdir(o.out, 0777) != 0 && errno != EEXIST) {
        fprintf(stderr, "simworld: %s: cannot create the output directory: %s\n", o.out, strerror(errno));
        return 1;
    }
    sw_world_init();
    job j;
    memset(&j, 0, sizeof j);
    j.o = &o;
    pthread_mutex_init(&j.lock, NULL);
    j.gt = calloc(o.episodes, sizeof *j.gt);
    if (!j.gt) {
        fprintf(stderr, "simworld: out of memory\n");
        return 1;
    }
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    uint32_t nt = o.threads < o.episodes ? o.threads : o.episodes;
    pthread_t th[64];
    uint32_t started = 0;
    for (uint32_t i = 1; i < nt; i++) {
        if (pthread_create(&th[started], NULL, worker, &j) != 0)
            break;
        started++;
    }
    worker(&j);
    for (uint32_t i = 0; i < started; i++)
        pthread_join(th[i], NULL);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    int rc = 0;
    if (j.failed) {
        fprintf(stderr, "simworld: %s\n", j.err.msg);
        rc = 1;
    }
    if (rc == 0) {
        char path[4200];
        snprintf(path, sizeof path, "%s/gt.jsonl", o.out);
        FILE *f = fopen(path, "wb");
        if (!f) {
            fprintf(stderr, "simworld: %s: cannot create: %s\n", path, strerror(errno));
            rc = 1;
        } else {
            for (uint32_t i = 0; i < o.episodes; i++)
                fputs(j.gt[i], f);
            if (fclose(f) != 0) {
                fprintf(stderr, "simworld: %s: write failed\n", path);
                rc = 1;
            }
        }
    }
    if (rc == 0 && o.preview && j.preview && j.preview_count > 0 && write_preview(&o, &j) != 0)
        rc = 1;
    double secs = (double)(t1.tv_sec - t0.tv_sec) + 1e-9 * (double)(t1.tv_nsec - t0.tv_nsec);
    if (rc == 0)
        printf("{\"scenario\":\"%s\",\"episodes\":%u,\"frames\":%llu,\"size\":\"%ux%u\",\"threads\":%u,\"seconds\":%.3f,"
               "\"frames_per_s\":%.1f}\n",
               scenario, o.episodes, j.frames, o.width, o.height, o.threads, secs, secs > 0 ? (double)j.frames / secs : 0.0);
    for (uint32_t i = 0; i < o.episodes; i++)
        free(j.gt[i]);
    free(j.gt);
    free(j.preview);
    free(j.preview_stream);
    pthread_mutex_destroy(&j.lock);
    return rc;
}
