/* The memory store: the conformance suite, plus what only the memory store promises. */
#include "conformance.h"
#include "store_kv.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/core.h"
#include "support/fault_store.h"

static icms_store *mem_open(store_factory *f)
{
    (void)f;
    icms_store *s = NULL;
    assert_icms_ok(icms_store_memory_new(&s));
    return s;
}

/* The memory store is one object: a second handle is a wrapper that shares it. */
static icms_store *mem_open_second(store_factory *f, icms_store *first)
{
    (void)f;
    icms_store *s = NULL;
    assert_icms_ok(icms_test_fault_store_new(&s, first, false));
    return s;
}

static void mem_close(store_factory *f, icms_store *s)
{
    (void)f;
    icms_store_free(s);
}

static store_factory memory_factory = {
    "memory", STORE_OPTIMISTIC, mem_open, mem_open_second, mem_close, NULL,
};

static int first_only_cb(const uint8_t *key, size_t key_len, const uint8_t *value, size_t value_len,
                         void *payload)
{
    (void)value, (void)value_len;
    memcpy(payload, key, key_len < 8 ? key_len : 8);
    return ICMS_STORE_STOP;
}

/* Scan [p/, p0) in t1 stopping at the first key, let t2 put `key`, answer t1's commit. */
static int race_first_key(icms_store *s, unsigned int flags, const uint8_t *key, size_t key_len,
                          char *first)
{
    icms_store_txn *t1, *t2;
    assert_icms_ok(s->begin(s, ICMS_STORE_WRITE, &t1));
    memset(first, 0, 8);
    assert_icms_ok(s->scan(t1, K("p/"), K("p0"), flags, first_only_cb, first));
    assert_icms_ok(s->put(t1, K("first"), (const uint8_t *)first, strlen(first)));
    assert_icms_ok(s->begin(s, ICMS_STORE_WRITE, &t2));
    assert_icms_ok(s->put(t2, key, key_len, K("v")));
    assert_icms_ok(s->commit(t2));
    return s->commit(t1);
}

static void test_early_stop_narrows_the_read_range(void **state)
{
    (void)state;
    icms_store *s = mem_open(NULL);
    icms_store_txn *t;
    assert_icms_ok(s->begin(s, ICMS_STORE_WRITE, &t));
    assert_icms_ok(s->put(t, K("p/3"), K("v")));
    assert_icms_ok(s->put(t, K("p/5"), K("v")));
    assert_icms_ok(s->commit(t));
    char first[8];

    /* "The first key under p/" depends on the keys up to it, not on the ones after it. */
    assert_icms_ok(race_first_key(s, 0, K("p/9"), first));
    assert_string_equal(first, "p/3");
    assert_icms(ICMS_ECONFLICT, race_first_key(s, 0, K("p/1"), first));
    assert_string_equal(first, "p/3");
    /* The key it stopped at changing is a conflict too. */
    assert_icms(ICMS_ECONFLICT, race_first_key(s, 0, K("p/1"), first));
    assert_string_equal(first, "p/1");

    /* Reverse: the last key depends on the keys from it upwards. */
    assert_icms_ok(race_first_key(s, ICMS_STORE_SCAN_REVERSE, K("p/0"), first));
    assert_string_equal(first, "p/9");
    assert_icms(ICMS_ECONFLICT, race_first_key(s, ICMS_STORE_SCAN_REVERSE, K("p/99"), first));
    assert_icms(ICMS_ECONFLICT, race_first_key(s, ICMS_STORE_SCAN_REVERSE, K("p/99"), first));
    assert_string_equal(first, "p/99");
    icms_store_free(s);
}

static int visit_cb(const uint8_t *key, size_t key_len, const uint8_t *value, size_t value_len,
                    void *payload)
{
    (void)key, (void)key_len, (void)value, (void)value_len, (void)payload;
    return 0;
}

static int fail_at_first_cb(const uint8_t *key, size_t key_len, const uint8_t *value,
                            size_t value_len, void *payload)
{
    (void)key, (void)key_len, (void)value, (void)value_len, (void)payload;
    return ICMS_EUSER;
}

static void test_scan_ended_by_an_error_still_counts(void **state)
{
    /* A callback may stop a scan with its own code and the command go on to commit. */
    (void)state;
    icms_store *s = mem_open(NULL);
    icms_store_txn *t1, *t2;
    assert_icms_ok(s->begin(s, ICMS_STORE_WRITE, &t1));
    assert_icms_ok(s->put(t1, K("p/5"), K("v")));
    assert_icms_ok(s->commit(t1));

    assert_icms_ok(s->begin(s, ICMS_STORE_WRITE, &t1));
    assert_int_equal(s->scan(t1, K("p/"), K("p0"), 0, fail_at_first_cb, NULL), ICMS_EUSER);
    assert_icms_ok(s->put(t1, K("decision"), K("p/5 is first")));
    assert_icms_ok(s->begin(s, ICMS_STORE_WRITE, &t2));
    assert_icms_ok(s->put(t2, K("p/1"), K("v")));
    assert_icms_ok(s->commit(t2));
    assert_icms(ICMS_ECONFLICT, s->commit(t1));
    icms_store_free(s);
}

static void test_lost_read_tracking_refuses_commit(void **state)
{
    /* If the store cannot remember a read, it cannot validate the commit: refuse it. */
    (void)state;
    icms_store *s = mem_open(NULL);
    icms_store_txn *t;
    const uint8_t *v;
    size_t vl;
    assert_icms_ok(s->begin(s, ICMS_STORE_WRITE, &t));
    icms__alloc_fail_after(1);
    assert_icms(ICMS_ENOMEM, s->get(t, K("k"), &v, &vl));
    icms__alloc_fail_after(0);
    assert_icms_ok(s->put(t, K("k"), K("v")));
    assert_icms(ICMS_ENOMEM, s->commit(t));
    size_t keys;
    assert_icms_ok(icms_test_store_digest(s, NULL, &keys));
    assert_int_equal(keys, 0);

    /* The same for a scan's range. */
    assert_icms_ok(s->begin(s, ICMS_STORE_WRITE, &t));
    icms__alloc_fail_after(1);
    assert_icms(ICMS_ENOMEM, s->scan(t, K("a"), K("b"), 0, visit_cb, NULL));
    icms__alloc_fail_after(0);
    assert_icms_ok(s->put(t, K("k"), K("v")));
    assert_icms(ICMS_ENOMEM, s->commit(t));
    assert_icms_ok(icms_test_store_digest(s, NULL, &keys));
    assert_int_equal(keys, 0);
    icms_store_free(s);
}

typedef struct collected {
    uint8_t keys[64];
    uint8_t values[64];
    size_t n;
} collected;

static int collect_cb(const uint8_t *key, size_t key_len, const uint8_t *value, size_t value_len,
                      void *payload)
{
    collected *c = payload;
    if (key_len != 2 || value_len != 1 || c->n == 64)
        return ICMS_EUSER;
    c->keys[c->n] = key[1];
    c->values[c->n++] = value[0];
    return 0;
}

/* The write buffer sorts late, out-of-order writes in before it is read; last write wins. */
static void test_write_buffer_out_of_order(void **state)
{
    (void)state;
    for (int oom = 0; oom < 2; oom++) {
        icms_store *s = mem_open(NULL);
        icms_store_txn *t;
        assert_icms_ok(s->begin(s, ICMS_STORE_WRITE, &t));
        /* 40 keys descending, then every fourth rewritten, every fifth deleted. */
        for (int i = 39; i >= 0; i--) {
            uint8_t key[2] = {'k', (uint8_t)i}, value = (uint8_t)i;
            assert_icms_ok(s->put(t, key, 2, &value, 1));
        }
        for (int i = 0; i < 40; i += 4) {
            uint8_t key[2] = {'k', (uint8_t)i}, value = (uint8_t)(100 + i);
            assert_icms_ok(s->put(t, key, 2, &value, 1));
        }
        for (int i = 0; i < 40; i += 5) {
            uint8_t key[2] = {'k', (uint8_t)i};
            assert_icms_ok(s->del(t, key, 2));
        }
        /* Without memory for a merge buffer the flush inserts one by one, still correct. */
        if (oom)
            icms__alloc_fail_after(1);
        const uint8_t *v;
        size_t vl;
        int rc = s->get(t, K("k\x04"), &v, &vl);
        icms__alloc_fail_after(0);
        assert_icms_ok(rc);
        assert_int_equal(v[0], 104);
        for (int pass = 0; pass < 2; pass++) {
            collected c = {0};
            if (pass == 1) {
                /* And what was committed is the same. */
                assert_icms_ok(s->commit(t));
                assert_icms_ok(s->begin(s, ICMS_STORE_READ, &t));
            }
            assert_icms_ok(s->scan(t, NULL, 0, NULL, 0, 0, collect_cb, &c));
            assert_int_equal(c.n, 32);
            size_t n = 0;
            for (int i = 0; i < 40; i++) {
                if (i % 5 == 0)
                    continue;
                assert_int_equal(c.keys[n], i);
                assert_int_equal(c.values[n], i % 4 == 0 ? 100 + i : i);
                n++;
            }
        }
        assert_icms_ok(s->commit(t));
        icms_store_free(s);
    }
}

static void test_store_free_null_and_bad_args(void **state)
{
    (void)state;
    icms_store_free(NULL);
    assert_icms(ICMS_EINVALID, icms_store_memory_new(NULL));
}

static int stop_cb(const uint8_t *key, size_t key_len, const uint8_t *value, size_t value_len,
                   void *payload)
{
    (void)key, (void)key_len, (void)value, (void)value_len, (void)payload;
    return ICMS_STORE_STOP;
}

/*
 * Every allocation in a command can fail, and a failed command changes nothing.
 * With another writer open the commit copies the snapshot and logs its keys;
 * alone it edits the snapshot in place: both paths are covered.
 */
static void allocation_failures_change_nothing(bool other_writer)
{
    icms_store *s = mem_open(NULL);
    icms_store_txn *t;
    assert_icms_ok(s->begin(s, ICMS_STORE_WRITE, &t));
    assert_icms_ok(s->put(t, K("a"), K("1")));
    assert_icms_ok(s->put(t, K("b"), K("2")));
    assert_icms_ok(s->commit(t));
    uint64_t before;
    assert_icms_ok(icms_test_store_digest(s, &before, NULL));

    int failed = 0;
    for (long n = 1; n < 200; n++) {
        /* A second writer open at the same time makes the commit log its write set too. */
        icms_store_txn *other = NULL;
        if (other_writer)
            assert_icms_ok(s->begin(s, ICMS_STORE_WRITE, &other));
        icms__alloc_fail_after(n);
        int rc = s->begin(s, ICMS_STORE_WRITE, &t);
        if (rc == 0) {
            /* Reads and scans record what they saw, which allocates too. */
            const uint8_t *v;
            size_t vl;
            rc = s->get(t, K("a"), &v, &vl);
            if (rc == 0)
                rc = s->scan(t, K("a"), K("c"), 0, visit_cb, NULL);
            if (rc == 0)
                rc = s->scan(t, K("a"), NULL, 0, ICMS_STORE_SCAN_REVERSE, stop_cb, NULL);
            if (rc == 0)
                rc = s->put(t, K("a"), K("changed"));
            if (rc == 0)
                rc = s->del(t, K("b"));
            if (rc == 0)
                rc = s->put(t, K("c"), K("3"));
            if (rc == 0)
                rc = s->commit(t);
            else
                s->rollback(t);
        }
        icms__alloc_fail_after(0);
        if (other)
            s->rollback(other);
        if (rc == 0) {
            /* No injected failure reached this far: the command went through. */
            assert_true(failed >= 10); /* 21 allocations today: each failed once, harmlessly */
            uint64_t after;
            size_t keys;
            assert_icms_ok(icms_test_store_digest(s, &after, &keys));
            assert_int_equal(keys, 2);
            icms_store_free(s);
            return;
        }
        assert_int_equal(rc, ICMS_ENOMEM);
        failed++;
        uint64_t after;
        assert_icms_ok(icms_test_store_digest(s, &after, NULL));
        assert_true(after == before);
    }
    fail_msg("the command never succeeded");
}

static void test_allocation_failures_change_nothing(void **state)
{
    (void)state;
    allocation_failures_change_nothing(false);
    allocation_failures_change_nothing(true);
}

int main(void)
{
    struct CMUnitTest tests[STORE_CONFORMANCE_MAX + 8];
    size_t n = store_conformance_tests(&memory_factory, tests, STORE_CONFORMANCE_MAX);
    const struct CMUnitTest own[] = {
        cmocka_unit_test(test_early_stop_narrows_the_read_range),
        cmocka_unit_test(test_scan_ended_by_an_error_still_counts),
        cmocka_unit_test(test_lost_read_tracking_refuses_commit),
        cmocka_unit_test(test_write_buffer_out_of_order),
        cmocka_unit_test(test_store_free_null_and_bad_args),
        cmocka_unit_test(test_allocation_failures_change_nothing),
    };
    memcpy(tests + n, own, sizeof own);
    n += sizeof own / sizeof own[0];
    return _cmocka_run_group_tests("memory store", tests, n, NULL, NULL);
}
