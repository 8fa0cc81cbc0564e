/* Helpers shared by the subcommands: JSON strings, model loading with CLI errors. */
#include "cli.h"

#include "embedrt/model.h"

#include <stdio.h>

void ert_cli_json_str(FILE *f, const char *s)
{
    fputc('"', f);
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (*p == '"' || *p == '\\')
            fprintf(f, "\\%c", *p);
        else if (*p < 0x20)
            fprintf(f, "\\u%04x", *p);
        else
            fputc(*p, f);
    }
    fputc('"', f);
}

struct ert_model *ert_cli_load_model(const char *cmd, const char *path, int threads, struct ert_blob **blob)
{
    ert_model_options opt = {.threads = threads};
    ert_model *m;
    ert_error err;
    if (ert_model_load(path, &opt, &m, &err) != ERT_OK) {
        fprintf(stderr, "embedrt %s: %s\n", cmd, err.msg);
        return NULL;
    }
    if (blob)
        *blob = ert_model_blob(m);
    return m;
}
