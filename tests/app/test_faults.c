/*
 * A failed command leaves no trace. A command shaped like every real one
 * (read, write a record with indexes, append audit and event) runs against a
 * store that fails its Nth call, for every N the command makes; after each
 * failure the store must be byte-for-byte what it was.
 */
#include "support/test_support.h"

#include <stdio.h>
#include <string.h>

#include "app/db.h"
#include "audit/audit.h"
#include "core/core.h"
#include "core/json.h"
#include "core/uuid.h"
#include "events/outbox.h"
#include "icms/audit.h"
#include "kv/record.h"
#include "support/fault_store.h"

static int extract_owner(const cJSON *doc, icms__key *key)
{
    const char *owner = icms__json_get_string(doc, "owner");
    if (!owner)
        return ICMS_ENOTFOUND;
    icms__key_str(key, owner);
    return ICMS_OK;
}

static int extract_title(const cJSON *doc, icms__key *key)
{
    const char *title = icms__json_get_string(doc, "title");
    if (!title)
        return ICMS_ENOTFOUND;
    icms__key_str(key, title);
    return ICMS_OK;
}

static const icms__index_def widget_indexes[] = {
    {"by_owner", extract_owner, false},
    {"by_title", extract_title, true},
};
static const icms__record_type widget = {"widget", widget_indexes, 2};

struct rename_cmd {
    icms_db *db;
    uint8_t id[16];
    const char *title;
};

/* Create the widget if it is missing, else rename it; audit and announce either way. */
static int rename_widget(icms__tx *tx, void *arg)
{
    struct rename_cmd *cmd = arg;
    cJSON *doc = NULL;
    int rc = icms__record_get(tx, &widget, cmd->id, &doc);
    if (rc == ICMS_ENOTFOUND) {
        doc = cJSON_CreateObject();
        rc = icms__json_add_string(doc, "owner", "alice");
    }
    if (rc == ICMS_OK) {
        cJSON_DeleteItemFromObjectCaseSensitive(doc, "title");
        rc = icms__json_add_string(doc, "title", cmd->title);
    }
    if (rc == ICMS_OK) {
        cJSON_DeleteItemFromObjectCaseSensitive(doc, "price");
        rc = icms__json_add_int64(doc, "price", INT64_MAX - 7);
    }
    if (rc == ICMS_OK)
        rc = icms__record_put(tx, &widget, cmd->id, doc);
    char subject[ICMS_UUID_STRING_SIZE];
    icms__uuid_format(cmd->id, subject);
    int64_t now = icms__db_now(cmd->db);
    if (rc == ICMS_OK) {
        icms__audit_entry entry = {now, "alice", "widget.rename", subject, "corr-1", doc};
        rc = icms__audit_append(tx, &entry, NULL);
    }
    if (rc == ICMS_OK) {
        icms__event event = {"widget.renamed", subject, "corr-1", doc};
        rc = icms__outbox_append(tx, cmd->db->clock, now, &event, NULL);
    }
    cJSON_Delete(doc);
    return rc;
}

static icms_db *open_over(icms_store *store)
{
    icms_options options = ICMS_OPTIONS_INIT;
    options.store = store;
    assert_icms_ok(icms_clock_fake_new(1767225600000, &options.clock));
    options.retry_attempts = 1; /* a failure must surface, not be retried away */
    icms_db *db;
    assert_icms_ok(icms_open(&db, &options));
    return db;
}

static void fault_every_call(icms_store *inner, bool owns_inner)
{
    icms_store *fault;
    assert_icms_ok(icms_test_fault_store_new(&fault, inner, owns_inner));
    icms_db *db = open_over(fault);

    struct rename_cmd cmd = {db, {0}, "first"};
    assert_icms_ok(icms__uuid7_new(db->clock, cmd.id));
    assert_icms_ok(icms__db_write(db, rename_widget, &cmd));

    /* How many store calls one rename makes, measured on a clean run. */
    cmd.title = "second";
    icms_test_fault_store_reset(fault);
    assert_icms_ok(icms__db_write(db, rename_widget, &cmd));
    unsigned long calls = icms_test_fault_store_calls(fault, ICMS_TEST_FAULT_ANY);
    assert_true(calls >= 8);

    static const int codes[] = {ICMS_ESTORAGE, ICMS_ECONFLICT, ICMS_EBUSY, ICMS_ENOMEM};
    for (unsigned long nth = 1; nth <= calls; nth++) {
        for (size_t c = 0; c < sizeof codes / sizeof codes[0]; c++) {
            uint64_t before, after;
            size_t keys_before, keys_after;
            assert_icms_ok(icms_test_store_digest(inner, &before, &keys_before));
            icms_test_fault_store_fail(fault, ICMS_TEST_FAULT_ANY, nth, codes[c]);
            cmd.title = (nth % 2) ? "third" : "fourth";
            int rc = icms__db_write(db, rename_widget, &cmd);
            assert_true(icms_test_fault_store_fired(fault));
            assert_int_equal(rc, codes[c]);
            icms_test_fault_store_reset(fault);
            assert_icms_ok(icms_test_store_digest(inner, &after, &keys_after));
            if (before != after || keys_before != keys_after)
                fail_msg("call %lu failing with %s changed the store", nth,
                         icms_error_name(codes[c]));
        }
    }
    /* And the database is still whole: the chain verifies, the command still works. */
    assert_icms_ok(icms_audit_verify(db, NULL, NULL, 0, NULL));
    cmd.title = "fifth";
    assert_icms_ok(icms__db_write(db, rename_widget, &cmd));
    icms_close(db);
}

static void test_memory_store_failure_leaves_no_trace(void **state)
{
    (void)state;
    icms_store *inner;
    assert_icms_ok(icms_store_memory_new(&inner));
    fault_every_call(inner, true);
}

static void test_sqlite_store_failure_leaves_no_trace(void **state)
{
    (void)state;
    char path[4200];
    snprintf(path, sizeof path, "%s/icms.db", icms_test_tmpdir("faults_sqlite"));
    icms_store *inner;
    assert_icms_ok(icms_store_sqlite_new(&inner, path, NULL));
    fault_every_call(inner, true);
}

static void test_allocation_failure_leaves_no_trace(void **state)
{
    (void)state;
    icms_store *inner;
    assert_icms_ok(icms_store_memory_new(&inner));
    icms_db *db = open_over(inner);
    struct rename_cmd cmd = {db, {0}, "first"};
    assert_icms_ok(icms__uuid7_new(db->clock, cmd.id));
    assert_icms_ok(icms__db_write(db, rename_widget, &cmd));
    /* Fail the 1st, 2nd, ... allocation until the command no longer notices. */
    long n;
    for (n = 1; n < 10000; n++) {
        uint64_t before, after;
        size_t kb, ka;
        assert_icms_ok(icms_test_store_digest(inner, &before, &kb));
        cmd.title = (n % 2) ? "odd" : "even";
        icms__alloc_fail_after(n);
        int rc = icms__db_write(db, rename_widget, &cmd);
        icms__alloc_fail_after(0);
        if (rc == ICMS_OK)
            break;
        assert_icms_ok(icms_test_store_digest(inner, &after, &ka));
        if (before != after)
            fail_msg("allocation %ld failing (%s) changed the store", n, icms_error_name(rc));
    }
    assert_true(n > 10); /* the command allocates; each of those failures was exercised */
    icms_close(db);
}

static int setup(void **state)
{
    (void)state;
    return icms_init() > 0 ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    return icms_shutdown() >= 0 ? 0 : -1;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_memory_store_failure_leaves_no_trace),
        cmocka_unit_test(test_sqlite_store_failure_leaves_no_trace),
        cmocka_unit_test(test_allocation_failure_leaves_no_trace),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
