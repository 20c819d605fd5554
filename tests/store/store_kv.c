/* Keys, values and handles for the store suites (store_kv.h). */
#include "store_kv.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void put1(icms_store *s, const uint8_t *key, size_t key_len, const uint8_t *value,
          size_t value_len)
{
    icms_store_txn *t;
    assert_icms_ok(s->begin(s, ICMS_STORE_WRITE, &t));
    assert_icms_ok(s->put(t, key, key_len, value, value_len));
    assert_icms_ok(s->commit(t));
}

/* get1, with the value's length in *len (it may hold NUL bytes). */
static char *get_len(icms_store *s, const uint8_t *key, size_t key_len, size_t *len)
{
    icms_store_txn *t;
    const uint8_t *v;
    size_t vl;
    char *out = NULL;
    assert_icms_ok(s->begin(s, ICMS_STORE_READ, &t));
    int rc = s->get(t, key, key_len, &v, &vl);
    if (rc == 0) {
        out = malloc(vl + 1);
        assert_non_null(out);
        if (vl)
            memcpy(out, v, vl);
        out[vl] = '\0';
        *len = vl;
    } else {
        assert_int_equal(rc, ICMS_ENOTFOUND);
    }
    assert_icms_ok(s->commit(t));
    return out;
}

char *get1(icms_store *s, const uint8_t *key, size_t key_len)
{
    size_t len = 0;
    return get_len(s, key, key_len, &len);
}

void assert_value(icms_store *s, const uint8_t *key, size_t key_len, const char *want)
{
    size_t len = 0;
    char *got = get_len(s, key, key_len, &len);
    if (want == NULL) {
        if (got)
            fail_msg("expected the key to be absent, found \"%s\"", got);
    } else {
        if (!got)
            fail_msg("expected \"%s\", the key is absent", want);
        if (len != strlen(want) || memcmp(got, want, len) != 0)
            fail_msg("expected \"%s\", found \"%s\" (%zu bytes)", want, got, len);
    }
    free(got);
}

uint64_t get_u64(icms_store *s, icms_store_txn *t, const uint8_t *key, size_t key_len)
{
    const uint8_t *v;
    size_t vl;
    uint64_t n;
    assert_icms_ok(s->get(t, key, key_len, &v, &vl));
    assert_int_equal(vl, sizeof n);
    memcpy(&n, v, sizeof n);
    return n;
}

int read_u64(icms_store *s, icms_store_txn *t, const uint8_t *key, size_t key_len, uint64_t *n)
{
    const uint8_t *v;
    size_t vl;
    *n = 0;
    int rc = s->get(t, key, key_len, &v, &vl);
    if (rc == ICMS_ENOTFOUND)
        return 0;
    if (rc == 0 && vl != sizeof *n)
        return ICMS_ECORRUPT;
    if (rc == 0)
        memcpy(n, v, sizeof *n);
    return rc;
}

int count_cb(const uint8_t *key, size_t key_len, const uint8_t *value, size_t value_len,
             void *payload)
{
    (void)key, (void)key_len, (void)value, (void)value_len;
    (*(size_t *)payload)++;
    return 0;
}

static struct {
    icms_store *store;
    char name[4200];
} handles[16];

void handles_add(icms_store *s, const char *name)
{
    for (size_t i = 0; i < sizeof handles / sizeof handles[0]; i++)
        if (!handles[i].store) {
            handles[i].store = s;
            snprintf(handles[i].name, sizeof handles[i].name, "%s", name);
            return;
        }
    fail_msg("too many open handles");
}

void handles_name(const icms_store *s, char *name, size_t len)
{
    for (size_t i = 0; i < sizeof handles / sizeof handles[0]; i++)
        if (handles[i].store == s) {
            snprintf(name, len, "%s", handles[i].name);
            return;
        }
    fail_msg("unknown first handle");
}

void handles_close(icms_store *s)
{
    for (size_t i = 0; i < sizeof handles / sizeof handles[0]; i++)
        if (handles[i].store == s)
            handles[i].store = NULL;
    icms_store_free(s);
}
