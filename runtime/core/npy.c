/* .npy reader and writer with a strict parser for the header dictionary. */
#include "embedrt/npy.h"

#include "embedrt/file.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const struct {
    const char *descr;
    ert_dtype dt;
} descrs[] = {
    {"<f4", ERT_DT_F32}, {"<f8", ERT_DT_F64}, {"<i8", ERT_DT_I64}, {"<i4", ERT_DT_I32},
    {"|i1", ERT_DT_I8},  {"|u1", ERT_DT_U8},  {"|b1", ERT_DT_BOOL},
};

static const char *skip_ws(const char *p, const char *end)
{
    while (p < end && (*p == ' ' || *p == '\t' || *p == '\n'))
        p++;
    return p;
}

/* Finds 'key': in the header and returns a pointer just past the colon. */
static const char *find_key(const char *h, const char *end, const char *key)
{
    size_t kl = strlen(key);
    for (const char *p = h; p + kl + 3 <= end; p++)
        if ((*p == '\'' || *p == '"') && memcmp(p + 1, key, kl) == 0 && p[kl + 1] == *p) {
            const char *q = skip_ws(p + kl + 2, end);
            if (q < end && *q == ':')
                return skip_ws(q + 1, end);
        }
    return NULL;
}

ert_status ert_npy_parse(const void *buf, size_t len, const char *label, ert_npy *out, ert_error *err)
{
    memset(out, 0, sizeof *out);
    const unsigned char *b = buf;
    if (len < 10 || memcmp(b, "\x93NUMPY", 6) != 0)
        return ert_fail(err, ERT_EFORMAT, "%s: not a .npy file (bad magic)", label);
    unsigned major = b[6];
    size_t hlen, start;
    if (major == 1) {
        hlen = (size_t)b[8] | (size_t)b[9] << 8;
        start = 10;
    } else if (major == 2 || major == 3) {
        if (len < 12)
            return ert_fail(err, ERT_EFORMAT, "%s: truncated .npy header", label);
        hlen = (size_t)b[8] | (size_t)b[9] << 8 | (size_t)b[10] << 16 | (size_t)b[11] << 24;
        start = 12;
    } else {
        return ert_fail(err, ERT_EUNSUPPORTED, "%s: .npy format version %u.%u is not supported (1.0-3.0 are)", label,
                        major, b[7]);
    }
    if (hlen > len - start)
        return ert_fail(err, ERT_EFORMAT, "%s: .npy header of %zu bytes exceeds the file (%zu bytes)", label, hlen,
                        len);
    const char *h = (const char *)b + start, *end = h + hlen;
    const char *d = find_key(h, end, "descr");
    if (!d || d >= end || (*d != '\'' && *d != '"'))
        return ert_fail(err, ERT_EFORMAT, "%s: .npy header has no 'descr'", label);
    char q = *d++;
    const char *dend = memchr(d, q, (size_t)(end - d));
    if (!dend)
        return ert_fail(err, ERT_EFORMAT, "%s: .npy header: unterminated 'descr'", label);
    size_t dl = (size_t)(dend - d);
    ert_dtype dt = ERT_DT_UNDEFINED;
    for (size_t i = 0; i < sizeof descrs / sizeof descrs[0]; i++)
        if (strlen(descrs[i].descr) == dl && memcmp(descrs[i].descr, d, dl) == 0)
            dt = descrs[i].dt;
    if (dt == ERT_DT_UNDEFINED)
        return ert_fail(err, ERT_EUNSUPPORTED,
                        "%s: .npy dtype '%.*s' is not supported (little-endian float32, float64, int64, int32, int8, uint8, bool are)",
                        label, (int)(dl > 16 ? 16 : dl), d);
    const char *f = find_key(h, end, "fortran_order");
    if (!f)
        return ert_fail(err, ERT_EFORMAT, "%s: .npy header has no 'fortran_order'", label);
    if ((size_t)(end - f) >= 4 && memcmp(f, "True", 4) == 0)
        return ert_fail(err, ERT_EUNSUPPORTED, "%s: Fortran-order .npy arrays are not supported (save with C order)",
                        label);
    if ((size_t)(end - f) < 5 || memcmp(f, "False", 5) != 0)
        return ert_fail(err, ERT_EFORMAT, "%s: .npy header: bad 'fortran_order'", label);
    const char *s = find_key(h, end, "shape");
    if (!s || s >= end || *s != '(')
        return ert_fail(err, ERT_EFORMAT, "%s: .npy header has no 'shape' tuple", label);
    s++;
    ert_shape shape = {0};
    for (;;) {
        s = skip_ws(s, end);
        if (s >= end)
            return ert_fail(err, ERT_EFORMAT, "%s: .npy header: unterminated 'shape'", label);
        if (*s == ')')
            break;
        if (*s < '0' || *s > '9')
            return ert_fail(err, ERT_EFORMAT, "%s: .npy header: bad character in 'shape'", label);
        uint64_t v = 0;
        while (s < end && *s >= '0' && *s <= '9') {
            if (v > ((uint64_t)1 << 48))
                return ert_fail(err, ERT_EFORMAT, "%s: .npy dimension too large", label);
            v = v * 10 + (uint64_t)(*s++ - '0');
        }
        if (shape.rank == ERT_MAX_RANK)
            return ert_fail(err, ERT_EUNSUPPORTED, "%s: .npy array has more than %d dimensions", label, ERT_MAX_RANK);
        shape.dims[shape.rank++] = (int64_t)v;
        s = skip_ws(s, end);
        if (s < end && *s == ',')
            s++;
        else if (s < end && *s != ')')
            return ert_fail(err, ERT_EFORMAT, "%s: .npy header: bad 'shape'", label);
    }
    size_t nbytes;
    if (!ert_shape_bytes(&shape, dt, &nbytes))
        return ert_fail(err, ERT_EFORMAT, "%s: .npy array size overflows", label);
    size_t data_off = start + hlen;
    if (len - data_off != nbytes)
        return ert_fail(err, ERT_EFORMAT, "%s: .npy data is %zu bytes, shape and dtype need %zu", label,
                        len - data_off, nbytes);
    void *data = malloc(nbytes ? nbytes : 1);
    if (!data)
        return ert_fail(err, ERT_ENOMEM, "%s: cannot allocate %zu bytes", label, nbytes);
    memcpy(data, b + data_off, nbytes);
    if (dt == ERT_DT_BOOL)
        for (size_t i = 0; i < nbytes; i++)
            ((uint8_t *)data)[i] = ((uint8_t *)data)[i] != 0;
    out->dtype = dt;
    out->shape = shape;
    out->data = data;
    out->nbytes = nbytes;
    return ERT_OK;
}

ert_status ert_npy_read(const char *path, ert_npy *out, ert_error *err)
{
    ert_file_map m;
    ert_status st = ert_file_map_open(path, &m, err);
    if (st != ERT_OK)
        return st;
    st = ert_npy_parse(m.data, m.size, path, out, err);
    ert_file_map_close(&m);
    return st;
}

ert_status ert_npy_write(const char *path, ert_dtype dt, const ert_shape *shape, const void *data, ert_error *err)
{
    const char *descr = NULL;
    for (size_t i = 0; i < sizeof descrs / sizeof descrs[0]; i++)
        if (descrs[i].dt == dt)
            descr = descrs[i].descr;
    size_t nbytes;
    if (!descr || !ert_shape_bytes(shape, dt, &nbytes))
        return ert_fail(err, ERT_EINVAL, "%s: cannot write dtype %s as .npy", path, ert_dtype_name(dt));
    char dict[512];
    int n = snprintf(dict, sizeof dict, "{'descr': '%s', 'fortran_order': False, 'shape': (", descr);
    for (int i = 0; i < shape->rank; i++)
        n += snprintf(dict + n, sizeof dict - (size_t)n, "%lld,%s", (long long)shape->dims[i],
                      i + 1 < shape->rank ? " " : "");
    n += snprintf(dict + n, sizeof dict - (size_t)n, "), }");
    /* Pad with spaces so that the data starts 64-byte aligned; newline last. */
    size_t pre = 10, total = pre + (size_t)n + 1;
    size_t padded = (total + 63) / 64 * 64;
    unsigned char head[640];
    memcpy(head, "\x93NUMPY\x01\x00", 8);
    size_t hl = padded - pre;
    head[8] = (unsigned char)(hl & 0xff);
    head[9] = (unsigned char)(hl >> 8);
    memcpy(head + pre, dict, (size_t)n);
    memset(head + pre + n, ' ', padded - pre - (size_t)n - 1);
    head[padded - 1] = '\n';
    char tmp[4200];
    if (snprintf(tmp, sizeof tmp, "%s.tmp.%d", path, (int)getpid()) >= (int)sizeof tmp)
        return ert_fail(err, ERT_EINVAL, "%s: path too long", path);
    FILE *f = fopen(tmp, "wb");
    if (!f)
        return ert_fail(err, ERT_EIO, "%s: cannot create (%s)", path, strerror(errno));
    bool ok = fwrite(head, 1, padded, f) == padded && (nbytes == 0 || fwrite(data, 1, nbytes, f) == nbytes);
    ok = (fclose(f) == 0) && ok;
    if (!ok || rename(tmp, path) != 0) {
        int e = errno;
        unlink(tmp);
        return ert_fail(err, ERT_EIO, "%s: write failed (%s)", path, strerror(e));
    }
    return ERT_OK;
}

void ert_npy_free(ert_npy *n)
{
    free(n->data);
    memset(n, 0, sizeof *n);
}
