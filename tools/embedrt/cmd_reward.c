/* `embedrt reward`: a family's reward offline, from image files or videos, through the
 * same code the daemon runs. One JSON object per line (per live frame for videos). */
#include "cli.h"

#include "reward_cli.h"

#include "embedrt/family.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void usage(FILE *f)
{
    fputs("usage: embedrt reward BLOB.erb [options] [--param KEY=VALUE]... [--json]\n"
          "\n"
          "grasp2vec:  --goal IMG --outcome IMG              outcome reward sim(phi_o(goal), phi_o(outcome))\n"
          "            --goal IMG --pre IMG --post IMG       scene-difference reward sim(phi_o(goal), phi_s(pre) - phi_s(post))\n"
          "            --goal IMG --scene IMG [--heatmap-out FILE.npy]\n"
          "                                                  goal heatmap over the scene, softmax keypoint\n"
          "rig:        --goal IMG --frame IMG                -||z_goal - mu(frame)||_p and components\n"
          "            --prior-goal SEED --frame IMG         imagined goal sampled with SEED\n"
          "ccvae:      --context IMG --frame IMG (--goal IMG | --prior-goal SEED)\n"
          "tcn:        --demo VIDEO.y4m|EMB.npy --live VIDEO.y4m   imitation reward, one line per live frame\n"
          "\n"
          "Images: PPM/PGM/PNG/JPEG; videos: YUV4MPEG2 (.y4m). Preprocessing and parameters come\n"
          "from the blob; --param KEY=VALUE overrides a parameter for this request (see embedrt inspect).\n"
          "Output: one JSON object per line with the reward, its components and the embeddings' norms\n"
          "(--json is the default when stdout is not a terminal).\n",
          f);
}

int ert_cmd_reward(int argc, char **argv)
{
    ert_reward_args a;
    memset(&a, 0, sizeof a);
    a.json = !isatty(STDOUT_FILENO);
    for (int i = 1; i < argc; i++) {
        const char *o = argv[i], *val = i + 1 < argc ? argv[i + 1] : NULL;
        if (strcmp(o, "--help") == 0 || strcmp(o, "-h") == 0) {
            usage(stdout);
            return 0;
        } else if (strcmp(o, "--json") == 0) {
            a.json = true;
            continue;
        } else if (o[0] != '-') {
            if (a.blob) {
                fprintf(stderr, "embedrt reward: unexpected argument '%s'\n", o);
                return 2;
            }
            a.blob = o;
            continue;
        }
        if (!val) {
            fprintf(stderr, "embedrt reward: %s needs a value (see embedrt reward --help)\n", o);
            return 2;
        }
        const char **slot = strcmp(o, "--goal") == 0          ? &a.goal
                            : strcmp(o, "--outcome") == 0     ? &a.outcome
                            : strcmp(o, "--pre") == 0         ? &a.pre
                            : strcmp(o, "--post") == 0        ? &a.post
                            : strcmp(o, "--scene") == 0       ? &a.scene
                            : strcmp(o, "--heatmap-out") == 0 ? &a.heatmap_out
                            : strcmp(o, "--frame") == 0       ? &a.frame
                            : strcmp(o, "--context") == 0     ? &a.context
                            : strcmp(o, "--demo") == 0        ? &a.demo
                            : strcmp(o, "--live") == 0        ? &a.live
                                                              : NULL;
        if (slot) {
            *slot = val;
        } else if (strcmp(o, "--prior-goal") == 0) {
            char *end;
            unsigned long long s = strtoull(val, &end, 0);
            if (!*val || *end) {
                fprintf(stderr, "embedrt reward: --prior-goal needs an integer seed, got '%s'\n", val);
                return 2;
            }
            a.prior_seed = s;
            a.has_prior = true;
        } else if (strcmp(o, "--param") == 0) {
            if (a.n_overrides == ERT_REWARD_MAX_OVERRIDES) {
                fprintf(stderr, "embedrt reward: too many --param options\n");
                return 2;
            }
            a.overrides[a.n_overrides++] = val;
        } else {
            fprintf(stderr, "embedrt reward: unknown option '%s' (see embedrt reward --help)\n", o);
            return 2;
        }
        i++;
    }
    if (!a.blob) {
        fprintf(stderr, "embedrt reward: need BLOB.erb (see embedrt reward --help)\n");
        return 2;
    }
    ert_error err;
    ert_family_model *fm = NULL;
    if (ert_family_load(a.blob, NULL, &fm, &err) != ERT_OK) {
        fprintf(stderr, "embedrt reward: %s\n", err.msg);
        return 1;
    }
    /* Overrides: the blob's parameters with --param applied, for the family's parser. */
    int rc = ert_reward_overrides(fm, &a);
    if (rc == 0) {
        const char *fam = ert_family_desc_of(fm)->name;
        if (strcmp(fam, "grasp2vec") == 0)
            rc = ert_reward_grasp2vec(fm, &a);
        else if (strcmp(fam, "rig") == 0)
            rc = ert_reward_rig(fm, &a);
        else if (strcmp(fam, "ccvae") == 0)
            rc = ert_reward_ccvae(fm, &a);
        else if (strcmp(fam, "tcn") == 0)
            rc = ert_reward_tcn(fm, &a);
        else {
            fprintf(stderr, "embedrt reward: family %s has no offline reward (its embedding is the policy's "
                            "observation; use embedrt embed)\n", fam);
            rc = 2;
        }
    }
    free(a.params);
    ert_family_free(fm);
    return rc;
}
