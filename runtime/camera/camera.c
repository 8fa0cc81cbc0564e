/* Camera enumeration front end: forwards to the libcamera shim when it is built in. */
#include "embedrt/camera.h"

#ifdef ERT_HAVE_LIBCAMERA
#include "lc_shim.h"
#endif

const char *ert_camera_libcamera_version(void)
{
#ifdef ERT_HAVE_LIBCAMERA
    return ert_lc_version();
#else
    return NULL;
#endif
}

ert_status ert_camera_list(ert_camera_info *out, size_t cap, size_t *count, ert_error *err)
{
    *count = 0;
    if (!out && cap)
        return ert_fail(err, ERT_EINVAL, "camera list: NULL output with capacity %zu", cap);
#ifdef ERT_HAVE_LIBCAMERA
    return ert_lc_list(out, cap, count, err);
#else
    return ert_fail(err, ERT_EUNSUPPORTED,
                    "libcamera: not built (install libcamera-dev and reconfigure with -Dcamera=enabled)");
#endif
}
