/* Kernels: pool ops (see op.h for the contract). */
#include "../op.h"

const ert_op_def ert_ops_pool[] = {
    ERT_OP_END,
};
