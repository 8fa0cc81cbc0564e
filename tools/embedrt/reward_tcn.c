/* `embedrt reward` for TCN: imitation reward of a live video against a demonstration. */
#include "reward_cli.h"

#include <stdio.h>

int ert_reward_tcn(ert_family_model *fm, const ert_reward_args *a)
{
    (void)fm, (void)a;
    fprintf(stderr, "embedrt reward: the tcn reward is not available in this build\n");
    return 2;
}
