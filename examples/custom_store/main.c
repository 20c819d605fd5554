/*
 * A store written as a host would write one: the store port
 * (icms/sys/store.h) over a sorted array in memory. Each transaction works
 * on its own copy of the array (so rollback is dropping the copy and a reader
 * never sees a writer's changes); commit swaps the copy in. One writer at a
 * time: a second answers ICMS_EBUSY, and libicms waits and retries.
 * Simple rather than fast: every transaction copies the whole store.
 *
 *   custom_store
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <icms.h>
#include <icms/sys/store.h>

typedef struct entry {
    uint8_t *key, *value;
    size_t key_len, value_len;
} entry;

typedef struct table {
    entry *items;
    size_t count;
} table;

typedef struct kv_store {
    table committed;
    int writer; /* a write transaction is open */
} kv_store;

struct icms_store_txn { /* the port leaves the transaction's layout to the store */
    kv_store *store;
    table view;
    icms_store_mode_t mode;
};

static int compare(const uint8_t *a, size_t a_len, const uint8_t *b, size_t b_len)
{
    int c = memcmp(a, b, a_len < b_len ? a_len : b_len);
    return c ? c : (a_len > b_len) - (a_len < b_len);
}

/* Index of the first entry >= key. */
static size_t lower_bound(const table *t, const uint8_t *key, size_t len)
{
    size_t lo = 0, hi = t->count;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (compare(t->items[mid].key, t->items[mid].key_len, key, len) < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

static uint8_t *copy(const void *bytes, size_t len)
{
    uint8_t *p = malloc(len ? len : 1);
    if (p && len)
        memcpy(p, bytes, len);
    return p;
}

static void table_free(table *t)
{
    for (size_t i = 0; i < t->count; i++) {
        free(t->items[i].key);
        free(t->items[i].value);
    }
    free(t->items);
    t->items = NULL;
    t->count = 0;
}

static int table_copy(const table *from, table *to)
{
    to->count = 0;
    to->items = calloc(from->count + 1, sizeof *to->items);
    if (!to->items)
        return ICMS_ENOMEM;
    for (size_t i = 0; i < from->count; i++) {
        entry *e = &to->items[i];
        e->key = copy(from->items[i].key, from->items[i].key_len);
        e->value = copy(from->items[i].value, from->items[i].value_len);
        e->key_len = from->items[i].key_len;
        e->value_len = from->items[i].value_len;
        to->count++;
        if (!e->key || !e->value) {
            table_free(to);
            return ICMS_ENOMEM;
        }
    }
    return ICMS_OK;
}

static int kv_begin(icms_store *store, icms_store_mode_t mode, icms_store_txn **out)
{
    kv_store *s = store->payload;
    if (mode == ICMS_STORE_WRITE && s->writer)
        return ICMS_EBUSY;
    icms_store_txn *txn = calloc(1, sizeof *txn);
    if (!txn || table_copy(&s->committed, &txn->view) != ICMS_OK) {
        free(txn);
        return ICMS_ENOMEM;
    }
    txn->store = s;
    txn->mode = mode;
    if (mode == ICMS_STORE_WRITE)
        s->writer = 1;
    *out = txn;
    return ICMS_OK;
}

static int kv_get(icms_store_txn *txn, const uint8_t *key, size_t key_len, const uint8_t **value,
                  size_t *value_len)
{
    size_t i = lower_bound(&txn->view, key, key_len);
    if (i == txn->view.count ||
        compare(txn->view.items[i].key, txn->view.items[i].key_len, key, key_len) != 0)
        return ICMS_ENOTFOUND;
    *value = txn->view.items[i].value; /* borrowed until the next call on txn */
    *value_len = txn->view.items[i].value_len;
    return ICMS_OK;
}

static int kv_put(icms_store_txn *txn, const uint8_t *key, size_t key_len, const uint8_t *value,
                  size_t value_len)
{
    if (txn->mode != ICMS_STORE_WRITE)
        return ICMS_EINVALID;
    table *t = &txn->view;
    size_t i = lower_bound(t, key, key_len);
    uint8_t *v = copy(value, value_len);
    if (!v)
        return ICMS_ENOMEM;
    if (i < t->count && compare(t->items[i].key, t->items[i].key_len, key, key_len) == 0) {
        free(t->items[i].value);
        t->items[i].value = v;
        t->items[i].value_len = value_len;
        return ICMS_OK;
    }
    entry *grown = realloc(t->items, (t->count + 1) * sizeof *grown);
    uint8_t *k = copy(key, key_len);
    if (!grown || !k) {
        free(v);
        free(k);
        if (grown)
            t->items = grown;
        return ICMS_ENOMEM;
    }
    t->items = grown;
    memmove(&t->items[i + 1], &t->items[i], (t->count - i) * sizeof *t->items);
    t->items[i] = (entry){k, v, key_len, value_len};
    t->count++;
    return ICMS_OK;
}

static int kv_del(icms_store_txn *txn, const uint8_t *key, size_t key_len)
{
    if (txn->mode != ICMS_STORE_WRITE)
        return ICMS_EINVALID;
    table *t = &txn->view;
    size_t i = lower_bound(t, key, key_len);
    if (i == t->count || compare(t->items[i].key, t->items[i].key_len, key, key_len) != 0)
        return ICMS_OK;
    free(t->items[i].key);
    free(t->items[i].value);
    memmove(&t->items[i], &t->items[i + 1], (t->count - i - 1) * sizeof *t->items);
    t->count--;
    return ICMS_OK;
}

static int kv_scan(icms_store_txn *txn, const uint8_t *start, size_t start_len, const uint8_t *end,
                   size_t end_len, unsigned int flags, icms_store_scan_cb cb, void *payload)
{
    const table *t = &txn->view;
    size_t first = lower_bound(t, start, start_len);
    size_t last = end ? lower_bound(t, end, end_len) : t->count; /* exclusive */
    for (size_t n = first; n < last; n++) {
        size_t i = (flags & ICMS_STORE_SCAN_REVERSE) ? last - 1 - (n - first) : n;
        int rc = cb(t->items[i].key, t->items[i].key_len, t->items[i].value,
                    t->items[i].value_len, payload);
        if (rc == ICMS_STORE_STOP)
            return ICMS_OK;
        if (rc)
            return rc; /* the callback's own error, handed back unchanged */
    }
    return ICMS_OK;
}

static void end_txn(icms_store_txn *txn)
{
    if (txn->mode == ICMS_STORE_WRITE)
        txn->store->writer = 0;
    table_free(&txn->view);
    free(txn);
}

static int kv_commit(icms_store_txn *txn)
{
    if (txn->mode == ICMS_STORE_WRITE) {
        table old = txn->store->committed;
        txn->store->committed = txn->view; /* the copy becomes the store */
        txn->view = old;
    }
    end_txn(txn);
    return ICMS_OK;
}

static void kv_rollback(icms_store_txn *txn)
{
    end_txn(txn);
}

static void kv_free(icms_store *store)
{
    kv_store *s = store->payload;
    table_free(&s->committed);
    free(s);
    free(store); /* the store frees itself: libicms only calls this */
}

int main(void)
{
    if (icms_init() < 0)
        return 1;
    icms_store *store = malloc(sizeof *store);
    *store = (icms_store)ICMS_STORE_INIT;
    store->begin = kv_begin;
    store->get = kv_get;
    store->put = kv_put;
    store->del = kv_del;
    store->scan = kv_scan;
    store->commit = kv_commit;
    store->rollback = kv_rollback;
    store->free = kv_free;
    store->payload = calloc(1, sizeof(kv_store));

    icms_options options = ICMS_OPTIONS_INIT;
    options.store = store; /* the handle owns it from here, even if opening fails */
    icms_db *db = NULL;
    int rc = icms_open(&db, &options);
    icms_request host = ICMS_REQUEST_INIT;
    host.actor_kind = ICMS_ACTOR_HOST;
    char *out = NULL;
    if (rc == ICMS_OK)
        rc = icms_user_create(db, &host,
                              "{\"name\":\"Olga Owner\",\"email\":\"olga@example.com\","
                              "\"roles\":[\"OWNER\"]}",
                              &out);
    if (rc == ICMS_OK)
        printf("created %s\n", out);
    icms_free(out);
    /* A refused command leaves the store as it was: the same email again is refused. */
    int again = icms_user_create(db, &host,
                                 "{\"name\":\"Olga Again\",\"email\":\"OLGA@example.com\"}", NULL);
    if (rc == ICMS_OK)
        rc = icms_audit_verify(db, NULL, NULL, 0, &out);
    if (rc == ICMS_OK)
        printf("audit %s\n", out);
    icms_free(out);
    if (rc != ICMS_OK)
        fprintf(stderr, "%s: %s\n", icms_error_name(rc), icms_error_last()->message);
    icms_close(db);
    icms_shutdown();
    return rc == ICMS_OK && again == ICMS_EEXISTS ? 0 : 1;
}
