/* embedrtd: the on-robot daemon. Today it reports versions and enumerates cameras;
 * the capture -> embed -> reward -> publish pipeline grows here. */
#include "embedrt/camera.h"
#include "embedrt/version.h"

#include <stdio.h>
#include <string.h>

static void usage(FILE *f)
{
    fputs("usage: embedrtd [--list-cameras] [--help] [--version]\n"
          "\n"
          "On-robot embedrt daemon: camera frames in, embeddings and rewards out.\n"
          "\n"
          "  --list-cameras  list the cameras libcamera finds (id, model, location) and exit;\n"
          "                  zero cameras is not an error\n"
          "  --version       print embedrt's version and the versions of its libraries\n"
          "  --help          print this text\n",
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

int main(int argc, char **argv)
{
    if (argc == 2 && strcmp(argv[1], "--version") == 0) {
        ert_version_print(stdout, "embedrtd");
        return 0;
    }
    if (argc == 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
        usage(stdout);
        return 0;
    }
    if (argc == 2 && strcmp(argv[1], "--list-cameras") == 0)
        return list_cameras();
    if (argc >= 2)
        fprintf(stderr, "embedrtd: unknown option '%s' (see embedrtd --help)\n", argv[1]);
    else
        fprintf(stderr, "embedrtd: nothing to do yet: the capture pipeline is not built (see embedrtd --help)\n");
    return 2;
}
