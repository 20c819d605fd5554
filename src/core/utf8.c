/* UTF-8 validation and encoding, kept strict so every string we store or hash has one form. */
#include "utf8.h"

#include <string.h>

static bool continuation(uint8_t b)
{
    return (b & 0xc0) == 0x80;
}

size_t icms__utf8_sequence(const uint8_t *s, size_t avail)
{
    if (avail == 0)
        return 0;
    uint8_t c = s[0];
    if (c < 0x80)
        return 1;
    if (c < 0xc2) /* a stray continuation byte, or an overlong two-byte form */
        return 0;
    if (c < 0xe0)
        return avail >= 2 && continuation(s[1]) ? 2 : 0;
    if (c < 0xf0) {
        if (avail < 3 || !continuation(s[2]))
            return 0;
        uint8_t lo = c == 0xe0 ? 0xa0 : 0x80; /* E0 80..9F would be overlong */
        uint8_t hi = c == 0xed ? 0x9f : 0xbf; /* ED A0..BF would be a surrogate */
        return s[1] >= lo && s[1] <= hi ? 3 : 0;
    }
    if (c < 0xf5) {
        if (avail < 4 || !continuation(s[2]) || !continuation(s[3]))
            return 0;
        uint8_t lo = c == 0xf0 ? 0x90 : 0x80; /* F0 80..8F would be overlong */
        uint8_t hi = c == 0xf4 ? 0x8f : 0xbf; /* F4 90.. would pass U+10FFFF */
        return s[1] >= lo && s[1] <= hi ? 4 : 0;
    }
    return 0;
}

bool icms__utf8_valid(const char *s, size_t len)
{
    const uint8_t *p = (const uint8_t *)s;
    size_t i = 0;
    while (i < len) {
        if (len - i >= 8) { /* most text is ASCII: skip it 8 bytes at a time */
            uint64_t v;
            memcpy(&v, p + i, 8);
            if ((v & 0x8080808080808080u) == 0) {
                i += 8;
                continue;
            }
        }
        if (p[i] < 0x80) {
            i++;
            continue;
        }
        size_t n = icms__utf8_sequence(p + i, len - i);
        if (n == 0)
            return false;
        i += n;
    }
    return true;
}

size_t icms__utf8_encode(uint32_t cp, char *out)
{
    if (cp < 0x80) {
        out[0] = (char)cp;
        return 1;
    }
    if (cp < 0x800) {
        out[0] = (char)(0xc0 | (cp >> 6));
        out[1] = (char)(0x80 | (cp & 0x3f));
        return 2;
    }
    if (cp < 0x10000) {
        out[0] = (char)(0xe0 | (cp >> 12));
        out[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
        out[2] = (char)(0x80 | (cp & 0x3f));
        return 3;
    }
    out[0] = (char)(0xf0 | (cp >> 18));
    out[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
    out[2] = (char)(0x80 | ((cp >> 6) & 0x3f));
    out[3] = (char)(0x80 | (cp & 0x3f));
    return 4;
}
