/* base64url without padding, decoded strictly so each byte string has one spelling. */
#include <string.h>

#include "auth/crypto.h"
#include "core/core.h"

static const char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

size_t icms__b64url_len(size_t len)
{
    return len / 3 * 4 + (len % 3 ? len % 3 + 1 : 0);
}

void icms__b64url_encode(const uint8_t *bytes, size_t len, char *out)
{
    size_t o = 0, i = 0;
    for (; i + 3 <= len; i += 3) {
        uint32_t v = (uint32_t)bytes[i] << 16 | (uint32_t)bytes[i + 1] << 8 | bytes[i + 2];
        out[o++] = alphabet[v >> 18 & 63];
        out[o++] = alphabet[v >> 12 & 63];
        out[o++] = alphabet[v >> 6 & 63];
        out[o++] = alphabet[v & 63];
    }
    if (len - i == 1) {
        uint32_t v = (uint32_t)bytes[i] << 16;
        out[o++] = alphabet[v >> 18 & 63];
        out[o++] = alphabet[v >> 12 & 63];
    } else if (len - i == 2) {
        uint32_t v = (uint32_t)bytes[i] << 16 | (uint32_t)bytes[i + 1] << 8;
        out[o++] = alphabet[v >> 18 & 63];
        out[o++] = alphabet[v >> 12 & 63];
        out[o++] = alphabet[v >> 6 & 63];
    }
    out[o] = '\0';
}

/* The 6-bit value of c, or -1. Branches on the character only, not on secrets' positions. */
static int value_of(unsigned char c)
{
    if (c >= 'A' && c <= 'Z')
        return c - 'A';
    if (c >= 'a' && c <= 'z')
        return c - 'a' + 26;
    if (c >= '0' && c <= '9')
        return c - '0' + 52;
    if (c == '-')
        return 62;
    if (c == '_')
        return 63;
    return -1;
}

int icms__b64url_decode(const char *text, size_t text_len, uint8_t *out, size_t out_max,
                        size_t *out_len)
{
    if (text_len % 4 == 1)
        return icms__error(ICMS_EINVALID, "base64url text has an impossible length");
    size_t need = text_len / 4 * 3 + (text_len % 4 ? text_len % 4 - 1 : 0);
    if (need > out_max)
        return icms__error(ICMS_EBUFS, "base64url text decodes to more than %zu bytes", out_max);
    uint32_t acc = 0;
    unsigned bits = 0;
    size_t o = 0;
    for (size_t i = 0; i < text_len; i++) {
        int v = value_of((unsigned char)text[i]);
        if (v < 0)
            return icms__error(ICMS_EINVALID,
                               "base64url text has a character outside its alphabet");
        acc = (acc << 6 | (uint32_t)v) & 0xFFFFFF;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            out[o++] = (uint8_t)(acc >> bits);
        }
    }
    /* Leftover bits (2 or 4) must be zero, or two spellings would decode alike. */
    if (bits && (acc & ((1u << bits) - 1)))
        return icms__error(ICMS_EINVALID, "base64url text is not canonical (trailing bits set)");
    if (out_len)
        *out_len = o;
    return ICMS_OK;
}
