/* libFuzzer target: the ONNX importer (nanopb decoding of onnx.proto, graph building,
 * attribute parsing, shape inference and rewrites) on hostile bytes. */
#include "onnx_import.h"
#include "rewrite.h"

#include <stdint.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    ert_graph *g = NULL;
    ert_error err;
    if (ert_onnx_import_mem(data, size, "fuzz.onnx", NULL, 0, &g, NULL, &err) == ERT_OK) {
        ert_graph_optimize(g, NULL, &err);
        ert_graph_free(g);
    }
    return 0;
}
