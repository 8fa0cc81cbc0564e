/* Shared inside the grasp2vec family: the graph contract that the descriptor's check()
 * enforces at conversion and the model layer re-checks on every loaded blob. */
#ifndef ERT_GRASP2VEC_INTERNAL_H
#define ERT_GRASP2VEC_INTERNAL_H

#include "embedrt/graph.h"

#include <stddef.h>
#include <stdint.h>

/* What the family code reads from the two graphs. */
typedef struct ert_g2v_layout {
    size_t c, h, w;          /* vector [1,c]; scene spatial [1,c,h,w] */
    uint32_t scene_vector;   /* tensor ids of the graph outputs */
    uint32_t scene_spatial;
    uint32_t object_vector;
} ert_g2v_layout;

/* Each graph has one float32 [1,3,H,W] input; scene has outputs "vector" [1,C] and
 * "spatial" [1,C,h,w], object has "vector" [1,C] with the same C. Errors name the role,
 * the tensor and the expected vs actual shape. */
ert_status ert_g2v_check_graphs(const ert_graph *scene, const ert_graph *object, ert_g2v_layout *out,
                                ert_error *err);

#endif
