/* `embedrt reward` per family: one file each (reward_<family>.c), sharing the parsed
 * arguments and the JSON/text output helpers. Each returns the process exit status. */
#ifndef ERT_REWARD_CLI_H
#define ERT_REWARD_CLI_H

#include "embedrt/family.h"

#include <stdbool.h>
#include <stdint.h>

#define ERT_REWARD_MAX_OVERRIDES 16

typedef struct ert_reward_args {
    const char *blob;
    const char *goal, *outcome, *pre, *post, *scene, *heatmap_out, *frame, *context, *demo, *live;
    bool has_prior, json;
    uint64_t prior_seed;
    const char *overrides[ERT_REWARD_MAX_OVERRIDES];
    int n_overrides;
    /* The blob's parameters with the overrides applied (filled by ert_reward_overrides). */
    ert_family_param *params;
    size_t n_params;
    double override_values[ERT_REWARD_MAX_OVERRIDES][16];
} ert_reward_args;

int ert_reward_overrides(ert_family_model *fm, ert_reward_args *a);
int ert_reward_grasp2vec(ert_family_model *fm, const ert_reward_args *a);
int ert_reward_rig(ert_family_model *fm, const ert_reward_args *a);
int ert_reward_ccvae(ert_family_model *fm, const ert_reward_args *a);
int ert_reward_tcn(ert_family_model *fm, const ert_reward_args *a);

/* One output line: starts the object with the family and type, ... */
void ert_reward_begin(const ert_reward_args *a, const char *family, const char *type, double reward);
/* ... adds "name": value components ... */
void ert_reward_field(const ert_reward_args *a, const char *name, double value);
/* ... and ends the line. */
void ert_reward_end(const ert_reward_args *a);

#endif
