/* ert_source_open: splits a spec string ("libcamera:", "replay:", "synthetic:") and opens
 * the backend; close, info and counters for every backend. */
#include "source_internal.h"

#include <string.h>

#ifdef ERT_HAVE_LIBCAMERA
#include "lc_shim.h"
#endif

ert_status ert_source_open(const char *spec, const ert_source_config *cfg, ert_source *out, ert_error *err)
{
    if (!out)
        return ert_fail(err, ERT_EINVAL, "source: no output handle");
    memset(out, 0, sizeof *out);
    if (!spec)
        return ert_fail(err, ERT_EINVAL, "source: NULL spec");
    static const ert_source_config defaults;
    if (!cfg)
        cfg = &defaults;
    const char *colon = strchr(spec, ':');
    size_t klen = colon ? (size_t)(colon - spec) : strlen(spec);
    const char *rest = colon ? colon + 1 : "";
#define KIND_IS(k) (klen == sizeof(k) - 1 && memcmp(spec, k, klen) == 0)
    if (KIND_IS("replay"))
        return ert_replay_open(rest, cfg, out, err);
    if (KIND_IS("synthetic"))
        return ert_synthetic_open(rest, cfg, out, err);
    if (KIND_IS("libcamera")) {
        if (!*rest)
            return ert_fail(err, ERT_EINVAL, "source '%s': no camera (use libcamera:INDEX or libcamera:ID)", spec);
#ifdef ERT_HAVE_LIBCAMERA
        return ert_lc_source_open(rest, cfg, out, err);
#else
        return ert_fail(err, ERT_EUNSUPPORTED,
                        "source '%s': libcamera is not built in (install libcamera-dev and reconfigure with "
                        "-Dcamera=enabled)",
                        spec);
#endif
    }
#undef KIND_IS
    return ert_fail(err, ERT_EINVAL,
                    "source '%.200s': unknown kind (use libcamera:ID_OR_INDEX, replay:PATH or synthetic:PATTERN[:WxH])",
                    spec);
}

void ert_source_close(ert_source *s)
{
    if (!s || !s->ops)
        return;
    s->ops->stop(s->state);
    s->ops->close(s->state);
    memset(s, 0, sizeof *s);
}

void ert_source_get_info(const ert_source *s, ert_source_info *out)
{
    memset(out, 0, sizeof *out);
    if (s && s->ops)
        s->ops->info(s->state, out);
}

void ert_source_get_stats(const ert_source *s, ert_source_stats *out)
{
    memset(out, 0, sizeof *out);
    if (!s || !s->ops)
        return;
    if (s->ops == &ert_replay_ops)
        ert_replay_stats(s->state, out);
    else if (s->ops == &ert_synthetic_ops)
        ert_synthetic_stats(s->state, out);
#ifdef ERT_HAVE_LIBCAMERA
    else if (s->ops == &ert_lc_source_ops)
        ert_lc_source_stats(s->state, out);
#endif
}
