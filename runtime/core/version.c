/* Reports embedrt's own version and the run-time versions of its libraries. */
#include "embedrt/version.h"
#include "embedrt/camera.h"

#include "ert_git_version.h"

#include <cblas.h>
#include <pb.h>
#include <zlib.h>

#define STR2(x) #x
#define STR(x) STR2(x)

const char *ert_version(void)
{
    return STR(ERT_VERSION_MAJOR) "." STR(ERT_VERSION_MINOR) "." STR(ERT_VERSION_PATCH);
}

const char *ert_version_git(void)
{
    return ERT_GIT_DESCRIBE;
}

size_t ert_version_components(ert_component *out, size_t cap)
{
    const ert_component all[] = {
        {"openblas", openblas_get_config()},
        {"zlib", zlibVersion()},
        /* nanopb has no run-time query; the header and Debian's .a come from one package. */
        {"nanopb", NANOPB_VERSION},
        {"libcamera", ert_camera_libcamera_version()},
    };
    size_t n = sizeof all / sizeof all[0];
    for (size_t i = 0; i < n && i < cap; i++)
        out[i] = all[i];
    return n;
}

void ert_version_print(FILE *f, const char *program)
{
    fprintf(f, "%s %s (git %s)\n", program, ert_version(), ert_version_git());
    ert_component comps[8];
    size_t n = ert_version_components(comps, 8);
    for (size_t i = 0; i < n && i < 8; i++)
        fprintf(f, "  %s: %s\n", comps[i].name, comps[i].version ? comps[i].version : "not built");
}
