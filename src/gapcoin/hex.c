/* Hex text and the byte-reversed display form of hashes. */
#include <string.h>

#include "gapcoin_internal.h"

static const char digits[] = "0123456789abcdef";

static int nibble(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

int icms_gapcoin_hex_encode(const uint8_t *bytes, size_t bytes_len, char **out)
{
    if (!out)
        return icms__error(ICMS_EINVALID, "hex: out is NULL");
    *out = NULL;
    if (!bytes && bytes_len)
        return icms__error(ICMS_EINVALID, "hex: bytes is NULL");
    size_t n;
    if (!icms__mul_size(bytes_len, 2, &n) || !icms__add_size(n, 1, &n))
        return icms__error(ICMS_ELIMIT, "hex: input too large");
    char *s = icms__malloc(n);
    if (!s)
        return ICMS_ENOMEM;
    for (size_t i = 0; i < bytes_len; i++) {
        s[2 * i] = digits[bytes[i] >> 4];
        s[2 * i + 1] = digits[bytes[i] & 15];
    }
    s[2 * bytes_len] = '\0';
    *out = s;
    return 0;
}

/* Decode exactly len hex characters into buf (len / 2 bytes). */
static int decode_into(const char *text, size_t len, uint8_t *buf)
{
    for (size_t i = 0; i < len; i += 2) {
        int hi = nibble(text[i]), lo = nibble(text[i + 1]);
        if (hi < 0 || lo < 0) {
            size_t at = hi < 0 ? i : i + 1;
            unsigned char c = (unsigned char)text[at];
            if (c >= 0x21 && c < 0x7f)
                return icms__error(ICMS_EINVALID, "hex: bad character '%c' at position %zu", c, at);
            return icms__error(ICMS_EINVALID, "hex: bad character 0x%02x at position %zu", c, at);
        }
        buf[i / 2] = (uint8_t)(hi << 4 | lo);
    }
    return 0;
}

int icms_gapcoin_hex_decode(const char *text, uint8_t **out, size_t *out_len)
{
    if (!out || !out_len)
        return icms__error(ICMS_EINVALID, "hex: out is NULL");
    *out = NULL;
    *out_len = 0;
    if (!text)
        return icms__error(ICMS_EINVALID, "hex: text is NULL");
    size_t len = strlen(text);
    if (len % 2)
        return icms__error(ICMS_EINVALID, "hex: odd length %zu", len);
    uint8_t *buf = icms__malloc(len / 2 + 1);
    if (!buf)
        return ICMS_ENOMEM;
    int rc = decode_into(text, len, buf);
    if (rc != 0) {
        icms__free(buf);
        return rc;
    }
    *out = buf;
    *out_len = len / 2;
    return 0;
}

void icms_gapcoin_hash_to_hex(const uint8_t hash[32], char out[ICMS_GAPCOIN_HASH_HEX_SIZE])
{
    for (size_t i = 0; i < 32; i++) {
        out[2 * i] = digits[hash[31 - i] >> 4];
        out[2 * i + 1] = digits[hash[31 - i] & 15];
    }
    out[64] = '\0';
}

int icms_gapcoin_hash_from_hex(const char *text, uint8_t out[32])
{
    if (!text || !out)
        return icms__error(ICMS_EINVALID, "hash: NULL argument");
    size_t len = strnlen(text, 65);
    if (len != 64)
        return icms__error(ICMS_EINVALID, "hash: expected 64 hex digits, got %s%zu",
                           len > 64 ? "more than " : "", len > 64 ? (size_t)64 : len);
    uint8_t tmp[32];
    int rc = decode_into(text, 64, tmp);
    if (rc != 0)
        return rc;
    for (size_t i = 0; i < 32; i++)
        out[i] = tmp[31 - i];
    return 0;
}
