/* Kernels: reduce ops (see op.h for the contract). */
#include "../op.h"

const ert_op_def ert_ops_reduce[] = {
    ERT_OP_END,
};
