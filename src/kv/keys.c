#include "kv/keys.h"

#include <string.h>

#include "core/core.h"

void icms__key_init(icms__key *key)
{
    key->len = 0;
    key->overflow = false;
}

static void put_byte(icms__key *key, uint8_t b)
{
    if (key->len >= sizeof key->bytes) {
        key->overflow = true;
        return;
    }
    key->bytes[key->len++] = b;
}

/* n bytes at once, or the key marked overflowed (and left as it was) when they do not fit. */
static void put_bytes(icms__key *key, const void *bytes, size_t n)
{
    if (n > sizeof key->bytes - key->len) {
        key->overflow = true;
        return;
    }
    memcpy(key->bytes + key->len, bytes, n);
    key->len += n;
}

void icms__key_strn(icms__key *key, const char *s, size_t len)
{
    put_byte(key, ICMS__KEY_TAG_STRING);
    /* Runs without NUL are copied whole; each NUL is escaped as 00 FF. */
    while (len > 0) {
        const char *nul = memchr(s, '\0', len);
        size_t run = nul ? (size_t)(nul - s) : len;
        put_bytes(key, s, run);
        if (!nul)
            break;
        put_byte(key, 0x00);
        put_byte(key, 0xFF);
        s += run + 1;
        len -= run + 1;
    }
    put_byte(key, 0x00);
}

void icms__key_str(icms__key *key, const char *s)
{
    icms__key_strn(key, s, strlen(s));
}

void icms__key_int(icms__key *key, int64_t v)
{
    uint64_t u = (uint64_t)v ^ (UINT64_C(1) << 63);
    put_byte(key, ICMS__KEY_TAG_INT);
    for (int shift = 56; shift >= 0; shift -= 8)
        put_byte(key, (uint8_t)(u >> shift));
}

void icms__key_id(icms__key *key, const uint8_t id[16])
{
    put_byte(key, ICMS__KEY_TAG_ID);
    put_bytes(key, id, 16);
}

int icms__key_check(const icms__key *key)
{
    if (key->overflow)
        return icms__error(ICMS_ELIMIT, "key longer than %u bytes", ICMS_STORE_KEY_MAX);
    return ICMS_OK;
}

int icms__key_prefix_end(const icms__key *prefix, icms__key *end)
{
    int rc = icms__key_check(prefix);
    if (rc)
        return rc;
    /* No encoded element starts with 0xFF, so appending it bounds every extension. */
    *end = *prefix;
    put_byte(end, 0xFF);
    return icms__key_check(end);
}

void icms__key_reader_init(icms__key_reader *r, const uint8_t *bytes, size_t len)
{
    r->bytes = bytes;
    r->len = len;
    r->pos = 0;
}

bool icms__key_reader_done(const icms__key_reader *r)
{
    return r->pos >= r->len;
}

static int expect_tag(icms__key_reader *r, uint8_t tag, const char *what)
{
    if (r->pos >= r->len || r->bytes[r->pos] != tag)
        return icms__error(ICMS_ECORRUPT, "key: expected %s at byte %zu", what, r->pos);
    r->pos++;
    return ICMS_OK;
}

int icms__key_read_str(icms__key_reader *r, char *out, size_t out_size)
{
    int rc = expect_tag(r, ICMS__KEY_TAG_STRING, "a string");
    if (rc)
        return rc;
    size_t n = 0;
    while (r->pos < r->len) {
        uint8_t b = r->bytes[r->pos++];
        if (b == 0x00) {
            if (r->pos < r->len && r->bytes[r->pos] == 0xFF) {
                r->pos++; /* an escaped NUL inside the string */
            } else {
                if (n >= out_size)
                    return icms__error(ICMS_EBUFS, "key: string longer than %zu bytes", out_size);
                out[n] = '\0';
                return ICMS_OK;
            }
        }
        if (n + 1 >= out_size)
            return icms__error(ICMS_EBUFS, "key: string longer than %zu bytes", out_size - 1);
        out[n++] = (char)b;
    }
    return icms__error(ICMS_ECORRUPT, "key: unterminated string");
}

int icms__key_read_int(icms__key_reader *r, int64_t *out)
{
    int rc = expect_tag(r, ICMS__KEY_TAG_INT, "an integer");
    if (rc)
        return rc;
    if (r->len - r->pos < 8)
        return icms__error(ICMS_ECORRUPT, "key: truncated integer");
    uint64_t u = 0;
    for (int i = 0; i < 8; i++)
        u = (u << 8) | r->bytes[r->pos++];
    *out = (int64_t)(u ^ (UINT64_C(1) << 63));
    return ICMS_OK;
}

int icms__key_read_id(icms__key_reader *r, uint8_t out[16])
{
    int rc = expect_tag(r, ICMS__KEY_TAG_ID, "an id");
    if (rc)
        return rc;
    if (r->len - r->pos < 16)
        return icms__error(ICMS_ECORRUPT, "key: truncated id");
    memcpy(out, r->bytes + r->pos, 16);
    r->pos += 16;
    return ICMS_OK;
}
