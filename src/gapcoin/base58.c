/* Base58 and base58check (Bitcoin's alphabet, 4-byte SHA-256d checksum). */
#include <string.h>

#include "gapcoin_internal.h"

static const char alphabet[] = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz";

static int digit_of(char c)
{
    const char *p = c ? strchr(alphabet, c) : NULL;
    return p ? (int)(p - alphabet) : -1;
}

int icms__base58_encode(const uint8_t *bytes, size_t len, char **out)
{
    *out = NULL;
    size_t zeros = 0;
    while (zeros < len && bytes[zeros] == 0)
        zeros++;
    /* log(256) / log(58) < 1.38: digits needed for the non-zero part. */
    size_t cap = (len - zeros) * 138 / 100 + 1;
    uint8_t *b58 = icms__calloc(cap, 1);
    if (!b58)
        return ICMS_ENOMEM;
    size_t used = 0;
    for (size_t i = zeros; i < len; i++) {
        unsigned carry = bytes[i];
        size_t j = 0;
        for (size_t k = cap; k-- > 0 && (carry || j < used); j++) {
            carry += 256u * b58[k];
            b58[k] = (uint8_t)(carry % 58);
            carry /= 58;
        }
        used = j;
    }
    size_t skip = cap - used;
    while (skip < cap && b58[skip] == 0)
        skip++;
    char *s = icms__malloc(zeros + (cap - skip) + 1);
    if (!s) {
        icms__free(b58);
        return ICMS_ENOMEM;
    }
    memset(s, '1', zeros);
    size_t n = zeros;
    for (size_t k = skip; k < cap; k++)
        s[n++] = alphabet[b58[k]];
    s[n] = '\0';
    icms__free(b58);
    *out = s;
    return 0;
}

int icms__base58_decode(const char *text, uint8_t **out, size_t *out_len)
{
    *out = NULL;
    *out_len = 0;
    size_t len = strlen(text);
    for (size_t i = 0; i < len; i++) {
        if (digit_of(text[i]) < 0) {
            unsigned char c = (unsigned char)text[i];
            if (c >= 0x21 && c < 0x7f)
                return icms__error(ICMS_EINVALID,
                                   "base58: character '%c' at position %zu is not in the alphabet",
                                   c, i);
            return icms__error(ICMS_EINVALID,
                               "base58: character 0x%02x at position %zu is not in the alphabet", c,
                               i);
        }
    }
    size_t zeros = 0;
    while (zeros < len && text[zeros] == '1')
        zeros++;
    /* log(58) / log(256) < 0.733: bytes needed for the rest. */
    size_t cap = (len - zeros) * 733 / 1000 + 1;
    uint8_t *b256 = icms__calloc(cap, 1);
    if (!b256)
        return ICMS_ENOMEM;
    size_t used = 0;
    for (size_t i = zeros; i < len; i++) {
        unsigned carry = (unsigned)digit_of(text[i]);
        size_t j = 0;
        for (size_t k = cap; k-- > 0 && (carry || j < used); j++) {
            carry += 58u * b256[k];
            b256[k] = (uint8_t)(carry & 0xff);
            carry >>= 8;
        }
        used = j;
    }
    size_t skip = cap - used;
    while (skip < cap && b256[skip] == 0)
        skip++;
    uint8_t *buf = icms__malloc(zeros + (cap - skip) + 1);
    if (!buf) {
        icms__free(b256);
        return ICMS_ENOMEM;
    }
    memset(buf, 0, zeros);
    memcpy(buf + zeros, b256 + skip, cap - skip);
    icms__free(b256);
    *out = buf;
    *out_len = zeros + (cap - skip);
    return 0;
}

int icms_gapcoin_base58check_encode(uint8_t version, const uint8_t *bytes, size_t bytes_len,
                                    char **out)
{
    if (!out)
        return icms__error(ICMS_EINVALID, "base58check: out is NULL");
    *out = NULL;
    if (!bytes && bytes_len)
        return icms__error(ICMS_EINVALID, "base58check: bytes is NULL");
    if (bytes_len > ICMS_GAPCOIN_BASE58_MAX_PAYLOAD)
        return icms__error(ICMS_ELIMIT, "base58check: payload of %zu bytes exceeds %d", bytes_len,
                           ICMS_GAPCOIN_BASE58_MAX_PAYLOAD);
    uint8_t buf[1 + ICMS_GAPCOIN_BASE58_MAX_PAYLOAD + 4];
    buf[0] = version;
    if (bytes_len)
        memcpy(buf + 1, bytes, bytes_len);
    uint8_t check[32];
    icms_gapcoin_sha256d(buf, 1 + bytes_len, check);
    memcpy(buf + 1 + bytes_len, check, 4);
    return icms__base58_encode(buf, bytes_len + 5, out);
}

int icms_gapcoin_base58check_decode(const char *text, uint8_t *version_out, uint8_t **out,
                                    size_t *out_len)
{
    if (!out || !out_len || !version_out)
        return icms__error(ICMS_EINVALID, "base58check: out is NULL");
    *out = NULL;
    *out_len = 0;
    if (!text)
        return icms__error(ICMS_EINVALID, "base58check: text is NULL");
    size_t len = strnlen(text, ICMS_GAPCOIN_BASE58_MAX_TEXT + 1);
    if (len > ICMS_GAPCOIN_BASE58_MAX_TEXT)
        return icms__error(ICMS_ELIMIT, "base58check: text longer than %d characters",
                           ICMS_GAPCOIN_BASE58_MAX_TEXT);
    if (len == 0)
        return icms__error(ICMS_EINVALID, "base58check: empty text");
    uint8_t *raw;
    size_t raw_len;
    int rc = icms__base58_decode(text, &raw, &raw_len);
    if (rc != 0)
        return rc;
    if (raw_len < 5) {
        icms__free(raw);
        return icms__error(ICMS_EINVALID,
                           "base58check: %zu bytes decoded, fewer than version + 4-byte checksum",
                           raw_len);
    }
    uint8_t check[32];
    icms_gapcoin_sha256d(raw, raw_len - 4, check);
    if (memcmp(check, raw + raw_len - 4, 4) != 0) {
        icms__free(raw);
        return icms__error(ICMS_EINVALID, "base58check: checksum mismatch");
    }
    *version_out = raw[0];
    /* The payload moves to the front of the same buffer, so only one allocation is returned. */
    memmove(raw, raw + 1, raw_len - 5);
    *out = raw;
    *out_len = raw_len - 5;
    return 0;
}
