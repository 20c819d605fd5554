/*
 * A write transaction's buffered writes: a sorted array with one entry per
 * key, the last put or delete of it. Writes stay here until commit, which
 * sends them in key order: the transaction takes no row lock before commit
 * (a second writer is never blocked by an open one), and two committers lock
 * rows in the same order, so they cannot deadlock on each other.
 */
#include <string.h>

#include "postgres_internal.h"

size_t icms__pg_writes_lower_bound(const pg_writes *w, const uint8_t *key, size_t key_len)
{
    size_t lo = 0, hi = w->count;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (icms__store_key_cmp(w->items[mid].key, w->items[mid].key_len, key, key_len) < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

const pg_write *icms__pg_writes_find(const pg_writes *w, const uint8_t *key, size_t key_len)
{
    size_t i = icms__pg_writes_lower_bound(w, key, key_len);
    if (i < w->count &&
        icms__store_key_cmp(w->items[i].key, w->items[i].key_len, key, key_len) == 0)
        return &w->items[i];
    return NULL;
}

int icms__pg_writes_set(pg_writes *w, const uint8_t *key, size_t key_len, const uint8_t *value,
                        size_t value_len, bool del)
{
    /* Copy first: on failure nothing has changed. A put's value is never NULL (a delete's is). */
    uint8_t *v = NULL;
    if (!del) {
        v = icms__malloc(value_len ? value_len : 1);
        if (!v)
            return ICMS_ENOMEM;
        if (value_len)
            memcpy(v, value, value_len);
    }
    size_t i = icms__pg_writes_lower_bound(w, key, key_len);
    if (i < w->count &&
        icms__store_key_cmp(w->items[i].key, w->items[i].key_len, key, key_len) == 0) {
        icms__free(w->items[i].value);
        w->items[i].value = v;
        w->items[i].value_len = del ? 0 : value_len;
        return ICMS_OK;
    }
    uint8_t *k = icms__memdup(key, key_len);
    if (!k) {
        icms__free(v);
        return ICMS_ENOMEM;
    }
    if (w->count == w->cap) {
        size_t cap = w->cap ? w->cap * 2 : 16;
        size_t bytes;
        pg_write *items = NULL;
        if (icms__mul_size(cap, sizeof *items, &bytes))
            items = icms__realloc(w->items, bytes);
        if (!items) {
            icms__free(k);
            icms__free(v);
            return icms__error(ICMS_ENOMEM, PG_WHO ": out of memory buffering a write");
        }
        w->items = items;
        w->cap = cap;
    }
    memmove(&w->items[i + 1], &w->items[i], (w->count - i) * sizeof *w->items);
    w->items[i] = (pg_write){k, key_len, v, del ? 0 : value_len};
    w->count++;
    return ICMS_OK;
}

void icms__pg_writes_clear(pg_writes *w)
{
    for (size_t i = 0; i < w->count; i++) {
        icms__free(w->items[i].key);
        icms__free(w->items[i].value);
    }
    icms__free(w->items);
    memset(w, 0, sizeof *w);
}
