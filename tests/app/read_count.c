/* The read-counting store (read_count.h). */
#include "read_count.h"

#include <stdlib.h>

typedef struct counting {
    icms_store base; /* first: the icms_store * handed out points here */
    icms_store *inner;
    read_counts counts;
} counting;

typedef struct counting_txn {
    counting *store;
    icms_store_txn *inner;
} counting_txn;

/* A scan's callback, wrapped to count the keys it is handed. */
typedef struct counted_scan {
    counting *store;
    icms_store_scan_cb cb;
    void *payload;
} counted_scan;

static counting *as_counting(const icms_store *s)
{
    return (counting *)(void *)s;
}

static counting_txn *as_txn(icms_store_txn *t)
{
    return (counting_txn *)(void *)t;
}

static int c_begin(icms_store *store, icms_store_mode_t mode, icms_store_txn **out)
{
    counting *c = as_counting(store);
    if (mode == ICMS_STORE_WRITE)
        c->counts.write_txns++;
    counting_txn *t = malloc(sizeof *t);
    if (!t)
        return ICMS_ENOMEM;
    t->store = c;
    int rc = c->inner->begin(c->inner, mode, &t->inner);
    if (rc) {
        free(t);
        return rc;
    }
    *out = (icms_store_txn *)(void *)t;
    return ICMS_OK;
}

static int c_get(icms_store_txn *txn, const uint8_t *key, size_t key_len, const uint8_t **value,
                 size_t *value_len)
{
    counting_txn *t = as_txn(txn);
    t->store->counts.gets++;
    return t->store->inner->get(t->inner, key, key_len, value, value_len);
}

static int c_put(icms_store_txn *txn, const uint8_t *key, size_t key_len, const uint8_t *value,
                 size_t value_len)
{
    counting_txn *t = as_txn(txn);
    return t->store->inner->put(t->inner, key, key_len, value, value_len);
}

static int c_del(icms_store_txn *txn, const uint8_t *key, size_t key_len)
{
    counting_txn *t = as_txn(txn);
    return t->store->inner->del(t->inner, key, key_len);
}

static int count_row(const uint8_t *key, size_t key_len, const uint8_t *value, size_t value_len,
                     void *payload)
{
    counted_scan *s = payload;
    s->store->counts.rows++;
    return s->cb(key, key_len, value, value_len, s->payload);
}

static int c_scan(icms_store_txn *txn, const uint8_t *start, size_t start_len, const uint8_t *end,
                  size_t end_len, unsigned int flags, icms_store_scan_cb cb, void *cb_payload)
{
    counting_txn *t = as_txn(txn);
    t->store->counts.scans++;
    counted_scan s = {t->store, cb, cb_payload};
    return t->store->inner->scan(t->inner, start, start_len, end, end_len, flags, count_row, &s);
}

static int c_commit(icms_store_txn *txn)
{
    counting_txn *t = as_txn(txn);
    int rc = t->store->inner->commit(t->inner);
    free(t);
    return rc;
}

static void c_rollback(icms_store_txn *txn)
{
    counting_txn *t = as_txn(txn);
    t->store->inner->rollback(t->inner);
    free(t);
}

static void c_free(icms_store *store)
{
    counting *c = as_counting(store);
    c->inner->free(c->inner);
    free(c);
}

int read_count_store_new(icms_store **out, icms_store *inner)
{
    counting *c = calloc(1, sizeof *c);
    if (!c)
        return ICMS_ENOMEM;
    icms_store base = ICMS_STORE_INIT;
    base.begin = c_begin;
    base.get = c_get;
    base.put = c_put;
    base.del = c_del;
    base.scan = c_scan;
    base.commit = c_commit;
    base.rollback = c_rollback;
    base.free = c_free;
    c->base = base;
    c->inner = inner;
    *out = &c->base;
    return ICMS_OK;
}

read_counts read_count_get(const icms_store *counting_store)
{
    return as_counting(counting_store)->counts;
}

void read_count_reset(icms_store *counting_store)
{
    as_counting(counting_store)->counts = (read_counts){0, 0, 0, 0};
}

unsigned long read_count_total(read_counts c)
{
    return c.gets + c.scans + c.rows;
}
