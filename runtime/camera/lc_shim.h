/* C view of the libcamera C++ shim (lc_shim.cpp). Internal to runtime/camera:
 * the rest of embedrt goes through embedrt/camera.h and never sees libcamera. */
#ifndef ERT_LC_SHIM_H
#define ERT_LC_SHIM_H

#include "embedrt/camera.h"

#ifdef __cplusplus
extern "C" {
#endif

const char *ert_lc_version(void);
ert_status ert_lc_list(ert_camera_info *out, size_t cap, size_t *count, ert_error *err);

#ifdef __cplusplus
}
#endif
#endif
