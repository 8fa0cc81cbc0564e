/* The config file parser and the command-line forms that extend it. Every value is
 * checked for length, range and syntax; errors carry the file, the line, the section
 * and what was expected. */
#include "config.h"

#include "embedrt/util.h"
#include "embedrt/client.h"
#include "embedrt/wire.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define DEFAULT_WATCHDOG_MS 2000u
#define BUILTIN_CAMERA_SPEC "synthetic:bars:320x240"

void ert_config_defaults(ert_config *cfg)
{
    memset(cfg, 0, sizeof *cfg);
    char buf[sizeof cfg->socket_path];
    const char *addr = ert_client_default_address(buf, sizeof buf);
    if (addr && strncmp(addr, "unix:", 5) == 0)
        addr += 5;
    ert_str_copy(cfg->socket_path, sizeof cfg->socket_path, addr ? addr : "/tmp/embedrtd.sock");
    cfg->socket_mode = 0600;
    ert_str_copy(cfg->tcp_host, sizeof cfg->tcp_host, "127.0.0.1");
    cfg->threads = 0;
    cfg->client_queue_depth = 256;
    cfg->max_frame_bytes = ERT_WIRE_MAX_FRAME;
    cfg->log_level = ERT_LOG_INFO;
    cfg->stats_interval_ms = 0;
}

ert_pixfmt ert_config_parse_format(const char *s)
{
    static const struct {
        const char *name;
        ert_pixfmt fmt;
    } fmts[] = {{"rgb24", ERT_PIX_RGB24}, {"bgr24", ERT_PIX_BGR24}, {"gray8", ERT_PIX_GRAY8},
                {"yuv420", ERT_PIX_YUV420}, {"nv12", ERT_PIX_NV12}, {"yuyv", ERT_PIX_YUYV}};
    for (size_t i = 0; i < sizeof fmts / sizeof fmts[0]; i++)
        if (strcasecmp(s, fmts[i].name) == 0)
            return fmts[i].fmt;
    return (ert_pixfmt)0;
}

/* ---- value parsers: `where` names the place ("embedrtd.conf:12: camera 'scene'") ---- */

static ert_status parse_u32(const char *where, const char *key, const char *v, uint32_t lo, uint32_t hi,
                            uint32_t *out, ert_error *err)
{
    char *end;
    errno = 0;
    if (!isdigit((unsigned char)v[0]))
        goto bad;
    unsigned long long x = strtoull(v, &end, 10);
    if (errno || *end || x < lo || x > hi)
        goto bad;
    *out = (uint32_t)x;
    return ERT_OK;
bad:
    return ert_fail(err, ERT_EINVAL, "%s: %s = '%s' is not a whole number in [%u, %u]", where, key, v, lo, hi);
}

static ert_status parse_mode(const char *where, const char *v, uint32_t *out, ert_error *err)
{
    char *end;
    errno = 0;
    unsigned long x = strtoul(v, &end, 8);
    if (!isdigit((unsigned char)v[0]) || errno || *end || x > 0777 || (x & 0600) != 0600)
        return ert_fail(err, ERT_EINVAL,
                        "%s: socket_mode = '%s' is not an octal mode in [0600, 0777] that lets the owner read and write",
                        where, v);
    *out = (uint32_t)x;
    return ERT_OK;
}

static ert_status parse_bool(const char *where, const char *key, const char *v, bool *out, ert_error *err)
{
    static const char *const yes[] = {"true", "yes", "on", "1"}, *const no[] = {"false", "no", "off", "0"};
    for (int i = 0; i < 4; i++) {
        if (strcasecmp(v, yes[i]) == 0)
            return *out = true, ERT_OK;
        if (strcasecmp(v, no[i]) == 0)
            return *out = false, ERT_OK;
    }
    return ert_fail(err, ERT_EINVAL, "%s: %s = '%s' is not a boolean (expected true or false)", where, key, v);
}

static ert_status parse_fps(const char *where, const char *v, double *out, ert_error *err)
{
    if (strcasecmp(v, "max") == 0)
        return *out = -1.0, ERT_OK;
    char *end;
    errno = 0;
    double x = strtod(v, &end);
    if (end == v || *end || errno || !isfinite(x) || x < 0 || x > 1000)
        return ert_fail(err, ERT_EINVAL, "%s: fps = '%s' is not a rate in [0, 1000] or 'max'", where, v);
    *out = x;
    return ERT_OK;
}

static bool valid_name(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n >= ERT_CFG_NAME_MAX)
        return false;
    for (size_t i = 0; i < n; i++)
        if (!isalnum((unsigned char)s[i]) && s[i] != '_' && s[i] != '-' && s[i] != '.')
            return false;
    return true;
}

static ert_status check_name(const char *where, const char *what, const char *s, ert_error *err)
{
    if (!valid_name(s))
        return ert_fail(err, ERT_EINVAL, "%s: %s name '%s' must be 1-%d characters of A-Z a-z 0-9 _ - .", where, what,
                        s, ERT_CFG_NAME_MAX - 1);
    return ERT_OK;
}

/* Joins base_dir and a relative path; absolute paths and a NULL base stay as given. */
static ert_status resolve_path(const char *where, const char *key, const char *base_dir, const char *v, char *out,
                               size_t cap, ert_error *err)
{
    int n;
    if (!base_dir || !base_dir[0] || v[0] == '/')
        n = snprintf(out, cap, "%s", v);
    else
        n = snprintf(out, cap, "%s/%s", base_dir, v);
    if (n < 0 || (size_t)n >= cap)
        return ert_fail(err, ERT_EINVAL, "%s: %s is longer than %zu bytes", where, key, cap - 1);
    return ERT_OK;
}

static ert_status parse_source(const char *where, const char *base_dir, const char *v, char *out, ert_error *err)
{
    if (strncmp(v, "replay:", 7) == 0) {
        if (!v[7])
            return ert_fail(err, ERT_EINVAL, "%s: source = 'replay:' needs a path", where);
        char path[ERT_CFG_PATH_MAX];
        ert_status st = resolve_path(where, "source path", base_dir, v + 7, path, sizeof path, err);
        if (st != ERT_OK)
            return st;
        snprintf(out, ERT_CFG_SPEC_MAX, "replay:%s", path);
        return ERT_OK;
    }
    if (strncmp(v, "synthetic:", 10) != 0 && strncmp(v, "libcamera:", 10) != 0)
        return ert_fail(err, ERT_EINVAL,
                        "%s: source = '%s' has an unknown kind (expected libcamera:ID, replay:PATH or "
                        "synthetic:PATTERN[:WxH])",
                        where, v);
    if (!v[10])
        return ert_fail(err, ERT_EINVAL, "%s: source = '%s' needs a camera id or pattern after the colon", where, v);
    if (strlen(v) >= ERT_CFG_SPEC_MAX)
        return ert_fail(err, ERT_EINVAL, "%s: source is longer than %d bytes", where, ERT_CFG_SPEC_MAX - 1);
    ert_str_copy(out, ERT_CFG_SPEC_MAX, v);
    return ERT_OK;
}

ert_status ert_config_set_tcp(ert_config *cfg, const char *where, const char *v, ert_error *err)
{
    if (strcasecmp(v, "off") == 0 || strcasecmp(v, "no") == 0 || strcasecmp(v, "false") == 0) {
        cfg->tcp = false;
        return ERT_OK;
    }
    const char *colon = strrchr(v, ':');
    size_t hl = colon ? (size_t)(colon - v) : 0;
    if (!colon || hl == 0 || hl >= sizeof cfg->tcp_host)
        return ert_fail(err, ERT_EINVAL, "%s: tcp = '%s' is not off or HOST:PORT (e.g. 127.0.0.1:7878)", where, v);
    for (size_t i = 0; i < hl; i++)
        if (!isalnum((unsigned char)v[i]) && v[i] != '.' && v[i] != '-')
            return ert_fail(err, ERT_EINVAL, "%s: tcp host '%.*s' is not an IPv4 address or host name", where, (int)hl,
                            v);
    uint32_t port;
    ert_status st = parse_u32(where, "tcp port", colon + 1, 1, 65535, &port, err);
    if (st != ERT_OK)
        return st;
    memcpy(cfg->tcp_host, v, hl);
    cfg->tcp_host[hl] = '\0';
    cfg->tcp_port = (uint16_t)port;
    cfg->tcp = true;
    return ERT_OK;
}

ert_status ert_config_set_socket(ert_config *cfg, const char *where, const char *v, ert_error *err)
{
    if (strncmp(v, "unix:", 5) == 0)
        v += 5;
    if (!v[0] || strlen(v) >= sizeof cfg->socket_path)
        return ert_fail(err, ERT_EINVAL, "%s: socket path '%s' must be 1-%zu bytes (a Unix socket path)", where, v,
                        sizeof cfg->socket_path - 1);
    ert_str_copy(cfg->socket_path, sizeof cfg->socket_path, v);
    return ERT_OK;
}

/* ---- sections ---- */

static ert_cfg_camera *camera_slot(ert_config *cfg, const char *where, const char *name, ert_error *err)
{
    for (size_t i = 0; i < cfg->n_cameras; i++)
        if (strcmp(cfg->cameras[i].name, name) == 0)
            return &cfg->cameras[i];
    if (cfg->n_cameras == ERT_CFG_MAX_CAMERAS) {
        ert_fail(err, ERT_ENOMEM, "%s: camera '%s': more than %d cameras", where, name, ERT_CFG_MAX_CAMERAS);
        return NULL;
    }
    ert_cfg_camera *c = &cfg->cameras[cfg->n_cameras++];
    memset(c, 0, sizeof *c);
    ert_str_copy(c->name, sizeof c->name, name);
    c->watchdog_ms = DEFAULT_WATCHDOG_MS;
    return c;
}

static ert_cfg_model *model_slot(ert_config *cfg, const char *where, const char *name, ert_error *err)
{
    for (size_t i = 0; i < cfg->n_models; i++)
        if (strcmp(cfg->models[i].name, name) == 0)
            return &cfg->models[i];
    if (cfg->n_models == ERT_CFG_MAX_MODELS) {
        ert_fail(err, ERT_ENOMEM, "%s: model '%s': more than %d models", where, name, ERT_CFG_MAX_MODELS);
        return NULL;
    }
    ert_cfg_model *m = &cfg->models[cfg->n_models++];
    memset(m, 0, sizeof *m);
    ert_str_copy(m->name, sizeof m->name, name);
    return m;
}

static ert_cfg_link *link_slot(ert_config *cfg, const char *where, const char *name, ert_error *err)
{
    for (size_t i = 0; i < cfg->n_links; i++)
        if (strcmp(cfg->links[i].name, name) == 0)
            return &cfg->links[i];
    if (cfg->n_links == ERT_CFG_MAX_LINKS) {
        ert_fail(err, ERT_ENOMEM, "%s: link '%s': more than %d links", where, name, ERT_CFG_MAX_LINKS);
        return NULL;
    }
    ert_cfg_link *l = &cfg->links[cfg->n_links++];
    memset(l, 0, sizeof *l);
    ert_str_copy(l->name, sizeof l->name, name);
    l->baud = 115200;
    l->heartbeat_ms = 200;
    l->timeout_ms = 1500;
    l->retransmit_ms = 300;
    l->retries = 10;
    l->reconnect_ms = 1000;
    return l;
}

/* The speeds Linux termios has constants for (cfsetspeed takes them). */
static bool baud_ok(uint32_t b)
{
    static const uint32_t rates[] = {9600,   19200,   38400,   57600,   115200,  230400,  460800, 500000,
                                     576000, 921600,  1000000, 1152000, 1500000, 2000000, 2500000, 3000000,
                                     3500000, 4000000};
    for (size_t i = 0; i < sizeof rates / sizeof rates[0]; i++)
        if (rates[i] == b)
            return true;
    return false;
}

#define BAUD_LIST "9600, 19200, 38400, 57600, 115200, 230400, 460800, 500000, 576000, 921600 or 1000000-4000000"

static ert_status parse_baud(const char *where, const char *v, uint32_t *out, ert_error *err)
{
    uint32_t b;
    if (parse_u32(where, "baud", v, 1, 4000000, &b, NULL) != ERT_OK || !baud_ok(b))
        return ert_fail(err, ERT_EINVAL, "%s: baud = '%s' is not a serial speed (expected " BAUD_LIST ")", where, v);
    *out = b;
    return ERT_OK;
}

/* tty:DEVICE[:BAUD] (with_baud) or unix:PATH. */
static ert_status parse_port(const char *where, const char *base_dir, const char *v, bool with_baud,
                             ert_cfg_link *l, ert_error *err)
{
    ert_cfg_port_kind kind;
    const char *path;
    if (strncmp(v, "tty:", 4) == 0) {
        kind = ERT_PORT_TTY;
        path = v + 4;
    } else if (strncmp(v, "unix:", 5) == 0) {
        kind = ERT_PORT_UNIX;
        path = v + 5;
    } else {
        return ert_fail(err, ERT_EINVAL, "%s: port = '%s' has an unknown kind (expected tty:DEVICE%s or unix:PATH)",
                        where, v, with_baud ? "[:BAUD]" : "");
    }
    char buf[ERT_CFG_PATH_MAX];
    size_t n = strlen(path);
    uint32_t baud = l->baud;
    const char *colon = kind == ERT_PORT_TTY && with_baud ? strrchr(path, ':') : NULL;
    if (colon && colon[1] && strspn(colon + 1, "0123456789") == strlen(colon + 1)) {
        ert_status st = parse_baud(where, colon + 1, &baud, err);
        if (st != ERT_OK)
            return st;
        n = (size_t)(colon - path);
    }
    if (n == 0)
        return ert_fail(err, ERT_EINVAL, "%s: port = '%s' needs a %s after the colon", where, v,
                        kind == ERT_PORT_TTY ? "device path" : "socket path");
    if (n >= sizeof buf)
        return ert_fail(err, ERT_EINVAL, "%s: port path is longer than %zu bytes", where, sizeof buf - 1);
    memcpy(buf, path, n);
    buf[n] = '\0';
    if (kind == ERT_PORT_UNIX && (base_dir && buf[0] != '/' ? strlen(base_dir) + 1 : 0) + n >= 108)
        return ert_fail(err, ERT_EINVAL, "%s: port socket path is longer than 107 bytes", where);
    ert_status st = resolve_path(where, "port path", base_dir, buf, l->path, sizeof l->path, err);
    if (st != ERT_OK)
        return st;
    l->kind = kind;
    l->baud = baud;
    return ERT_OK;
}

static ert_status parse_camera_list(const char *where, const char *v, ert_cfg_model *m, ert_error *err)
{
    m->n_cameras = 0;
    const char *p = v;
    for (;;) {
        while (*p == ' ' || *p == '\t')
            p++;
        const char *e = p;
        while (*e && *e != ',')
            e++;
        const char *t = e;
        while (t > p && (t[-1] == ' ' || t[-1] == '\t'))
            t--;
        char name[ERT_CFG_NAME_MAX + 1];
        size_t n = (size_t)(t - p);
        if (n == 0 || n >= ERT_CFG_NAME_MAX)
            return ert_fail(err, ERT_EINVAL, "%s: cameras = '%s' must list camera names separated by commas", where,
                            v);
        memcpy(name, p, n);
        name[n] = '\0';
        ert_status st = check_name(where, "camera", name, err);
        if (st != ERT_OK)
            return st;
        if (m->n_cameras == ERT_CFG_MAX_MODEL_CAMERAS)
            return ert_fail(err, ERT_EINVAL, "%s: cameras lists more than %d cameras", where,
                            ERT_CFG_MAX_MODEL_CAMERAS);
        ert_str_copy(m->cameras[m->n_cameras++], ERT_CFG_NAME_MAX, name);
        if (!*e)
            break;
        p = e + 1;
    }
    return ERT_OK;
}

#define DAEMON_KEYS "socket, socket_mode, tcp, threads, client_queue_depth, max_frame_bytes, log_level, stats_interval_ms"
#define CAMERA_KEYS "source, width, height, format, fps, loop, watchdog_ms"
#define MODEL_KEYS "blob, cameras, threads"
#define LINK_KEYS "port, baud, model, heartbeat_ms, timeout_ms, retransmit_ms, retries, reconnect_ms"

static ert_status daemon_key(ert_config *cfg, const char *where, const char *k, const char *v, ert_error *err)
{
    uint32_t u;
    ert_status st;
    if (strcmp(k, "socket") == 0)
        return ert_config_set_socket(cfg, where, v, err);
    if (strcmp(k, "socket_mode") == 0)
        return parse_mode(where, v, &cfg->socket_mode, err);
    if (strcmp(k, "tcp") == 0)
        return ert_config_set_tcp(cfg, where, v, err);
    if (strcmp(k, "threads") == 0) {
        if ((st = parse_u32(where, k, v, 0, 64, &u, err)) == ERT_OK)
            cfg->threads = (int)u;
        return st;
    }
    if (strcmp(k, "client_queue_depth") == 0)
        return parse_u32(where, k, v, 4, 65536, &cfg->client_queue_depth, err);
    if (strcmp(k, "max_frame_bytes") == 0)
        return parse_u32(where, k, v, 1024, ERT_WIRE_MAX_FRAME, &cfg->max_frame_bytes, err);
    if (strcmp(k, "stats_interval_ms") == 0)
        return parse_u32(where, k, v, 0, 3600000, &cfg->stats_interval_ms, err);
    if (strcmp(k, "log_level") == 0) {
        int l = ert_log_level_parse(v);
        if (l < 0)
            return ert_fail(err, ERT_EINVAL, "%s: log_level = '%s' (expected error, warn, info or debug)", where, v);
        cfg->log_level = (ert_log_level)l;
        return ERT_OK;
    }
    return ert_fail(err, ERT_EINVAL, "%s: unknown key '%s' (expected " DAEMON_KEYS ")", where, k);
}

static ert_status camera_key(ert_cfg_camera *c, const char *where, const char *base_dir, const char *k, const char *v,
                             ert_error *err)
{
    if (strcmp(k, "source") == 0)
        return parse_source(where, base_dir, v, c->source, err);
    if (strcmp(k, "width") == 0)
        return parse_u32(where, k, v, 1, 32768, &c->width, err);
    if (strcmp(k, "height") == 0)
        return parse_u32(where, k, v, 1, 32768, &c->height, err);
    if (strcmp(k, "fps") == 0)
        return parse_fps(where, v, &c->fps, err);
    if (strcmp(k, "loop") == 0)
        return parse_bool(where, k, v, &c->loop, err);
    if (strcmp(k, "watchdog_ms") == 0)
        return parse_u32(where, k, v, 10, 3600000, &c->watchdog_ms, err);
    if (strcmp(k, "format") == 0) {
        c->format = ert_config_parse_format(v);
        if (!c->format)
            return ert_fail(err, ERT_EINVAL, "%s: format = '%s' (expected rgb24, bgr24, gray8, yuv420, nv12 or yuyv)",
                            where, v);
        return ERT_OK;
    }
    return ert_fail(err, ERT_EINVAL, "%s: unknown key '%s' (expected " CAMERA_KEYS ")", where, k);
}

static ert_status model_key(ert_cfg_model *m, const char *where, const char *base_dir, const char *k, const char *v,
                            ert_error *err)
{
    if (strcmp(k, "blob") == 0)
        return resolve_path(where, "blob", base_dir, v, m->blob, sizeof m->blob, err);
    if (strcmp(k, "cameras") == 0)
        return parse_camera_list(where, v, m, err);
    if (strcmp(k, "threads") == 0) {
        uint32_t u;
        ert_status st = parse_u32(where, k, v, 1, 64, &u, err);
        if (st == ERT_OK)
            m->threads = (int)u;
        return st;
    }
    return ert_fail(err, ERT_EINVAL, "%s: unknown key '%s' (expected " MODEL_KEYS ")", where, k);
}

static ert_status link_key(ert_cfg_link *l, const char *where, const char *base_dir, const char *k, const char *v,
                           ert_error *err)
{
    if (strcmp(k, "port") == 0)
        return parse_port(where, base_dir, v, false, l, err);
    if (strcmp(k, "baud") == 0)
        return parse_baud(where, v, &l->baud, err);
    if (strcmp(k, "model") == 0) {
        ert_status st = check_name(where, "model", v, err);
        if (st == ERT_OK)
            ert_str_copy(l->model, sizeof l->model, v);
        return st;
    }
    if (strcmp(k, "heartbeat_ms") == 0)
        return parse_u32(where, k, v, 10, 60000, &l->heartbeat_ms, err);
    if (strcmp(k, "timeout_ms") == 0)
        return parse_u32(where, k, v, 20, 600000, &l->timeout_ms, err);
    if (strcmp(k, "retransmit_ms") == 0)
        return parse_u32(where, k, v, 10, 60000, &l->retransmit_ms, err);
    if (strcmp(k, "retries") == 0)
        return parse_u32(where, k, v, 0, 255, &l->retries, err);
    if (strcmp(k, "reconnect_ms") == 0)
        return parse_u32(where, k, v, 10, 600000, &l->reconnect_ms, err);
    return ert_fail(err, ERT_EINVAL, "%s: unknown key '%s' (expected " LINK_KEYS ")", where, k);
}

static char *trim(char *s)
{
    while (*s == ' ' || *s == '\t')
        s++;
    size_t n = strlen(s);
    while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\r'))
        s[--n] = '\0';
    return s;
}

enum section_kind { SEC_NONE, SEC_DAEMON, SEC_CAMERA, SEC_MODEL, SEC_LINK };

ert_status ert_config_parse_text(ert_config *cfg, const char *name, const char *text, size_t len, const char *base_dir,
                                 ert_error *err)
{
    if (len > ERT_CFG_MAX_FILE_BYTES)
        return ert_fail(err, ERT_EFORMAT, "%s: %zu bytes is larger than a config file may be (%u)", name, len,
                        ERT_CFG_MAX_FILE_BYTES);
    enum section_kind sec = SEC_NONE;
    ert_cfg_camera *cam = NULL;
    ert_cfg_model *model = NULL;
    ert_cfg_link *link = NULL;
    bool seen_daemon = false;
    /* Keys seen in the current section: a repeated key is a mistake, not an override. */
    char seen[16][24];
    size_t n_seen = 0;
    char line[ERT_CFG_MAX_LINE + 1], where[ERT_CFG_MAX_LINE + 128];
    size_t pos = 0;
    for (int lineno = 1; pos < len; lineno++) {
        size_t start = pos;
        while (pos < len && text[pos] != '\n')
            pos++;
        size_t n = pos - start;
        if (pos < len)
            pos++;
        if (n > ERT_CFG_MAX_LINE)
            return ert_fail(err, ERT_EFORMAT, "%s:%d: line longer than %d bytes", name, lineno, ERT_CFG_MAX_LINE);
        if (memchr(text + start, '\0', n))
            return ert_fail(err, ERT_EFORMAT, "%s:%d: NUL byte in a text file", name, lineno);
        memcpy(line, text + start, n);
        line[n] = '\0';
        for (size_t i = 0; i < n; i++)
            if ((unsigned char)line[i] < 0x20 && line[i] != '\t' && line[i] != '\r')
                return ert_fail(err, ERT_EFORMAT, "%s:%d: control character 0x%02x in a text file", name, lineno,
                                (unsigned char)line[i]);
        char *s = trim(line);
        if (!*s || *s == '#' || *s == ';')
            continue;
        if (*s == '[') {
            char *close = strchr(s, ']');
            if (!close || trim(close + 1)[0])
                return ert_fail(err, ERT_EFORMAT, "%s:%d: section header '%s' must be [daemon], [camera NAME], "
                                "[model NAME] or [link NAME]", name, lineno, s);
            *close = '\0';
            char *body = trim(s + 1);
            char *sp = body;
            while (*sp && *sp != ' ' && *sp != '\t')
                sp++;
            char *arg = *sp ? trim(sp + 1) : sp;
            *sp = '\0';
            n_seen = 0;
            snprintf(where, sizeof where, "%s:%d", name, lineno);
            if (strcmp(body, "daemon") == 0 && !*arg) {
                if (seen_daemon)
                    return ert_fail(err, ERT_EFORMAT, "%s: second [daemon] section", where);
                seen_daemon = true;
                sec = SEC_DAEMON;
            } else if (strcmp(body, "link") == 0 && *arg) {
                ert_status st = check_name(where, body, arg, err);
                if (st != ERT_OK)
                    return st;
                for (size_t i = 0; i < cfg->n_links; i++)
                    if (strcmp(cfg->links[i].name, arg) == 0)
                        return ert_fail(err, ERT_EFORMAT, "%s: link '%s' is defined twice", where, arg);
                if (!(link = link_slot(cfg, where, arg, err)))
                    return err ? err->code : ERT_ENOMEM;
                sec = SEC_LINK;
            } else if ((strcmp(body, "camera") == 0 || strcmp(body, "model") == 0) && *arg) {
                ert_status st = check_name(where, body, arg, err);
                if (st != ERT_OK)
                    return st;
                if (body[0] == 'c') {
                    if (ert_config_camera(cfg, arg))
                        return ert_fail(err, ERT_EFORMAT, "%s: camera '%s' is defined twice", where, arg);
                    if (!(cam = camera_slot(cfg, where, arg, err)))
                        return err ? err->code : ERT_ENOMEM;
                    sec = SEC_CAMERA;
                } else {
                    if (ert_config_model(cfg, arg))
                        return ert_fail(err, ERT_EFORMAT, "%s: model '%s' is defined twice", where, arg);
                    if (!(model = model_slot(cfg, where, arg, err)))
                        return err ? err->code : ERT_ENOMEM;
                    sec = SEC_MODEL;
                }
            } else {
                return ert_fail(err, ERT_EFORMAT, "%s: unknown section [%s%s%s] (expected [daemon], [camera NAME], "
                                "[model NAME] or [link NAME])", where, body, *arg ? " " : "", arg);
            }
            continue;
        }
        char *eq = strchr(s, '=');
        if (!eq)
            return ert_fail(err, ERT_EFORMAT, "%s:%d: '%s' is not KEY = VALUE or a [section]", name, lineno, s);
        *eq = '\0';
        char *k = trim(s), *v = trim(eq + 1);
        switch (sec) {
        case SEC_NONE: snprintf(where, sizeof where, "%s:%d", name, lineno); break;
        case SEC_DAEMON: snprintf(where, sizeof where, "%s:%d: daemon", name, lineno); break;
        case SEC_CAMERA: snprintf(where, sizeof where, "%s:%d: camera '%s'", name, lineno, cam->name); break;
        case SEC_MODEL: snprintf(where, sizeof where, "%s:%d: model '%s'", name, lineno, model->name); break;
        case SEC_LINK: snprintf(where, sizeof where, "%s:%d: link '%s'", name, lineno, link->name); break;
        }
        if (sec == SEC_NONE)
            return ert_fail(err, ERT_EFORMAT, "%s: key '%s' before any section (start with [daemon], [camera NAME] "
                            "or [model NAME])", where, k);
        if (!*k)
            return ert_fail(err, ERT_EFORMAT, "%s: empty key", where);
        if (!*v)
            return ert_fail(err, ERT_EFORMAT, "%s: key '%s' has no value", where, k);
        for (size_t i = 0; i < n_seen; i++)
            if (strcmp(seen[i], k) == 0)
                return ert_fail(err, ERT_EFORMAT, "%s: key '%s' is set twice", where, k);
        ert_status st;
        if (sec == SEC_DAEMON)
            st = daemon_key(cfg, where, k, v, err);
        else if (sec == SEC_CAMERA)
            st = camera_key(cam, where, base_dir, k, v, err);
        else if (sec == SEC_MODEL)
            st = model_key(model, where, base_dir, k, v, err);
        else
            st = link_key(link, where, base_dir, k, v, err);
        if (st != ERT_OK)
            return st;
        if (n_seen < 16 && strlen(k) < sizeof seen[0])
            ert_str_copy(seen[n_seen++], sizeof seen[0], k);
    }
    /* Required keys, reported at the end with the section's name. */
    for (size_t i = 0; i < cfg->n_cameras; i++)
        if (!cfg->cameras[i].source[0])
            return ert_fail(err, ERT_EFORMAT, "%s: camera '%s' has no source (e.g. source = replay:video.y4m)", name,
                            cfg->cameras[i].name);
    for (size_t i = 0; i < cfg->n_models; i++)
        if (!cfg->models[i].blob[0])
            return ert_fail(err, ERT_EFORMAT, "%s: model '%s' has no blob (e.g. blob = g2v.erb)", name,
                            cfg->models[i].name);
    for (size_t i = 0; i < cfg->n_links; i++)
        if (!cfg->links[i].kind)
            return ert_fail(err, ERT_EFORMAT, "%s: link '%s' has no port (e.g. port = tty:/dev/ttyACM0)", name,
                            cfg->links[i].name);
    return ERT_OK;
}

ert_status ert_config_parse_file(ert_config *cfg, const char *path, ert_error *err)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return ert_fail(err, ERT_ENOTFOUND, "%s: cannot open the config file: %s", path, strerror(errno));
    char *buf = malloc(ERT_CFG_MAX_FILE_BYTES + 1);
    if (!buf) {
        fclose(f);
        return ert_fail(err, ERT_ENOMEM, "%s: out of memory reading the config file", path);
    }
    size_t n = fread(buf, 1, ERT_CFG_MAX_FILE_BYTES + 1, f);
    int rerr = ferror(f);
    fclose(f);
    ert_status st;
    if (rerr) {
        st = ert_fail(err, ERT_EIO, "%s: read error", path);
    } else {
        char dir[ERT_CFG_PATH_MAX];
        const char *slash = strrchr(path, '/');
        if (!slash)
            snprintf(dir, sizeof dir, ".");
        else if ((size_t)(slash - path) < sizeof dir)
            snprintf(dir, sizeof dir, "%.*s", (int)(slash == path ? 1 : slash - path), path);
        else
            dir[0] = '\0';
        st = ert_config_parse_text(cfg, path, buf, n, dir, err);
    }
    free(buf);
    return st;
}

ert_status ert_config_set_camera_flag(ert_config *cfg, const char *arg, ert_error *err)
{
    char where[80];
    const char *eq = strchr(arg, '=');
    char name[ERT_CFG_NAME_MAX];
    if (!eq || eq == arg || (size_t)(eq - arg) >= sizeof name)
        return ert_fail(err, ERT_EINVAL, "--camera '%s': expected NAME=SPEC (e.g. scene=replay:video.y4m)", arg);
    memcpy(name, arg, (size_t)(eq - arg));
    name[eq - arg] = '\0';
    snprintf(where, sizeof where, "--camera %s", name);
    ert_status st = check_name(where, "camera", name, err);
    if (st != ERT_OK)
        return st;
    ert_cfg_camera tmp;
    memset(&tmp, 0, sizeof tmp);
    if ((st = parse_source(where, NULL, eq + 1, tmp.source, err)) != ERT_OK)
        return st;
    ert_cfg_camera *c = camera_slot(cfg, where, name, err);
    if (!c)
        return err ? err->code : ERT_ENOMEM;
    memcpy(c->source, tmp.source, sizeof c->source);
    return ERT_OK;
}

ert_status ert_config_set_model_flag(ert_config *cfg, const char *arg, ert_error *err)
{
    char where[80];
    const char *eq = strchr(arg, '=');
    char name[ERT_CFG_NAME_MAX];
    if (!eq || eq == arg || (size_t)(eq - arg) >= sizeof name)
        return ert_fail(err, ERT_EINVAL, "--model '%s': expected NAME=BLOB[@CAMERA,...] (e.g. g2v=g2v.erb@scene)", arg);
    memcpy(name, arg, (size_t)(eq - arg));
    name[eq - arg] = '\0';
    snprintf(where, sizeof where, "--model %s", name);
    ert_status st = check_name(where, "model", name, err);
    if (st != ERT_OK)
        return st;
    ert_cfg_model tmp;
    memset(&tmp, 0, sizeof tmp);
    const char *blob = eq + 1, *at = strrchr(blob, '@');
    size_t bl = at ? (size_t)(at - blob) : strlen(blob);
    if (bl == 0 || bl >= sizeof tmp.blob)
        return ert_fail(err, ERT_EINVAL, "%s: the blob path must be 1-%zu bytes", where, sizeof tmp.blob - 1);
    memcpy(tmp.blob, blob, bl);
    tmp.blob[bl] = '\0';
    if (at && (st = parse_camera_list(where, at + 1, &tmp, err)) != ERT_OK)
        return st;
    ert_cfg_model *m = model_slot(cfg, where, name, err);
    if (!m)
        return err ? err->code : ERT_ENOMEM;
    memcpy(m->blob, tmp.blob, sizeof m->blob);
    if (at) {
        memcpy(m->cameras, tmp.cameras, sizeof m->cameras);
        m->n_cameras = tmp.n_cameras;
    }
    return ERT_OK;
}

ert_status ert_config_set_link_flag(ert_config *cfg, const char *arg, ert_error *err)
{
    char where[80];
    const char *eq = strchr(arg, '=');
    char name[ERT_CFG_NAME_MAX];
    if (!eq || eq == arg || (size_t)(eq - arg) >= sizeof name)
        return ert_fail(err, ERT_EINVAL, "--link '%s': expected NAME=PORT[@MODEL] (e.g. gripper=tty:/dev/ttyACM0:115200@g2v "
                        "or mcu=unix:/tmp/qemu-link.sock)", arg);
    memcpy(name, arg, (size_t)(eq - arg));
    name[eq - arg] = '\0';
    snprintf(where, sizeof where, "--link %s", name);
    ert_status st = check_name(where, "link", name, err);
    if (st != ERT_OK)
        return st;
    ert_config scratch; /* the slot's defaults, without touching cfg before success */
    memset(&scratch, 0, sizeof scratch);
    ert_cfg_link *t = link_slot(&scratch, where, name, err);
    char port[ERT_CFG_PATH_MAX + 16];
    const char *at = strrchr(eq + 1, '@');
    size_t pl = at ? (size_t)(at - (eq + 1)) : strlen(eq + 1);
    if (pl >= sizeof port)
        return ert_fail(err, ERT_EINVAL, "%s: the port is longer than %zu bytes", where, sizeof port - 1);
    memcpy(port, eq + 1, pl);
    port[pl] = '\0';
    if ((st = parse_port(where, NULL, port, true, t, err)) != ERT_OK)
        return st;
    if (at && (st = check_name(where, "model", at + 1, err)) != ERT_OK)
        return st;
    ert_cfg_link *l = link_slot(cfg, where, name, err);
    if (!l)
        return err ? err->code : ERT_ENOMEM;
    l->kind = t->kind;
    l->baud = t->baud;
    memcpy(l->path, t->path, sizeof l->path);
    if (at)
        ert_str_copy(l->model, sizeof l->model, at + 1);
    return ERT_OK;
}

ert_status ert_config_finish(ert_config *cfg, ert_error *err)
{
    if (cfg->n_cameras == 0) {
        ert_cfg_camera *c = &cfg->cameras[cfg->n_cameras++];
        memset(c, 0, sizeof *c);
        ert_str_copy(c->name, sizeof c->name, "scene");
        ert_str_copy(c->source, sizeof c->source, BUILTIN_CAMERA_SPEC);
        c->watchdog_ms = DEFAULT_WATCHDOG_MS;
        cfg->builtin_camera = true;
    }
    int threads = cfg->threads;
    if (threads <= 0) {
        long n = sysconf(_SC_NPROCESSORS_ONLN);
        threads = n < 1 ? 1 : n > 64 ? 64 : (int)n;
    }
    for (size_t i = 0; i < cfg->n_models; i++) {
        ert_cfg_model *m = &cfg->models[i];
        if (m->n_cameras == 0) {
            ert_str_copy(m->cameras[0], ERT_CFG_NAME_MAX, cfg->cameras[0].name);
            m->n_cameras = 1;
        }
        if (m->threads <= 0)
            m->threads = threads;
        for (size_t j = 0; j < m->n_cameras; j++)
            if (!ert_config_camera(cfg, m->cameras[j])) {
                char names[ERT_CFG_MAX_CAMERAS * ERT_CFG_NAME_MAX + 16] = "";
                for (size_t k = 0; k < cfg->n_cameras; k++) {
                    if (k)
                        strcat(names, ", ");
                    strcat(names, cfg->cameras[k].name);
                }
                return ert_fail(err, ERT_EINVAL, "model '%s': camera '%s' is not configured (cameras: %s)", m->name,
                                m->cameras[j], names);
            }
    }
    for (size_t i = 0; i < cfg->n_links; i++) {
        const ert_cfg_link *l = &cfg->links[i];
        for (size_t j = 0; j < i; j++)
            if (cfg->links[j].kind == l->kind && strcmp(cfg->links[j].path, l->path) == 0)
                return ert_fail(err, ERT_EINVAL, "link '%s': port %s is already link '%s''s", l->name, l->path,
                                cfg->links[j].name);
        if (l->model[0] && !ert_config_model(cfg, l->model))
            return ert_fail(err, ERT_EINVAL, "link '%s': model '%s' is not configured", l->name, l->model);
        if (l->timeout_ms <= l->heartbeat_ms)
            return ert_fail(err, ERT_EINVAL, "link '%s': timeout_ms %u must exceed heartbeat_ms %u (3x or more is "
                            "usual)", l->name, l->timeout_ms, l->heartbeat_ms);
    }
    return ERT_OK;
}

const ert_cfg_camera *ert_config_camera(const ert_config *cfg, const char *name)
{
    for (size_t i = 0; i < cfg->n_cameras; i++)
        if (strcmp(cfg->cameras[i].name, name) == 0)
            return &cfg->cameras[i];
    return NULL;
}

const ert_cfg_model *ert_config_model(const ert_config *cfg, const char *name)
{
    for (size_t i = 0; i < cfg->n_models; i++)
        if (strcmp(cfg->models[i].name, name) == 0)
            return &cfg->models[i];
    return NULL;
}

bool ert_cfg_camera_equal(const ert_cfg_camera *a, const ert_cfg_camera *b)
{
    return strcmp(a->name, b->name) == 0 && strcmp(a->source, b->source) == 0 && a->width == b->width &&
           a->height == b->height && a->format == b->format && a->fps == b->fps && a->loop == b->loop &&
           a->watchdog_ms == b->watchdog_ms;
}

bool ert_cfg_model_equal(const ert_cfg_model *a, const ert_cfg_model *b)
{
    if (strcmp(a->name, b->name) || strcmp(a->blob, b->blob) || a->n_cameras != b->n_cameras ||
        a->threads != b->threads)
        return false;
    for (size_t i = 0; i < a->n_cameras; i++)
        if (strcmp(a->cameras[i], b->cameras[i]))
            return false;
    return true;
}

bool ert_cfg_link_equal(const ert_cfg_link *a, const ert_cfg_link *b)
{
    return strcmp(a->name, b->name) == 0 && a->kind == b->kind && strcmp(a->path, b->path) == 0 &&
           a->baud == b->baud && strcmp(a->model, b->model) == 0 && a->heartbeat_ms == b->heartbeat_ms &&
           a->timeout_ms == b->timeout_ms && a->retransmit_ms == b->retransmit_ms && a->retries == b->retries &&
           a->reconnect_ms == b->reconnect_ms;
}

void ert_cfg_link_port(const ert_cfg_link *l, char *out, size_t cap)
{
    if (l->kind == ERT_PORT_TTY)
        snprintf(out, cap, "tty:%s:%u", l->path, (unsigned)l->baud);
    else
        snprintf(out, cap, "unix:%s", l->path);
}

ert_status ert_config_link_model(const ert_cfg_link *l, const char *const *models, const char *const *families,
                                 size_t n, char out[ERT_CFG_NAME_MAX], ert_error *err)
{
    char names[ERT_CFG_MAX_MODELS * (ERT_CFG_NAME_MAX + 16) + 16] = "";
    size_t found = 0, pick = 0;
    for (size_t i = 0; i < n; i++) {
        size_t len = strlen(names);
        snprintf(names + len, sizeof names - len, "%s%s (%s)", i ? ", " : "", models[i], families[i]);
        if (l->model[0] ? strcmp(models[i], l->model) == 0 : strcmp(families[i], "grasp2vec") == 0) {
            found++;
            pick = i;
        }
    }
    if (l->model[0] && found && strcmp(families[pick], "grasp2vec") != 0)
        return ert_fail(err, ERT_EINVAL, "link '%s': model '%s' is %s; grasp reports need a grasp2vec model", l->name,
                        l->model, families[pick]);
    if (l->model[0] && !found)
        return ert_fail(err, ERT_EINVAL, "link '%s': model '%s' is not loaded (models: %s)", l->name, l->model,
                        n ? names : "none");
    if (found != 1)
        return ert_fail(err, ERT_EINVAL, "link '%s': %s (models: %s); set model = NAME in [link %s]", l->name,
                        found ? "more than one grasp2vec model could take its grasp reports"
                              : "no grasp2vec model is loaded for its grasp reports",
                        n ? names : "none", l->name);
    ert_str_copy(out, ERT_CFG_NAME_MAX, models[pick]);
    return ERT_OK;
}
