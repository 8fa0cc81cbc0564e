// libcamera (C++17) behind a C interface. libcamera allows one CameraManager per
// process; enumeration starts and stops it, capture (later) keeps it running.
#include "lc_shim.h"

#include <libcamera/camera.h>
#include <libcamera/camera_manager.h>
#include <libcamera/logging.h>
#include <libcamera/property_ids.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <new>

namespace {

void copy_str(char *dst, size_t cap, const std::string &s)
{
    std::snprintf(dst, cap, "%s", s.c_str());
}

const char *location_name(int32_t loc)
{
    switch (loc) {
    case libcamera::properties::CameraLocationFront: return "front";
    case libcamera::properties::CameraLocationBack: return "back";
    case libcamera::properties::CameraLocationExternal: return "external";
    default: return "";
    }
}

} // namespace

extern "C" const char *ert_lc_version(void)
{
    return libcamera::CameraManager::version().c_str();
}

extern "C" ert_status ert_lc_list(ert_camera_info *out, size_t cap, size_t *count, ert_error *err)
{
    *count = 0;
    // libcamera logs INFO/WARN lines to stderr by default (and reads its levels from
    // the environment as categories are created); our callers print what matters.
    // A user's own LIBCAMERA_LOG_LEVELS still wins.
    setenv("LIBCAMERA_LOG_LEVELS", "*:ERROR", 0);
    libcamera::logSetLevel("*", "ERROR");
    std::unique_ptr<libcamera::CameraManager> cm(new (std::nothrow) libcamera::CameraManager());
    if (!cm)
        return ert_fail(err, ERT_ENOMEM, "libcamera: cannot allocate the camera manager");
    int ret = cm->start();
    if (ret < 0)
        return ert_fail(err, ERT_EIO, "libcamera: camera manager failed to start (%s)", std::strerror(-ret));
    auto cameras = cm->cameras();
    size_t i = 0;
    for (const auto &cam : cameras) {
        if (i < cap) {
            ert_camera_info *info = &out[i];
            std::memset(info, 0, sizeof *info);
            copy_str(info->id, sizeof info->id, cam->id());
            const auto &props = cam->properties();
            if (auto model = props.get(libcamera::properties::Model))
                copy_str(info->model, sizeof info->model, *model);
            if (auto loc = props.get(libcamera::properties::Location))
                copy_str(info->location, sizeof info->location, location_name(*loc));
        }
        i++;
    }
    *count = i;
    cameras.clear();
    cm->stop();
    return ERT_OK;
}
