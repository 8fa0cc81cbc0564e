/* libFuzzer target: embedrtd's config parser on hostile text. The first byte picks how the
 * rest is used: as a whole config file (then finished, as the daemon does after its flags),
 * or as one command-line value (--camera, --model, --tcp, --socket, --link). Nothing may crash,
 * read past the input or leave a message that is not a terminated line. */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static void check_msg(ert_status st, const ert_error *err)
{
    if (st != ERT_OK && (strnlen(err->msg, ERT_ERROR_MAX) == ERT_ERROR_MAX || err->msg[0] == '\0'))
        __builtin_trap();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0)
        return 0;
    static ert_config cfg; /* large: keep it off the stack */
    ert_config_defaults(&cfg);
    ert_error err;
    ert_status st;
    const char *text = (const char *)data + 1;
    size_t len = size - 1;
    switch (data[0] % 6) {
    case 0:
        st = ert_config_parse_text(&cfg, "fuzz.conf", text, len, "/srv/embedrt", &err);
        check_msg(st, &err);
        if (st == ERT_OK) {
            st = ert_config_finish(&cfg, &err);
            check_msg(st, &err);
        }
        return 0;
    default: {
        /* Flags arrive as C strings. */
        char *arg = malloc(len + 1);
        if (!arg)
            return 0;
        memcpy(arg, text, len);
        arg[len] = '\0';
        switch (data[0] % 6) {
        case 1: st = ert_config_set_camera_flag(&cfg, arg, &err); break;
        case 2: st = ert_config_set_model_flag(&cfg, arg, &err); break;
        case 3: st = ert_config_set_tcp(&cfg, "--tcp", arg, &err); break;
        case 5: st = ert_config_set_link_flag(&cfg, arg, &err); break;
        default: st = ert_config_set_socket(&cfg, "--socket", arg, &err); break;
        }
        check_msg(st, &err);
        if (st == ERT_OK) {
            st = ert_config_finish(&cfg, &err);
            check_msg(st, &err);
        }
        free(arg);
        return 0;
    }
    }
}
