/*
 * The store conformance suite (see conformance.h). Each test gets the factory
 * as its cmocka state, opens fresh stores through it and checks only what the
 * port promises in include/icms/sys/store.h.
 */
#include "conformance.h"
#include "store_kv.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* ---- helpers ---- */

typedef struct kv_item {
    uint8_t *key;
    size_t key_len;
    uint8_t *value;
    size_t value_len;
} kv_item;

typedef struct kv_list {
    kv_item *items;
    size_t count, cap;
    size_t stop_after; /* 0 = never stop */
    int fail_with;     /* when nonzero, returned by the callback at stop_after */
} kv_list;

static int collect_cb(const uint8_t *key, size_t key_len, const uint8_t *value, size_t value_len,
                      void *payload)
{
    kv_list *l = payload;
    if (l->count == l->cap) {
        l->cap = l->cap ? l->cap * 2 : 16;
        l->items = realloc(l->items, l->cap * sizeof *l->items);
        assert_non_null(l->items);
    }
    kv_item *it = &l->items[l->count++];
    it->key = malloc(key_len + 1);
    it->value = malloc(value_len + 1);
    assert_non_null(it->key);
    assert_non_null(it->value);
    memcpy(it->key, key, key_len);
    if (value_len)
        memcpy(it->value, value, value_len);
    it->key_len = key_len;
    it->value_len = value_len;
    if (l->stop_after && l->count == l->stop_after)
        return l->fail_with ? l->fail_with : ICMS_STORE_STOP;
    return 0;
}

static void kv_list_clear(kv_list *l)
{
    for (size_t i = 0; i < l->count; i++) {
        free(l->items[i].key);
        free(l->items[i].value);
    }
    free(l->items);
    memset(l, 0, sizeof *l);
}

static void assert_item(const kv_item *it, const uint8_t *key, size_t key_len)
{
    if (it->key_len != key_len || memcmp(it->key, key, key_len) != 0)
        fail_msg("scan order: got a key of %zu bytes starting 0x%02x, expected %zu bytes starting "
                 "0x%02x",
                 it->key_len, it->key_len ? it->key[0] : 0, key_len, key_len ? key[0] : 0);
}

static void scan_all(icms_store *s, icms_store_txn *t, const uint8_t *start, size_t start_len,
                     const uint8_t *end, size_t end_len, unsigned int flags, kv_list *out)
{
    assert_icms_ok(s->scan(t, start, start_len, end, end_len, flags, collect_cb, out));
}

static void scan_committed(icms_store *s, const uint8_t *start, size_t start_len,
                           const uint8_t *end, size_t end_len, unsigned int flags, kv_list *out)
{
    icms_store_txn *t;
    assert_icms_ok(s->begin(s, ICMS_STORE_READ, &t));
    scan_all(s, t, start, start_len, end, end_len, flags, out);
    assert_icms_ok(s->commit(t));
}

static size_t count_keys(icms_store *s)
{
    kv_list l = {0};
    scan_committed(s, NULL, 0, NULL, 0, 0, &l);
    size_t n = l.count;
    kv_list_clear(&l);
    return n;
}

#define FACTORY(state) ((store_factory *)*(state))

/* ---- tests ---- */

static void test_put_get_del(void **state)
{
    store_factory *f = FACTORY(state);
    icms_store *s = f->open(f);
    icms_store_txn *t;
    const uint8_t *v;
    size_t vl;

    assert_value(s, K("alpha"), NULL);
    put1(s, K("alpha"), K("one"));
    assert_value(s, K("alpha"), "one");
    put1(s, K("alpha"), K("uno")); /* replace */
    assert_value(s, K("alpha"), "uno");

    /* An empty value is a value, not an absence. */
    put1(s, K("empty"), (const uint8_t *)"", 0);
    assert_icms_ok(s->begin(s, ICMS_STORE_READ, &t));
    assert_icms_ok(s->get(t, K("empty"), &v, &vl));
    assert_int_equal(vl, 0);
    assert_icms(ICMS_ENOTFOUND, s->get(t, K("absent"), &v, &vl));
    assert_icms_ok(s->commit(t));

    /* Delete: present or not, ICMS_OK. */
    assert_icms_ok(s->begin(s, ICMS_STORE_WRITE, &t));
    assert_icms_ok(s->del(t, K("alpha")));
    assert_icms_ok(s->del(t, K("never-there")));
    assert_icms_ok(s->commit(t));
    assert_value(s, K("alpha"), NULL);
    assert_int_equal(count_keys(s), 1);

    /* Binary keys and values with NUL and 0xFF bytes round-trip exactly. */
    put1(s, K("\x00\xff\x00"), K("\xff\x00\x01"));
    assert_icms_ok(s->begin(s, ICMS_STORE_READ, &t));
    assert_icms_ok(s->get(t, K("\x00\xff\x00"), &v, &vl));
    assert_int_equal(vl, 3);
    assert_memory_equal(v, "\xff\x00\x01", 3);
    assert_icms(ICMS_ENOTFOUND, s->get(t, K("\x00\xff"), &v, &vl));
    assert_icms_ok(s->commit(t));
    f->close(f, s);
}

static void test_ordering(void **state)
{
    store_factory *f = FACTORY(state);
    icms_store *s = f->open(f);
    /* In memcmp order: a proper prefix first, bytes unsigned. */
    static const struct {
        const char *bytes;
        size_t len;
    } sorted[] = {
        {"\x00", 1},         {"\x00\x00", 2},  {"\x00\x01", 2}, {"\x01", 1},     {"a", 1},
        {"a\x00", 2},        {"a\x00\x00", 3}, {"a\x01", 2},    {"ab", 2},       {"abc", 3},
        {"a\x7f", 2},        {"a\x80", 2},     {"a\xff", 2},    {"b", 1},        {"\x7f", 1},
        {"\x80", 1},         {"\xfe\xff", 2},  {"\xff", 1},     {"\xff\x00", 2}, {"\xff\xff", 2},
        {"\xff\xff\xff", 3},
    };
    size_t n = sizeof sorted / sizeof sorted[0];
    /* Insert in a scrambled order, across several transactions. */
    for (size_t step = 0; step < n; step++) {
        size_t i = (step * 5 + 3) % n; /* 5 is prime to n = 21: a permutation */
        icms_store_txn *t;
        assert_icms_ok(s->begin(s, ICMS_STORE_WRITE, &t));
        assert_icms_ok(s->put(t, (const uint8_t *)sorted[i].bytes, sorted[i].len,
                              (const uint8_t *)&i, sizeof i));
        assert_icms_ok(s->commit(t));
    }
    kv_list l = {0};
    scan_committed(s, NULL, 0, NULL, 0, 0, &l);
    assert_int_equal(l.count, n);
    for (size_t i = 0; i < n; i++) {
        assert_item(&l.items[i], (const uint8_t *)sorted[i].bytes, sorted[i].len);
        size_t idx;
        assert_int_equal(l.items[i].value_len, sizeof idx);
        memcpy(&idx, l.items[i].value, sizeof idx);
        assert_int_equal(idx, i);
    }
    kv_list_clear(&l);
    scan_committed(s, NULL, 0, NULL, 0, ICMS_STORE_SCAN_REVERSE, &l);
    assert_int_equal(l.count, n);
    for (size_t i = 0; i < n; i++)
        assert_item(&l.items[i], (const uint8_t *)sorted[n - 1 - i].bytes, sorted[n - 1 - i].len);
    kv_list_clear(&l);
    f->close(f, s);
}

static void put_keys(icms_store *s, const char *const *keys, size_t n)
{
    icms_store_txn *t;
    assert_icms_ok(s->begin(s, ICMS_STORE_WRITE, &t));
    for (size_t i = 0; i < n; i++)
        assert_icms_ok(s->put(t, (const uint8_t *)keys[i], strlen(keys[i]),
                              (const uint8_t *)keys[i], strlen(keys[i])));
    assert_icms_ok(s->commit(t));
}

/* Scan [start, end) both ways and compare with the expected keys, given in ascending order. */
static void check_range(icms_store *s, const char *start, const char *end, const char *const *want,
                        size_t n_want)
{
    for (int reverse = 0; reverse < 2; reverse++) {
        kv_list l = {0};
        scan_committed(s, (const uint8_t *)start, start ? strlen(start) : 0, (const uint8_t *)end,
                       end ? strlen(end) : 0, reverse ? ICMS_STORE_SCAN_REVERSE : 0, &l);
        if (l.count != n_want)
            fail_msg("range [%s, %s) %s: %zu keys, expected %zu", start ? start : "-",
                     end ? end : "-", reverse ? "reverse" : "forward", l.count, n_want);
        for (size_t i = 0; i < n_want; i++) {
            const char *k = want[reverse ? n_want - 1 - i : i];
            assert_item(&l.items[i], (const uint8_t *)k, strlen(k));
            assert_memory_equal(l.items[i].value, k, strlen(k));
        }
        kv_list_clear(&l);
    }
}

static void test_range_scans(void **state)
{
    store_factory *f = FACTORY(state);
    icms_store *s = f->open(f);
    static const char *const keys[] = {"p/a", "p/b", "p/c", "p0", "q", "p", "o", "p/"};
    put_keys(s, keys, sizeof keys / sizeof keys[0]);

    static const char *const all[] = {"o", "p", "p/", "p/a", "p/b", "p/c", "p0", "q"};
    check_range(s, NULL, NULL, all, 8);
    /* A prefix scan: "p/" .. "p0" ('0' follows '/'). */
    static const char *const prefix[] = {"p/", "p/a", "p/b", "p/c"};
    check_range(s, "p/", "p0", prefix, 4);
    /* Start is inclusive, end exclusive, even when both are stored keys. */
    static const char *const mid[] = {"p/a", "p/b"};
    check_range(s, "p/a", "p/c", mid, 2);
    /* Bounds between stored keys. */
    static const char *const between[] = {"p/b", "p/c"};
    check_range(s, "p/aa", "p/d", between, 2);
    /* Open ends. */
    static const char *const from_p0[] = {"p0", "q"};
    check_range(s, "p0", NULL, from_p0, 2);
    static const char *const below_p[] = {"o"};
    check_range(s, NULL, "p", below_p, 1);
    /* Empty ranges: end == start, end < start, an empty end, beyond the last key. */
    check_range(s, "p/b", "p/b", NULL, 0);
    check_range(s, "q", "p", NULL, 0);
    check_range(s, NULL, "", NULL, 0);
    check_range(s, "r", NULL, NULL, 0);
    f->close(f, s);
}

static void test_scan_stop_and_errors(void **state)
{
    store_factory *f = FACTORY(state);
    icms_store *s = f->open(f);
    static const char *const keys[] = {"k1", "k2", "k3", "k4", "k5"};
    put_keys(s, keys, 5);
    icms_store_txn *t;
    assert_icms_ok(s->begin(s, ICMS_STORE_READ, &t));

    kv_list l = {.stop_after = 2};
    scan_all(s, t, NULL, 0, NULL, 0, 0, &l);
    assert_int_equal(l.count, 2);
    assert_item(&l.items[1], K("k2"));
    kv_list_clear(&l);

    l.stop_after = 2;
    scan_all(s, t, NULL, 0, NULL, 0, ICMS_STORE_SCAN_REVERSE, &l);
    assert_int_equal(l.count, 2);
    assert_item(&l.items[1], K("k4"));
    kv_list_clear(&l);

    /* A callback's error comes back unchanged, and the scan stops there. */
    l.stop_after = 3;
    l.fail_with = ICMS_EUSER;
    assert_int_equal(s->scan(t, NULL, 0, NULL, 0, 0, collect_cb, &l), ICMS_EUSER);
    assert_int_equal(l.count, 3);
    kv_list_clear(&l);
    l.stop_after = 1;
    l.fail_with = -4242;
    assert_int_equal(s->scan(t, K("k3"), NULL, 0, 0, collect_cb, &l), -4242);
    assert_int_equal(l.count, 1);
    kv_list_clear(&l);

    /* Bad arguments are refused before any callback. */
    assert_icms(ICMS_EINVALID, s->scan(t, NULL, 0, NULL, 0, 0x80, collect_cb, &l));
    assert_icms(ICMS_EINVALID, s->scan(t, NULL, 0, NULL, 0, 0, NULL, &l));
    assert_icms(ICMS_EINVALID, s->scan(t, NULL, 3, NULL, 0, 0, collect_cb, &l));
    assert_int_equal(l.count, 0);

    /* The transaction is still usable after all that. */
    scan_all(s, t, NULL, 0, NULL, 0, 0, &l);
    assert_int_equal(l.count, 5);
    kv_list_clear(&l);
    assert_icms_ok(s->commit(t));
    f->close(f, s);
}

/* A callback that reads another key through the same transaction. */
typedef struct nested_read {
    icms_store *store;
    icms_store_txn *txn;
    size_t found;
} nested_read;

static int nested_read_cb(const uint8_t *key, size_t key_len, const uint8_t *value,
                          size_t value_len, void *payload)
{
    (void)key, (void)key_len, (void)value, (void)value_len;
    nested_read *n = payload;
    const uint8_t *v;
    size_t vl;
    int rc = n->store->get(n->txn, K("k3"), &v, &vl);
    if (rc != 0)
        return rc;
    n->found++;
    /* And a nested scan. */
    kv_list l = {0};
    rc = n->store->scan(n->txn, NULL, 0, NULL, 0, 0, collect_cb, &l);
    size_t count = l.count;
    kv_list_clear(&l);
    return rc != 0 ? rc : (count == 5 ? 0 : ICMS_EUSER);
}

static void test_reads_inside_scan(void **state)
{
    store_factory *f = FACTORY(state);
    icms_store *s = f->open(f);
    static const char *const keys[] = {"k1", "k2", "k3", "k4", "k5"};
    put_keys(s, keys, 5);
    for (int mode = 0; mode < 2; mode++) {
        icms_store_txn *t;
        assert_icms_ok(s->begin(s, mode ? ICMS_STORE_WRITE : ICMS_STORE_READ, &t));
        nested_read n = {s, t, 0};
        assert_icms_ok(s->scan(t, NULL, 0, NULL, 0, 0, nested_read_cb, &n));
        assert_int_equal(n.found, 5);
        assert_icms_ok(s->commit(t));
    }
    f->close(f, s);
}

typedef struct scan_writer {
    icms_store *store;
    icms_store_txn *txn;
    int put_rc, del_rc;
} scan_writer;

static int write_in_scan_cb(const uint8_t *key, size_t key_len, const uint8_t *value,
                            size_t value_len, void *payload)
{
    (void)key, (void)key_len, (void)value, (void)value_len;
    scan_writer *w = payload;
    w->put_rc = w->store->put(w->txn, K("x"), K("y"));
    w->del_rc = w->store->del(w->txn, K("a"));
    return 0;
}

static void test_write_inside_scan_refused(void **state)
{
    /* The port forbids writing through a transaction from its own scan callback; stores refuse. */
    store_factory *f = FACTORY(state);
    icms_store *s = f->open(f);
    put1(s, K("a"), K("1"));
    icms_store_txn *t;
    assert_icms_ok(s->begin(s, ICMS_STORE_WRITE, &t));
    scan_writer w = {s, t, 0, 0};
    assert_icms_ok(s->scan(t, NULL, 0, NULL, 0, 0, write_in_scan_cb, &w));
    assert_int_equal(w.put_rc, ICMS_EINVALID);
    assert_int_equal(w.del_rc, ICMS_EINVALID);
    /* After the scan, writes work again. */
    assert_icms_ok(s->put(t, K("b"), K("2")));
    assert_icms_ok(s->commit(t));
    assert_value(s, K("a"), "1");
    assert_value(s, K("b"), "2");
    assert_value(s, K("x"), NULL);
    f->close(f, s);
}

static void test_rollback_discards_everything(void **state)
{
    store_factory *f = FACTORY(state);
    icms_store *s = f->open(f);
    static const char *const keys[] = {"a", "b", "c"};
    put_keys(s, keys, 3);

    icms_store_txn *t;
    assert_icms_ok(s->begin(s, ICMS_STORE_WRITE, &t));
    assert_icms_ok(s->put(t, K("a"), K("changed")));
    assert_icms_ok(s->put(t, K("d"), K("new")));
    assert_icms_ok(s->del(t, K("b")));
    s->rollback(t);

    static const char *const want[] = {"a", "b", "c"};
    check_range(s, NULL, NULL, want, 3);

    /* A read transaction rolls back too. */
    assert_icms_ok(s->begin(s, ICMS_STORE_READ, &t));
    s->rollback(t);
    f->close(f, s);
}

static void test_read_your_writes(void **state)
{
    store_factory *f = FACTORY(state);
    icms_store *s = f->open(f);
    static const char *const keys[] = {"a", "c", "e"};
    put_keys(s, keys, 3);
    icms_store_txn *t;
    const uint8_t *v;
    size_t vl;
    assert_icms_ok(s->begin(s, ICMS_STORE_WRITE, &t));
    assert_icms_ok(s->put(t, K("b"), K("B")));
    assert_icms_ok(s->put(t, K("c"), K("C")));
    assert_icms_ok(s->del(t, K("e")));
    assert_icms_ok(s->put(t, K("f"), K("F")));
    assert_icms_ok(s->put(t, K("g"), K("gone")));
    assert_icms_ok(s->del(t, K("g")));

    assert_icms_ok(s->get(t, K("b"), &v, &vl));
    assert_int_equal(vl, 1);
    assert_memory_equal(v, "B", 1);
    assert_icms_ok(s->get(t, K("c"), &v, &vl));
    assert_memory_equal(v, "C", 1);
    assert_icms(ICMS_ENOTFOUND, s->get(t, K("e"), &v, &vl));
    assert_icms(ICMS_ENOTFOUND, s->get(t, K("g"), &v, &vl));
    assert_icms_ok(s->get(t, K("a"), &v, &vl));
    assert_memory_equal(v, "a", 1);

    /* Scans merge the transaction's writes with committed data, both ways. */
    static const struct {
        const char *k, *v;
    } want[] = {{"a", "a"}, {"b", "B"}, {"c", "C"}, {"f", "F"}};
    for (int reverse = 0; reverse < 2; reverse++) {
        kv_list l = {0};
        scan_all(s, t, NULL, 0, NULL, 0, reverse ? ICMS_STORE_SCAN_REVERSE : 0, &l);
        assert_int_equal(l.count, 4);
        for (size_t i = 0; i < 4; i++) {
            size_t w = reverse ? 3 - i : i;
            assert_item(&l.items[i], (const uint8_t *)want[w].k, 1);
            assert_int_equal(l.items[i].value_len, 1);
            assert_memory_equal(l.items[i].value, want[w].v, 1);
        }
        kv_list_clear(&l);
        scan_all(s, t, K("b"), K("f"), reverse ? ICMS_STORE_SCAN_REVERSE : 0, &l);
        assert_int_equal(l.count, 2);
        kv_list_clear(&l);
    }
    assert_icms_ok(s->commit(t));
    assert_value(s, K("b"), "B");
    assert_value(s, K("c"), "C");
    assert_value(s, K("e"), NULL);
    assert_value(s, K("g"), NULL);
    assert_int_equal(count_keys(s), 4);
    f->close(f, s);
}

static void test_uncommitted_writes_are_invisible(void **state)
{
    store_factory *f = FACTORY(state);
    icms_store *a = f->open(f);
    icms_store *b = f->open_second(f, a);
    put1(a, K("k"), K("old"));

    icms_store_txn *w, *r;
    const uint8_t *v;
    size_t vl;
    assert_icms_ok(a->begin(a, ICMS_STORE_WRITE, &w));
    assert_icms_ok(a->put(w, K("k"), K("new")));
    assert_icms_ok(a->put(w, K("k2"), K("x")));

    assert_icms_ok(b->begin(b, ICMS_STORE_READ, &r));
    assert_icms_ok(b->get(r, K("k"), &v, &vl));
    assert_int_equal(vl, 3);
    assert_memory_equal(v, "old", 3);
    assert_icms(ICMS_ENOTFOUND, b->get(r, K("k2"), &v, &vl));

    /* The reader keeps its consistent view after the writer commits. */
    assert_icms_ok(a->commit(w));
    assert_icms_ok(b->get(r, K("k"), &v, &vl));
    assert_memory_equal(v, "old", 3);
    assert_icms(ICMS_ENOTFOUND, b->get(r, K("k2"), &v, &vl));
    kv_list l = {0};
    scan_all(b, r, NULL, 0, NULL, 0, 0, &l);
    assert_int_equal(l.count, 1);
    kv_list_clear(&l);
    assert_icms_ok(b->commit(r));

    /* A new transaction sees the commit, on either handle. */
    assert_value(b, K("k"), "new");
    assert_value(a, K("k2"), "x");
    f->close(f, b);
    f->close(f, a);
}

static void test_two_txns_on_one_handle(void **state)
{
    /* A store may run a read transaction while a write transaction is open on it. */
    store_factory *f = FACTORY(state);
    icms_store *s = f->open(f);
    put1(s, K("k"), K("old"));
    icms_store_txn *w, *r;
    const uint8_t *v;
    size_t vl;
    assert_icms_ok(s->begin(s, ICMS_STORE_WRITE, &w));
    assert_icms_ok(s->put(w, K("k"), K("new")));
    assert_icms_ok(s->begin(s, ICMS_STORE_READ, &r));
    assert_icms_ok(s->get(r, K("k"), &v, &vl));
    assert_memory_equal(v, "old", 3);
    assert_icms_ok(s->commit(w));
    assert_icms_ok(s->commit(r));
    assert_value(s, K("k"), "new");
    f->close(f, s);
}

static void test_conflicting_writers(void **state)
{
    store_factory *f = FACTORY(state);
    icms_store *a = f->open(f);
    icms_store *b = f->open_second(f, a);
    put1(a, K("balance"), K("10"));
    icms_store_txn *t1, *t2;
    const uint8_t *v;
    size_t vl;

    if (f->concurrency == STORE_LOCKING) {
        /* The second writer cannot start while the first holds the store. */
        assert_icms_ok(a->begin(a, ICMS_STORE_WRITE, &t1));
        assert_icms_ok(a->get(t1, K("balance"), &v, &vl));
        assert_icms(ICMS_EBUSY, b->begin(b, ICMS_STORE_WRITE, &t2));
        /* Readers still read, the last committed data. */
        assert_value(b, K("balance"), "10");
        assert_icms_ok(a->put(t1, K("balance"), K("11")));
        assert_icms_ok(a->commit(t1));
        /* Once the first is done, the second goes ahead. */
        assert_icms_ok(b->begin(b, ICMS_STORE_WRITE, &t2));
        assert_icms_ok(b->put(t2, K("balance"), K("12")));
        assert_icms_ok(b->commit(t2));
        assert_value(a, K("balance"), "12");
        f->close(f, b);
        f->close(f, a);
        return;
    }

    /* Optimistic: both read the balance, both write it; the second commit must lose. */
    assert_icms_ok(a->begin(a, ICMS_STORE_WRITE, &t1));
    assert_icms_ok(b->begin(b, ICMS_STORE_WRITE, &t2));
    assert_icms_ok(a->get(t1, K("balance"), &v, &vl));
    assert_icms_ok(b->get(t2, K("balance"), &v, &vl));
    assert_icms_ok(a->put(t1, K("balance"), K("11")));
    assert_icms_ok(b->put(t2, K("balance"), K("12")));
    assert_icms_ok(b->put(t2, K("other"), K("x")));
    assert_icms_ok(a->commit(t1));
    assert_icms(ICMS_ECONFLICT, b->commit(t2));
    assert_value(a, K("balance"), "11");
    assert_value(a, K("other"), NULL); /* nothing of the loser is applied */

    /* A read of an absent key conflicts with its later insertion. */
    assert_icms_ok(a->begin(a, ICMS_STORE_WRITE, &t1));
    assert_icms(ICMS_ENOTFOUND, a->get(t1, K("lock"), &v, &vl));
    assert_icms_ok(a->put(t1, K("lock"), K("t1")));
    put1(b, K("lock"), K("t2"));
    assert_icms(ICMS_ECONFLICT, a->commit(t1));
    assert_value(a, K("lock"), "t2");

    /* A scanned range conflicts with an insert or a delete inside it (phantoms)... */
    static const char *const keys[] = {"p/1", "p/3"};
    put_keys(a, keys, 2);
    for (int del = 0; del < 2; del++) {
        kv_list l = {0};
        assert_icms_ok(a->begin(a, ICMS_STORE_WRITE, &t1));
        scan_all(a, t1, K("p/"), K("p0"), 0, &l);
        kv_list_clear(&l);
        assert_icms_ok(a->put(t1, K("count"), K("2")));
        icms_store_txn *t;
        assert_icms_ok(b->begin(b, ICMS_STORE_WRITE, &t));
        if (f->concurrency == STORE_SERIALIZABLE) {
            /* Make it a real anomaly (write skew): b reads what a writes, a scans what b writes. */
            assert_icms(ICMS_ENOTFOUND, b->get(t, K("count"), &v, &vl));
        }
        if (del)
            assert_icms_ok(b->del(t, K("p/1")));
        else
            assert_icms_ok(b->put(t, K("p/2"), K("x")));
        assert_icms_ok(b->commit(t));
        assert_icms(ICMS_ECONFLICT, a->commit(t1));
        assert_value(a, K("count"), NULL);
    }

    /* ...but not with a change outside it, nor with a blind write elsewhere. */
    kv_list l = {0};
    assert_icms_ok(a->begin(a, ICMS_STORE_WRITE, &t1));
    scan_all(a, t1, K("p/"), K("p0"), ICMS_STORE_SCAN_REVERSE, &l);
    kv_list_clear(&l);
    assert_icms(ICMS_ENOTFOUND, a->get(t1, K("absent"), &v, &vl));
    assert_icms_ok(a->put(t1, K("count"), K("2")));
    put1(b, K("q/1"), K("x"));
    put1(b, K("p0"), K("x")); /* the range's end is exclusive */
    put1(b, K("p"), K("x"));
    assert_icms_ok(a->commit(t1));
    assert_value(a, K("count"), "2");

    /* Two blind writers of the same key both commit; the later wins. */
    assert_icms_ok(a->begin(a, ICMS_STORE_WRITE, &t1));
    assert_icms_ok(b->begin(b, ICMS_STORE_WRITE, &t2));
    assert_icms_ok(a->put(t1, K("blind"), K("1")));
    assert_icms_ok(b->put(t2, K("blind"), K("2")));
    assert_icms_ok(a->commit(t1));
    if (f->concurrency == STORE_SERIALIZABLE) {
        /* PostgreSQL refuses to overwrite a row committed after this transaction's snapshot. */
        int rc = b->commit(t2);
        if (rc != ICMS_OK)
            assert_icms(ICMS_ECONFLICT, rc);
        assert_value(a, K("blind"), rc == ICMS_OK ? "2" : "1");
        if (rc != ICMS_OK)
            put1(b, K("blind"), K("2"));
    } else {
        assert_icms_ok(b->commit(t2));
    }
    assert_value(a, K("blind"), "2");

    /* A transaction that began after the other's commit sees it and does not conflict. */
    assert_icms_ok(a->begin(a, ICMS_STORE_WRITE, &t1));
    assert_icms_ok(a->get(t1, K("blind"), &v, &vl));
    assert_memory_equal(v, "2", 1);
    assert_icms_ok(a->put(t1, K("blind"), K("3")));
    assert_icms_ok(a->commit(t1));
    assert_value(a, K("blind"), "3");
    f->close(f, b);
    f->close(f, a);
}

static void test_limits(void **state)
{
    store_factory *f = FACTORY(state);
    icms_store *s = f->open(f);
    uint8_t *key = malloc(ICMS_STORE_KEY_MAX + 1);
    uint8_t *value = malloc((size_t)ICMS_STORE_VALUE_MAX + 1);
    assert_non_null(key);
    assert_non_null(value);
    memset(key, 'k', ICMS_STORE_KEY_MAX + 1);
    for (size_t i = 0; i <= ICMS_STORE_VALUE_MAX; i++)
        value[i] = (uint8_t)(i * 31u);

    icms_store_txn *t;
    assert_icms_ok(s->begin(s, ICMS_STORE_WRITE, &t));
    assert_icms(ICMS_ELIMIT, s->put(t, key, ICMS_STORE_KEY_MAX + 1, K("v")));
    assert_icms(ICMS_ELIMIT, s->del(t, key, ICMS_STORE_KEY_MAX + 1));
    assert_icms(ICMS_ELIMIT, s->put(t, K("big"), value, (size_t)ICMS_STORE_VALUE_MAX + 1));
    assert_icms(ICMS_EINVALID, s->put(t, key, 0, K("v")));
    assert_icms(ICMS_EINVALID, s->put(t, NULL, 3, K("v")));
    assert_icms(ICMS_EINVALID, s->put(t, K("k"), NULL, 3));
    assert_icms(ICMS_EINVALID, s->del(t, key, 0));
    /* Refusals leave the transaction usable; the largest allowed sizes are accepted. */
    assert_icms_ok(s->put(t, key, ICMS_STORE_KEY_MAX, K("longest key")));
    assert_icms_ok(s->put(t, K("big"), value, ICMS_STORE_VALUE_MAX));
    assert_icms_ok(s->commit(t));

    const uint8_t *v;
    size_t vl;
    assert_icms_ok(s->begin(s, ICMS_STORE_READ, &t));
    assert_icms(ICMS_ELIMIT, s->get(t, key, ICMS_STORE_KEY_MAX + 1, &v, &vl));
    assert_icms(ICMS_EINVALID, s->get(t, key, 0, &v, &vl));
    assert_icms_ok(s->get(t, key, ICMS_STORE_KEY_MAX, &v, &vl));
    assert_int_equal(vl, 11);
    assert_icms_ok(s->get(t, K("big"), &v, &vl));
    assert_int_equal(vl, ICMS_STORE_VALUE_MAX);
    assert_memory_equal(v, value, ICMS_STORE_VALUE_MAX);
    assert_icms_ok(s->commit(t));
    assert_int_equal(count_keys(s), 2);
    free(key);
    free(value);
    f->close(f, s);
}

static void test_writes_refused_in_read_txn(void **state)
{
    store_factory *f = FACTORY(state);
    icms_store *s = f->open(f);
    put1(s, K("k"), K("v"));
    icms_store_txn *t;
    assert_icms_ok(s->begin(s, ICMS_STORE_READ, &t));
    assert_icms(ICMS_EINVALID, s->put(t, K("k"), K("w")));
    assert_icms(ICMS_EINVALID, s->put(t, K("new"), K("w")));
    assert_icms(ICMS_EINVALID, s->del(t, K("k")));
    assert_icms_ok(s->commit(t));
    assert_value(s, K("k"), "v");
    assert_value(s, K("new"), NULL);

    /* An unknown mode and missing arguments are refused too. */
    assert_icms(ICMS_EINVALID, s->begin(s, (icms_store_mode_t)7, &t));
    assert_icms(ICMS_EINVALID, s->begin(s, ICMS_STORE_READ, NULL));
    f->close(f, s);
}

/* ---- a randomized comparison with a simple model ---- */

#define MODEL_KEYS 64

typedef struct model {
    bool present[MODEL_KEYS];
    uint32_t value[MODEL_KEYS];
} model;

/* Key i is "m" followed by a byte pattern whose memcmp order equals i's order. */
static size_t model_key(size_t i, uint8_t *out)
{
    out[0] = 'm';
    out[1] = (uint8_t)(i / 8 * 36); /* 0x00 .. 0xfc */
    if (i % 8 == 0)
        return 2; /* a proper prefix of the next seven */
    out[2] = (uint8_t)(i % 8 == 7 ? 0xff : (i % 8) * 16);
    return 3;
}

static uint32_t rng_next(uint32_t *x)
{
    *x ^= *x << 13;
    *x ^= *x >> 17;
    *x ^= *x << 5;
    return *x;
}

static void test_randomized_against_model(void **state)
{
    store_factory *f = FACTORY(state);
    icms_store *s = f->open(f);
    model committed = {0};
    uint32_t rng = 0x9e3779b9u;
    for (int round = 0; round < 60; round++) {
        model m = committed;
        icms_store_txn *t;
        assert_icms_ok(s->begin(s, ICMS_STORE_WRITE, &t));
        /* Mostly small transactions, now and then a big one (stores may take another path). */
        int ops = round % 10 == 9 ? 150 : (int)(rng_next(&rng) % 12) + 1;
        for (int op = 0; op < ops; op++) {
            size_t i = rng_next(&rng) % MODEL_KEYS;
            uint8_t key[3];
            size_t kl = model_key(i, key);
            uint32_t r = rng_next(&rng) % 4;
            if (r < 2) {
                uint32_t val = rng_next(&rng);
                assert_icms_ok(s->put(t, key, kl, (const uint8_t *)&val, sizeof val));
                m.present[i] = true;
                m.value[i] = val;
            } else if (r == 2) {
                assert_icms_ok(s->del(t, key, kl));
                m.present[i] = false;
            } else {
                /* A scan with random bounds, checked against the model with pending writes. */
                size_t a = rng_next(&rng) % (MODEL_KEYS + 1), b = rng_next(&rng) % (MODEL_KEYS + 1);
                uint8_t ka[3], kb[3];
                size_t kal = a < MODEL_KEYS ? model_key(a, ka) : 0;
                size_t kbl = b < MODEL_KEYS ? model_key(b, kb) : 0;
                unsigned int flags = rng_next(&rng) % 2 ? ICMS_STORE_SCAN_REVERSE : 0;
                kv_list l = {0};
                scan_all(s, t, kal ? ka : NULL, kal, kbl ? kb : NULL, kbl, flags, &l);
                size_t lo = a < MODEL_KEYS ? a : 0, hi = b < MODEL_KEYS ? b : MODEL_KEYS;
                size_t n = 0;
                for (size_t j = lo; j < hi; j++)
                    n += m.present[j];
                assert_int_equal(l.count, n);
                size_t pos = 0;
                for (size_t jj = lo; jj < hi; jj++) {
                    size_t j = flags ? hi - 1 - (jj - lo) : jj;
                    if (!m.present[j])
                        continue;
                    uint8_t kj[3];
                    size_t kjl = model_key(j, kj);
                    assert_item(&l.items[pos], kj, kjl);
                    assert_memory_equal(l.items[pos].value, &m.value[j], sizeof m.value[j]);
                    pos++;
                }
                kv_list_clear(&l);
            }
        }
        /* Sometimes a reader holds the old state across the commit; it must keep seeing it. */
        icms_store_txn *old_reader = NULL;
        if (round % 3 == 1)
            assert_icms_ok(s->begin(s, ICMS_STORE_READ, &old_reader));
        model before = committed;
        if (rng_next(&rng) % 4 == 0) {
            s->rollback(t);
        } else {
            assert_icms_ok(s->commit(t));
            committed = m;
        }
        if (old_reader) {
            kv_list l = {0};
            scan_all(s, old_reader, NULL, 0, NULL, 0, 0, &l);
            size_t n = 0;
            for (size_t i = 0; i < MODEL_KEYS; i++)
                n += before.present[i];
            assert_int_equal(l.count, n);
            kv_list_clear(&l);
            assert_icms_ok(s->commit(old_reader));
        }
        /* Every key agrees with the committed model. */
        icms_store_txn *r;
        assert_icms_ok(s->begin(s, ICMS_STORE_READ, &r));
        for (size_t i = 0; i < MODEL_KEYS; i++) {
            uint8_t key[3];
            size_t kl = model_key(i, key);
            const uint8_t *v;
            size_t vl;
            int rc = s->get(r, key, kl, &v, &vl);
            if (committed.present[i]) {
                assert_icms_ok(rc);
                assert_int_equal(vl, sizeof(uint32_t));
                assert_memory_equal(v, &committed.value[i], vl);
            } else {
                assert_int_equal(rc, ICMS_ENOTFOUND);
            }
        }
        assert_icms_ok(s->commit(r));
    }
    f->close(f, s);
}

/* ---- threads ---- */

#define THREADS 4
#define INCREMENTS 50

typedef struct counter_job {
    icms_store *store;
    int failures;
    int retries;
} counter_job;

/* Read-modify-write of one counter, rerun on conflict or busy as the application does. */
static void *counter_thread(void *arg)
{
    counter_job *job = arg;
    icms_store *s = job->store;
    for (int i = 0; i < INCREMENTS; i++) {
        for (int attempt = 0;; attempt++) {
            if (attempt > 1000) {
                job->failures++;
                break;
            }
            icms_store_txn *t;
            int rc = s->begin(s, ICMS_STORE_WRITE, &t);
            if (rc == ICMS_EBUSY) {
                job->retries++;
                continue;
            }
            if (rc != 0) {
                job->failures++;
                break;
            }
            uint64_t n;
            rc = read_u64(s, t, K("counter"), &n);
            if (rc == ICMS_ECONFLICT || rc == ICMS_EBUSY) {
                /* A store may detect the conflict at any call (docs/storage.md): rerun. */
                s->rollback(t);
                job->retries++;
                continue;
            } else if (rc != 0) {
                s->rollback(t);
                job->failures++;
                break;
            }
            n++;
            /* Widen the window between read and write so that threads really interleave. */
            usleep(50);
            if (s->put(t, K("counter"), (const uint8_t *)&n, sizeof n) != 0) {
                s->rollback(t);
                job->failures++;
                break;
            }
            rc = s->commit(t);
            if (rc == 0)
                break;
            if (rc != ICMS_ECONFLICT && rc != ICMS_EBUSY) {
                job->failures++;
                break;
            }
            job->retries++;
        }
    }
    return NULL;
}

static void test_threads_lose_no_increment(void **state)
{
    store_factory *f = FACTORY(state);
    icms_store *s = f->open(f);
    pthread_t threads[THREADS];
    counter_job jobs[THREADS];
    for (int i = 0; i < THREADS; i++) {
        jobs[i] = (counter_job){s, 0, 0};
        assert_int_equal(pthread_create(&threads[i], NULL, counter_thread, &jobs[i]), 0);
    }
    for (int i = 0; i < THREADS; i++) {
        pthread_join(threads[i], NULL);
        assert_int_equal(jobs[i].failures, 0);
    }
    icms_store_txn *t;
    assert_icms_ok(s->begin(s, ICMS_STORE_READ, &t));
    uint64_t n = get_u64(s, t, K("counter"));
    assert_icms_ok(s->commit(t));
    assert_int_equal(n, THREADS * INCREMENTS);
    f->close(f, s);
}

/* ---- concurrent transfers: serializable writers, consistent readers ---- */

#define ACCOUNTS 8
#define START_BALANCE 1000
#define TRANSFERS 60

typedef struct bank_job {
    icms_store *store;
    uint32_t seed;
    int failures;
    int bad_sums; /* readers: snapshots whose total was wrong */
    atomic_int *stop;
} bank_job;

static void account_key(int i, uint8_t key[6])
{
    memcpy(key, "acct/", 5);
    key[5] = (uint8_t)('a' + i);
}

static int read_balance(icms_store *s, icms_store_txn *t, int i, int64_t *out)
{
    uint8_t key[6];
    account_key(i, key);
    const uint8_t *v;
    size_t vl;
    int rc = s->get(t, key, sizeof key, &v, &vl);
    if (rc != 0)
        return rc;
    if (vl != sizeof *out)
        return ICMS_ECORRUPT;
    memcpy(out, v, sizeof *out);
    return 0;
}

/* Move a random amount between two random accounts; rerun on conflict or busy. */
static void *transfer_thread(void *arg)
{
    bank_job *job = arg;
    icms_store *s = job->store;
    for (int n = 0; n < TRANSFERS; n++) {
        int from = (int)(rng_next(&job->seed) % ACCOUNTS);
        int to = (int)((uint32_t)(from + 1) + rng_next(&job->seed) % (ACCOUNTS - 1)) % ACCOUNTS;
        int64_t amount = (int64_t)(rng_next(&job->seed) % 50);
        for (int attempt = 0;; attempt++) {
            if (attempt > 1000) {
                job->failures++;
                break;
            }
            icms_store_txn *t;
            int rc = s->begin(s, ICMS_STORE_WRITE, &t);
            if (rc == ICMS_EBUSY)
                continue;
            if (rc != 0) {
                job->failures++;
                break;
            }
            int64_t a, b;
            if ((rc = read_balance(s, t, from, &a)) == 0)
                rc = read_balance(s, t, to, &b);
            usleep(rng_next(&job->seed) % 100); /* let the others interleave */
            if (rc == 0 && a >= amount) {
                a -= amount;
                b += amount;
                uint8_t ka[6], kb[6];
                account_key(from, ka);
                account_key(to, kb);
                rc = s->put(t, ka, sizeof ka, (const uint8_t *)&a, sizeof a);
                if (rc == 0)
                    rc = s->put(t, kb, sizeof kb, (const uint8_t *)&b, sizeof b);
            }
            if (rc == ICMS_ECONFLICT || rc == ICMS_EBUSY) {
                s->rollback(t); /* detected before commit (docs/storage.md): rerun */
                continue;
            }
            if (rc != 0) {
                s->rollback(t);
                job->failures++;
                break;
            }
            rc = s->commit(t);
            if (rc == 0)
                break;
            if (rc != ICMS_ECONFLICT && rc != ICMS_EBUSY) {
                job->failures++;
                break;
            }
        }
    }
    return NULL;
}

static int sum_cb(const uint8_t *key, size_t key_len, const uint8_t *value, size_t value_len,
                  void *payload)
{
    (void)key, (void)key_len;
    int64_t v;
    if (value_len != sizeof v)
        return ICMS_ECORRUPT;
    memcpy(&v, value, sizeof v);
    *(int64_t *)payload += v;
    return 0;
}

/* Sum every account in one read transaction, by scan and by gets; both must be the total. */
static void *auditor_thread(void *arg)
{
    bank_job *job = arg;
    icms_store *s = job->store;
    while (!atomic_load(job->stop)) {
        icms_store_txn *t;
        if (s->begin(s, ICMS_STORE_READ, &t) != 0) {
            job->failures++;
            return NULL;
        }
        int64_t by_scan = 0, by_get = 0;
        int rc = s->scan(t, K("acct/"), K("acct0"), 0, sum_cb, &by_scan);
        for (int i = 0; rc == 0 && i < ACCOUNTS; i++) {
            int64_t v;
            rc = read_balance(s, t, i, &v);
            by_get += v;
        }
        s->commit(t);
        if (rc != 0)
            job->failures++;
        else if (by_scan != ACCOUNTS * START_BALANCE || by_get != ACCOUNTS * START_BALANCE)
            job->bad_sums++;
    }
    return NULL;
}

static void test_concurrent_transfers_keep_the_total(void **state)
{
    store_factory *f = FACTORY(state);
    icms_store *s = f->open(f);
    icms_store_txn *t;
    assert_icms_ok(s->begin(s, ICMS_STORE_WRITE, &t));
    for (int i = 0; i < ACCOUNTS; i++) {
        uint8_t key[6];
        int64_t v = START_BALANCE;
        account_key(i, key);
        assert_icms_ok(s->put(t, key, sizeof key, (const uint8_t *)&v, sizeof v));
    }
    assert_icms_ok(s->commit(t));

    atomic_int stop = 0;
    pthread_t writers[3], auditor;
    bank_job jobs[3], audit = {s, 0, 0, 0, &stop};
    assert_int_equal(pthread_create(&auditor, NULL, auditor_thread, &audit), 0);
    for (int i = 0; i < 3; i++) {
        jobs[i] = (bank_job){s, 0x1234567u * (uint32_t)(i + 1), 0, 0, &stop};
        assert_int_equal(pthread_create(&writers[i], NULL, transfer_thread, &jobs[i]), 0);
    }
    for (int i = 0; i < 3; i++) {
        pthread_join(writers[i], NULL);
        assert_int_equal(jobs[i].failures, 0);
    }
    atomic_store(&stop, 1);
    pthread_join(auditor, NULL);
    assert_int_equal(audit.failures, 0);
    assert_int_equal(audit.bad_sums, 0);

    /* Lost updates would show here: money created or destroyed. */
    int64_t total = 0;
    assert_icms_ok(s->begin(s, ICMS_STORE_READ, &t));
    assert_icms_ok(s->scan(t, K("acct/"), K("acct0"), 0, sum_cb, &total));
    assert_icms_ok(s->commit(t));
    assert_int_equal(total, ACCOUNTS * START_BALANCE);
    f->close(f, s);
}

size_t store_conformance_tests(store_factory *f, struct CMUnitTest *tests, size_t max)
{
    const struct CMUnitTest all[] = {
        cmocka_unit_test_prestate(test_put_get_del, f),
        cmocka_unit_test_prestate(test_ordering, f),
        cmocka_unit_test_prestate(test_range_scans, f),
        cmocka_unit_test_prestate(test_scan_stop_and_errors, f),
        cmocka_unit_test_prestate(test_reads_inside_scan, f),
        cmocka_unit_test_prestate(test_write_inside_scan_refused, f),
        cmocka_unit_test_prestate(test_rollback_discards_everything, f),
        cmocka_unit_test_prestate(test_read_your_writes, f),
        cmocka_unit_test_prestate(test_uncommitted_writes_are_invisible, f),
        cmocka_unit_test_prestate(test_two_txns_on_one_handle, f),
        cmocka_unit_test_prestate(test_conflicting_writers, f),
        cmocka_unit_test_prestate(test_limits, f),
        cmocka_unit_test_prestate(test_writes_refused_in_read_txn, f),
        cmocka_unit_test_prestate(test_randomized_against_model, f),
        cmocka_unit_test_prestate(test_threads_lose_no_increment, f),
        cmocka_unit_test_prestate(test_concurrent_transfers_keep_the_total, f),
    };
    size_t n = sizeof all / sizeof all[0];
    if (n > max)
        n = max;
    memcpy(tests, all, n * sizeof *tests);
    return n;
}
