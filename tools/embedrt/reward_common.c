/* Shared pieces of `embedrt reward`: per-request parameter overrides and the output line. */
#include "cli.h"
#include "reward_cli.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int ert_reward_overrides(ert_family_model *fm, ert_reward_args *a)
{
    const ert_family_param *blob;
    size_t n = ert_family_params(fm, &blob);
    a->params = malloc((n ? n : 1) * sizeof *a->params);
    if (!a->params) {
        fprintf(stderr, "embedrt reward: out of memory\n");
        return 1;
    }
    memcpy(a->params, blob, n * sizeof *blob);
    a->n_params = n;
    for (int k = 0; k < a->n_overrides; k++) {
        const char *o = a->overrides[k], *eq = strchr(o, '=');
        size_t i = 0;
        while (eq && i < n && (strlen(a->params[i].key) != (size_t)(eq - o) || strncmp(a->params[i].key, o, (size_t)(eq - o))))
            i++;
        if (!eq || i == n) {
            fprintf(stderr, "embedrt reward: --param '%s': expected KEY=VALUE with a parameter of this blob "
                            "(see embedrt inspect)\n", o);
            return 2;
        }
        ert_family_param *p = &a->params[i];
        if (p->text) {
            p->text = eq + 1;
            continue;
        }
        size_t nv = 0;
        const char *s = eq + 1;
        while (*s && nv < 16) {
            char *end;
            a->override_values[k][nv] = strtod(s, &end);
            if (end == s)
                break;
            nv++;
            s = *end == ',' ? end + 1 : end;
            if (end[0] != ',' && end[0])
                break;
        }
        if (!nv || *s) {
            fprintf(stderr, "embedrt reward: --param %.*s: '%s' is not a number or comma list of numbers\n",
                    (int)(eq - o), o, eq + 1);
            return 2;
        }
        p->values = a->override_values[k];
        p->n_values = nv;
    }
    return 0;
}

static bool first_field;

void ert_reward_begin(const ert_reward_args *a, const char *family, const char *type, double reward)
{
    first_field = true;
    if (a->json)
        printf("{\"family\":\"%s\",\"type\":\"%s\",\"reward\":%.9g,\"components\":{", family, type, reward);
    else
        printf("%s %s reward %.6g:", family, type, reward);
}

void ert_reward_field(const ert_reward_args *a, const char *name, double value)
{
    if (a->json)
        printf("%s\"%s\":%.9g", first_field ? "" : ",", name, value);
    else
        printf(" %s=%.6g", name, value);
    first_field = false;
}

void ert_reward_end(const ert_reward_args *a)
{
    printf(a->json ? "}}\n" : "\n");
    fflush(stdout);
}
