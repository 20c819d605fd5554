/*
 * The transaction cache: records written in a transaction are held parsed and
 * stored once at commit, yet every read in the transaction (typed, raw, by
 * scan) sees them, a rollback leaves nothing, and a commit that cannot store
 * them stores nothing. Run on the memory store and on a real SQLite file.
 */
#include "support/test_support.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "both_stores.h"
#include "core/core.h"
#include "core/json.h"
#include "kv/record.h"
#include "kv/log_memo.h"
#include "kv/tx_cache.h"

static int by_tag(const cJSON *doc, icms__key *key)
{
    const char *tag = icms__json_get_string(doc, "tag");
    if (!tag)
        return ICMS_ENOTFOUND;
    icms__key_str(key, tag);
    return ICMS_OK;
}

static int by_name(const cJSON *doc, icms__key *key)
{
    const char *name = icms__json_get_string(doc, "name");
    if (!name)
        return ICMS_ENOTFOUND;
    icms__key_str(key, name);
    return ICMS_OK;
}

static const icms__index_def thing_indexes[] = {{"by_tag", by_tag, false}, {"name", by_name, true}};
static const icms__record_type thing = {"thing", thing_indexes, 2};

/* Several times the cache's first bucket count (fewer under valgrind, which runs them slowly). */
static int many(void)
{
    return getenv("ICMS_VALGRIND") ? 400 : 3000;
}

static void id_of(int i, uint8_t id[16])
{
    memset(id, 0, 16);
    id[0] = 0x01;
    id[14] = (uint8_t)(i >> 8);
    id[15] = (uint8_t)i;
}

static cJSON *thing_doc(int i, const char *tag)
{
    char name[32];
    snprintf(name, sizeof name, "thing-%d", i);
    cJSON *doc = cJSON_CreateObject();
    assert_non_null(doc);
    assert_icms_ok(icms__json_add_string(doc, "name", name));
    assert_icms_ok(icms__json_add_string(doc, "tag", tag));
    assert_icms_ok(icms__json_add_int64(doc, "n", (int64_t)i * 1000000007LL));
    return doc;
}

static int64_t n_of(const cJSON *doc)
{
    int64_t n = -1;
    assert_true(icms__json_int64(icms__json_get(doc, "n"), &n));
    return n;
}

static bool contains(const uint8_t *value, size_t len, const char *needle)
{
    size_t n = strlen(needle);
    for (size_t i = 0; i + n <= len; i++)
        if (memcmp(value + i, needle, n) == 0)
            return true;
    return false;
}

static int count_cb(const uint8_t *key, size_t key_len, const uint8_t *value, size_t value_len,
                    void *payload)
{
    (void)key;
    (void)key_len;
    (void)value;
    (void)value_len;
    (*(int *)payload)++;
    return 0;
}

static int count_prefix(icms__tx *tx, const char *first, const char *second)
{
    icms__key prefix;
    icms__key_init(&prefix);
    icms__key_str(&prefix, first);
    if (second)
        icms__key_str(&prefix, second);
    int n = 0;
    assert_icms_ok(icms__tx_scan_prefix(tx, &prefix, 0, count_cb, &n));
    return n;
}

static int count_records(icms_store *store)
{
    icms__tx tx;
    assert_icms_ok(icms__tx_begin(store, ICMS_STORE_READ, &tx));
    int n = count_prefix(&tx, "r", "thing");
    icms__tx_rollback(&tx);
    return n;
}

static icms_store *open_store(void **state)
{
    icms_store *store = NULL;
    if (*state) {
        char path[4200];
        snprintf(path, sizeof path, "%s/cache.db", icms_test_tmpdir("kv_tx_cache"));
        remove(path);
        assert_icms_ok(icms_store_sqlite_new(&store, path, NULL));
    } else {
        assert_icms_ok(icms_store_memory_new(&store));
    }
    return store;
}

/* Many records in one transaction: read back within it, stored once at commit. */
static void test_many_records_round_trip(void **state)
{
    icms_store *store = open_store(state);
    icms__tx tx;
    assert_icms_ok(icms__tx_begin(store, ICMS_STORE_WRITE, &tx));
    for (int i = 0; i < many(); i++) {
        uint8_t id[16];
        id_of(i, id);
        cJSON *doc = thing_doc(i, i % 2 ? "odd" : "even");
        assert_icms_ok(icms__record_put(&tx, &thing, id, doc));
        cJSON_Delete(doc);
    }
    /* Written again: the last version is the one that counts. */
    for (int i = 0; i < many(); i += 3) {
        uint8_t id[16];
        id_of(i, id);
        cJSON *doc = NULL;
        assert_icms_ok(icms__record_get(&tx, &thing, id, &doc));
        assert_int_equal(n_of(doc), (int64_t)i * 1000000007LL);
        cJSON_DeleteItemFromObjectCaseSensitive(doc, "n");
        assert_icms_ok(icms__json_add_int64(doc, "n", -i));
        assert_icms_ok(icms__record_put(&tx, &thing, id, doc));
        cJSON_Delete(doc);
    }
    assert_icms_ok(icms__tx_commit(&tx));
    assert_int_equal(count_records(store), many());

    assert_icms_ok(icms__tx_begin(store, ICMS_STORE_READ, &tx));
    for (int i = 0; i < many(); i++) {
        uint8_t id[16];
        id_of(i, id);
        cJSON *doc = NULL;
        assert_icms_ok(icms__record_get(&tx, &thing, id, &doc));
        assert_int_equal(n_of(doc), i % 3 == 0 ? -i : (int64_t)i * 1000000007LL);
        cJSON_Delete(doc);
    }
    /* The index entries were written as the records were. */
    assert_int_equal(count_prefix(&tx, "i", "thing"), many());
    icms__tx_rollback(&tx);
    icms_store_free(store);
}

/* What the caller gets is its own copy: changing it changes nothing held. */
static void test_get_returns_a_copy(void **state)
{
    icms_store *store = open_store(state);
    icms__tx tx;
    uint8_t id[16];
    id_of(7, id);
    assert_icms_ok(icms__tx_begin(store, ICMS_STORE_WRITE, &tx));
    cJSON *doc = thing_doc(7, "a");
    assert_icms_ok(icms__record_put(&tx, &thing, id, doc));
    cJSON_DeleteItemFromObjectCaseSensitive(doc, "n"); /* after the put: not seen */
    cJSON *got = NULL;
    assert_icms_ok(icms__record_get(&tx, &thing, id, &got));
    assert_int_equal(n_of(got), 7 * 1000000007LL);
    cJSON_DeleteItemFromObjectCaseSensitive(got, "n");
    cJSON_Delete(got);
    assert_icms_ok(icms__record_get(&tx, &thing, id, &got));
    assert_int_equal(n_of(got), 7 * 1000000007LL);
    cJSON_Delete(got);
    cJSON_Delete(doc);
    assert_icms_ok(icms__tx_commit(&tx));
    icms_store_free(store);
}

/* Put thing i with tag in its own committed transaction. */
static void put_thing(icms_store *store, int i, const char *tag)
{
    icms__tx tx;
    uint8_t id[16];
    id_of(i, id);
    assert_icms_ok(icms__tx_begin(store, ICMS_STORE_WRITE, &tx));
    cJSON *doc = thing_doc(i, tag);
    assert_icms_ok(icms__record_put(&tx, &thing, id, doc));
    cJSON_Delete(doc);
    assert_icms_ok(icms__tx_commit(&tx));
}

/* Read thing i in a read transaction and keep it as seen. */
static void see_thing(icms_store *store, int i, icms__record_seen *seen)
{
    icms__tx tx;
    uint8_t id[16];
    id_of(i, id);
    cJSON *doc = NULL;
    assert_icms_ok(icms__tx_begin(store, ICMS_STORE_READ, &tx));
    assert_icms_ok(icms__record_get(&tx, &thing, id, &doc));
    assert_icms_ok(icms__record_see(&tx, &thing, id, doc, seen));
    icms__tx_rollback(&tx);
}

/*
 * A peek lends the transaction's document: no copy, and it stays readable to
 * the end of the transaction even after the record is replaced or deleted.
 */
static void test_peek_borrows_until_the_end(void **state)
{
    icms_store *store = open_store(state);
    icms__tx tx;
    uint8_t id[16], other[16];
    id_of(8, id);
    id_of(9, other);
    assert_icms_ok(icms__tx_begin(store, ICMS_STORE_WRITE, &tx));
    const cJSON *seen = NULL;
    assert_icms(ICMS_ENOTFOUND, icms__record_peek(&tx, &thing, id, &seen));
    assert_null(seen);
    cJSON *doc = thing_doc(8, "a");
    assert_icms_ok(icms__record_put(&tx, &thing, id, doc));
    cJSON_Delete(doc);
    const cJSON *first = NULL, *again = NULL;
    assert_icms_ok(icms__record_peek(&tx, &thing, id, &first));
    assert_icms_ok(icms__record_peek(&tx, &thing, id, &again));
    assert_ptr_equal(first, again); /* the same document, not a copy */
    assert_int_equal(n_of(first), 8 * 1000000007LL);
    doc = thing_doc(80, "b");
    assert_icms_ok(icms__record_put(&tx, &thing, id, doc));
    cJSON_Delete(doc);
    for (int i = 0; i < many(); i++) { /* enough records to make the cache drop clean ones */
        uint8_t k[16];
        id_of(1000 + i, k);
        cJSON *d = NULL;
        assert_icms(ICMS_ENOTFOUND, icms__record_get(&tx, &thing, k, &d));
    }
    assert_int_equal(n_of(first), 8 * 1000000007LL); /* the old one, still alive */
    assert_icms_ok(icms__record_peek(&tx, &thing, id, &again));
    assert_int_equal(n_of(again), 80 * 1000000007LL);
    assert_icms_ok(icms__record_delete(&tx, &thing, id));
    assert_int_equal(n_of(again), 80 * 1000000007LL);
    assert_icms(ICMS_ENOTFOUND, icms__record_peek(&tx, &thing, id, &seen));
    assert_icms_ok(icms__tx_commit(&tx));
    icms_store_free(store);
}

/*
 * A take moves the document out of a read transaction (a later read parses
 * it again, the same) and copies it in a write one, where the transaction
 * still writes its own; either way the caller owns what it gets.
 */
static void test_take_moves_out_of_a_read(void **state)
{
    icms_store *store = open_store(state);
    put_thing(store, 5, "a");
    uint8_t id[16], missing[16];
    id_of(5, id);
    id_of(6, missing);
    icms__tx tx;
    assert_icms_ok(icms__tx_begin(store, ICMS_STORE_READ, &tx));
    const cJSON *peeked = NULL;
    cJSON *taken = NULL, *again = NULL;
    assert_icms(ICMS_ENOTFOUND, icms__record_take(&tx, &thing, missing, &taken));
    assert_icms_ok(icms__record_get(&tx, &thing, id, &again)); /* loads it into the cache */
    cJSON_Delete(again);
    assert_icms_ok(icms__record_take(&tx, &thing, id, &taken));
    cJSON_DeleteItemFromObjectCaseSensitive(taken, "n"); /* ours to change */
    assert_icms_ok(icms__record_take(&tx, &thing, id, &again));
    assert_ptr_not_equal(taken, again);
    assert_int_equal(n_of(again), 5 * 1000000007LL); /* read again, unchanged */
    cJSON_Delete(again);
    /* A document lent out stays the transaction's: taking it copies. */
    assert_icms_ok(icms__record_peek(&tx, &thing, id, &peeked));
    assert_icms_ok(icms__record_take(&tx, &thing, id, &again));
    assert_ptr_not_equal(peeked, again);
    assert_int_equal(n_of(peeked), 5 * 1000000007LL);
    cJSON_Delete(again);
    cJSON_Delete(taken);
    icms__tx_rollback(&tx);

    assert_icms_ok(icms__tx_begin(store, ICMS_STORE_WRITE, &tx));
    assert_icms_ok(icms__record_take(&tx, &thing, id, &taken));
    cJSON_DeleteItemFromObjectCaseSensitive(taken, "n");
    assert_icms_ok(icms__record_peek(&tx, &thing, id, &peeked));
    assert_ptr_not_equal(peeked, taken);
    assert_int_equal(n_of(peeked), 5 * 1000000007LL);
    cJSON_Delete(taken);
    assert_icms_ok(icms__tx_commit(&tx));
    icms_store_free(store);
}

/*
 * A record seen by one transaction: the next takes the document it kept when
 * the stored bytes are the same, parses afresh when they changed, and the
 * document taken behaves as the transaction's own (indexes kept right).
 */
static void test_seen_record_spares_a_parse(void **state)
{
    icms_store *store = open_store(state);
    put_thing(store, 3, "a");
    icms__record_seen seen = {0};
    see_thing(store, 3, &seen);
    cJSON *kept = seen.doc;
    assert_non_null(kept);

    uint8_t id[16];
    id_of(3, id);
    icms__tx tx;
    cJSON *doc = NULL;
    assert_icms_ok(icms__tx_begin(store, ICMS_STORE_WRITE, &tx));
    assert_icms_ok(icms__record_ref_seen(&tx, &thing, id, &seen, &doc));
    assert_ptr_equal(doc, kept); /* taken, not parsed */
    assert_null(seen.doc);
    assert_int_equal(n_of(doc), 3 * 1000000007LL);
    cJSON_ReplaceItemInObjectCaseSensitive(doc, "tag", cJSON_CreateString("b"));
    assert_icms_ok(icms__record_put(&tx, &thing, id, doc));
    assert_icms_ok(icms__tx_commit(&tx));
    icms__record_seen_clear(&seen);
    assert_icms_ok(icms__tx_begin(store, ICMS_STORE_READ, &tx));
    assert_int_equal(count_prefix(&tx, "i", NULL), 1); /* by_tag b; by_tag a gone */
    icms__tx_rollback(&tx);

    /* Seen, then changed by another transaction: the stored bytes win. */
    see_thing(store, 3, &seen);
    kept = seen.doc;
    put_thing(store, 3, "c");
    assert_icms_ok(icms__tx_begin(store, ICMS_STORE_WRITE, &tx));
    assert_icms_ok(icms__record_ref_seen(&tx, &thing, id, &seen, &doc));
    assert_ptr_not_equal(doc, kept);
    assert_ptr_equal(seen.doc, kept); /* still the caller's */
    assert_string_equal(icms__json_get_string(doc, "tag"), "c");
    icms__tx_rollback(&tx);
    icms__record_seen_clear(&seen);

    /* A record that is not there: not found, and the document given is freed. */
    uint8_t missing[16];
    id_of(99, missing);
    assert_icms_ok(icms__tx_begin(store, ICMS_STORE_READ, &tx));
    assert_icms(ICMS_ENOTFOUND,
                icms__record_see(&tx, &thing, missing, thing_doc(99, "x"), &seen));
    assert_null(seen.doc);
    icms__tx_rollback(&tx);
    icms_store_free(store);
}

/* A scan and a raw read in the transaction see records not yet stored. */
static void test_scans_and_raw_reads_see_pending_records(void **state)
{
    icms_store *store = open_store(state);
    icms__tx tx;
    assert_icms_ok(icms__tx_begin(store, ICMS_STORE_WRITE, &tx));
    for (int i = 0; i < 10; i++) {
        uint8_t id[16];
        id_of(i, id);
        cJSON *doc = thing_doc(i, "t");
        assert_icms_ok(icms__record_put(&tx, &thing, id, doc));
        cJSON_Delete(doc);
    }
    uint8_t id[16];
    id_of(3, id);
    icms__key key;
    icms__record_key(&key, &thing, id);
    const uint8_t *value;
    size_t len;
    assert_icms_ok(icms__tx_get(&tx, &key, &value, &len));
    assert_true(contains(value, len, "\"thing-3\""));
    assert_int_equal(count_prefix(&tx, "r", "thing"), 10);
    /* After the scan stored them, more writes are still seen. */
    cJSON *doc = thing_doc(3, "changed");
    assert_icms_ok(icms__record_put(&tx, &thing, id, doc));
    cJSON_Delete(doc);
    assert_icms_ok(icms__tx_get(&tx, &key, &value, &len));
    assert_true(contains(value, len, "\"changed\""));
    icms__tx_rollback(&tx);
    assert_int_equal(count_records(store), 0); /* the rollback undid the stored ones too */
    icms_store_free(store);
}

/* A raw write to a record's key supersedes what the cache held; a delete is seen. */
static void test_raw_writes_and_deletes_supersede(void **state)
{
    icms_store *store = open_store(state);
    icms__tx tx;
    uint8_t id[16];
    id_of(1, id);
    icms__key key;
    icms__record_key(&key, &thing, id);
    assert_icms_ok(icms__tx_begin(store, ICMS_STORE_WRITE, &tx));
    cJSON *doc = thing_doc(1, "a");
    assert_icms_ok(icms__record_put(&tx, &thing, id, doc));
    cJSON_Delete(doc);
    static const char raw[] = "{\"n\":42,\"name\":\"raw\",\"tag\":\"a\"}";
    assert_icms_ok(icms__tx_put(&tx, &key, raw, sizeof raw - 1));
    cJSON *got = NULL;
    assert_icms_ok(icms__record_get(&tx, &thing, id, &got));
    assert_int_equal(n_of(got), 42);
    cJSON_Delete(got);
    assert_icms_ok(icms__record_delete(&tx, &thing, id));
    assert_icms(ICMS_ENOTFOUND, icms__record_get(&tx, &thing, id, &got));
    const uint8_t *value;
    size_t len;
    assert_icms(ICMS_ENOTFOUND, icms__tx_get(&tx, &key, &value, &len));
    assert_icms_ok(icms__tx_commit(&tx));
    assert_int_equal(count_records(store), 0);
    icms_store_free(store);
}

/* Unique indexes are still checked when the record is written, not at commit. */
static void test_unique_index_checked_at_put(void **state)
{
    icms_store *store = open_store(state);
    icms__tx tx;
    uint8_t a[16], b[16];
    id_of(1, a);
    id_of(2, b);
    assert_icms_ok(icms__tx_begin(store, ICMS_STORE_WRITE, &tx));
    cJSON *doc = thing_doc(1, "x");
    assert_icms_ok(icms__record_put(&tx, &thing, a, doc));
    assert_icms(ICMS_EEXISTS, icms__record_put(&tx, &thing, b, doc)); /* same name */
    cJSON_Delete(doc);
    icms__tx_rollback(&tx);
    icms_store_free(store);
}

/* A record that cannot be stored fails the commit, and nothing of the transaction stays. */
static void test_commit_that_cannot_store_stores_nothing(void **state)
{
    icms_store *store = open_store(state);
    icms__tx tx;
    assert_icms_ok(icms__tx_begin(store, ICMS_STORE_WRITE, &tx));
    uint8_t id[16];
    id_of(1, id);
    cJSON *doc = thing_doc(1, "small");
    assert_icms_ok(icms__record_put(&tx, &thing, id, doc));
    cJSON_Delete(doc);
    id_of(2, id);
    doc = thing_doc(2, "big");
    size_t big_len = ICMS_STORE_VALUE_MAX;
    char *big = icms__malloc(big_len + 1);
    assert_non_null(big);
    memset(big, 'x', big_len);
    big[big_len] = '\0';
    assert_icms_ok(icms__json_add_string(doc, "blob", big));
    icms__free(big);
    assert_icms_ok(icms__record_put(&tx, &thing, id, doc)); /* too big is found at commit */
    cJSON_Delete(doc);
    assert_icms(ICMS_ELIMIT, icms__tx_commit(&tx));
    assert_null(tx.txn);
    assert_null(tx.cache);
    assert_int_equal(count_records(store), 0);
    icms__key prefix;
    icms__key_init(&prefix);
    assert_icms_ok(icms__tx_begin(store, ICMS_STORE_READ, &tx));
    assert_int_equal(count_prefix(&tx, "i", NULL), 0); /* nor its index entries */
    icms__tx_rollback(&tx);
    icms_store_free(store);
}

/* Memos: zero the first time, the same block after, gone with the transaction. */
static void test_memos(void **state)
{
    icms_store *store = open_store(state);
    static const char tag_a = 0, tag_b = 0, log_tag = 0;
    icms__tx tx;
    assert_icms_ok(icms__tx_begin(store, ICMS_STORE_WRITE, &tx));
    /* A log with entries 1..5 written before the memo is asked. */
    for (int64_t seq = 1; seq <= 5; seq++) {
        icms__key key;
        icms__key_init(&key);
        icms__key_str(&key, "log");
        icms__key_int(&key, seq);
        assert_icms_ok(icms__tx_put(&tx, &key, "e", 1));
    }
    void *a, *a2, *b;
    bool fresh;
    assert_icms_ok(icms__tx_memo(&tx, &tag_a, 32, &a, &fresh));
    assert_true(fresh);
    for (int i = 0; i < 32; i++)
        assert_int_equal(((uint8_t *)a)[i], 0);
    memset(a, 7, 32);
    assert_icms_ok(icms__tx_memo(&tx, &tag_b, 8, &b, &fresh));
    assert_true(fresh);
    assert_icms_ok(icms__tx_memo(&tx, &tag_a, 32, &a2, &fresh));
    assert_false(fresh);
    assert_ptr_equal(a, a2);
    assert_int_equal(((uint8_t *)a2)[31], 7);
    icms__key prefix;
    icms__key_init(&prefix);
    icms__key_str(&prefix, "log");
    icms__log_memo *last, *again;
    assert_icms_ok(icms__tx_log_memo(&tx, &log_tag, &prefix, NULL, &last));
    assert_int_equal(last->seq, 5);
    assert_icms_ok(icms__tx_log_appended(&tx, last, "f", 1)); /* the appender keeps it */
    assert_icms_ok(icms__tx_log_memo(&tx, &log_tag, &prefix, NULL, &again));
    assert_ptr_equal(again, last);
    assert_int_equal(again->seq, 6);
    icms__tx_memo_drop(&tx, &tag_a);
    assert_icms_ok(icms__tx_memo(&tx, &tag_a, 32, &a, &fresh));
    assert_true(fresh);
    assert_icms_ok(icms__tx_commit(&tx));
    assert_icms_ok(icms__tx_begin(store, ICMS_STORE_READ, &tx));
    assert_icms_ok(icms__tx_memo(&tx, &tag_a, 32, &a, &fresh));
    assert_true(fresh); /* a new transaction starts with none */
    icms__tx_rollback(&tx);
    icms_store_free(store);
}

/* A deferred raw value: the latest is seen at once, stored once at commit, gone on rollback. */
static void test_deferred_raw_values(void **state)
{
    icms_store *store = open_store(state);
    icms__key key;
    icms__key_init(&key);
    icms__key_str(&key, "balance");
    icms__key_str(&key, "escrow:p");
    for (int commit = 0; commit < 2; commit++) {
        icms__tx tx;
        assert_icms_ok(icms__tx_begin(store, ICMS_STORE_WRITE, &tx));
        const uint8_t *value;
        size_t len;
        assert_icms(ICMS_ENOTFOUND, icms__tx_get(&tx, &key, &value, &len));
        assert_icms_ok(icms__tx_put_deferred(&tx, &key, "100", 3));
        assert_icms_ok(icms__tx_put_deferred(&tx, &key, "250", 3));
        assert_icms_ok(icms__tx_get(&tx, &key, &value, &len));
        assert_int_equal(len, 3);
        assert_memory_equal(value, "250", 3);
        icms__key prefix;
        icms__key_init(&prefix);
        icms__key_str(&prefix, "balance");
        assert_int_equal(count_prefix(&tx, "balance", NULL), 1); /* the scan stored it */
        assert_icms_ok(icms__tx_put_deferred(&tx, &key, "-7", 2));
        assert_icms_ok(icms__tx_get(&tx, &key, &value, &len));
        assert_memory_equal(value, "-7", 2);
        /* A record written raw and deferred reads back as a record. */
        uint8_t id[16];
        id_of(9, id);
        icms__key record_key;
        icms__record_key(&record_key, &thing, id);
        static const char raw[] = "{\"n\":9,\"name\":\"nine\",\"tag\":\"t\"}";
        assert_icms_ok(icms__tx_put_deferred(&tx, &record_key, raw, sizeof raw - 1));
        cJSON *doc = NULL;
        assert_icms_ok(icms__record_get(&tx, &thing, id, &doc));
        assert_int_equal(n_of(doc), 9);
        cJSON_Delete(doc);
        if (!commit) {
            icms__tx_rollback(&tx);
            assert_icms_ok(icms__tx_begin(store, ICMS_STORE_READ, &tx));
            assert_icms(ICMS_ENOTFOUND, icms__tx_get(&tx, &key, &value, &len));
            assert_int_equal(count_prefix(&tx, "r", "thing"), 0);
            icms__tx_rollback(&tx);
            continue;
        }
        assert_icms_ok(icms__tx_commit(&tx));
        assert_icms_ok(icms__tx_begin(store, ICMS_STORE_READ, &tx));
        assert_icms_ok(icms__tx_get(&tx, &key, &value, &len));
        assert_int_equal(len, 2);
        assert_memory_equal(value, "-7", 2);
        assert_int_equal(count_records(store), 1);
        icms__tx_rollback(&tx);
    }
    icms_store_free(store);
}

/* Reading many records in one transaction holds a bounded number; borrowed ones stay valid. */
static void test_many_reads_stay_bounded(void **state)
{
    icms_store *store = open_store(state);
    icms__tx tx;
    enum { READS = 5000 }; /* past the 4096 entries a transaction holds */
    assert_icms_ok(icms__tx_begin(store, ICMS_STORE_WRITE, &tx));
    for (int i = 0; i < READS; i++) {
        uint8_t id[16];
        id_of(i, id);
        cJSON *doc = thing_doc(i, "t");
        assert_icms_ok(icms__record_put(&tx, &thing, id, doc));
        cJSON_Delete(doc);
    }
    assert_icms_ok(icms__tx_commit(&tx));

    assert_icms_ok(icms__tx_begin(store, ICMS_STORE_WRITE, &tx));
    uint8_t first[16], second[16];
    id_of(0, first);
    id_of(1, second);
    cJSON *borrowed = NULL, *replaced = NULL;
    assert_icms_ok(icms__record_ref(&tx, &thing, first, &borrowed));
    assert_icms_ok(icms__record_ref(&tx, &thing, second, &replaced));
    size_t most = 0;
    for (int i = 2; i < READS; i++) {
        uint8_t id[16];
        id_of(i, id);
        cJSON *doc = NULL;
        assert_icms_ok(icms__record_get(&tx, &thing, id, &doc));
        assert_int_equal(n_of(doc), (int64_t)i * 1000000007LL);
        cJSON_Delete(doc);
        if (icms__tx_cache_count(&tx) > most)
            most = icms__tx_cache_count(&tx);
    }
    assert_true(most <= 4096);
    /* The borrowed documents outlived the trims; one changed in place is stored. */
    assert_int_equal(n_of(borrowed), 0);
    cJSON_DeleteItemFromObjectCaseSensitive(borrowed, "n");
    assert_icms_ok(icms__json_add_int64(borrowed, "n", 77));
    assert_icms_ok(icms__record_put(&tx, &thing, first, borrowed));
    /* The other is replaced by a new document and by a raw write: the old one stays readable. */
    cJSON *doc = thing_doc(1, "new");
    assert_icms_ok(icms__record_put(&tx, &thing, second, doc));
    cJSON_Delete(doc);
    assert_int_equal(n_of(replaced), 1000000007LL);
    icms__key key;
    icms__record_key(&key, &thing, second);
    static const char raw[] = "{\"n\":5,\"name\":\"thing-1\",\"tag\":\"raw\"}";
    assert_icms_ok(icms__tx_put(&tx, &key, raw, sizeof raw - 1));
    assert_int_equal(n_of(replaced), 1000000007LL);
    assert_icms_ok(icms__tx_commit(&tx));

    assert_icms_ok(icms__tx_begin(store, ICMS_STORE_READ, &tx));
    cJSON *got = NULL;
    assert_icms_ok(icms__record_get(&tx, &thing, first, &got));
    assert_int_equal(n_of(got), 77);
    cJSON_Delete(got);
    assert_icms_ok(icms__record_get(&tx, &thing, second, &got));
    assert_int_equal(n_of(got), 5);
    cJSON_Delete(got);
    icms__tx_rollback(&tx);
    icms_store_free(store);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        BOTH(test_many_records_round_trip),
        BOTH(test_get_returns_a_copy),
        BOTH(test_peek_borrows_until_the_end),
        BOTH(test_take_moves_out_of_a_read),
        BOTH(test_seen_record_spares_a_parse),
        BOTH(test_scans_and_raw_reads_see_pending_records),
        BOTH(test_raw_writes_and_deletes_supersede),
        BOTH(test_unique_index_checked_at_put),
        BOTH(test_commit_that_cannot_store_stores_nothing),
        BOTH(test_memos),
        BOTH(test_deferred_raw_values),
        BOTH(test_many_reads_stay_bounded),
    };
    if (icms_init() < 0)
        return 1;
    int failed = cmocka_run_group_tests(tests, NULL, NULL);
    icms_shutdown();
    return failed;
}
