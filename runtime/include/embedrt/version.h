/* Version of this embedrt build and of the libraries linked into it, as printed by
 * `--version` and sent in protocol Hello messages. */
#ifndef EMBEDRT_VERSION_H
#define EMBEDRT_VERSION_H

#include <stddef.h>
#include <stdio.h>

#ifdef __cplusplus
extern "C" {
#endif

#define ERT_VERSION_MAJOR 0
#define ERT_VERSION_MINOR 1
#define ERT_VERSION_PATCH 0

/* "0.1.0" */
const char *ert_version(void);
/* `git describe --tags --always --dirty` at build time, "unknown" outside git. */
const char *ert_version_git(void);

typedef struct ert_component {
    const char *name;    /* "openblas", "zlib", "nanopb", "libcamera" */
    const char *version; /* NULL when the component is not built in */
} ert_component;

/* Fills up to cap entries and returns how many components there are. The versions
 * come from the libraries at run time where they can tell (zlibVersion(),
 * openblas_get_config(), CameraManager::version()), else from their headers. */
size_t ert_version_components(ert_component *out, size_t cap);

/* Prints the `--version` text of a program: "<program> <version> (git <describe>)"
 * then one "  <component>: <version>" line each ("libcamera: not built" when absent). */
void ert_version_print(FILE *f, const char *program);

#ifdef __cplusplus
}
#endif
#endif
