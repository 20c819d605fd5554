/*
 * icms_open brings a format 1 store up to format 2 (src/app/format.c): the
 * by_project_status indexes of participations, refunds and payouts are built
 * in the open's write transaction with the new stamp, all or nothing.
 *
 * A format 1 file is made from a format 2 one by taking away exactly what
 * format 2 added (the index's entries) and stamping it 1: a format 1 file
 * holds the same records, so this is the file an older libicms left. That it
 * is really missing the entries is shown by icms_check before the upgrade.
 */
#include "support/test_support.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app/db.h"
#include "app_fixture.h"
#include "icms/participations.h"
#include "icms/payments.h"
#include "icms/projects.h"
#include "kv/keys.h"
#include "kv/tx.h"
#include "scale_fixture.h"
#include "support/fault_store.h"

static void format_key(icms__key *key)
{
    icms__key_init(key);
    icms__key_str(key, "meta");
    icms__key_str(key, "format");
}

/* The types format 2 indexes by project and status. */
static const char *const indexed[] = {"participation", "refund", "payout"};

static void status_index(icms__key *prefix, const char *type)
{
    icms__key_init(prefix);
    icms__key_str(prefix, "i");
    icms__key_str(prefix, type);
    icms__key_str(prefix, "by_project_status");
}

/* The keys of the new index, gathered so they are deleted after the scan. */
struct found {
    icms__key keys[16];
    size_t count;
};

static int gather(const uint8_t *key, size_t key_len, const uint8_t *value, size_t len,
                  void *payload)
{
    (void)value;
    (void)len;
    struct found *f = payload;
    assert_true(f->count < 16);
    icms__key_init(&f->keys[f->count]);
    memcpy(f->keys[f->count].bytes, key, key_len);
    f->keys[f->count++].len = key_len;
    return ICMS_OK;
}

static int to_format_1(icms__tx *tx, void *arg)
{
    size_t *removed = arg;
    *removed = 0;
    icms__key key;
    int rc = ICMS_OK;
    for (size_t t = 0; rc == ICMS_OK && t < 3; t++) {
        struct found found = {.count = 0};
        status_index(&key, indexed[t]);
        rc = icms__tx_scan_prefix(tx, &key, 0, gather, &found);
        for (size_t i = 0; rc == ICMS_OK && i < found.count; i++)
            rc = icms__tx_del(tx, &found.keys[i]);
        *removed += found.count;
    }
    format_key(&key);
    return rc ? rc : icms__tx_put(tx, &key, "{\"format\":1}", 12);
}

/* How many by_project_status entries the type has (arg: the type's name in, the count out). */
struct count {
    const char *type;
    size_t entries;
};

static int count_entries(icms__tx *tx, void *arg)
{
    struct count *c = arg;
    struct found found = {.count = 0};
    icms__key key;
    status_index(&key, c->type);
    int rc = icms__tx_scan_prefix(tx, &key, 0, gather, &found);
    c->entries = found.count;
    return rc;
}

static size_t entries_of(fx *f, const char *type)
{
    struct count c = {type, 0};
    assert_icms_ok(icms__db_read(f->db, count_entries, &c));
    return c.entries;
}

static int read_stamp(icms__tx *tx, void *arg)
{
    icms__key key;
    format_key(&key);
    const uint8_t *value;
    size_t len;
    int rc = icms__tx_get(tx, &key, &value, &len);
    if (rc == ICMS_OK) {
        assert_true(len < 64);
        memcpy(arg, value, len);
    }
    return rc;
}

static long long stamp_of(fx *f)
{
    char text[64] = {0};
    assert_icms_ok(icms__db_read(f->db, read_stamp, text));
    const char *digits = strchr(text, ':');
    assert_non_null(digits);
    return strtoll(digits + 1, NULL, 10);
}

/* A project with one PENDING and two APPROVED requests, in a file of format 1. */
static void format_1_world(fx *f, char project[37], char pending[37])
{
    fx_published_project(f, project);
    char approved[37];
    fx_approved_profit(f, &f->investor, project, 100000000, approved);
    fx_approved_profit(f, &f->investor2, project, 50000000, approved);
    fx_user third;
    fx_add_user(f, &third, ICMS_ROLE_INVESTOR, "VERIFIED");
    fx_request_profit(f, &third, project, 10000000, pending);
    size_t removed = 0;
    assert_icms_ok(icms__db_write(f->db, to_format_1, &removed));
    assert_int_equal(removed, 3);
    char *out = NULL;
    assert_int_equal(icms_check(f->db, &f->host, &out), ICMS_ECORRUPT); /* the entries are gone */
    assert_non_null(strstr(out, "its by_project_status entry is missing"));
    icms_free(out);
}

static int pending_listed(fx *f, const char *project, const char *want)
{
    char filter[128], *out = NULL;
    snprintf(filter, sizeof filter, "{\"project_id\":\"%s\",\"status\":\"PENDING\"}", project);
    assert_icms_ok(icms_participation_list(f->db, &f->owner.req, filter, &out));
    cJSON *page = fx_json(out);
    cJSON *items = cJSON_GetObjectItem(page, "items");
    int n = cJSON_GetArraySize(items);
    if (n == 1)
        assert_string_equal(fx_str(cJSON_GetArrayItem(items, 0), "id"), want);
    cJSON_Delete(page);
    return n;
}

static int setup(void **state)
{
    return fx_setup_named(state, "format_upgrade");
}

static int teardown(void **state)
{
    fx *f = *state;
    char *out = NULL;
    assert_icms_ok(icms_check(f->db, &f->host, &out));
    icms_free(out);
    return fx_teardown(state);
}

static void test_opening_a_format_1_file_builds_the_status_index(void **state)
{
    fx *f = *state;
    char project[37], pending[37];
    format_1_world(f, project, pending);
    assert_int_equal(stamp_of(f), 1);
    icms_options options = ICMS_OPTIONS_INIT;
    fx_reopen(f, &options);
    assert_int_equal(stamp_of(f), 2);
    assert_int_equal(entries_of(f, "participation"), 3);
    assert_int_equal(pending_listed(f, project, pending), 1);
    /* Opening again finds format 2 and changes nothing. */
    fx_reopen(f, &options);
    assert_int_equal(entries_of(f, "participation"), 3);
}

/* Refunds are indexed by project and status too: a cancelled project's DUE refunds. */
static void test_refunds_gain_the_index_too(void **state)
{
    fx *f = *state;
    memchain *m = memchain_new();
    scale_reopen(f, m);
    char project[37], part[37], payment[37];
    scale_project(f, 100, NULL, project);
    fx_approved_profit(f, &f->investor, project, SCALE_UNIT, part);
    scale_initiate(f, m, &f->investor, part, payment);
    scale_pay(f, m, &f->investor, payment);
    assert_icms_ok(icms_project_cancel(f->db, &f->admin.req, project, "no ship", NULL));
    assert_int_equal(entries_of(f, "refund"), 1);
    size_t removed = 0;
    assert_icms_ok(icms__db_write(f->db, to_format_1, &removed));
    assert_int_equal(removed, 2); /* the request's entry and the refund's */
    icms_options options = ICMS_OPTIONS_INIT;
    fx_reopen(f, &options);
    memchain_free(m);
    assert_int_equal(stamp_of(f), 2);
    assert_int_equal(entries_of(f, "refund"), 1);
    assert_int_equal(entries_of(f, "participation"), 1);
    char filter[128], *out = NULL;
    snprintf(filter, sizeof filter, "{\"project_id\":\"%s\",\"status\":\"DUE\"}", project);
    assert_icms_ok(icms_refund_list(f->db, &f->admin.req, filter, &out));
    cJSON *page = fx_json(out);
    cJSON *items = cJSON_GetObjectItem(page, "items");
    assert_int_equal(cJSON_GetArraySize(items), 1);
    assert_string_equal(fx_str(cJSON_GetArrayItem(items, 0), "payment_id"), payment);
    cJSON_Delete(page);
    snprintf(filter, sizeof filter, "{\"project_id\":\"%s\",\"status\":\"PAID\"}", project);
    assert_icms_ok(icms_refund_list(f->db, &f->admin.req, filter, &out));
    page = fx_json(out);
    assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(page, "items")), 0);
    cJSON_Delete(page);
}

/*
 * Every store call of the upgrading open fails in turn: each failed open
 * leaves the file exactly as it was (format 1, no entries), and the next open
 * upgrades it.
 */
static void test_a_failed_upgrade_leaves_the_file_as_it_was(void **state)
{
    fx *f = *state;
    char project[37], pending[37];
    format_1_world(f, project, pending);
    int64_t now = icms_clock_now(f->clock);
    icms_close(f->db);
    f->db = NULL;
    icms_store *inner = NULL;
    assert_icms_ok(icms_store_sqlite_new(&inner, f->path, NULL));
    uint64_t before, after;
    size_t keys_before, keys_after;
    assert_icms_ok(icms_test_store_digest(inner, &before, &keys_before));
    static const int codes[] = {ICMS_ESTORAGE, ICMS_EBUSY, ICMS_ECONFLICT};
    unsigned long nth = 1;
    size_t failures = 0;
    for (;; nth++) {
        icms_store *fault = NULL;
        assert_icms_ok(icms_test_fault_store_new(&fault, inner, false));
        int code = codes[nth % 3];
        icms_test_fault_store_fail(fault, ICMS_TEST_FAULT_ANY, nth, code);
        icms_options options = ICMS_OPTIONS_INIT;
        options.store = fault;
        options.retry_attempts = 1;
        assert_icms_ok(icms_clock_fake_new(now, &options.clock));
        icms_db *db = NULL;
        /* A failed open has freed the fault store already; an open that works must not have faulted. */
        int rc = icms_open(&db, &options);
        if (rc == ICMS_OK) {
            bool fired = icms_test_fault_store_fired(fault);
            icms_close(db);
            if (!fired)
                break;
            fail_msg("store call %lu failed, yet the upgrading open succeeded", nth);
        }
        assert_true(nth < 100000);
        failures++;
        assert_icms_ok(icms_test_store_digest(inner, &after, &keys_after));
        if (after != before || keys_after != keys_before)
            fail_msg("failing store call %lu of the upgrade changed the file", nth);
    }
    assert_true(failures > 5);
    icms_store_free(inner);
    icms_options options = ICMS_OPTIONS_INIT;
    options.path = f->path;
    assert_icms_ok(icms_clock_fake_new(now, &options.clock));
    f->clock = options.clock;
    assert_icms_ok(icms_open(&f->db, &options));
    assert_int_equal(stamp_of(f), 2);
    assert_int_equal(pending_listed(f, project, pending), 1);
}

/* An older libicms refuses format 2 (test_app_db: test_newer_format_is_refused, format 3 here). */

int main(void)
{
#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)
    const struct CMUnitTest tests[] = {
        T(test_opening_a_format_1_file_builds_the_status_index),
        T(test_refunds_gain_the_index_too),
        T(test_a_failed_upgrade_leaves_the_file_as_it_was),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
