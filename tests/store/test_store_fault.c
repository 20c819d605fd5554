/* The fault-injecting store and the store dump that other modules' tests rely on. */
#include "support/test_support.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "icms/sys/store.h"
#include "store_kv.h"
#include "support/fault_store.h"

static char tmpdir[4096];

/* The inner store of a test: memory (state NULL) or a fresh SQLite file. */
static icms_store *open_inner(void **state)
{
    icms_store *s = NULL;
    if (*state == NULL) {
        assert_icms_ok(icms_store_memory_new(&s));
    } else {
        static unsigned int n;
        char path[4200];
        snprintf(path, sizeof path, "%s/fault-%u.db", tmpdir, n++);
        assert_icms_ok(icms_store_sqlite_new(&s, path, NULL));
    }
    return s;
}

static icms_store *wrap(icms_store *inner)
{
    icms_store *fs = NULL;
    assert_icms_ok(icms_test_fault_store_new(&fs, inner, true));
    return fs;
}

static void test_forwards_and_counts(void **state)
{
    icms_store *fs = wrap(open_inner(state));
    icms_store_txn *t;
    const uint8_t *v;
    size_t vl, n = 0;
    assert_icms_ok(fs->begin(fs, ICMS_STORE_WRITE, &t));
    assert_icms_ok(fs->put(t, K("a"), K("1")));
    assert_icms_ok(fs->put(t, K("b"), K("2")));
    assert_icms_ok(fs->del(t, K("b")));
    assert_icms_ok(fs->get(t, K("a"), &v, &vl));
    assert_icms(ICMS_ENOTFOUND, fs->get(t, K("b"), &v, &vl));
    assert_icms_ok(fs->scan(t, NULL, 0, NULL, 0, 0, count_cb, &n));
    assert_int_equal(n, 1);
    assert_icms_ok(fs->commit(t));
    assert_icms_ok(fs->begin(fs, ICMS_STORE_READ, &t));
    fs->rollback(t);

    assert_int_equal(icms_test_fault_store_calls(fs, ICMS_TEST_FAULT_BEGIN), 2);
    assert_int_equal(icms_test_fault_store_calls(fs, ICMS_TEST_FAULT_PUT), 2);
    assert_int_equal(icms_test_fault_store_calls(fs, ICMS_TEST_FAULT_DEL), 1);
    assert_int_equal(icms_test_fault_store_calls(fs, ICMS_TEST_FAULT_GET), 2);
    assert_int_equal(icms_test_fault_store_calls(fs, ICMS_TEST_FAULT_SCAN), 1);
    assert_int_equal(icms_test_fault_store_calls(fs, ICMS_TEST_FAULT_COMMIT), 1);
    assert_int_equal(icms_test_fault_store_calls(fs, ICMS_TEST_FAULT_ANY), 9);
    assert_int_equal(icms_test_fault_store_calls(fs, ICMS_TEST_FAULT_OPS), 0);

    /* The writes reached the inner store. */
    icms_store *inner = icms_test_fault_store_inner(fs);
    size_t keys;
    assert_icms_ok(icms_test_store_digest(inner, NULL, &keys));
    assert_int_equal(keys, 1);

    icms_test_fault_store_reset(fs);
    assert_int_equal(icms_test_fault_store_calls(fs, ICMS_TEST_FAULT_ANY), 0);
    assert_false(icms_test_fault_store_fired(fs));
    icms_store_free(fs);
}

static void test_fails_the_nth_call_of_a_kind(void **state)
{
    icms_store *fs = wrap(open_inner(state));
    icms_store_txn *t;
    assert_icms_ok(fs->begin(fs, ICMS_STORE_WRITE, &t));
    icms_test_fault_store_fail(fs, ICMS_TEST_FAULT_PUT, 2, ICMS_ESTORAGE);
    assert_icms_ok(fs->put(t, K("a"), K("1")));
    assert_false(icms_test_fault_store_fired(fs));
    assert_icms(ICMS_ESTORAGE, fs->put(t, K("b"), K("2")));
    assert_true(icms_test_fault_store_fired(fs));
    assert_non_null(strstr(icms_error_last()->message, "injected"));
    /* It fires once; the transaction is still usable. */
    assert_icms_ok(fs->put(t, K("c"), K("3")));
    assert_icms_ok(fs->commit(t));
    uint8_t *dump;
    size_t len;
    assert_icms_ok(icms_test_store_dump(fs, &dump, &len));
    /* a=1 and c=3, each as 4-byte lengths plus bytes. */
    static const uint8_t want[] = {0, 0, 0, 1, 'a', 0, 0, 0, 1, '1',
                                   0, 0, 0, 1, 'c', 0, 0, 0, 1, '3'};
    assert_int_equal(len, sizeof want);
    assert_memory_equal(dump, want, len);
    free(dump);

    /* A failed scan calls no callback. */
    assert_icms_ok(fs->begin(fs, ICMS_STORE_READ, &t));
    icms_test_fault_store_fail(fs, ICMS_TEST_FAULT_SCAN, 1, ICMS_EUSER);
    size_t n = 0;
    assert_icms(ICMS_EUSER, fs->scan(t, NULL, 0, NULL, 0, 0, count_cb, &n));
    assert_int_equal(n, 0);
    assert_icms_ok(fs->scan(t, NULL, 0, NULL, 0, 0, count_cb, &n));
    assert_int_equal(n, 2);
    assert_icms_ok(fs->commit(t));

    /* A failed begin opens nothing. */
    icms_test_fault_store_fail(fs, ICMS_TEST_FAULT_BEGIN, 1, ICMS_EBUSY);
    t = (icms_store_txn *)&n;
    assert_icms(ICMS_EBUSY, fs->begin(fs, ICMS_STORE_WRITE, &t));
    assert_null(t);

    /* Disarming works. */
    icms_test_fault_store_fail(fs, ICMS_TEST_FAULT_GET, 1, ICMS_ESTORAGE);
    icms_test_fault_store_fail(fs, ICMS_TEST_FAULT_GET, 0, 0);
    const uint8_t *v;
    size_t vl;
    assert_icms_ok(fs->begin(fs, ICMS_STORE_READ, &t));
    assert_icms_ok(fs->get(t, K("a"), &v, &vl));
    assert_icms_ok(fs->commit(t));
    icms_store_free(fs);
}

static void test_failed_commit_writes_nothing(void **state)
{
    icms_store *fs = wrap(open_inner(state));
    put1(fs, K("a"), K("1"));
    icms_store_txn *t;
    assert_icms_ok(fs->begin(fs, ICMS_STORE_WRITE, &t));
    assert_icms_ok(fs->put(t, K("a"), K("2")));
    assert_icms_ok(fs->put(t, K("b"), K("2")));
    icms_test_fault_store_fail(fs, ICMS_TEST_FAULT_COMMIT, 1, ICMS_ECONFLICT);
    assert_icms(ICMS_ECONFLICT, fs->commit(t));
    uint8_t *dump;
    size_t len;
    assert_icms_ok(icms_test_store_dump(fs, &dump, &len));
    static const uint8_t want[] = {0, 0, 0, 1, 'a', 0, 0, 0, 1, '1'};
    assert_int_equal(len, sizeof want);
    assert_memory_equal(dump, want, len);
    free(dump);
    /* The inner transaction is gone: a new writer starts at once (SQLite would be busy). */
    assert_icms_ok(fs->begin(fs, ICMS_STORE_WRITE, &t));
    fs->rollback(t);
    icms_store_free(fs);
}

static void test_lost_commit_answer(void **state)
{
    icms_store *fs = wrap(open_inner(state));
    icms_store_txn *t;
    put1(fs, K("a"), K("1"));
    icms_test_fault_store_lose_commit(fs, 2, ICMS_ESTORAGE);
    put1(fs, K("b"), K("2")); /* the first commit from now answers normally */
    assert_false(icms_test_fault_store_fired(fs));
    assert_icms_ok(fs->begin(fs, ICMS_STORE_WRITE, &t));
    assert_icms_ok(fs->put(t, K("c"), K("3")));
    assert_icms(ICMS_ESTORAGE, fs->commit(t));
    assert_true(icms_test_fault_store_fired(fs));
    assert_non_null(strstr(icms_error_last()->message, "applied"));
    /* ...yet the write is there, and the next commit answers normally. */
    size_t keys;
    assert_icms_ok(icms_test_store_digest(icms_test_fault_store_inner(fs), NULL, &keys));
    assert_int_equal(keys, 3);
    put1(fs, K("d"), K("4"));
    icms_store_free(fs);
}

static void test_scan_failing_part_way(void **state)
{
    icms_store *fs = wrap(open_inner(state));
    icms_store_txn *t;
    assert_icms_ok(fs->begin(fs, ICMS_STORE_WRITE, &t));
    for (char c = '1'; c <= '5'; c++) {
        uint8_t key[2] = {'k', (uint8_t)c};
        assert_icms_ok(fs->put(t, key, 2, K("v")));
    }
    assert_icms_ok(fs->commit(t));

    assert_icms_ok(fs->begin(fs, ICMS_STORE_READ, &t));
    size_t n = 0;
    icms_test_fault_store_fail_scan_after(fs, 2, 3, ICMS_ESTORAGE);
    assert_icms_ok(fs->scan(t, NULL, 0, NULL, 0, 0, count_cb, &n)); /* the first scan is whole */
    assert_int_equal(n, 5);
    assert_false(icms_test_fault_store_fired(fs));
    n = 0;
    assert_icms(ICMS_ESTORAGE, fs->scan(t, NULL, 0, NULL, 0, 0, count_cb, &n));
    assert_int_equal(n, 3);
    assert_true(icms_test_fault_store_fired(fs));
    n = 0;
    assert_icms_ok(fs->scan(t, NULL, 0, NULL, 0, ICMS_STORE_SCAN_REVERSE, count_cb, &n));
    assert_int_equal(n, 5);
    /* A scan shorter than the fault's row count completes, and the fault is spent. */
    icms_test_fault_store_fail_scan_after(fs, 1, 10, ICMS_ESTORAGE);
    n = 0;
    assert_icms_ok(fs->scan(t, NULL, 0, NULL, 0, 0, count_cb, &n));
    assert_int_equal(n, 5);
    assert_false(icms_test_fault_store_fired(fs));
    assert_icms_ok(fs->scan(t, NULL, 0, NULL, 0, 0, count_cb, &n));
    assert_icms_ok(fs->commit(t));
    icms_store_free(fs);
}

/* A sample command: move 1 from "from" to "to" and log it; reads, scans, writes, deletes. */
static int transfer(icms_store *s)
{
    icms_store_txn *t;
    int rc = s->begin(s, ICMS_STORE_WRITE, &t);
    if (rc != 0)
        return rc;
    const uint8_t *v;
    size_t vl, n = 0;
    char from[8] = {0}, to[8] = {0};
    if ((rc = s->get(t, K("acct/from"), &v, &vl)) != 0 || vl >= sizeof from)
        goto out;
    memcpy(from, v, vl);
    if ((rc = s->get(t, K("acct/to"), &v, &vl)) != 0 || vl >= sizeof to)
        goto out;
    memcpy(to, v, vl);
    if ((rc = s->scan(t, K("log/"), K("log0"), 0, count_cb, &n)) != 0)
        goto out;
    char buf[16];
    int bl = snprintf(buf, sizeof buf, "%d", atoi(from) - 1);
    if ((rc = s->put(t, K("acct/from"), (const uint8_t *)buf, (size_t)bl)) != 0)
        goto out;
    bl = snprintf(buf, sizeof buf, "%d", atoi(to) + 1);
    if ((rc = s->put(t, K("acct/to"), (const uint8_t *)buf, (size_t)bl)) != 0)
        goto out;
    char key[16];
    int kl = snprintf(key, sizeof key, "log/%03zu", n);
    if ((rc = s->put(t, (const uint8_t *)key, (size_t)kl, K("moved 1"))) != 0)
        goto out;
    if ((rc = s->del(t, K("pending"))) != 0)
        goto out;
    return s->commit(t);
out:
    s->rollback(t);
    return rc;
}

/* The loop other modules copy: fail every call in turn; each failure must change nothing. */
static void test_every_failure_point_changes_nothing(void **state)
{
    icms_store *fs = wrap(open_inner(state));
    put1(fs, K("acct/from"), K("10"));
    put1(fs, K("acct/to"), K("0"));
    put1(fs, K("pending"), K("yes"));
    icms_store *inner = icms_test_fault_store_inner(fs);
    uint8_t *before;
    size_t before_len;
    assert_icms_ok(icms_test_store_dump(inner, &before, &before_len));

    icms_test_fault_store_reset(fs);
    unsigned long n;
    for (n = 1;; n++) {
        icms_test_fault_store_fail(fs, ICMS_TEST_FAULT_ANY, n, ICMS_ESTORAGE);
        int rc = transfer(fs);
        if (!icms_test_fault_store_fired(fs)) {
            assert_icms_ok(rc);
            break;
        }
        assert_int_equal(rc, ICMS_ESTORAGE);
        uint8_t *after;
        size_t after_len;
        assert_icms_ok(icms_test_store_dump(inner, &after, &after_len));
        assert_int_equal(after_len, before_len);
        assert_memory_equal(after, before, before_len);
        free(after);
    }
    /* begin, 2 gets, scan, 3 puts, del, commit: nine failure points, then success. */
    assert_int_equal(n, 10);
    uint64_t d1, d2;
    size_t keys;
    assert_icms_ok(icms_test_store_digest(inner, &d1, &keys));
    assert_int_equal(keys, 3); /* pending gone, log/000 added */
    assert_icms_ok(icms_test_store_digest(inner, &d2, NULL));
    assert_true(d1 == d2);
    free(before);
    icms_store_free(fs);
}

static void test_dump_and_digest(void **state)
{
    icms_store *a = open_inner(state);
    icms_store *b = open_inner(state);
    uint8_t *dump;
    size_t len, keys;
    uint64_t da, db;
    assert_icms_ok(icms_test_store_dump(a, &dump, &len));
    assert_int_equal(len, 0);
    free(dump);
    assert_icms_ok(icms_test_store_digest(a, &da, &keys));
    assert_int_equal(keys, 0);

    /* Same contents written in a different order: same dump. */
    put1(a, K("x"), K("1"));
    put1(a, K("y"), K(""));
    put1(b, K("y"), K(""));
    put1(b, K("x"), K("1"));
    assert_icms_ok(icms_test_store_digest(a, &da, &keys));
    assert_int_equal(keys, 2);
    assert_icms_ok(icms_test_store_digest(b, &db, NULL));
    assert_true(da == db);
    /* Moving a byte between key and value changes it. */
    put1(b, K("x"), K(""));
    put1(b, K("x1"), K(""));
    icms_store_txn *t;
    assert_icms_ok(b->begin(b, ICMS_STORE_WRITE, &t));
    assert_icms_ok(b->del(t, K("x")));
    assert_icms_ok(b->commit(t));
    assert_icms_ok(icms_test_store_digest(b, &db, &keys));
    assert_int_equal(keys, 2);
    assert_true(da != db);
    icms_store_free(a);
    icms_store_free(b);
}

static void test_bad_arguments(void **state)
{
    (void)state;
    icms_store *fs;
    assert_icms(ICMS_EINVALID, icms_test_fault_store_new(&fs, NULL, false));
    assert_icms(ICMS_EINVALID, icms_test_fault_store_new(NULL, NULL, false));
}

#define BOTH(fn)                                                                                   \
    cmocka_unit_test_prestate(fn, NULL), cmocka_unit_test_prestate(fn, (void *)"sqlite")

int main(void)
{
    snprintf(tmpdir, sizeof tmpdir, "%s", icms_test_tmpdir("store_fault"));
    const struct CMUnitTest tests[] = {
        BOTH(test_forwards_and_counts),
        BOTH(test_fails_the_nth_call_of_a_kind),
        BOTH(test_failed_commit_writes_nothing),
        BOTH(test_lost_commit_answer),
        BOTH(test_scan_failing_part_way),
        BOTH(test_every_failure_point_changes_nothing),
        BOTH(test_dump_and_digest),
        cmocka_unit_test(test_bad_arguments),
    };
    return cmocka_run_group_tests_name("fault store", tests, NULL, NULL);
}
