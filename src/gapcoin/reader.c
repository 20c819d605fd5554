/* A bounds-checked reader over serialized Gapcoin data. */
#include <string.h>

#include "gapcoin_internal.h"

int icms__read_bytes(icms__reader *r, size_t n, const uint8_t **out, const char *what)
{
    if (n > icms__reader_left(r))
        return icms__error(ICMS_EINVALID, "%s: needs %zu bytes at offset %zu, only %zu left", what,
                           n, r->pos, icms__reader_left(r));
    *out = r->bytes + r->pos;
    r->pos += n;
    return 0;
}

int icms__read_u16(icms__reader *r, uint16_t *out, const char *what)
{
    const uint8_t *p = NULL;
    int rc = icms__read_bytes(r, 2, &p, what);
    if (rc == 0)
        *out = (uint16_t)(p[0] | p[1] << 8);
    return rc;
}

int icms__read_u32(icms__reader *r, uint32_t *out, const char *what)
{
    const uint8_t *p = NULL;
    int rc = icms__read_bytes(r, 4, &p, what);
    if (rc == 0)
        *out = icms__le32(p);
    return rc;
}

int icms__read_u64(icms__reader *r, uint64_t *out, const char *what)
{
    const uint8_t *p = NULL;
    int rc = icms__read_bytes(r, 8, &p, what);
    if (rc == 0)
        *out = icms__le64(p);
    return rc;
}

int icms__read_compact(icms__reader *r, uint64_t max, uint64_t *out, const char *what)
{
    size_t start = r->pos;
    const uint8_t *p = NULL;
    int rc = icms__read_bytes(r, 1, &p, what);
    if (rc != 0)
        return rc;
    uint64_t n = p[0];
    uint64_t min = 0;
    if (p[0] == 0xfd) {
        uint16_t v;
        if ((rc = icms__read_u16(r, &v, what)) != 0)
            return rc;
        n = v;
        min = 0xfd;
    } else if (p[0] == 0xfe) {
        uint32_t v;
        if ((rc = icms__read_u32(r, &v, what)) != 0)
            return rc;
        n = v;
        min = 0x10000;
    } else if (p[0] == 0xff) {
        if ((rc = icms__read_u64(r, &n, what)) != 0)
            return rc;
        min = 0x100000000;
    }
    /* A shorter form exists: the same value would serialize differently (malleable). */
    if (n < min) {
        r->pos = start;
        return icms__error(ICMS_EINVALID, "%s: non-canonical compact size at offset %zu", what,
                           start);
    }
    if (n > max) {
        r->pos = start;
        return icms__error(ICMS_EINVALID, "%s: %llu at offset %zu exceeds the limit of %llu", what,
                           (unsigned long long)n, start, (unsigned long long)max);
    }
    *out = n;
    return 0;
}

int icms__read_var_bytes(icms__reader *r, const uint8_t **out, size_t *out_len, const char *what)
{
    uint64_t n;
    int rc = icms__read_compact(r, ICMS_GAPCOIN_MAX_COMPACT_SIZE, &n, what);
    if (rc == 0 && (rc = icms__read_bytes(r, (size_t)n, out, what)) == 0)
        *out_len = (size_t)n;
    return rc;
}

size_t icms__compact_len(uint64_t n)
{
    return n < 0xfd ? 1 : n <= 0xffff ? 3 : n <= 0xffffffff ? 5 : 9;
}

size_t icms__write_compact(uint8_t *p, uint64_t n)
{
    if (n < 0xfd) {
        p[0] = (uint8_t)n;
        return 1;
    }
    if (n <= 0xffff) {
        p[0] = 0xfd;
        p[1] = (uint8_t)n;
        p[2] = (uint8_t)(n >> 8);
        return 3;
    }
    if (n <= 0xffffffff) {
        p[0] = 0xfe;
        icms__put_le32(p + 1, (uint32_t)n);
        return 5;
    }
    p[0] = 0xff;
    icms__put_le64(p + 1, n);
    return 9;
}
