/* embedrtd's config parser: defaults, every section, flags, and hostile files that must
 * fail with the file, the line and what was expected. */
#include "harness.h"

#include "config.h"
#include "embedrt/util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static ert_config *cfg_new(void)
{
    ert_config *c = malloc(sizeof *c);
    ert_config_defaults(c);
    return c;
}

static ert_status parse(ert_config *c, const char *text, ert_error *err)
{
    return ert_config_parse_text(c, "embedrtd.conf", text, strlen(text), "/etc/embedrt", err);
}

static void test_config_defaults(void)
{
    ert_config *c = cfg_new();
    CU_ASSERT_EQUAL(c->socket_mode, 0600);
    CU_ASSERT_EQUAL(c->client_queue_depth, 256);
    CU_ASSERT_FALSE(c->tcp);
    CU_ASSERT_STRING_EQUAL(c->tcp_host, "127.0.0.1");
    CU_ASSERT_EQUAL(c->log_level, ERT_LOG_INFO);
    CU_ASSERT(strlen(c->socket_path) > 0);
    ert_error err;
    CU_ASSERT_EQUAL(ert_config_finish(c, &err), ERT_OK);
    CU_ASSERT_EQUAL(c->n_cameras, 1);
    CU_ASSERT_STRING_EQUAL(c->cameras[0].name, "scene");
    CU_ASSERT_TRUE(c->builtin_camera);
    free(c);
}

static void test_config_full_file(void)
{
    ert_config *c = cfg_new();
    ert_error err;
    const char *text = "# embedrtd\n"
                       "[daemon]\n"
                       "socket = /run/embedrt/d.sock\n"
                       "socket_mode = 0660\n"
                       "tcp = 127.0.0.1:7878\n"
                       "threads = 2\n"
                       "client_queue_depth = 64\n"
                       "max_frame_bytes = 65536\n"
                       "log_level = debug\n"
                       "stats_interval_ms = 500\n"
                       "\n"
                       "[camera scene]\n"
                       "source = replay:videos/scene.y4m\n"
                       "width = 640\n"
                       "height = 480\n"
                       "format = yuv420\n"
                       "fps = max\n"
                       "loop = yes\n"
                       "watchdog_ms = 750\n"
                       "[camera wrist]\n"
                       "  source = synthetic:bars:63x47   ; comment-like text stays in the value\n"
                       "[model g2v]\n"
                       "blob = /opt/g2v.erb\n"
                       "cameras = scene , wrist\n"
                       "threads = 3\n"
                       "[model rig]\n"
                       "blob = rig.erb\n";
    CU_ASSERT_EQUAL_FATAL(parse(c, text, &err), ERT_OK);
    CU_ASSERT_STRING_EQUAL(c->socket_path, "/run/embedrt/d.sock");
    CU_ASSERT_EQUAL(c->socket_mode, 0660);
    CU_ASSERT_TRUE(c->tcp);
    CU_ASSERT_EQUAL(c->tcp_port, 7878);
    CU_ASSERT_EQUAL(c->threads, 2);
    CU_ASSERT_EQUAL(c->client_queue_depth, 64);
    CU_ASSERT_EQUAL(c->max_frame_bytes, 65536);
    CU_ASSERT_EQUAL(c->log_level, ERT_LOG_DEBUG);
    CU_ASSERT_EQUAL(c->stats_interval_ms, 500);
    CU_ASSERT_EQUAL_FATAL(c->n_cameras, 2);
    CU_ASSERT_STRING_EQUAL(c->cameras[0].source, "replay:/etc/embedrt/videos/scene.y4m");
    CU_ASSERT_EQUAL(c->cameras[0].width, 640);
    CU_ASSERT_EQUAL(c->cameras[0].height, 480);
    CU_ASSERT_EQUAL(c->cameras[0].format, ERT_PIX_YUV420);
    CU_ASSERT(c->cameras[0].fps < 0);
    CU_ASSERT_TRUE(c->cameras[0].loop);
    CU_ASSERT_EQUAL(c->cameras[0].watchdog_ms, 750);
    CU_ASSERT_STRING_EQUAL(c->cameras[1].source, "synthetic:bars:63x47   ; comment-like text stays in the value");
    CU_ASSERT_EQUAL(c->cameras[1].watchdog_ms, 2000);
    CU_ASSERT_EQUAL_FATAL(c->n_models, 2);
    CU_ASSERT_STRING_EQUAL(c->models[0].blob, "/opt/g2v.erb");
    CU_ASSERT_EQUAL(c->models[0].n_cameras, 2);
    CU_ASSERT_STRING_EQUAL(c->models[0].cameras[1], "wrist");
    CU_ASSERT_EQUAL(c->models[0].threads, 3);
    CU_ASSERT_STRING_EQUAL(c->models[1].blob, "/etc/embedrt/rig.erb");
    CU_ASSERT_EQUAL_FATAL(ert_config_finish(c, &err), ERT_OK);
    CU_ASSERT_FALSE(c->builtin_camera);
    CU_ASSERT_EQUAL(c->models[1].n_cameras, 1);
    CU_ASSERT_STRING_EQUAL(c->models[1].cameras[0], "scene");
    CU_ASSERT_EQUAL(c->models[1].threads, 2);
    free(c);
}

/* Each bad file fails with exactly this message. */
static void expect_error(const char *text, const char *msg)
{
    ert_config *c = cfg_new();
    ert_error err;
    ert_status st = parse(c, text, &err);
    CU_ASSERT_NOT_EQUAL(st, ERT_OK);
    if (st == ERT_OK)
        fprintf(stderr, "accepted: %s\n", text);
    else
        CU_ASSERT_STRING_EQUAL(err.msg, msg);
    free(c);
}

static void test_config_errors_name_line_section_and_expectation(void)
{
    expect_error("[camera scene]\nsource = synthetic:bars\nfsp = 30\n",
                 "embedrtd.conf:3: camera 'scene': unknown key 'fsp' (expected source, width, height, format, fps, "
                 "loop, watchdog_ms)");
    expect_error("[daemon]\nsockt = /x\n",
                 "embedrtd.conf:2: daemon: unknown key 'sockt' (expected socket, socket_mode, tcp, threads, "
                 "client_queue_depth, max_frame_bytes, log_level, stats_interval_ms)");
    expect_error("[model g2v]\nblob = a.erb\ncamera = scene\n",
                 "embedrtd.conf:3: model 'g2v': unknown key 'camera' (expected blob, cameras, threads)");
    expect_error("\n\n[cameras x]\n", "embedrtd.conf:3: unknown section [cameras x] (expected [daemon], [camera NAME], "
                                      "[model NAME] or [link NAME])");
    expect_error("[daemon]\nclient_queue_depth = 99999999999999999999\n",
                 "embedrtd.conf:2: daemon: client_queue_depth = '99999999999999999999' is not a whole number in "
                 "[4, 65536]");
    expect_error("[daemon]\nthreads = -1\n",
                 "embedrtd.conf:2: daemon: threads = '-1' is not a whole number in [0, 64]");
    expect_error("[camera a]\nsource = synthetic:bars\nwidth = 12x\n",
                 "embedrtd.conf:3: camera 'a': width = '12x' is not a whole number in [1, 32768]");
    expect_error("[camera a]\nsource = synthetic:bars\nfps = nan\n",
                 "embedrtd.conf:3: camera 'a': fps = 'nan' is not a rate in [0, 1000] or 'max'");
    expect_error("[camera a]\nsource = v4l2:/dev/video0\n",
                 "embedrtd.conf:2: camera 'a': source = 'v4l2:/dev/video0' has an unknown kind (expected "
                 "libcamera:ID, replay:PATH or synthetic:PATTERN[:WxH])");
    expect_error("[camera a]\nsource = synthetic:bars\nformat = rgb\n",
                 "embedrtd.conf:3: camera 'a': format = 'rgb' (expected rgb24, bgr24, gray8, yuv420, nv12 or yuyv)");
    expect_error("[camera a]\nsource = synthetic:bars\nsource = synthetic:noise\n",
                 "embedrtd.conf:3: camera 'a': key 'source' is set twice");
    expect_error("[camera a]\nsource = synthetic:bars\n[camera a]\n",
                 "embedrtd.conf:3: camera 'a' is defined twice");
    expect_error("socket = /x\n", "embedrtd.conf:1: key 'socket' before any section (start with [daemon], [camera "
                                  "NAME] or [model NAME])");
    expect_error("[daemon]\njust words\n", "embedrtd.conf:2: 'just words' is not KEY = VALUE or a [section]");
    expect_error("[daemon]\ntcp = 0.0.0.0\n",
                 "embedrtd.conf:2: daemon: tcp = '0.0.0.0' is not off or HOST:PORT (e.g. 127.0.0.1:7878)");
    expect_error("[daemon]\ntcp = 127.0.0.1:70000\n",
                 "embedrtd.conf:2: daemon: tcp port = '70000' is not a whole number in [1, 65535]");
    expect_error("[daemon]\nsocket_mode = 0400\n",
                 "embedrtd.conf:2: daemon: socket_mode = '0400' is not an octal mode in [0600, 0777] that lets the "
                 "owner read and write");
    expect_error("[daemon]\nlog_level = verbose\n",
                 "embedrtd.conf:2: daemon: log_level = 'verbose' (expected error, warn, info or debug)");
    expect_error("[camera sc/ene]\n", "embedrtd.conf:1: camera name 'sc/ene' must be 1-31 characters of A-Z a-z 0-9 "
                                      "_ - .");
    expect_error("[camera a]\nwidth = 5\n", "embedrtd.conf: camera 'a' has no source (e.g. source = "
                                            "replay:video.y4m)");
    expect_error("[model m]\ncameras = a, , b\n",
                 "embedrtd.conf:2: model 'm': cameras = 'a, , b' must list camera names separated by commas");
    expect_error("[daemon]\nsocket =\n", "embedrtd.conf:2: daemon: key 'socket' has no value");
    expect_error("[daemon]\n[daemon]\n", "embedrtd.conf:2: second [daemon] section");
}

static void test_config_rejects_binary_and_long_lines(void)
{
    ert_config *c = cfg_new();
    ert_error err;
    const char nul[] = "[daemon]\nthreads = 1\0\n";
    CU_ASSERT_EQUAL(ert_config_parse_text(c, "x.conf", nul, sizeof nul - 1, NULL, &err), ERT_EFORMAT);
    CU_ASSERT_STRING_EQUAL(err.msg, "x.conf:2: NUL byte in a text file");
    CU_ASSERT_EQUAL(ert_config_parse_text(c, "x.conf", "[daemon]\x01\n", 10, NULL, &err), ERT_EFORMAT);
    CU_ASSERT_STRING_EQUAL(err.msg, "x.conf:1: control character 0x01 in a text file");
    char *big = malloc(5000);
    memset(big, 'a', 4999);
    big[4999] = '\0';
    CU_ASSERT_EQUAL(ert_config_parse_text(c, "x.conf", big, 4999, NULL, &err), ERT_EFORMAT);
    CU_ASSERT_STRING_EQUAL(err.msg, "x.conf:1: line longer than 1024 bytes");
    free(big);
    free(c);
}

static void test_config_limits_sections(void)
{
    ert_config *c = cfg_new();
    ert_error err;
    char text[4096] = "";
    for (int i = 0; i < 9; i++)
        snprintf(text + strlen(text), sizeof text - strlen(text), "[camera c%d]\nsource = synthetic:bars\n", i);
    CU_ASSERT_EQUAL(parse(c, text, &err), ERT_ENOMEM);
    CU_ASSERT_STRING_EQUAL(err.msg, "embedrtd.conf:17: camera 'c8': more than 8 cameras");
    free(c);
}

static void test_config_flags_extend_and_override(void)
{
    ert_config *c = cfg_new();
    ert_error err;
    CU_ASSERT_EQUAL_FATAL(parse(c, "[camera scene]\nsource = synthetic:bars\nfps = 5\n", &err), ERT_OK);
    CU_ASSERT_EQUAL(ert_config_set_camera_flag(c, "scene=replay:v.y4m", &err), ERT_OK);
    CU_ASSERT_EQUAL(ert_config_set_camera_flag(c, "wrist=synthetic:checker:33x17", &err), ERT_OK);
    CU_ASSERT_EQUAL(ert_config_set_model_flag(c, "g2v=g2v.erb@scene,wrist", &err), ERT_OK);
    CU_ASSERT_EQUAL(ert_config_set_model_flag(c, "rig=rig.erb", &err), ERT_OK);
    CU_ASSERT_EQUAL(ert_config_set_tcp(c, "--tcp", "localhost:9000", &err), ERT_OK);
    CU_ASSERT_EQUAL(ert_config_set_socket(c, "--socket", "unix:/tmp/x.sock", &err), ERT_OK);
    CU_ASSERT_EQUAL_FATAL(c->n_cameras, 2);
    CU_ASSERT_STRING_EQUAL(c->cameras[0].source, "replay:v.y4m");
    CU_ASSERT_EQUAL(c->cameras[0].fps, 5); /* the file's other keys stay */
    CU_ASSERT_EQUAL(c->models[0].n_cameras, 2);
    CU_ASSERT_STRING_EQUAL(c->tcp_host, "localhost");
    CU_ASSERT_EQUAL(c->tcp_port, 9000);
    CU_ASSERT_STRING_EQUAL(c->socket_path, "/tmp/x.sock");
    CU_ASSERT_EQUAL(ert_config_finish(c, &err), ERT_OK);
    CU_ASSERT_STRING_EQUAL(c->models[1].cameras[0], "scene");

    CU_ASSERT_EQUAL(ert_config_set_model_flag(c, "bad=x.erb@nowhere", &err), ERT_OK);
    CU_ASSERT_EQUAL(ert_config_finish(c, &err), ERT_EINVAL);
    CU_ASSERT_STRING_EQUAL(err.msg, "model 'bad': camera 'nowhere' is not configured (cameras: scene, wrist)");
    CU_ASSERT_EQUAL(ert_config_set_model_flag(c, "g2v", &err), ERT_EINVAL);
    CU_ASSERT_STRING_EQUAL(err.msg, "--model 'g2v': expected NAME=BLOB[@CAMERA,...] (e.g. g2v=g2v.erb@scene)");
    CU_ASSERT_EQUAL(ert_config_set_camera_flag(c, "=synthetic:bars", &err), ERT_EINVAL);
    CU_ASSERT_EQUAL(ert_config_set_tcp(c, "--tcp", "off", &err), ERT_OK);
    CU_ASSERT_FALSE(c->tcp);
    free(c);
}

static void test_config_links(void)
{
    ert_config *c = cfg_new();
    ert_error err;
    const char *text = "[model g2v]\nblob = g.erb\n"
                       "[link gripper]\nport = tty:/dev/ttyACM0\nbaud = 921600\nmodel = g2v\nheartbeat_ms = 100\n"
                       "timeout_ms = 400\nretransmit_ms = 50\nretries = 3\nreconnect_ms = 250\n"
                       "[link qemu]\nport = unix:run/link.sock\n";
    CU_ASSERT_EQUAL_FATAL(parse(c, text, &err), ERT_OK);
    CU_ASSERT_EQUAL(ert_config_finish(c, &err), ERT_OK);
    CU_ASSERT_EQUAL_FATAL(c->n_links, 2);
    const ert_cfg_link *g = &c->links[0], *q = &c->links[1];
    CU_ASSERT_STRING_EQUAL(g->name, "gripper");
    CU_ASSERT_EQUAL(g->kind, ERT_PORT_TTY);
    CU_ASSERT_STRING_EQUAL(g->path, "/dev/ttyACM0");
    CU_ASSERT_EQUAL(g->baud, 921600);
    CU_ASSERT_STRING_EQUAL(g->model, "g2v");
    CU_ASSERT_EQUAL(g->heartbeat_ms, 100);
    CU_ASSERT_EQUAL(g->timeout_ms, 400);
    CU_ASSERT_EQUAL(g->retransmit_ms, 50);
    CU_ASSERT_EQUAL(g->retries, 3);
    CU_ASSERT_EQUAL(g->reconnect_ms, 250);
    /* Defaults, and a relative socket path resolved against the config's folder. */
    CU_ASSERT_EQUAL(q->kind, ERT_PORT_UNIX);
    CU_ASSERT_STRING_EQUAL(q->path, "/etc/embedrt/run/link.sock");
    CU_ASSERT_EQUAL(q->baud, 115200);
    CU_ASSERT_EQUAL(q->heartbeat_ms, 200);
    CU_ASSERT_EQUAL(q->timeout_ms, 1500);
    CU_ASSERT_EQUAL(q->retries, 10);
    char port[300];
    ert_cfg_link_port(g, port, sizeof port);
    CU_ASSERT_STRING_EQUAL(port, "tty:/dev/ttyACM0:921600");

    /* The flag form: a baud suffix on tty ports only, a model after '@'; it replaces a link. */
    CU_ASSERT_EQUAL(ert_config_set_link_flag(c, "gripper=tty:/dev/serial/by-id/usb-x:if00:57600@g2v", &err), ERT_OK);
    CU_ASSERT_STRING_EQUAL(g->path, "/dev/serial/by-id/usb-x:if00");
    CU_ASSERT_EQUAL(g->baud, 57600);
    CU_ASSERT_EQUAL(ert_config_set_link_flag(c, "s=unix:/tmp/a:5", &err), ERT_OK);
    CU_ASSERT_STRING_EQUAL(c->links[2].path, "/tmp/a:5");
    CU_ASSERT_EQUAL(ert_config_set_link_flag(c, "bad=tty:/dev/ttyS0:1234", &err), ERT_EINVAL);
    CU_ASSERT_STRING_EQUAL(err.msg, "--link bad: baud = '1234' is not a serial speed (expected 9600, 19200, 38400, "
                                    "57600, 115200, 230400, 460800, 500000, 576000, 921600 or 1000000-4000000)");
    CU_ASSERT_EQUAL(c->n_links, 3); /* a refused flag adds nothing */
    CU_ASSERT_EQUAL(ert_config_set_link_flag(c, "nolink", &err), ERT_EINVAL);
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "expected NAME=PORT[@MODEL]"));
    CU_ASSERT_EQUAL(ert_config_set_link_flag(c, "x=tty:", &err), ERT_EINVAL);
    CU_ASSERT_STRING_EQUAL(err.msg, "--link x: port = 'tty:' needs a device path after the colon");

    /* Cross checks at finish. */
    CU_ASSERT_EQUAL(ert_config_set_link_flag(c, "twin=tty:/dev/serial/by-id/usb-x:if00", &err), ERT_OK);
    CU_ASSERT_EQUAL(ert_config_finish(c, &err), ERT_EINVAL);
    CU_ASSERT_STRING_EQUAL(err.msg, "link 'twin': port /dev/serial/by-id/usb-x:if00 is already link 'gripper''s");
    free(c);

    c = cfg_new();
    CU_ASSERT_EQUAL(parse(c, "[link a]\nport = unix:/x\nmodel = nope\n", &err), ERT_OK);
    CU_ASSERT_EQUAL(ert_config_finish(c, &err), ERT_EINVAL);
    CU_ASSERT_STRING_EQUAL(err.msg, "link 'a': model 'nope' is not configured");
    free(c);
    c = cfg_new();
    CU_ASSERT_EQUAL(parse(c, "[link a]\nport = unix:/x\nheartbeat_ms = 500\ntimeout_ms = 500\n", &err), ERT_OK);
    CU_ASSERT_EQUAL(ert_config_finish(c, &err), ERT_EINVAL);
    CU_ASSERT_STRING_EQUAL(err.msg, "link 'a': timeout_ms 500 must exceed heartbeat_ms 500 (3x or more is usual)");
    free(c);

    expect_error("[link a]\nbaud = 9600\n", "embedrtd.conf: link 'a' has no port (e.g. port = tty:/dev/ttyACM0)");
    expect_error("[link a]\nport = com1\n", "embedrtd.conf:2: link 'a': port = 'com1' has an unknown kind (expected "
                                            "tty:DEVICE or unix:PATH)");
    expect_error("[link a]\nport = unix:/x\nparity = even\n",
                 "embedrtd.conf:3: link 'a': unknown key 'parity' (expected port, baud, model, heartbeat_ms, "
                 "timeout_ms, retransmit_ms, retries, reconnect_ms)");
    expect_error("[link a]\nport = unix:/x\n[link a]\n", "embedrtd.conf:3: link 'a' is defined twice");
    expect_error("[link a]\nport = unix:/x\nretries = 256\n",
                 "embedrtd.conf:3: link 'a': retries = '256' is not a whole number in [0, 255]");

    /* Which model a link's grasp reports go to. */
    const char *names[] = {"g2v", "rig", "g2"}, *fams[] = {"grasp2vec", "rig", "grasp2vec"};
    ert_cfg_link l;
    memset(&l, 0, sizeof l);
    ert_str_copy(l.name, sizeof l.name, "mcu");
    char model[ERT_CFG_NAME_MAX];
    CU_ASSERT_EQUAL(ert_config_link_model(&l, names, fams, 2, model, &err), ERT_OK);
    CU_ASSERT_STRING_EQUAL(model, "g2v");
    CU_ASSERT_EQUAL(ert_config_link_model(&l, names, fams, 3, model, &err), ERT_EINVAL);
    CU_ASSERT_STRING_EQUAL(err.msg, "link 'mcu': more than one grasp2vec model could take its grasp reports (models: "
                                    "g2v (grasp2vec), rig (rig), g2 (grasp2vec)); set model = NAME in [link mcu]");
    ert_str_copy(l.model, sizeof l.model, "g2");
    CU_ASSERT_EQUAL(ert_config_link_model(&l, names, fams, 3, model, &err), ERT_OK);
    CU_ASSERT_STRING_EQUAL(model, "g2");
    ert_str_copy(l.model, sizeof l.model, "rig");
    CU_ASSERT_EQUAL(ert_config_link_model(&l, names, fams, 3, model, &err), ERT_EINVAL);
    CU_ASSERT_STRING_EQUAL(err.msg, "link 'mcu': model 'rig' is rig; grasp reports need a grasp2vec model");
    CU_ASSERT_EQUAL(ert_config_link_model(&l, names + 2, fams + 2, 1, model, &err), ERT_EINVAL);
    CU_ASSERT_STRING_EQUAL(err.msg, "link 'mcu': model 'rig' is not loaded (models: g2 (grasp2vec))");
    memset(l.model, 0, sizeof l.model);
    CU_ASSERT_EQUAL(ert_config_link_model(&l, names + 1, fams + 1, 1, model, &err), ERT_EINVAL);
    CU_ASSERT_STRING_EQUAL(err.msg, "link 'mcu': no grasp2vec model is loaded for its grasp reports (models: rig "
                                    "(rig)); set model = NAME in [link mcu]");
}

static void test_config_equality_drives_reload(void)
{
    ert_config *a = cfg_new(), *b = cfg_new();
    ert_error err;
    const char *t = "[camera s]\nsource = synthetic:bars\n[model m]\nblob = m.erb\n";
    CU_ASSERT_EQUAL_FATAL(parse(a, t, &err), ERT_OK);
    CU_ASSERT_EQUAL_FATAL(parse(b, t, &err), ERT_OK);
    CU_ASSERT_TRUE(ert_cfg_camera_equal(&a->cameras[0], &b->cameras[0]));
    CU_ASSERT_TRUE(ert_cfg_model_equal(&a->models[0], &b->models[0]));
    b->cameras[0].watchdog_ms = 10;
    snprintf(b->models[0].blob, sizeof b->models[0].blob, "other.erb");
    CU_ASSERT_FALSE(ert_cfg_camera_equal(&a->cameras[0], &b->cameras[0]));
    CU_ASSERT_FALSE(ert_cfg_model_equal(&a->models[0], &b->models[0]));
    free(a);
    free(b);
}

static const ert_test_case cases[] = {
    ERT_TEST(test_config_defaults),
    ERT_TEST(test_config_full_file),
    ERT_TEST(test_config_errors_name_line_section_and_expectation),
    ERT_TEST(test_config_rejects_binary_and_long_lines),
    ERT_TEST(test_config_limits_sections),
    ERT_TEST(test_config_flags_extend_and_override),
    ERT_TEST(test_config_equality_drives_reload),
    ERT_TEST(test_config_links),
    ERT_TEST_END,
};
const ert_test_suite ert_suite_daemon_config = {"daemon_config", cases};
