/* Bech32 (BIP173) and bech32m (BIP350): HRP, 5-bit data, 6-character checksum. */
#include <string.h>

#include "gapcoin_internal.h"

static const char charset[] = "qpzry9x8gf2tvdw0s3jn54khce6mua7l";

#define BECH32_CONST 1u
#define BECH32M_CONST 0x2bc830a3u
#define BECH32_MAX_LEN 90

static uint32_t polymod_step(uint32_t pre)
{
    uint32_t b = pre >> 25;
    return ((pre & 0x1ffffff) << 5) ^ (-((b >> 0) & 1) & 0x3b6a57b2u) ^
           (-((b >> 1) & 1) & 0x26508e6du) ^ (-((b >> 2) & 1) & 0x1ea119fau) ^
           (-((b >> 3) & 1) & 0x3d4233ddu) ^ (-((b >> 4) & 1) & 0x2a1462b3u);
}

/* Checksum state after the expanded HRP and the data values. */
static uint32_t polymod(const char *hrp, size_t hrp_len, const uint8_t *data, size_t data_len)
{
    uint32_t chk = 1;
    for (size_t i = 0; i < hrp_len; i++)
        chk = polymod_step(chk) ^ ((unsigned char)hrp[i] >> 5);
    chk = polymod_step(chk);
    for (size_t i = 0; i < hrp_len; i++)
        chk = polymod_step(chk) ^ ((unsigned char)hrp[i] & 0x1f);
    for (size_t i = 0; i < data_len; i++)
        chk = polymod_step(chk) ^ data[i];
    return chk;
}

int icms_gapcoin_bech32_encode(const char *hrp, const uint8_t *bytes, size_t bytes_len,
                               icms_gapcoin_bech32_t encoding, char **out)
{
    if (!out)
        return icms__error(ICMS_EINVALID, "bech32: out is NULL");
    *out = NULL;
    if (!hrp || (!bytes && bytes_len))
        return icms__error(ICMS_EINVALID, "bech32: NULL argument");
    if (encoding != ICMS_GAPCOIN_BECH32 && encoding != ICMS_GAPCOIN_BECH32M)
        return icms__error(ICMS_EINVALID, "bech32: unknown encoding %d", (int)encoding);
    size_t hrp_len = strnlen(hrp, 84);
    if (hrp_len < 1 || hrp_len > 83)
        return icms__error(ICMS_EINVALID, "bech32: HRP must be 1 to 83 characters");
    for (size_t i = 0; i < hrp_len; i++) {
        unsigned char c = (unsigned char)hrp[i];
        if (c < 33 || c > 126 || (c >= 'A' && c <= 'Z'))
            return icms__error(ICMS_EINVALID, "bech32: bad HRP character at position %zu", i);
    }
    if (bytes_len > BECH32_MAX_LEN || hrp_len + 1 + bytes_len + 6 > BECH32_MAX_LEN)
        return icms__error(ICMS_ELIMIT, "bech32: result would exceed %d characters",
                           BECH32_MAX_LEN);
    for (size_t i = 0; i < bytes_len; i++)
        if (bytes[i] > 31)
            return icms__error(ICMS_EINVALID, "bech32: data value %u at %zu is not 5 bits",
                               bytes[i], i);
    uint8_t data[BECH32_MAX_LEN];
    memcpy(data, bytes, bytes_len);
    memset(data + bytes_len, 0, 6);
    uint32_t mod = polymod(hrp, hrp_len, data, bytes_len + 6) ^
                   (encoding == ICMS_GAPCOIN_BECH32 ? BECH32_CONST : BECH32M_CONST);
    size_t n = hrp_len + 1 + bytes_len + 6;
    char *s = icms__malloc(n + 1);
    if (!s)
        return ICMS_ENOMEM;
    memcpy(s, hrp, hrp_len);
    s[hrp_len] = '1';
    for (size_t i = 0; i < bytes_len; i++)
        s[hrp_len + 1 + i] = charset[bytes[i]];
    for (size_t i = 0; i < 6; i++)
        s[hrp_len + 1 + bytes_len + i] = charset[(mod >> (5 * (5 - i))) & 31];
    s[n] = '\0';
    *out = s;
    return 0;
}

int icms_gapcoin_bech32_decode(const char *text, char **hrp_out, uint8_t **out, size_t *out_len,
                               icms_gapcoin_bech32_t *encoding_out)
{
    if (!hrp_out || !out || !out_len || !encoding_out)
        return icms__error(ICMS_EINVALID, "bech32: out is NULL");
    *hrp_out = NULL;
    *out = NULL;
    *out_len = 0;
    if (!text)
        return icms__error(ICMS_EINVALID, "bech32: text is NULL");
    size_t len = strnlen(text, BECH32_MAX_LEN + 1);
    if (len > BECH32_MAX_LEN)
        return icms__error(ICMS_EINVALID, "bech32: longer than %d characters", BECH32_MAX_LEN);
    bool lower = false, upper = false;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)text[i];
        if (c < 33 || c > 126)
            return icms__error(ICMS_EINVALID, "bech32: bad character 0x%02x at position %zu", c, i);
        lower |= c >= 'a' && c <= 'z';
        upper |= c >= 'A' && c <= 'Z';
    }
    if (lower && upper)
        return icms__error(ICMS_EINVALID, "bech32: mixed upper and lower case");
    const char *sep = strrchr(text, '1');
    if (!sep)
        return icms__error(ICMS_EINVALID, "bech32: no separator '1'");
    size_t hrp_len = (size_t)(sep - text);
    if (hrp_len < 1)
        return icms__error(ICMS_EINVALID, "bech32: empty HRP");
    size_t data_len = len - hrp_len - 1;
    if (data_len < 6)
        return icms__error(ICMS_EINVALID,
                           "bech32: data part of %zu characters is shorter than "
                           "the 6-character checksum",
                           data_len);
    char hrp[BECH32_MAX_LEN + 1];
    for (size_t i = 0; i < hrp_len; i++) {
        char c = text[i];
        hrp[i] = (c >= 'A' && c <= 'Z') ? (char)(c - 'A' + 'a') : c;
    }
    hrp[hrp_len] = '\0';
    uint8_t data[BECH32_MAX_LEN];
    for (size_t i = 0; i < data_len; i++) {
        char c = sep[1 + i];
        if (c >= 'A' && c <= 'Z')
            c = (char)(c - 'A' + 'a');
        const char *p = strchr(charset, c);
        if (!p)
            return icms__error(ICMS_EINVALID,
                               "bech32: character '%c' at position %zu is not in the charset",
                               sep[1 + i], hrp_len + 1 + i);
        data[i] = (uint8_t)(p - charset);
    }
    uint32_t mod = polymod(hrp, hrp_len, data, data_len);
    icms_gapcoin_bech32_t enc;
    if (mod == BECH32_CONST)
        enc = ICMS_GAPCOIN_BECH32;
    else if (mod == BECH32M_CONST)
        enc = ICMS_GAPCOIN_BECH32M;
    else
        return icms__error(ICMS_EINVALID, "bech32: checksum mismatch");
    char *h = icms__strndup(hrp, hrp_len);
    if (!h)
        return ICMS_ENOMEM;
    uint8_t *d = icms__malloc(data_len - 6 + 1);
    if (!d) {
        icms__free(h);
        return ICMS_ENOMEM;
    }
    memcpy(d, data, data_len - 6);
    *hrp_out = h;
    *out = d;
    *out_len = data_len - 6;
    *encoding_out = enc;
    return 0;
}

bool icms__convert_bits(uint8_t *out, size_t *out_len, int to_bits, const uint8_t *in,
                        size_t in_len, int from_bits, bool pad)
{
    uint32_t acc = 0;
    int bits = 0;
    const uint32_t maxv = (1u << to_bits) - 1;
    size_t n = 0;
    for (size_t i = 0; i < in_len; i++) {
        if (in[i] >> from_bits)
            return false;
        acc = (acc << from_bits) | in[i];
        bits += from_bits;
        while (bits >= to_bits) {
            bits -= to_bits;
            out[n++] = (uint8_t)((acc >> bits) & maxv);
        }
    }
    if (pad) {
        if (bits)
            out[n++] = (uint8_t)((acc << (to_bits - bits)) & maxv);
    } else if (bits >= from_bits || ((acc << (to_bits - bits)) & maxv)) {
        /* More than a partial group left over, or non-zero padding: not canonical. */
        return false;
    }
    *out_len = n;
    return true;
}
