/* C view of the libcamera C++ shim (lc_shim.cpp). Internal to runtime/camera:
 * the rest of embedrt goes through embedrt/camera.h and embedrt/source.h and never sees
 * libcamera. */
#ifndef ERT_LC_SHIM_H
#define ERT_LC_SHIM_H

#include "embedrt/camera.h"
#include "embedrt/source.h"

#ifdef __cplusplus
extern "C" {
#endif

const char *ert_lc_version(void);
ert_status ert_lc_list(ert_camera_info *out, size_t cap, size_t *count, ert_error *err);

/* The libcamera frame source: camera by index (all digits) or id; acquired and
 * configured here, buffers allocated and mapped at the first start(). */
ert_status ert_lc_source_open(const char *id_or_index, const ert_source_config *cfg, ert_source *out, ert_error *err);
extern const ert_source_ops ert_lc_source_ops;
void ert_lc_source_stats(const void *state, ert_source_stats *out);

#ifdef __cplusplus
}
#endif
#endif
