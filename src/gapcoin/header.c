/* Block headers: 84 hashed bytes, then nShift and the variable-length nAdd. */
#include <string.h>

#include "gapcoin_internal.h"

void icms__header_hash(const icms_gapcoin_header *h, uint8_t out[32])
{
    uint8_t p[ICMS_GAPCOIN_HEADER_HASHED_SIZE];
    icms__put_le32(p, (uint32_t)h->version);
    memcpy(p + 4, h->prev_hash, 32);
    memcpy(p + 36, h->merkle_root, 32);
    icms__put_le32(p + 68, h->time);
    icms__put_le64(p + 72, h->n_difficulty);
    icms__put_le32(p + 80, h->nonce);
    icms_gapcoin_sha256d(p, sizeof p, out);
}

int icms__header_parse(icms__reader *r, icms_gapcoin_header *out)
{
    size_t start = r->pos;
    const uint8_t *p;
    int rc = icms__read_bytes(r, ICMS_GAPCOIN_HEADER_HASHED_SIZE, &p, "header");
    if (rc != 0)
        return rc;
    icms_gapcoin_header h;
    memset(&h, 0, sizeof h);
    h.version = (int32_t)icms__le32(p);
    memcpy(h.prev_hash, p + 4, 32);
    memcpy(h.merkle_root, p + 36, 32);
    h.time = icms__le32(p + 68);
    h.n_difficulty = icms__le64(p + 72);
    h.nonce = icms__le32(p + 80);
    icms_gapcoin_sha256d(p, ICMS_GAPCOIN_HEADER_HASHED_SIZE, h.hash);
    uint64_t adder_len;
    const uint8_t *adder;
    if ((rc = icms__read_u16(r, &h.shift, "header nShift")) != 0 ||
        (rc = icms__read_compact(r, ICMS_GAPCOIN_ADDER_MAX, &adder_len, "header nAdd length")) !=
            0 ||
        (rc = icms__read_bytes(r, (size_t)adder_len, &adder, "header nAdd")) != 0) {
        r->pos = start;
        return rc;
    }
    h.adder_len = (size_t)adder_len;
    if (adder_len)
        memcpy(h.adder, adder, h.adder_len);
    h.size = r->pos - start;
    *out = h;
    return 0;
}

int icms_gapcoin_header_decode(const uint8_t *bytes, size_t bytes_len, icms_gapcoin_header *out)
{
    if (!out || (!bytes && bytes_len))
        return icms__error(ICMS_EINVALID, "header: NULL argument");
    icms__reader r = {bytes, bytes_len, 0};
    icms_gapcoin_header h;
    int rc = icms__header_parse(&r, &h);
    if (rc != 0)
        return rc;
    if (r.pos != bytes_len)
        return icms__error(ICMS_EINVALID, "header: %zu trailing bytes after nAdd",
                           bytes_len - r.pos);
    *out = h;
    return 0;
}

int icms_gapcoin_header_encode(const icms_gapcoin_header *header, uint8_t **out, size_t *out_len)
{
    if (!out || !out_len)
        return icms__error(ICMS_EINVALID, "header: out is NULL");
    *out = NULL;
    *out_len = 0;
    if (!header)
        return icms__error(ICMS_EINVALID, "header: NULL argument");
    if (header->adder_len > ICMS_GAPCOIN_ADDER_MAX)
        return icms__error(ICMS_EINVALID, "header: nAdd of %zu bytes exceeds %d", header->adder_len,
                           ICMS_GAPCOIN_ADDER_MAX);
    size_t n = ICMS_GAPCOIN_HEADER_HASHED_SIZE + 2 + icms__compact_len(header->adder_len) +
               header->adder_len;
    uint8_t *p = icms__malloc(n);
    if (!p)
        return ICMS_ENOMEM;
    icms__put_le32(p, (uint32_t)header->version);
    memcpy(p + 4, header->prev_hash, 32);
    memcpy(p + 36, header->merkle_root, 32);
    icms__put_le32(p + 68, header->time);
    icms__put_le64(p + 72, header->n_difficulty);
    icms__put_le32(p + 80, header->nonce);
    p[84] = (uint8_t)header->shift;
    p[85] = (uint8_t)(header->shift >> 8);
    size_t k = 86 + icms__write_compact(p + 86, header->adder_len);
    if (header->adder_len)
        memcpy(p + k, header->adder, header->adder_len);
    *out = p;
    *out_len = n;
    return 0;
}
