/* Kernels: elementwise ops (see op.h for the contract). */
#include "../op.h"

const ert_op_def ert_ops_elementwise[] = {
    ERT_OP_END,
};
