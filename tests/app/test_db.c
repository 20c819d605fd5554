/* Opening databases: options, the format stamp, ownership of what options hand over. */
#include "support/test_support.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#include "icms/users.h"

#include "app/db.h"

#include "icms/db.h"
#include "icms/sys/clock.h"
#include "icms/sys/store.h"
#include "kv/keys.h"
#include "kv/tx.h"
#include "store/store_internal.h"

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

static void db_path(char *out, size_t size, const char *test)
{
    snprintf(out, size, "%s/icms.db", icms_test_tmpdir(test));
}

static void put_stamp(const char *path, const char *stamp)
{
    icms_store *store;
    icms__tx tx;
    icms__key key;
    assert_icms_ok(icms_store_sqlite_new(&store, path, NULL));
    assert_icms_ok(icms__tx_begin(store, ICMS_STORE_WRITE, &tx));
    icms__key_init(&key);
    icms__key_str(&key, "meta");
    icms__key_str(&key, "format");
    assert_icms_ok(icms__tx_put(&tx, &key, stamp, strlen(stamp)));
    assert_icms_ok(icms__tx_commit(&tx));
    icms_store_free(store);
}

static void test_open_creates_and_reopens(void **state)
{
    (void)state;
    char path[4200];
    db_path(path, sizeof path, "db_reopen");
    icms_options options = ICMS_OPTIONS_INIT;
    options.path = path;
    icms_db *db = NULL;
    assert_icms_ok(icms_open(&db, &options));
    assert_non_null(db);
    icms_close(db);
    assert_icms_ok(icms_open(&db, &options));
    icms_close(db);
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    fclose(f);
}

static void test_newer_format_is_refused(void **state)
{
    (void)state;
    char path[4200];
    db_path(path, sizeof path, "db_newer");
    put_stamp(path, "{\"format\":3}");
    icms_options options = ICMS_OPTIONS_INIT;
    options.path = path;
    icms_db *db = (icms_db *)0x1;
    assert_int_equal(icms_open(&db, &options), ICMS_EVERSION);
    assert_null(db);
    assert_non_null(strstr(icms_error_last()->message, "format 3, newer"));
}

static void test_unreadable_stamp_is_corrupt(void **state)
{
    (void)state;
    char path[4200];
    db_path(path, sizeof path, "db_badstamp");
    put_stamp(path, "not json");
    icms_options options = ICMS_OPTIONS_INIT;
    options.path = path;
    icms_db *db;
    assert_int_equal(icms_open(&db, &options), ICMS_ECORRUPT);
}

static void test_bad_options(void **state)
{
    (void)state;
    icms_db *db;
    icms_options options = ICMS_OPTIONS_INIT;
    assert_int_equal(icms_open(&db, &options), ICMS_EINVALID); /* no path, no store */
    assert_int_equal(icms_open(&db, NULL), ICMS_EINVALID);
    options.path = "/nonexistent-dir/x/icms.db";
    assert_int_equal(icms_open(&db, &options), ICMS_ESTORAGE);
    options.version = 99;
    assert_int_equal(icms_open(&db, &options), ICMS_EVERSION);
    options = (icms_options)ICMS_OPTIONS_INIT;
    options.path = "x.db";
    options.sqlite_sync = 7;
    assert_int_equal(icms_open(&db, &options), ICMS_EINVALID);
}

static void test_open_takes_ownership_even_on_failure(void **state)
{
    (void)state;
    /* Under valgrind/ASan a leak here fails the run: the store and clock must be released. */
    icms_options options = ICMS_OPTIONS_INIT;
    assert_icms_ok(icms_store_memory_new(&options.store));
    assert_icms_ok(icms_clock_fake_new(1000, &options.clock));
    options.version = 99;
    icms_db *db;
    assert_int_equal(icms_open(&db, &options), ICMS_EVERSION);

    options = (icms_options)ICMS_OPTIONS_INIT;
    assert_icms_ok(icms_store_memory_new(&options.store));
    assert_icms_ok(icms_clock_fake_new(1000, &options.clock));
    assert_icms_ok(icms_open(&db, &options));
    icms_close(db);
    icms_close(NULL);
}

/* Another process holding the write lock: a writer gives up after its busy timeout. */
static void test_busy_timeout_is_an_option(void **state)
{
    (void)state;
    char path[4200];
    db_path(path, sizeof path, "db_busy");
    icms_options options = ICMS_OPTIONS_INIT;
    options.path = path;
    icms_db *db;
    assert_icms_ok(icms_open(&db, &options));
    icms_close(db);
    /* Hold the file's write lock through a second store of our own. */
    icms_store *holder;
    icms__tx tx;
    assert_icms_ok(icms_store_sqlite_new(&holder, path, NULL));
    assert_icms_ok(icms__tx_begin(holder, ICMS_STORE_WRITE, &tx));
    options.sqlite_busy_timeout_ms = 50;
    options.retry_attempts = 1;
    assert_icms_ok(icms_open(&db, &options)); /* opening reads; it needs no write lock */
    icms_request host = ICMS_REQUEST_INIT;
    host.actor_kind = ICMS_ACTOR_HOST;
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    assert_int_equal(icms_user_create(db, &host, "{\"name\":\"A\",\"email\":\"a@example.com\"}",
                                      NULL),
                     ICMS_EBUSY);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    /* It gave up after its own 50 ms, not the 5-second default (a loose bound for valgrind). */
    assert_true(t1.tv_sec - t0.tv_sec < 3);
    icms_close(db);
    icms__tx_rollback(&tx);
    icms_store_free(holder);
}

/* icms_options.sqlite_checkpoint_pages reaches the SQLite store; too large is refused. */
static void test_checkpoint_pages_is_an_option(void **state)
{
    (void)state;
    char path[4096];
    db_path(path, sizeof path, "checkpoint_option");
    icms_options options = ICMS_OPTIONS_INIT;
    options.path = path;
    options.sqlite_checkpoint_pages = 321;
    icms_db *db;
    assert_icms_ok(icms_open(&db, &options));
    char buf[32];
    assert_icms_ok(icms__sqlite_store_pragma(db->store, "PRAGMA wal_autocheckpoint", buf, sizeof buf));
    assert_string_equal(buf, "321");
    icms_close(db);
    options.sqlite_checkpoint_pages = ICMS_SQLITE_CHECKPOINT_PAGES_MAX + 1;
    assert_icms(ICMS_EINVALID, icms_open(&db, &options));
    /* A version 1 struct ends before the field: it is not read, and the default holds. */
    options.version = 1;
    assert_icms_ok(icms_open(&db, &options));
    assert_icms_ok(icms__sqlite_store_pragma(db->store, "PRAGMA wal_autocheckpoint", buf, sizeof buf));
    assert_string_equal(buf, "10000");
    icms_close(db);
    options.version = ICMS_OPTIONS_VERSION + 1;
    assert_icms(ICMS_EVERSION, icms_open(&db, &options));
}

static void test_open_needs_init(void **state)
{
    (void)state;
    assert_int_equal(icms_shutdown(), 0);
    icms_options options = ICMS_OPTIONS_INIT;
    options.path = "never-created.db";
    icms_db *db;
    assert_int_equal(icms_open(&db, &options), ICMS_EINVALID);
    assert_int_equal(icms_init(), 1);
    assert_null(fopen("never-created.db", "rb"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_open_creates_and_reopens),
        cmocka_unit_test(test_newer_format_is_refused),
        cmocka_unit_test(test_unreadable_stamp_is_corrupt),
        cmocka_unit_test(test_bad_options),
        cmocka_unit_test(test_open_takes_ownership_even_on_failure),
        cmocka_unit_test(test_busy_timeout_is_an_option),
        cmocka_unit_test(test_checkpoint_pages_is_an_option),
        cmocka_unit_test(test_open_needs_init),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
