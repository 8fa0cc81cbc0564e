/* embedrtd's configuration: an INI-like file ([daemon], [camera NAME], [model NAME])
 * plus command-line flags that override or extend it. The file is hostile input: every
 * line, key and value is checked, and the first problem is reported as
 * "FILE:LINE: section: problem (expected ...)". Nothing is opened here; opening blobs
 * and sources belongs to --check-config and the pipeline. */
#ifndef ERT_DAEMON_CONFIG_H
#define ERT_DAEMON_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "embedrt/frame.h"
#include "embedrt/status.h"
#include "log.h"

#define ERT_CFG_MAX_CAMERAS 8   /* Capabilities.cameras max_count */
#define ERT_CFG_MAX_MODELS 8    /* Capabilities.models max_count */
#define ERT_CFG_MAX_MODEL_CAMERAS 4
#define ERT_CFG_MAX_LINKS 4     /* Stats.links max_count */
#define ERT_CFG_NAME_MAX 32     /* names fit the protocol's 32-byte strings, NUL included */
#define ERT_CFG_PATH_MAX 256
#define ERT_CFG_SPEC_MAX 272    /* "replay:" + a path */
#define ERT_CFG_MAX_FILE_BYTES (1u << 20)
#define ERT_CFG_MAX_LINE 1024

typedef struct ert_cfg_camera {
    char name[ERT_CFG_NAME_MAX];
    char source[ERT_CFG_SPEC_MAX]; /* a source.h spec: libcamera:ID, replay:PATH, synthetic:PATTERN[:WxH] */
    uint32_t width, height;        /* 0: the source's own */
    ert_pixfmt format;             /* 0: the source's own */
    double fps;                    /* 0: the source's own; < 0: as fast as possible (replay) */
    bool loop;
    uint32_t watchdog_ms;          /* no frame for this long: Notice CAMERA_STALL */
} ert_cfg_camera;

typedef struct ert_cfg_model {
    char name[ERT_CFG_NAME_MAX];
    char blob[ERT_CFG_PATH_MAX];
    char cameras[ERT_CFG_MAX_MODEL_CAMERAS][ERT_CFG_NAME_MAX];
    size_t n_cameras;              /* 0 until resolved: the first camera */
    int threads;                   /* 0: [daemon] threads */
} ert_cfg_model;

/* A controller link: a microcontroller speaking proto/embedrt/v1/link.proto over a serial
 * line (termios raw mode) or a Unix socket (QEMU's -serial unix:...,server=on). */
typedef enum ert_cfg_port_kind { ERT_PORT_TTY = 1, ERT_PORT_UNIX = 2 } ert_cfg_port_kind;

typedef struct ert_cfg_link {
    char name[ERT_CFG_NAME_MAX];
    ert_cfg_port_kind kind;
    char path[ERT_CFG_PATH_MAX];   /* the tty device or the socket path */
    uint32_t baud;                 /* tty only; 115200 */
    char model[ERT_CFG_NAME_MAX];  /* grasp2vec model for grasp reports; empty: the only one */
    uint32_t heartbeat_ms;         /* 200 */
    uint32_t timeout_ms;           /* link down after this long without a valid frame: 1500 */
    uint32_t retransmit_ms;        /* resend an unacknowledged reward/goal after this: 300 */
    uint32_t retries;              /* retransmissions before a message is dropped: 10 */
    uint32_t reconnect_ms;         /* retry opening a missing tty or socket: 1000 */
} ert_cfg_link;

typedef struct ert_config {
    char socket_path[108];         /* sockaddr_un.sun_path */
    uint32_t socket_mode;          /* 0600 */
    bool tcp;                      /* opt-in */
    char tcp_host[64];
    uint16_t tcp_port;
    int threads;                   /* engine threads per model unless the model says; 0: all cores */
    uint32_t client_queue_depth;   /* events buffered per client (256) */
    uint32_t max_frame_bytes;      /* largest frame a client may send (ERT_WIRE_MAX_FRAME) */
    ert_log_level log_level;
    uint32_t stats_interval_ms;    /* Stats events on STREAM_STATS; 0: only on GetStats */
    ert_cfg_camera cameras[ERT_CFG_MAX_CAMERAS];
    size_t n_cameras;
    ert_cfg_model models[ERT_CFG_MAX_MODELS];
    size_t n_models;
    bool builtin_camera;           /* the default camera was added (no camera configured) */
    ert_cfg_link links[ERT_CFG_MAX_LINKS];
    size_t n_links;
} ert_config;

/* Built-in defaults: socket from ert_client_default_address(), no TCP, queue depth 256. */
void ert_config_defaults(ert_config *cfg);

/* Parses a config file into cfg (which holds the defaults or earlier settings). name is
 * used in messages; relative paths in blob= and replay: specs resolve against base_dir
 * (NULL: as given). On failure cfg may be half-filled: parse into a scratch copy. */
ert_status ert_config_parse_text(ert_config *cfg, const char *name, const char *text, size_t len,
                                 const char *base_dir, ert_error *err);
ert_status ert_config_parse_file(ert_config *cfg, const char *path, ert_error *err);

/* Command-line forms. */
ert_status ert_config_set_camera_flag(ert_config *cfg, const char *arg, ert_error *err);  /* NAME=SPEC */
ert_status ert_config_set_model_flag(ert_config *cfg, const char *arg, ert_error *err);   /* NAME=BLOB[@cam1,cam2] */
ert_status ert_config_set_tcp(ert_config *cfg, const char *what, const char *value, ert_error *err); /* off | HOST:PORT */
ert_status ert_config_set_socket(ert_config *cfg, const char *what, const char *value, ert_error *err);
/* NAME=PORT[@MODEL]; PORT is tty:DEVICE[:BAUD] or unix:PATH. */
ert_status ert_config_set_link_flag(ert_config *cfg, const char *arg, ert_error *err);

/* After file and flags: adds the built-in camera when none is configured, binds models
 * without cameras to the first camera, resolves threads, and checks cross references
 * (a model's camera exists, names unique). */
ert_status ert_config_finish(ert_config *cfg, ert_error *err);

const ert_cfg_camera *ert_config_camera(const ert_config *cfg, const char *name);
const ert_cfg_model *ert_config_model(const ert_config *cfg, const char *name);
bool ert_cfg_link_equal(const ert_cfg_link *a, const ert_cfg_link *b);
/* "tty:/dev/ttyACM0:115200" or "unix:/run/x.sock" into out[0..cap). */
void ert_cfg_link_port(const ert_cfg_link *l, char *out, size_t cap);

/* The model a link's grasp reports go to, given the loaded models and their families:
 * the configured one (it must be grasp2vec) or, when none is configured, the only
 * grasp2vec model. Fails naming the link and the models. */
ert_status ert_config_link_model(const ert_cfg_link *l, const char *const *models, const char *const *families,
                                 size_t n, char out[ERT_CFG_NAME_MAX], ert_error *err);
bool ert_cfg_camera_equal(const ert_cfg_camera *a, const ert_cfg_camera *b);
bool ert_cfg_model_equal(const ert_cfg_model *a, const ert_cfg_model *b);

/* "rgb24" -> ERT_PIX_RGB24 (case-insensitive); 0 when unknown. */
ert_pixfmt ert_config_parse_format(const char *s);

#endif
