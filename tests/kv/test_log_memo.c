/*
 * The ends of the append-only logs (kv/log_memo.c) and the handle's hints
 * (kv/hints.c): a committed transaction leaves a hint, the next starts from it
 * after two point reads and without a scan, and a hint that the store no
 * longer confirms (another writer appended, the entry's bytes differ, the
 * commit failed or was rolled back) is never used. Each test runs on the
 * memory store and on a real SQLite file, wrapped in the fault store, which
 * counts the calls and fails the ones a test chooses.
 */
#include "support/test_support.h"

#include <stdio.h>
#include <string.h>

#include "both_stores.h"
#include "core/core.h"
#include "kv/hints.h"
#include "kv/log_memo.h"
#include "kv/run.h"
#include "support/fault_store.h"

static const char log_tag = 0;

static void log_prefix(icms__key *key)
{
    icms__key_init(key);
    icms__key_str(key, "log");
}

static void entry_key(icms__key *key, int64_t seq)
{
    log_prefix(key);
    icms__key_int(key, seq);
}

static void entry_text(int64_t seq, const char *flavour, char *out, size_t size)
{
    snprintf(out, size, "entry %lld (%s)", (long long)seq, flavour);
}

/* The test's derived state: the first byte of the entry and its length. */
static int derive_calls;
static int derive(const uint8_t *entry, size_t len, int64_t seq, icms__log_memo *memo)
{
    derive_calls++;
    if (len == 0)
        return icms__error(ICMS_ECORRUPT, "entry %lld is empty", (long long)seq);
    memo->state[0] = entry[0];
    memo->state[1] = (uint8_t)len;
    return ICMS_OK;
}

typedef struct fixture {
    icms_store *fault; /* wraps the real store */
    icms__hints *hints;
} fixture;

static icms_store *real_store(void **state, const char *name)
{
    icms_store *store = NULL;
    if (*state) {
        char path[4200];
        snprintf(path, sizeof path, "%s/%s.db", icms_test_tmpdir("kv_log_memo"), name);
        remove(path);
        assert_icms_ok(icms_store_sqlite_new(&store, path, NULL));
    } else {
        assert_icms_ok(icms_store_memory_new(&store));
    }
    return store;
}

static void open_fixture(void **state, fixture *f, const char *name)
{
    assert_icms_ok(icms_test_fault_store_new(&f->fault, real_store(state, name), true));
    assert_icms_ok(icms__hints_new(&f->hints));
    derive_calls = 0;
}

static void close_fixture(fixture *f)
{
    icms__hints_free(f->hints);
    icms_store_free(f->fault);
}

/* Append count entries in one transaction begun with hints (NULL: none); the log's end after. */
struct append {
    int count;
    const char *flavour;
    int64_t last;
};

static int append_fn(icms__tx *tx, void *arg)
{
    struct append *a = arg;
    icms__key prefix;
    log_prefix(&prefix);
    icms__log_memo *memo;
    int rc = icms__tx_log_memo(tx, &log_tag, &prefix, derive, &memo);
    for (int i = 0; rc == ICMS_OK && i < a->count; i++) {
        char text[64];
        icms__key key;
        entry_text(memo->seq + 1, a->flavour, text, sizeof text);
        entry_key(&key, memo->seq + 1);
        rc = icms__tx_put(tx, &key, text, strlen(text));
        if (rc == ICMS_OK)
            rc = icms__tx_log_appended(tx, memo, text, strlen(text));
    }
    if (rc == ICMS_OK)
        a->last = memo->seq;
    return rc;
}

static int64_t append(fixture *f, icms__hints *hints, int count, const char *flavour)
{
    struct append a = {count, flavour, -1};
    assert_icms_ok(icms__run_write(f->fault, hints, NULL, append_fn, &a));
    return a.last;
}

static unsigned long scans(const fixture *f)
{
    return icms_test_fault_store_calls(f->fault, ICMS_TEST_FAULT_SCAN);
}

/* A committed transaction's end becomes the hint; the next starts there with two reads, no scan. */
static void test_commit_leaves_a_hint_the_next_uses(void **state)
{
    fixture f;
    open_fixture(state, &f, "log");
    icms__log_hint hint;
    assert_false(icms__hints_get(f.hints, &log_tag, &hint));
    assert_int_equal(append(&f, f.hints, 3, "a"), 3);
    assert_int_equal(scans(&f), 1);    /* the first transaction had to look */
    assert_int_equal(derive_calls, 0); /* an empty log has no last entry */

    assert_true(icms__hints_get(f.hints, &log_tag, &hint));
    char text[64];
    entry_text(3, "a", text, sizeof text);
    assert_int_equal(hint.seq, 3);
    assert_int_equal(hint.entry_len, strlen(text));
    assert_memory_equal(hint.entry, text, strlen(text));
    icms__log_hint_clear(&hint);

    icms_test_fault_store_reset(f.fault);
    assert_int_equal(append(&f, f.hints, 2, "a"), 5);
    assert_int_equal(scans(&f), 0);
    /* Two point reads (entry 3, the absent entry 4), then the writes. */
    assert_int_equal(icms_test_fault_store_calls(f.fault, ICMS_TEST_FAULT_GET), 2);
    close_fixture(&f);
}

/* State derived from the last entry travels with the hint and is kept by the appender. */
static void test_derived_state_travels_with_the_hint(void **state)
{
    fixture f;
    open_fixture(state, &f, "log");
    append(&f, NULL, 4, "b");                         /* no hints: nothing to carry */
    assert_int_equal(append(&f, f.hints, 0, "b"), 4); /* found by scan, derived */
    assert_int_equal(derive_calls, 1);
    icms__log_hint hint;
    assert_true(icms__hints_get(f.hints, &log_tag, &hint));
    assert_int_equal(hint.state[0], 'e');
    icms__log_hint_clear(&hint);
    assert_int_equal(append(&f, f.hints, 0, "b"), 4);
    assert_int_equal(derive_calls, 1); /* from the hint: not derived again */
    close_fixture(&f);
}

/* Another handle (its own hints, or none) appended: the stale hint is not used. */
static void test_another_writer_makes_the_hint_stale(void **state)
{
    fixture f;
    open_fixture(state, &f, "log");
    assert_int_equal(append(&f, f.hints, 2, "c"), 2);
    icms__hints *other;
    assert_icms_ok(icms__hints_new(&other));
    assert_int_equal(append(&f, other, 3, "c"), 5); /* entries 3..5, unknown to f.hints */
    icms_test_fault_store_reset(f.fault);
    assert_int_equal(append(&f, f.hints, 1, "c"), 6); /* not 3: the hint was checked */
    assert_int_equal(scans(&f), 1);
    assert_int_equal(append(&f, other, 1, "c"), 7);
    icms__hints_free(other);
    close_fixture(&f);
}

/* The entry a hint names holds other bytes (a store swapped, a log rewritten): not used. */
static void test_different_bytes_make_the_hint_stale(void **state)
{
    fixture f;
    open_fixture(state, &f, "log");
    assert_int_equal(append(&f, f.hints, 2, "d"), 2);
    /* A second store whose log also ends at 2, with other entries. */
    fixture g;
    open_fixture(state, &g, "other");
    append(&g, NULL, 2, "x"); /* the same lengths as f's entries, other bytes */
    icms_test_fault_store_reset(g.fault);
    struct append a = {1, "d", -1};
    assert_icms_ok(icms__run_write(g.fault, f.hints, NULL, append_fn, &a));
    assert_int_equal(a.last, 3);
    assert_int_equal(scans(&g), 1); /* the hint's entry 2 did not match: searched */
    close_fixture(&g);
    close_fixture(&f);
}

/* Rolled back or failed at commit: the hint stays where the last commit left it. */
static void test_no_hint_from_what_did_not_commit(void **state)
{
    fixture f;
    open_fixture(state, &f, "log");
    assert_int_equal(append(&f, f.hints, 2, "e"), 2);

    icms__tx tx;
    assert_icms_ok(icms__tx_begin(f.fault, ICMS_STORE_WRITE, &tx));
    tx.hints = f.hints;
    struct append a = {3, "e", -1};
    assert_icms_ok(append_fn(&tx, &a));
    icms__tx_rollback(&tx);

    icms_test_fault_store_fail(f.fault, ICMS_TEST_FAULT_COMMIT, 1, ICMS_ESTORAGE);
    a.last = -1;
    assert_icms(ICMS_ESTORAGE, icms__run_write(f.fault, f.hints, NULL, append_fn, &a));

    icms__log_hint hint;
    assert_true(icms__hints_get(f.hints, &log_tag, &hint));
    assert_int_equal(hint.seq, 2);
    icms__log_hint_clear(&hint);
    icms_test_fault_store_reset(f.fault);
    assert_int_equal(append(&f, f.hints, 1, "e"), 3);
    assert_int_equal(scans(&f), 0); /* still a good hint */
    close_fixture(&f);
}

/*
 * A commit applied but reported failed (a lost acknowledgement): no hint is
 * taken from it, and the old one is found stale, so nothing is numbered twice.
 */
static void test_lost_acknowledgement(void **state)
{
    fixture f;
    open_fixture(state, &f, "log");
    assert_int_equal(append(&f, f.hints, 2, "f"), 2);
    icms_test_fault_store_lose_commit(f.fault, 1, ICMS_ESTORAGE);
    struct append a = {2, "f", -1};
    assert_icms(ICMS_ESTORAGE, icms__run_write(f.fault, f.hints, NULL, append_fn, &a));
    assert_int_equal(append(&f, f.hints, 1, "f"), 5); /* 3 and 4 are stored */
    close_fixture(&f);
}

/* The store failing during the hint's check is an error, and the memo is not kept. */
static void test_store_failure_while_checking(void **state)
{
    fixture f;
    open_fixture(state, &f, "log");
    assert_int_equal(append(&f, f.hints, 2, "g"), 2);
    for (unsigned long nth = 1; nth <= 2; nth++) {
        icms_test_fault_store_fail(f.fault, ICMS_TEST_FAULT_GET, nth, ICMS_ESTORAGE);
        struct append a = {1, "g", -1};
        assert_icms(ICMS_ESTORAGE, icms__run_write(f.fault, f.hints, NULL, append_fn, &a));
        assert_true(icms_test_fault_store_fired(f.fault));
    }
    assert_int_equal(append(&f, f.hints, 1, "g"), 3);
    close_fixture(&f);
}

/* A last entry its owner calls corrupt: the error, no memo, no hint. */
static void test_corrupt_last_entry(void **state)
{
    fixture f;
    open_fixture(state, &f, "log");
    icms__tx tx;
    icms__key key;
    entry_key(&key, 1);
    assert_icms_ok(icms__tx_begin(f.fault, ICMS_STORE_WRITE, &tx));
    assert_icms_ok(icms__tx_put(&tx, &key, "", 0));
    assert_icms_ok(icms__tx_commit(&tx));
    struct append a = {1, "h", -1};
    assert_icms(ICMS_ECORRUPT, icms__run_write(f.fault, f.hints, NULL, append_fn, &a));
    icms__log_hint hint;
    assert_false(icms__hints_get(f.hints, &log_tag, &hint));
    close_fixture(&f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        BOTH(test_commit_leaves_a_hint_the_next_uses),
        BOTH(test_derived_state_travels_with_the_hint),
        BOTH(test_another_writer_makes_the_hint_stale),
        BOTH(test_different_bytes_make_the_hint_stale),
        BOTH(test_no_hint_from_what_did_not_commit),
        BOTH(test_lost_acknowledgement),
        BOTH(test_store_failure_while_checking),
        BOTH(test_corrupt_last_entry),
    };
    if (icms_init() < 0)
        return 1;
    int failed = cmocka_run_group_tests(tests, NULL, NULL);
    icms_shutdown();
    return failed;
}
