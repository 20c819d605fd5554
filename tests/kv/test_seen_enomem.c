/*
 * Running out of memory around a "seen" record (src/kv/record.c): between a
 * read and the apply step, icms__record_see keeps the stored bytes with the
 * parsed document, and icms__record_ref_seen takes that document instead of
 * parsing when the store still holds those bytes. Every allocation of either
 * fails in turn (icms__alloc_fail_after): the answer is ICMS_ENOMEM with
 * nothing kept, or the right document (taken or parsed again), never a
 * document that differs from the stored bytes; a transaction that failed
 * leaves the store as it was, and the same seen record then still gives the
 * right document. ASan and valgrind (memcheck stage) check that nothing
 * leaks and nothing is freed twice. Run on the memory store and on SQLite.
 */
#include "support/test_support.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "both_stores.h"
#include "core/core.h"
#include "core/json.h"
#include "kv/record.h"
#include "kv/tx.h"

static int by_tag(const cJSON *doc, icms__key *key)
{
    const char *tag = icms__json_get_string(doc, "tag");
    if (!tag)
        return ICMS_ENOTFOUND;
    icms__key_str(key, tag);
    return ICMS_OK;
}

static const icms__index_def thing_indexes[] = {{"by_tag", by_tag, false}};
static const icms__record_type thing = {"thing", thing_indexes, 1};

static icms_store *open_store(void **state)
{
    icms_store *s = NULL;
    if (*state) {
        static int n;
        char path[4200];
        snprintf(path, sizeof path, "%s/seen-%d.db", icms_test_tmpdir("kv_seen_enomem"), n++);
        assert_icms_ok(icms_store_sqlite_new(&s, path, NULL));
    } else {
        assert_icms_ok(icms_store_memory_new(&s));
    }
    return s;
}

static const uint8_t id[16] = {0x01, [15] = 7};

static void put_thing(icms_store *store, const char *tag)
{
    icms__tx tx;
    cJSON *doc = cJSON_CreateObject();
    assert_non_null(doc);
    assert_icms_ok(icms__json_add_string(doc, "tag", tag));
    assert_icms_ok(icms__json_add_int64(doc, "n", 7000000049LL));
    assert_icms_ok(icms__tx_begin(store, ICMS_STORE_WRITE, &tx));
    assert_icms_ok(icms__record_put(&tx, &thing, id, doc));
    cJSON_Delete(doc);
    assert_icms_ok(icms__tx_commit(&tx));
}

/* The document is what the store holds: tag and n. */
static void assert_thing(const cJSON *doc, const char *tag)
{
    assert_non_null(doc);
    assert_string_equal(icms__json_get_string(doc, "tag"), tag);
    int64_t n = 0;
    assert_true(icms__json_int64(icms__json_get(doc, "n"), &n));
    assert_int_equal(n, 7000000049LL);
}

/* The stored bytes of the thing, copied. */
static size_t stored(icms_store *store, uint8_t *out, size_t cap)
{
    icms__tx tx;
    icms__key key;
    icms__record_key(&key, &thing, id);
    const uint8_t *value;
    size_t len;
    assert_icms_ok(icms__tx_begin(store, ICMS_STORE_READ, &tx));
    assert_icms_ok(icms__tx_get(&tx, &key, &value, &len));
    assert_true(len <= cap);
    memcpy(out, value, len);
    icms__tx_rollback(&tx);
    return len;
}

/* Read the thing and keep it as seen, with nothing failing. */
static void see(icms_store *store, icms__record_seen *seen)
{
    icms__tx tx;
    cJSON *doc = NULL;
    assert_icms_ok(icms__tx_begin(store, ICMS_STORE_READ, &tx));
    assert_icms_ok(icms__record_get(&tx, &thing, id, &doc));
    assert_icms_ok(icms__record_see(&tx, &thing, id, doc, seen));
    icms__tx_rollback(&tx);
}

/* icms__record_see failing at each of its allocations: ENOMEM and nothing kept, or all kept. */
static void test_see_out_of_memory(void **state)
{
    icms_store *store = open_store(state);
    put_thing(store, "a");
    uint8_t bytes[256];
    size_t len = stored(store, bytes, sizeof bytes);
    long n, failures = 0;
    for (n = 1; n < 1000; n++) {
        icms__tx tx;
        cJSON *doc = NULL;
        icms__record_seen seen = {0};
        assert_icms_ok(icms__tx_begin(store, ICMS_STORE_READ, &tx));
        assert_icms_ok(icms__record_get(&tx, &thing, id, &doc));
        icms__alloc_fail_after(n);
        int rc = icms__record_see(&tx, &thing, id, doc, &seen); /* doc is taken either way */
        icms__alloc_fail_after(0);
        icms__tx_rollback(&tx);
        if (rc == ICMS_OK) {
            assert_ptr_equal(seen.doc, doc);
            assert_int_equal(seen.len, len);
            assert_memory_equal(seen.bytes, bytes, len);
            icms__record_seen_clear(&seen);
            break;
        }
        assert_int_equal(rc, ICMS_ENOMEM);
        /* Nothing half-kept: no bytes that a later step could compare, no document. */
        assert_null(seen.doc);
        assert_null(seen.bytes);
        assert_int_equal(seen.len, 0);
        icms__record_seen_clear(&seen);
        failures++;
    }
    print_message("record_see: %ld allocations failed in turn\n", failures);
    assert_true(failures >= 1); /* the copy of the bytes failed at least once */
    icms_store_free(store);
}

/*
 * icms__record_ref_seen failing at each of its allocations, with a seen
 * record whose bytes are still stored (the document can be taken) and with
 * one whose bytes changed since (it must be parsed again): the answer is
 * the stored document or ENOMEM; after ENOMEM the transaction rolls back
 * and a new one with the same seen record still gets the stored document.
 */
static void ref_seen_out_of_memory(void **state, bool changed)
{
    icms_store *store = open_store(state);
    put_thing(store, "a");
    const char *now = changed ? "b" : "a";
    uint8_t before[256];
    size_t before_len = 0;
    long n, failures = 0, taken = 0;
    for (n = 1; n < 1000; n++) {
        icms__record_seen seen = {0};
        see(store, &seen);
        cJSON *kept = seen.doc;
        if (changed)
            put_thing(store, "b");
        before_len = stored(store, before, sizeof before);

        icms__tx tx;
        cJSON *doc = NULL;
        assert_icms_ok(icms__tx_begin(store, ICMS_STORE_WRITE, &tx));
        icms__alloc_fail_after(n);
        int rc = icms__record_ref_seen(&tx, &thing, id, &seen, &doc);
        icms__alloc_fail_after(0);
        if (rc == ICMS_OK) {
            assert_thing(doc, now);
            /* The kept document only when the bytes are the same. */
            if (changed)
                assert_ptr_equal(seen.doc, kept);
            taken += doc == kept;
            icms__tx_rollback(&tx);
            icms__record_seen_clear(&seen);
            break;
        }
        assert_int_equal(rc, ICMS_ENOMEM);
        icms__tx_rollback(&tx);
        failures++;
        /* Either still the caller's, or taken by the transaction and gone with it. */
        assert_true(seen.doc == kept || seen.doc == NULL);

        /* The store is as it was, and the same seen record gives the stored document. */
        uint8_t after[256];
        size_t after_len = stored(store, after, sizeof after);
        assert_int_equal(after_len, before_len);
        assert_memory_equal(after, before, before_len);
        assert_icms_ok(icms__tx_begin(store, ICMS_STORE_WRITE, &tx));
        assert_icms_ok(icms__record_ref_seen(&tx, &thing, id, &seen, &doc));
        assert_thing(doc, now);
        /* Taken or parsed, the document behaves as the transaction's own. */
        cJSON_ReplaceItemInObjectCaseSensitive(doc, "tag", cJSON_CreateString(now));
        assert_icms_ok(icms__record_put(&tx, &thing, id, doc));
        icms__tx_rollback(&tx);
        icms__record_seen_clear(&seen);
        if (changed)
            put_thing(store, "a"); /* back for the next round */
    }
    print_message("record_ref_seen (%s bytes): %ld allocations failed in turn\n",
                  changed ? "changed" : "same", failures);
    assert_true(failures >= 1);
    if (!changed)
        assert_int_equal(taken, 1); /* unchanged bytes: the kept document, not a parse */
    icms_store_free(store);
}

static void test_ref_seen_out_of_memory_same_bytes(void **state)
{
    ref_seen_out_of_memory(state, false);
}

static void test_ref_seen_out_of_memory_changed_bytes(void **state)
{
    ref_seen_out_of_memory(state, true);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        BOTH(test_see_out_of_memory),
        BOTH(test_ref_seen_out_of_memory_same_bytes),
        BOTH(test_ref_seen_out_of_memory_changed_bytes),
    };
    if (icms_init() < 0)
        return 1;
    int failed = cmocka_run_group_tests(tests, NULL, NULL);
    icms_shutdown();
    return failed;
}
