/* embedrtd: the on-robot daemon. Camera frames in, embeddings and rewards out to the
 * controllers connected over a Unix socket (and optionally TCP). This file is the
 * command line, --check-config, and the start/reload/stop sequence. */
#include "config.h"
#include "embedrt/camera.h"
#include "embedrt/version.h"
#include "log.h"
#include "pipeline.h"
#include "publisher.h"
#include "server.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void usage(FILE *f)
{
    fputs("usage: embedrtd [--config FILE] [--socket PATH] [--tcp HOST:PORT|off] [--camera NAME=SPEC]...\n"
          "                [--model NAME=BLOB[@CAMERA,...]]... [--link NAME=PORT[@MODEL]]...\n"
          "                [--log-level error|warn|info|debug]\n"
          "       embedrtd --check-config FILE [same flags]\n"
          "       embedrtd --list-cameras | --version | --help\n"
          "\n"
          "On-robot embedrt daemon: camera frames in, embeddings and rewards out to controllers\n"
          "(protocol: proto/embedrt/v1/daemon.proto; clients: `embedrt client`, tools/python).\n"
          "\n"
          "  --config FILE        INI-like config: [daemon], [camera NAME], [model NAME], [link NAME]\n"
          "                       (see tools/embedrtd.conf.example); flags below override it\n"
          "  --socket PATH        Unix socket to listen on (mode 0600; default: the client default)\n"
          "  --tcp HOST:PORT|off  also listen on TCP (off by default; use 127.0.0.1 unless the\n"
          "                       network is trusted: the protocol has no authentication)\n"
          "  --camera NAME=SPEC   add or replace a camera; SPEC is libcamera:ID_OR_INDEX,\n"
          "                       replay:FILE.y4m|FOLDER or synthetic:bars|checker|noise[:WxH]\n"
          "  --model NAME=BLOB[@CAMERA,...]\n"
          "                       add or replace a model: a family blob (embedrt convert --family)\n"
          "                       bound to cameras in role order (default: the first camera)\n"
          "  --link NAME=PORT[@MODEL]\n"
          "                       add a controller link to a microcontroller (proto/embedrt/v1/\n"
          "                       link.proto): PORT is tty:DEVICE[:BAUD] (raw mode, default 115200)\n"
          "                       or unix:PATH (a listening socket, e.g. QEMU's -serial unix:...,\n"
          "                       server=on); its grasp reports go to MODEL (default: the only\n"
          "                       grasp2vec model) and the rewards come back; retried until present\n"
          "  --log-level LEVEL    error, warn, info (default) or debug; logs go to stderr\n"
          "  --check-config FILE  parse FILE and the flags, open every source and blob, print a\n"
          "                       summary and exit 0 (valid) or 1 (the first problem, with its line)\n"
          "  --list-cameras       list the cameras libcamera finds and exit (zero is not an error)\n"
          "  --version            print embedrt's version and the versions of its libraries\n"
          "  --help               print this text\n"
          "\n"
          "Without a config, embedrtd serves one built-in camera 'scene' (synthetic:bars:320x240)\n"
          "and the models given with --model. Signals: SIGTERM/SIGINT stop cleanly, SIGHUP\n"
          "reloads the config file (on any error the running configuration stays).\n",
          f);
}

static int list_cameras(void)
{
    ert_camera_info cams[16];
    size_t n = 0;
    ert_error err;
    ert_status st = ert_camera_list(cams, 16, &n, &err);
    if (st != ERT_OK) {
        fprintf(stderr, "embedrtd: %s\n", err.msg);
        return 1;
    }
    if (n == 0) {
        printf("libcamera %s: no cameras found\n", ert_camera_libcamera_version());
        return 0;
    }
    printf("libcamera %s: %zu camera%s\n", ert_camera_libcamera_version(), n, n == 1 ? "" : "s");
    for (size_t i = 0; i < n && i < 16; i++)
        printf("  [%zu] %s  model=%s location=%s\n", i, cams[i].id, cams[i].model[0] ? cams[i].model : "?",
               cams[i].location[0] ? cams[i].location : "?");
    if (n > 16)
        printf("  ... and %zu more\n", n - 16);
    return 0;
}

/* The command line, kept so that SIGHUP can re-apply it on top of the re-read file. */
typedef struct options {
    const char *config;
    bool check;
    int argc;
    char **argv;
} options;

static ert_status apply_flags(ert_config *cfg, const options *o, ert_error *err)
{
    for (int i = 1; i < o->argc; i++) {
        const char *a = o->argv[i], *v = NULL;
        char flag[32];
        const char *eq = strchr(a, '=');
        if (strncmp(a, "--", 2) == 0 && eq && (size_t)(eq - a) < sizeof flag) {
            memcpy(flag, a, (size_t)(eq - a));
            flag[eq - a] = '\0';
            v = eq + 1;
        } else {
            snprintf(flag, sizeof flag, "%s", a);
        }
        static const char *const with_value[] = {"--config", "--check-config", "--socket", "--tcp",
                                                 "--camera", "--model", "--link", "--log-level"};
        bool takes = false;
        for (size_t k = 0; k < sizeof with_value / sizeof with_value[0]; k++)
            takes |= strcmp(flag, with_value[k]) == 0;
        if (!takes)
            return ert_fail(err, ERT_EINVAL, "unknown option '%s' (see embedrtd --help)", a);
        if (!v) {
            if (i + 1 >= o->argc)
                return ert_fail(err, ERT_EINVAL, "%s needs a value (see embedrtd --help)", flag);
            v = o->argv[++i];
        }
        ert_status st = ERT_OK;
        if (strcmp(flag, "--socket") == 0)
            st = ert_config_set_socket(cfg, "--socket", v, err);
        else if (strcmp(flag, "--tcp") == 0)
            st = ert_config_set_tcp(cfg, "--tcp", v, err);
        else if (strcmp(flag, "--camera") == 0)
            st = ert_config_set_camera_flag(cfg, v, err);
        else if (strcmp(flag, "--model") == 0)
            st = ert_config_set_model_flag(cfg, v, err);
        else if (strcmp(flag, "--link") == 0)
            st = ert_config_set_link_flag(cfg, v, err);
        else if (strcmp(flag, "--log-level") == 0) {
            int l = ert_log_level_parse(v);
            if (l < 0)
                st = ert_fail(err, ERT_EINVAL, "--log-level '%s' (expected error, warn, info or debug)", v);
            else
                cfg->log_level = (ert_log_level)l;
        }
        if (st != ERT_OK)
            return st;
    }
    return ERT_OK;
}

static ert_status load_config(ert_config *cfg, const options *o, ert_error *err)
{
    ert_config_defaults(cfg);
    ert_status st = ERT_OK;
    if (o->config)
        st = ert_config_parse_file(cfg, o->config, err);
    if (st == ERT_OK)
        st = apply_flags(cfg, o, err);
    if (st == ERT_OK)
        st = ert_config_finish(cfg, err);
    return st;
}

typedef struct daemon_ctx {
    const options *opt;
    const ert_config *cfg; /* as started: what a reload cannot change is compared with it */
    ert_pipeline *pl;
    ert_server *srv;
} daemon_ctx;

static ert_status reload(void *arg, ert_error *err)
{
    daemon_ctx *d = arg;
    ert_config *cfg = malloc(sizeof *cfg);
    if (!cfg)
        return ert_fail(err, ERT_ENOMEM, "reload: out of memory");
    ert_status st = load_config(cfg, d->opt, err);
    if (st == ERT_OK)
        st = ert_pipeline_reload(d->pl, cfg, err);
    bool links_changed = st == ERT_OK && cfg->n_links != d->cfg->n_links;
    for (size_t i = 0; st == ERT_OK && !links_changed && i < cfg->n_links; i++)
        links_changed = !ert_cfg_link_equal(&cfg->links[i], &d->cfg->links[i]);
    if (links_changed)
        ert_log(ERT_LOG_WARN, "reload: the [link] settings changed; they apply at the next restart");
    if (st == ERT_OK) {
        ert_log_set_level(cfg->log_level);
        ert_server_update(d->srv, cfg);
        ert_log(ERT_LOG_INFO, "reloaded %s: %zu camera%s, %zu model%s (socket, tcp and queue settings need a restart)",
                d->opt->config ? d->opt->config : "the command line", cfg->n_cameras, cfg->n_cameras == 1 ? "" : "s",
                cfg->n_models, cfg->n_models == 1 ? "" : "s");
    }
    free(cfg);
    return st;
}

int main(int argc, char **argv)
{
    options o = {.argc = argc, .argv = argv};
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--version") == 0) {
            ert_version_print(stdout, "embedrtd");
            return 0;
        }
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            usage(stdout);
            return 0;
        }
        if (strcmp(a, "--list-cameras") == 0)
            return list_cameras();
        const char *v = NULL;
        bool check = false;
        if (strcmp(a, "--config") == 0 || strcmp(a, "--check-config") == 0)
            v = i + 1 < argc ? argv[i + 1] : NULL, check = a[2] == 'c' && a[3] == 'h';
        else if (strncmp(a, "--config=", 9) == 0)
            v = a + 9;
        else if (strncmp(a, "--check-config=", 15) == 0)
            v = a + 15, check = true;
        if (v) {
            o.config = v;
            o.check |= check;
        }
    }
    ert_config *cfg = malloc(sizeof *cfg);
    if (!cfg) {
        fputs("embedrtd: out of memory\n", stderr);
        return 1;
    }
    ert_error err;
    if (load_config(cfg, &o, &err) != ERT_OK) {
        fprintf(stderr, "embedrtd: %s\n", err.msg);
        free(cfg);
        return o.check || err.code != ERT_EINVAL || !strstr(err.msg, "option") ? 1 : 2;
    }
    ert_log_set_level(cfg->log_level);
    if (o.check) {
        ert_status st = ert_pipeline_check(cfg, stdout, &err);
        if (st != ERT_OK) {
            fprintf(stderr, "embedrtd: %s\n", err.msg);
            free(cfg);
            return 1;
        }
        char tcp[96] = "";
        if (cfg->tcp)
            snprintf(tcp, sizeof tcp, ", tcp %s:%u", cfg->tcp_host, cfg->tcp_port);
        printf("daemon socket %s (mode %04o)%s, queue depth %u, max frame %u bytes, log %s: config OK\n",
               cfg->socket_path, cfg->socket_mode, tcp, cfg->client_queue_depth, cfg->max_frame_bytes,
               ert_log_level_name(cfg->log_level));
        free(cfg);
        return 0;
    }

    ert_server *srv = NULL;
    ert_pub *pub = NULL;
    ert_pipeline *pl = NULL;
    int rc = 1;
    if (ert_server_open(cfg, &srv, &err) != ERT_OK || ert_pub_create(cfg->client_queue_depth,
                                                                      ert_server_wake_fd(srv), &pub, &err) != ERT_OK ||
        ert_pipeline_create(cfg, pub, &pl, &err) != ERT_OK || ert_pipeline_start(pl, &err) != ERT_OK ||
        ert_server_open_links(srv, pl, pub, &err) != ERT_OK) {
        ert_log(ERT_LOG_ERROR, "%s", err.msg);
    } else {
        char tcp[96] = "";
        if (cfg->tcp)
            snprintf(tcp, sizeof tcp, " and tcp %s:%u", cfg->tcp_host, cfg->tcp_port);
        ert_log(ERT_LOG_INFO, "embedrtd %s serving on %s%s: %zu camera%s, %zu model%s, %zu link%s", ert_version_git(),
                cfg->socket_path, tcp, cfg->n_cameras, cfg->n_cameras == 1 ? "" : "s", cfg->n_models,
                cfg->n_models == 1 ? "" : "s", cfg->n_links, cfg->n_links == 1 ? "" : "s");
        daemon_ctx d = {&o, cfg, pl, srv};
        ert_server_run(srv, pl, pub, reload, &d);
        rc = 0;
    }
    ert_pipeline_free(pl);
    ert_server_close(srv);
    ert_pub_free(pub);
    if (rc == 0)
        ert_log(ERT_LOG_INFO, "stopped");
    free(cfg);
    return rc;
}
