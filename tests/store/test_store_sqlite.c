/* The SQLite store: the conformance suite on real files, plus what only SQLite promises. */
#include "conformance.h"
#include "raw_sqlite.h"
#include "store_kv.h"

#include <pthread.h>
#include <signal.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "store/store_internal.h"

static char tmpdir[4096];

static const char *db_path(const char *name)
{
    static char path[4200];
    snprintf(path, sizeof path, "%s/%s", tmpdir, name);
    return path;
}

/* ---- the factory: a fresh file per test, a short busy wait ---- */

static unsigned int files;

static icms_store *open_path_with(const char *path, unsigned int busy_ms,
                                  const uint8_t *const *prefixes, const size_t *lens, size_t n)
{
    icms_sqlite_options o = ICMS_SQLITE_OPTIONS_INIT;
    o.busy_timeout_ms = busy_ms;
    o.append_only_prefixes = prefixes;
    o.append_only_prefix_lens = lens;
    o.append_only_count = n;
    icms_store *s = NULL;
    assert_icms_ok(icms_store_sqlite_new(&s, path, &o));
    handles_add(s, path);
    return s;
}

static icms_store *open_path(const char *path, unsigned int busy_ms)
{
    return open_path_with(path, busy_ms, NULL, NULL, 0);
}

static icms_store *sq_open(store_factory *f)
{
    (void)f;
    char name[64];
    snprintf(name, sizeof name, "conformance-%u.db", files++);
    return open_path(db_path(name), 100);
}

static icms_store *sq_open_second(store_factory *f, icms_store *first)
{
    (void)f;
    char path[4200];
    handles_name(first, path, sizeof path);
    return open_path(path, 100);
}

static void sq_close(store_factory *f, icms_store *s)
{
    (void)f;
    handles_close(s);
}

static store_factory sqlite_factory = {
    "sqlite", STORE_LOCKING, sq_open, sq_open_second, sq_close, NULL,
};

/*
 * The same suite on files whose key space is cut into kv and kv_log
 * stretches by append-only prefixes that hold keys the suite writes once
 * ("p/..." of the range scans) or never (the others, there to make every
 * whole-space scan cross several stretches), so that every scan, reverse
 * scan, nested scan and pooled connection goes through the routing.
 */
static icms_store *sq_open_split(store_factory *f)
{
    (void)f;
    static const uint8_t p[] = "p/", b0[] = {'b', 0x00}, k9[] = "k9", ff[] = {0xff, 0xfe};
    static const uint8_t *const prefixes[] = {p, b0, k9, ff};
    static const size_t lens[] = {2, 2, 2, 2};
    char name[64];
    snprintf(name, sizeof name, "conformance-split-%u.db", files++);
    return open_path_with(db_path(name), 100, prefixes, lens, 4);
}

static store_factory sqlite_split_factory = {
    "sqlite split", STORE_LOCKING, sq_open_split, sq_open_second, sq_close, NULL,
};

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1000.0 + (double)ts.tv_nsec / 1e6;
}

/* Keys a scan visited, in visiting order. */
typedef struct listed {
    size_t n;
    uint8_t key[64][32];
    size_t len[64];
    char value[64][32];
} listed;

static int list_cb(const uint8_t *key, size_t key_len, const uint8_t *value, size_t value_len,
                   void *payload)
{
    listed *l = payload;
    if (l->n == 64 || key_len > 32 || value_len >= 32)
        return ICMS_EUSER;
    memcpy(l->key[l->n], key, key_len);
    l->len[l->n] = key_len;
    memcpy(l->value[l->n], value, value_len);
    l->value[l->n][value_len] = '\0';
    l->n++;
    return 0;
}

/* ---- tests ---- */

static void test_survives_close_and_reopen(void **state)
{
    (void)state;
    const char *path = db_path("reopen.db");
    icms_store *s = NULL;
    assert_icms_ok(icms_store_sqlite_new(&s, path, NULL));
    put1(s, K("a"), K("1"));
    put1(s, K("\x00\xff"), K("binary"));
    put1(s, K("empty"), (const uint8_t *)"", 0);
    icms_store_txn *t;
    assert_icms_ok(s->begin(s, ICMS_STORE_WRITE, &t));
    assert_icms_ok(s->put(t, K("rolled-back"), K("x")));
    s->rollback(t);
    icms_store_free(s);

    assert_icms_ok(icms_store_sqlite_new(&s, path, NULL));
    assert_value(s, K("a"), "1");
    assert_value(s, K("\x00\xff"), "binary");
    assert_value(s, K("empty"), "");
    assert_value(s, K("rolled-back"), NULL);
    icms_store_free(s);

    /* Only the owner may read the database and its WAL. */
    struct stat st;
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600);
    assert_icms_ok(icms_store_sqlite_new(&s, path, NULL));
    put1(s, K("wal"), K("on disk"));
    char wal[4300];
    snprintf(wal, sizeof wal, "%s-wal", path);
    assert_int_equal(stat(wal, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600);
    icms_store_free(s);
    /* An existing file keeps its mode. */
    assert_int_equal(chmod(path, 0640), 0);
    assert_icms_ok(icms_store_sqlite_new(&s, path, NULL));
    icms_store_free(s);
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0640);

    /* The file says what it is. */
    assert_int_equal(raw_int(path, "PRAGMA application_id"), 0x49434D53);
    assert_int_equal(raw_int(path, "PRAGMA user_version"), 3);
    assert_int_equal(raw_int(path, "SELECT count(*) FROM kv"), 4);
    assert_int_equal(raw_int(path, "SELECT count(*) FROM sqlite_schema WHERE name = 'kv' AND "
                                   "sql LIKE '%WITHOUT ROWID%'"),
                     1);
}

static void test_pragmas_applied(void **state)
{
    (void)state;
    static const struct {
        icms_sqlite_sync_t sync;
        const char *value;
    } cases[] = {
        {ICMS_SQLITE_SYNC_FULL, "2"}, {ICMS_SQLITE_SYNC_NORMAL, "1"}, {ICMS_SQLITE_SYNC_OFF, "0"}};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        icms_sqlite_options o = ICMS_SQLITE_OPTIONS_INIT;
        o.sync = cases[i].sync;
        o.busy_timeout_ms = 1234;
        o.checkpoint_pages = 250;
        icms_store *s = NULL;
        assert_icms_ok(icms_store_sqlite_new(&s, db_path("pragmas.db"), &o));
        char buf[64];
        assert_icms_ok(icms__sqlite_store_pragma(s, "PRAGMA synchronous", buf, sizeof buf));
        assert_string_equal(buf, cases[i].value);
        assert_icms_ok(icms__sqlite_store_pragma(s, "PRAGMA journal_mode", buf, sizeof buf));
        assert_string_equal(buf, "wal");
        assert_icms_ok(icms__sqlite_store_pragma(s, "PRAGMA busy_timeout", buf, sizeof buf));
        assert_string_equal(buf, "1234");
        assert_icms_ok(icms__sqlite_store_pragma(s, "PRAGMA wal_autocheckpoint", buf, sizeof buf));
        assert_string_equal(buf, "250");
        assert_icms_ok(icms__sqlite_store_pragma(s, "PRAGMA journal_size_limit", buf, sizeof buf));
        assert_string_equal(buf, "1024000");
        assert_icms_ok(icms__sqlite_store_pragma(s, "PRAGMA trusted_schema", buf, sizeof buf));
        assert_string_equal(buf, "0");
        /* Defensive mode: even with writable_schema the schema cannot be edited as a table. */
        assert_icms_ok(
            icms__sqlite_store_pragma(s, "PRAGMA writable_schema = ON", buf, sizeof buf));
        assert_icms(ICMS_ESTORAGE,
                    icms__sqlite_store_pragma(s, "DELETE FROM sqlite_schema WHERE type = 'trigger'",
                                              buf, sizeof buf));
        icms_store_free(s);
    }
    /* Defaults: FULL, 5000 ms, a checkpoint every 10,000 pages with the -wal file cut to 40 MB. */
    icms_store *s = NULL;
    assert_icms_ok(icms_store_sqlite_new(&s, db_path("pragmas.db"), NULL));
    char buf[64];
    assert_icms_ok(icms__sqlite_store_pragma(s, "PRAGMA synchronous", buf, sizeof buf));
    assert_string_equal(buf, "2");
    assert_icms_ok(icms__sqlite_store_pragma(s, "PRAGMA busy_timeout", buf, sizeof buf));
    assert_string_equal(buf, "5000");
    assert_icms_ok(icms__sqlite_store_pragma(s, "PRAGMA wal_autocheckpoint", buf, sizeof buf));
    assert_string_equal(buf, "10000");
    assert_icms_ok(icms__sqlite_store_pragma(s, "PRAGMA journal_size_limit", buf, sizeof buf));
    assert_string_equal(buf, "40960000");
    icms_store_free(s);
    /* WAL is recorded in the file itself. */
    sqlite3 *db;
    sqlite3_stmt *st;
    assert_int_equal(sqlite3_open(db_path("pragmas.db"), &db), SQLITE_OK);
    assert_int_equal(sqlite3_prepare_v2(db, "PRAGMA journal_mode", -1, &st, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    assert_string_equal((const char *)sqlite3_column_text(st, 0), "wal");
    sqlite3_finalize(st);
    sqlite3_close(db);
}

static void test_append_only_prefixes(void **state)
{
    (void)state;
    const char *path = db_path("append-only.db");
    static const uint8_t ledger[] = "ledger/";
    static const uint8_t audit[] = {'a', 0x00, 0xff};
    const uint8_t *prefixes[] = {ledger, audit};
    size_t lens[] = {sizeof ledger - 1, sizeof audit};
    icms_sqlite_options o = ICMS_SQLITE_OPTIONS_INIT;
    o.append_only_prefixes = prefixes;
    o.append_only_prefix_lens = lens;
    o.append_only_count = 2;
    icms_store *s = NULL;
    assert_icms_ok(icms_store_sqlite_new(&s, path, &o));

    icms_store_txn *t;
    assert_icms_ok(s->begin(s, ICMS_STORE_WRITE, &t));
    assert_icms_ok(s->put(t, K("ledger/1"), K("first")));
    assert_icms_ok(s->put(t,
                          K("a\x00\xff"
                            "1"),
                          K("audit")));
    assert_icms_ok(s->put(t, K("other/1"), K("free")));
    assert_icms_ok(s->put(t, K("ledger"), K("not under the prefix")));
    assert_icms_ok(s->commit(t));

    /* Through the store: no replacing, no deleting; refusals leave the transaction usable. */
    assert_icms_ok(s->begin(s, ICMS_STORE_WRITE, &t));
    assert_icms(ICMS_EINVALID, s->put(t, K("ledger/1"), K("rewritten")));
    assert_icms(ICMS_EINVALID, s->put(t, K("ledger/1"), K("first"))); /* even the same value */
    assert_icms(ICMS_EINVALID, s->del(t, K("ledger/1")));
    assert_icms(ICMS_EINVALID, s->del(t, K("a\x00\xff"
                                           "1")));
    assert_icms_ok(s->del(t, K("ledger/absent")));
    assert_icms_ok(s->put(t, K("ledger/2"), K("second")));
    assert_icms_ok(s->put(t, K("other/1"), K("changed")));
    assert_icms_ok(s->put(t, K("ledger"), K("changed")));
    assert_icms_ok(s->commit(t));
    assert_value(s, K("ledger/1"), "first");
    assert_value(s, K("ledger/2"), "second");
    assert_value(s, K("other/1"), "changed");
    assert_value(s, K("ledger"), "changed");
    icms_store_free(s);

    /* The protected rows live in kv_log, the others in kv. */
    assert_int_equal(raw_int(path, "SELECT count(*) FROM kv_log"), 3);
    assert_int_equal(raw_int(path, "SELECT count(*) FROM kv"), 2);

    /* Directly with SQL on the file: every way of changing a protected row fails. */
    static const char *const refused[] = {
        "UPDATE kv_log SET v = X'00' WHERE k = CAST('ledger/1' AS BLOB)",
        "UPDATE kv_log SET k = CAST('ledger/9' AS BLOB) WHERE k = CAST('ledger/1' AS BLOB)",
        "UPDATE OR REPLACE kv_log SET k = CAST('ledger/2' AS BLOB) "
        "WHERE k = CAST('ledger/1' AS BLOB)",
        "DELETE FROM kv_log WHERE k = CAST('ledger/1' AS BLOB)",
        "DELETE FROM kv_log",
        "INSERT OR REPLACE INTO kv_log(k, v) VALUES(CAST('ledger/1' AS BLOB), X'00')",
        "REPLACE INTO kv_log(k, v) VALUES(X'6100FF31', X'00')",
        "DELETE FROM kv_log WHERE k >= X'6100FF' AND k < X'6100FF40'",
        /* A row outside the ranges would never be read: refused too. */
        "INSERT INTO kv_log(k, v) VALUES(CAST('other/2' AS BLOB), X'00')",
        /* The prefix set changes only with the schema. */
        "INSERT INTO icms_append_only(prefix) VALUES(CAST('other/' AS BLOB))",
        "DELETE FROM icms_append_only",
        "UPDATE icms_append_only SET prefix = X'00'",
    };
    char err[256];
    for (size_t i = 0; i < sizeof refused / sizeof refused[0]; i++) {
        int rc = raw_exec(path, refused[i], err, sizeof err);
        if (rc == SQLITE_OK)
            fail_msg("direct SQL was allowed: %s", refused[i]);
        assert_string_equal(err, "append-only");
    }
    /* Other keys stay editable, and new protected keys may be added. */
    assert_int_equal(raw_exec(path,
                              "UPDATE kv SET v = CAST('by sql' AS BLOB) "
                              "WHERE k = CAST('other/1' AS BLOB)",
                              NULL, 0),
                     SQLITE_OK);
    assert_int_equal(
        raw_exec(path, "INSERT INTO kv_log(k, v) VALUES(CAST('ledger/3' AS BLOB), X'')", NULL, 0),
        SQLITE_OK);
    assert_int_equal(raw_exec(path, "DELETE FROM kv WHERE k = CAST('ledger' AS BLOB)", NULL, 0),
                     SQLITE_OK);
    /*
     * kv has no triggers, but its CHECK constraint refuses protected keys: no
     * SQL (nor a process of an older build, which kept log rows in kv, still
     * running after the upgrade) can put one where the store would not read it,
     * nor move a free row to one.
     */
    static const char *const not_in_kv[] = {
        "INSERT INTO kv(k, v) VALUES(CAST('ledger/1' AS BLOB), X'00')",
        "INSERT INTO kv(k, v) VALUES(CAST('ledger/4' AS BLOB), X'00')",
        "INSERT INTO kv(k, v) VALUES(X'6100FF32', X'00')",
        /* the upsert layout 2 builds ran, word for word */
        "INSERT INTO kv(k, v) VALUES(CAST('ledger/5' AS BLOB), X'00') "
        "ON CONFLICT(k) DO UPDATE SET v = excluded.v",
        "UPDATE kv SET k = CAST('ledger/6' AS BLOB) WHERE k = CAST('other/1' AS BLOB)",
    };
    for (size_t i = 0; i < sizeof not_in_kv / sizeof *not_in_kv; i++) {
        char why[200];
        assert_int_equal(raw_exec(path, not_in_kv[i], why, sizeof why), SQLITE_CONSTRAINT);
        assert_non_null(strstr(why, "icms_not_append_only"));
    }

    /* The protection lives in the file: a handle opened without options keeps it. */
    assert_icms_ok(icms_store_sqlite_new(&s, path, NULL));
    assert_value(s, K("ledger/1"), "first");
    assert_value(s, K("other/1"), "by sql");
    assert_value(s, K("ledger/3"), "");
    assert_value(s, K("ledger"), NULL);
    assert_value(s, K("ledger/4"), NULL);
    assert_value(s,
                 K("a\x00\xff"
                   "2"),
                 NULL);
    static const char *const visible[] = {"a\x00\xff"
                                          "1",
                                          "ledger/1", "ledger/2", "ledger/3", "other/1"};
    static const size_t visible_len[] = {4, 8, 8, 8, 7};
    for (unsigned int reverse = 0; reverse < 2; reverse++) {
        listed l = {0};
        assert_icms_ok(s->begin(s, ICMS_STORE_READ, &t));
        assert_icms_ok(s->scan(t, NULL, 0, NULL, 0, reverse, list_cb, &l));
        assert_icms_ok(s->commit(t));
        assert_int_equal(l.n, 5);
        for (size_t i = 0; i < 5; i++) {
            size_t w = reverse ? 4 - i : i;
            assert_int_equal(l.len[i], visible_len[w]);
            assert_memory_equal(l.key[i], visible[w], visible_len[w]);
        }
    }
    assert_icms_ok(s->begin(s, ICMS_STORE_WRITE, &t));
    assert_icms(ICMS_EINVALID, s->put(t, K("ledger/3"), K("x")));
    assert_icms_ok(s->put(t, K("ledger/4"), K("the store's own")));
    assert_icms_ok(s->commit(t));
    assert_value(s, K("ledger/4"), "the store's own");
    icms_store_free(s);
}

static void test_bad_options_and_files(void **state)
{
    (void)state;
    icms_store *s = (icms_store *)&s; /* must be reset to NULL on failure */
    assert_icms(ICMS_EINVALID, icms_store_sqlite_new(NULL, db_path("x.db"), NULL));
    assert_icms(ICMS_EINVALID, icms_store_sqlite_new(&s, NULL, NULL));
    assert_null(s);
    assert_icms(ICMS_EINVALID, icms_store_sqlite_new(&s, "", NULL));
    assert_icms(ICMS_EINVALID, icms_store_sqlite_new(&s, ":memory:", NULL));

    icms_sqlite_options o = ICMS_SQLITE_OPTIONS_INIT;
    o.version = 99;
    assert_icms(ICMS_EVERSION, icms_store_sqlite_new(&s, db_path("x.db"), &o));
    o = (icms_sqlite_options)ICMS_SQLITE_OPTIONS_INIT;
    o.sync = (icms_sqlite_sync_t)7;
    assert_icms(ICMS_EINVALID, icms_store_sqlite_new(&s, db_path("x.db"), &o));
    o = (icms_sqlite_options)ICMS_SQLITE_OPTIONS_INIT;
    o.checkpoint_pages = ICMS_SQLITE_CHECKPOINT_PAGES_MAX + 1;
    assert_icms(ICMS_EINVALID, icms_store_sqlite_new(&s, db_path("x.db"), &o));
    assert_non_null(strstr(icms_error_last()->message, "at most 1000000"));
    assert_null(s);
    /* A version 1 struct ends before checkpoint_pages: whatever lies there is not read. */
    o.version = 1;
    assert_icms_ok(icms_store_sqlite_new(&s, db_path("v1.db"), &o));
    char pages[32];
    assert_icms_ok(icms__sqlite_store_pragma(s, "PRAGMA wal_autocheckpoint", pages, sizeof pages));
    assert_string_equal(pages, "10000");
    icms_store_free(s);
    s = NULL;
    o.version = ICMS_SQLITE_OPTIONS_VERSION + 1;
    assert_icms(ICMS_EVERSION, icms_store_sqlite_new(&s, db_path("x.db"), &o));
    o = (icms_sqlite_options)ICMS_SQLITE_OPTIONS_INIT;
    o.append_only_count = 1;
    assert_icms(ICMS_EINVALID, icms_store_sqlite_new(&s, db_path("x.db"), &o));
    const uint8_t *p[] = {(const uint8_t *)"x"};
    size_t zero[] = {0};
    o.append_only_prefixes = p;
    o.append_only_prefix_lens = zero;
    assert_icms(ICMS_EINVALID, icms_store_sqlite_new(&s, db_path("x.db"), &o));
    /* Nothing was created by refused options. */
    assert_int_equal(access(db_path("x.db"), F_OK), -1);

    /* A directory that does not exist. */
    assert_icms(ICMS_ESTORAGE, icms_store_sqlite_new(&s, db_path("no/such/dir/x.db"), NULL));
    assert_null(s);
    assert_non_null(strstr(icms_error_last()->message, "cannot open"));

    /* A file that is not a database. */
    FILE *f = fopen(db_path("garbage.db"), "wb");
    assert_non_null(f);
    for (int i = 0; i < 4096; i++)
        fputc(i * 7, f);
    fclose(f);
    assert_icms(ICMS_ESTORAGE, icms_store_sqlite_new(&s, db_path("garbage.db"), NULL));

    /* Another application's database is left alone. */
    assert_int_equal(raw_exec(db_path("foreign.db"), "CREATE TABLE accounts(id INTEGER)", NULL, 0),
                     SQLITE_OK);
    assert_icms(ICMS_ESTORAGE, icms_store_sqlite_new(&s, db_path("foreign.db"), NULL));
    assert_int_equal(
        raw_int(db_path("foreign.db"), "SELECT count(*) FROM sqlite_schema WHERE name = 'kv'"), 0);
    assert_int_equal(raw_exec(db_path("app.db"), "PRAGMA application_id = 7", NULL, 0), SQLITE_OK);
    assert_icms(ICMS_ESTORAGE, icms_store_sqlite_new(&s, db_path("app.db"), NULL));

    /* A layout from a newer build. */
    assert_icms_ok(icms_store_sqlite_new(&s, db_path("newer.db"), NULL));
    icms_store_free(s);
    assert_int_equal(raw_exec(db_path("newer.db"), "PRAGMA user_version = 4", NULL, 0), SQLITE_OK);
    assert_icms(ICMS_EVERSION, icms_store_sqlite_new(&s, db_path("newer.db"), NULL));
    assert_null(s);
}

typedef struct delayed_commit {
    icms_store *store;
    icms_store_txn *txn;
    unsigned int delay_ms;
    int rc;
} delayed_commit;

static void *commit_later(void *arg)
{
    delayed_commit *d = arg;
    usleep(d->delay_ms * 1000u);
    d->rc = d->store->commit(d->txn);
    return NULL;
}

static void test_busy_timeout(void **state)
{
    (void)state;
    const char *path = db_path("busy.db");
    icms_store *a = open_path(path, 100);
    icms_store *b = open_path(path, 400);
    icms_store_txn *t1, *t2;

    /* A writer waits about its busy timeout, then answers ICMS_EBUSY. */
    assert_icms_ok(a->begin(a, ICMS_STORE_WRITE, &t1));
    double t0 = now_ms();
    assert_icms(ICMS_EBUSY, b->begin(b, ICMS_STORE_WRITE, &t2));
    double waited = now_ms() - t0;
    assert_true(waited >= 300.0);
    assert_true(waited < 5000.0);
    assert_non_null(strstr(icms_error_last()->message, "locked"));

    /* Opening an existing store needs no write lock, so it does not wait for the writer... */
    icms_store *c = NULL;
    icms_sqlite_options quick = ICMS_SQLITE_OPTIONS_INIT;
    quick.busy_timeout_ms = 10; /* were the lock needed, this would answer ICMS_EBUSY */
    assert_icms_ok(icms_store_sqlite_new(&c, path, &quick));
    icms_store_free(c);
    /* ...unless it must add to the schema (a new append-only prefix). */
    icms_sqlite_options o = ICMS_SQLITE_OPTIONS_INIT;
    const uint8_t *prefixes[] = {(const uint8_t *)"log/"};
    size_t lens[] = {4};
    o.append_only_prefixes = prefixes;
    o.append_only_prefix_lens = lens;
    o.append_only_count = 1;
    o.busy_timeout_ms = 50;
    assert_icms(ICMS_EBUSY, icms_store_sqlite_new(&c, path, &o));
    assert_null(c);

    /* A writer whose wait outlasts the holder gets the lock. */
    assert_icms_ok(a->put(t1, K("k"), K("first")));
    delayed_commit d = {a, t1, 100, -1};
    pthread_t th;
    assert_int_equal(pthread_create(&th, NULL, commit_later, &d), 0);
    assert_icms_ok(b->begin(b, ICMS_STORE_WRITE, &t2));
    pthread_join(th, NULL);
    assert_icms_ok(d.rc);
    const uint8_t *v;
    size_t vl;
    assert_icms_ok(b->get(t2, K("k"), &v, &vl));
    assert_memory_equal(v, "first", 5);
    assert_icms_ok(b->commit(t2));
    sq_close(NULL, b);
    sq_close(NULL, a);
}

#define PROCS 4
#define PROC_INCREMENTS 40

/* One child: read-modify-write a shared counter and add its own keys, retrying on busy. */
static int child_work(const char *path, int id)
{
    icms_store *s = NULL;
    if (icms_store_sqlite_new(&s, path, NULL) != 0)
        return 10;
    for (int i = 0; i < PROC_INCREMENTS; i++) {
        int attempt = 0;
        for (;; attempt++) {
            if (attempt > 200)
                return 11;
            icms_store_txn *t;
            int rc = s->begin(s, ICMS_STORE_WRITE, &t);
            if (rc == ICMS_EBUSY)
                continue;
            if (rc != 0)
                return 12;
            uint64_t n;
            if (read_u64(s, t, K("counter"), &n) != 0)
                return 13;
            n++;
            char key[32];
            int kl = snprintf(key, sizeof key, "proc/%d/%03d", id, i);
            if (s->put(t, K("counter"), (const uint8_t *)&n, sizeof n) != 0 ||
                s->put(t, (const uint8_t *)key, (size_t)kl, (const uint8_t *)&n, sizeof n) != 0)
                return 14;
            rc = s->commit(t);
            if (rc == 0)
                break;
            if (rc != ICMS_EBUSY && rc != ICMS_ECONFLICT)
                return 15;
        }
    }
    icms_store_free(s);
    return 0;
}

static void test_processes_lose_no_write(void **state)
{
    (void)state;
    const char *path = db_path("processes.db");
    icms_store *s = NULL;
    assert_icms_ok(icms_store_sqlite_new(&s, path, NULL));
    fflush(NULL);
    pid_t pids[PROCS];
    for (int i = 0; i < PROCS; i++) {
        pids[i] = fork();
        assert_true(pids[i] >= 0);
        if (pids[i] == 0)
            _exit(child_work(path, i));
    }
    for (int i = 0; i < PROCS; i++) {
        int status;
        assert_int_equal(waitpid(pids[i], &status, 0), pids[i]);
        assert_true(WIFEXITED(status));
        assert_int_equal(WEXITSTATUS(status), 0);
    }
    /* The handle opened before the children sees all their work. */
    icms_store_txn *t;
    assert_icms_ok(s->begin(s, ICMS_STORE_READ, &t));
    assert_int_equal(get_u64(s, t, K("counter")), PROCS * PROC_INCREMENTS);
    size_t keys = 0;
    assert_icms_ok(s->scan(t, K("proc/"), K("proc0"), 0, count_cb, &keys));
    assert_int_equal(keys, PROCS * PROC_INCREMENTS);
    assert_icms_ok(s->commit(t));
    icms_store_free(s);
}

/* Several processes creating one new file at once, each with its own append-only prefix. */
static int child_create(const char *path, int id, int go_fd)
{
    char c;
    if (read(go_fd, &c, 1) != 1) /* start together */
        return 20;
    uint8_t prefix[8];
    int n = snprintf((char *)prefix, sizeof prefix, "ao%d/", id);
    const uint8_t *prefixes[] = {prefix};
    size_t lens[] = {(size_t)n};
    icms_sqlite_options o = ICMS_SQLITE_OPTIONS_INIT;
    o.append_only_prefixes = prefixes;
    o.append_only_prefix_lens = lens;
    o.append_only_count = 1;
    icms_store *s = NULL;
    int rc = icms_store_sqlite_new(&s, path, &o);
    if (rc != 0) {
        fprintf(stderr, "child %d: %s\n", id, icms_error_last()->message);
        return 21;
    }
    uint8_t key[16];
    memcpy(key, prefix, (size_t)n);
    key[n] = 'x';
    for (int attempt = 0;; attempt++) {
        icms_store_txn *t;
        rc = s->begin(s, ICMS_STORE_WRITE, &t);
        if (rc == ICMS_EBUSY && attempt < 100)
            continue;
        if (rc != 0 || s->put(t, key, (size_t)n + 1, K("v")) != 0 || s->commit(t) != 0)
            return 22;
        break;
    }
    icms_store_free(s);
    return 0;
}

static void test_processes_create_one_file_together(void **state)
{
    (void)state;
    const char *path = db_path("created-together.db");
    int go[2];
    assert_int_equal(pipe(go), 0);
    fflush(NULL);
    pid_t pids[PROCS];
    for (int i = 0; i < PROCS; i++) {
        pids[i] = fork();
        assert_true(pids[i] >= 0);
        if (pids[i] == 0) {
            close(go[1]);
            _exit(child_create(path, i, go[0]));
        }
    }
    close(go[0]);
    char bytes[PROCS];
    memset(bytes, 'g', sizeof bytes);
    assert_int_equal(write(go[1], bytes, sizeof bytes), PROCS);
    close(go[1]);
    for (int i = 0; i < PROCS; i++) {
        int status;
        assert_int_equal(waitpid(pids[i], &status, 0), pids[i]);
        assert_true(WIFEXITED(status));
        assert_int_equal(WEXITSTATUS(status), 0);
    }
    /* Every prefix protected, every key in kv_log, one set of triggers. */
    assert_int_equal(raw_int(path, "SELECT count(*) FROM kv_log"), PROCS);
    assert_int_equal(raw_int(path, "SELECT count(*) FROM kv"), 0);
    assert_int_equal(raw_int(path, "SELECT count(*) FROM icms_append_only"), PROCS);
    assert_int_equal(raw_int(path, "SELECT count(*) FROM sqlite_schema WHERE type = 'trigger'"), 6);
    char err[128];
    assert_int_equal(raw_exec(path, "DELETE FROM kv_log", err, sizeof err), SQLITE_CONSTRAINT);
    assert_string_equal(err, "append-only");
}

/*
 * A file of layout 1 (three triggers per prefix, as the first builds made
 * it) is brought to layout 3 on open: its prefixes stay protected, with the
 * new handle's added, its protected rows move to kv_log, six triggers in all.
 */
static void test_layout_1_upgraded(void **state)
{
    (void)state;
    const char *path = db_path("layout1.db");
    /* "ledger" + NUL as a layout 1 build protected it, with a row under it. */
    static const char layout_1[] =
        "PRAGMA application_id = 1229147475; PRAGMA user_version = 1;"
        "CREATE TABLE kv(k BLOB PRIMARY KEY, v BLOB NOT NULL) WITHOUT ROWID;"
        "CREATE TRIGGER icms_append_only_6C656467657200_update BEFORE UPDATE ON kv WHEN "
        "substr(old.k, 1, 7) = X'6C656467657200' OR substr(new.k, 1, 7) = X'6C656467657200' "
        "BEGIN SELECT RAISE(ABORT, 'append-only'); END;"
        "CREATE TRIGGER icms_append_only_6C656467657200_delete BEFORE DELETE ON kv WHEN "
        "substr(old.k, 1, 7) = X'6C656467657200' BEGIN SELECT RAISE(ABORT, 'append-only'); END;"
        "CREATE TRIGGER icms_append_only_6C656467657200_replace BEFORE INSERT ON kv WHEN "
        "substr(new.k, 1, 7) = X'6C656467657200' AND EXISTS (SELECT 1 FROM kv WHERE k = new.k) "
        "BEGIN SELECT RAISE(ABORT, 'append-only'); END;"
        "INSERT INTO kv VALUES(X'6C6564676572003031', CAST('entry' AS BLOB));";
    assert_int_equal(raw_exec(path, layout_1, NULL, 0), SQLITE_OK);

    static const uint8_t audit[] = {'a', 0x00};
    static const uint8_t all_ff[] = {0xff, 0xff};
    const uint8_t *prefixes[] = {audit, all_ff};
    size_t lens[] = {sizeof audit, sizeof all_ff};
    icms_sqlite_options o = ICMS_SQLITE_OPTIONS_INIT;
    o.append_only_prefixes = prefixes;
    o.append_only_prefix_lens = lens;
    o.append_only_count = 2;
    icms_store *s = NULL;
    assert_icms_ok(icms_store_sqlite_new(&s, path, &o));
    assert_value(s,
                 K("ledger\x00"
                   "01"),
                 "entry");
    icms_store_free(s);

    assert_int_equal(raw_int(path, "PRAGMA user_version"), 3);
    assert_int_equal(raw_int(path, "SELECT count(*) FROM sqlite_schema WHERE type = 'trigger'"), 6);
    assert_int_equal(raw_int(path, "SELECT count(*) FROM sqlite_schema WHERE type = 'trigger' "
                                   "AND tbl_name = 'kv'"),
                     0);
    assert_int_equal(raw_int(path, "SELECT count(*) FROM icms_append_only"), 3);
    assert_int_equal(raw_int(path, "SELECT count(*) FROM kv_log"), 1);
    assert_int_equal(raw_int(path, "SELECT count(*) FROM kv"), 0);
    /* Opened again with fewer prefixes: none is dropped. */
    assert_icms_ok(icms_store_sqlite_new(&s, path, NULL));
    icms_store_free(s);
    assert_int_equal(raw_int(path, "SELECT count(*) FROM icms_append_only"), 3);

    assert_int_equal(raw_exec(path,
                              "INSERT INTO kv_log VALUES(X'610031', X'00');"
                              "INSERT INTO kv_log VALUES(X'FFFF00', X'00');"
                              "INSERT INTO kv VALUES(X'6C6564676572', X'00');"
                              "INSERT INTO kv_log VALUES(X'6100', X'00');",
                              NULL, 0),
                     SQLITE_OK);
    static const char *const refused[] = {
        "UPDATE kv_log SET v = X'01' WHERE k = X'6C6564676572003031'",
        "DELETE FROM kv_log WHERE k = X'6C6564676572003031'",
        "INSERT OR REPLACE INTO kv_log VALUES(X'6C6564676572003031', X'01')",
        "UPDATE kv_log SET v = X'01' WHERE k = X'610031'",
        "DELETE FROM kv_log WHERE k = X'FFFF00'",
        "UPDATE kv_log SET k = X'6C65646765720032' WHERE k = X'6100'",
        "DELETE FROM kv_log WHERE k = X'6100'",
        "INSERT INTO kv_log VALUES(X'6C6564676572', X'00')",
    };
    for (size_t i = 0; i < sizeof refused / sizeof *refused; i++) {
        char err[128] = "";
        assert_int_equal(raw_exec(path, refused[i], err, sizeof err), SQLITE_CONSTRAINT);
        assert_string_equal(err, "append-only");
    }
    /* Keys beside the prefixes stay free. */
    assert_int_equal(raw_exec(path,
                              "UPDATE kv SET v = X'01' WHERE k = X'6C6564676572';"
                              "DELETE FROM kv WHERE k = X'6C6564676572'",
                              NULL, 0),
                     SQLITE_OK);
}

/* A full database: the write fails with ICMS_ESTORAGE and SQLite's words, and changes nothing. */
static void test_full_database(void **state)
{
    (void)state;
    icms_store *s = NULL;
    assert_icms_ok(icms_store_sqlite_new(&s, db_path("full.db"), NULL));
    put1(s, K("small"), K("kept"));
    /* The store has one connection now; cap its file at its current size plus a little. */
    char buf[64];
    assert_icms_ok(icms__sqlite_store_pragma(s, "PRAGMA page_count", buf, sizeof buf));
    char sql[96];
    snprintf(sql, sizeof sql, "PRAGMA max_page_count = %d", atoi(buf) + 4);
    assert_icms_ok(icms__sqlite_store_pragma(s, sql, buf, sizeof buf));

    static uint8_t big[64 * 1024];
    memset(big, 'x', sizeof big);
    icms_store_txn *t;
    assert_icms_ok(s->begin(s, ICMS_STORE_WRITE, &t));
    assert_icms_ok(s->put(t, K("before"), K("pending")));
    assert_icms(ICMS_ESTORAGE, s->put(t, K("big"), big, sizeof big));
    assert_non_null(strstr(icms_error_last()->message, "full"));
    s->rollback(t);
    assert_value(s, K("small"), "kept");
    assert_value(s, K("before"), NULL);
    assert_value(s, K("big"), NULL);

    /*
     * SQLite rolls the whole transaction back on a full disk. A caller that goes
     * on anyway must not get the later writes committed one by one: every call
     * answers ICMS_ESTORAGE until the transaction ends, and nothing lands.
     */
    assert_icms_ok(s->begin(s, ICMS_STORE_WRITE, &t));
    assert_icms_ok(s->put(t, K("before"), K("pending")));
    assert_icms(ICMS_ESTORAGE, s->put(t, K("big"), big, sizeof big));
    assert_icms(ICMS_ESTORAGE, s->put(t, K("after"), K("x")));
    assert_icms(ICMS_ESTORAGE, s->del(t, K("small")));
    const uint8_t *v;
    size_t vl;
    assert_icms(ICMS_ESTORAGE, s->get(t, K("small"), &v, &vl));
    size_t n = 0;
    assert_icms(ICMS_ESTORAGE, s->scan(t, NULL, 0, NULL, 0, 0, count_cb, &n));
    assert_icms(ICMS_ESTORAGE, s->commit(t));
    assert_non_null(strstr(icms_error_last()->message, "rolled back"));
    assert_value(s, K("small"), "kept");
    assert_value(s, K("before"), NULL);
    assert_value(s, K("after"), NULL);
    icms_store_free(s);
}

/* A writer killed mid-transaction: its lock goes with it, its uncommitted writes too. */
static void test_killed_writer_leaves_committed_data_only(void **state)
{
    (void)state;
    const char *path = db_path("killed.db");
    icms_store *s = NULL;
    assert_icms_ok(icms_store_sqlite_new(&s, path, NULL));
    int ready[2];
    assert_int_equal(pipe(ready), 0);
    fflush(NULL);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        close(ready[0]);
        icms_store *c = NULL;
        icms_store_txn *t;
        if (icms_store_sqlite_new(&c, path, NULL) != 0 || c->begin(c, ICMS_STORE_WRITE, &t) != 0 ||
            c->put(t, K("committed"), K("yes")) != 0 || c->commit(t) != 0 ||
            c->begin(c, ICMS_STORE_WRITE, &t) != 0 || c->put(t, K("uncommitted"), K("no")) != 0 ||
            c->put(t, K("committed"), K("no")) != 0)
            _exit(1);
        /* Tell the parent we hold the write lock with writes pending, then wait to die. */
        if (write(ready[1], "x", 1) != 1)
            _exit(2);
        for (;;)
            pause();
    }
    close(ready[1]);
    char c;
    assert_int_equal(read(ready[0], &c, 1), 1);
    close(ready[0]);

    /* While it lives, it holds the lock. */
    icms_store *quick = NULL;
    icms_sqlite_options o = ICMS_SQLITE_OPTIONS_INIT;
    o.busy_timeout_ms = 50;
    assert_icms_ok(icms_store_sqlite_new(&quick, path, &o));
    icms_store_txn *t;
    assert_icms(ICMS_EBUSY, quick->begin(quick, ICMS_STORE_WRITE, &t));

    assert_int_equal(kill(pid, SIGKILL), 0);
    int status;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFSIGNALED(status));

    /* The lock is free, the committed write is there, the pending ones are not. */
    assert_icms_ok(quick->begin(quick, ICMS_STORE_WRITE, &t));
    assert_icms_ok(quick->put(t, K("after"), K("ok")));
    assert_icms_ok(quick->commit(t));
    assert_value(s, K("committed"), "yes");
    assert_value(s, K("uncommitted"), NULL);
    assert_value(s, K("after"), "ok");
    icms_store_free(quick);
    icms_store_free(s);
}

/* A layout 2 file as those builds made it: the prefixes in a table, three triggers on kv. */
static const char layout_2[] =
    "PRAGMA application_id = 1229147475; PRAGMA user_version = 2;"
    "CREATE TABLE kv(k BLOB PRIMARY KEY, v BLOB NOT NULL) WITHOUT ROWID;"
    "CREATE TABLE icms_append_only(prefix BLOB PRIMARY KEY) WITHOUT ROWID;"
    "INSERT INTO icms_append_only VALUES(X'6100'), (CAST('ledger/' AS BLOB));"
    "INSERT INTO kv VALUES(CAST('ledger/1' AS BLOB), CAST('one' AS BLOB)),"
    " (CAST('ledger/2' AS BLOB), CAST('two' AS BLOB)), (X'610001', CAST('audit' AS BLOB)),"
    " (CAST('free' AS BLOB), CAST('x' AS BLOB)), (CAST('ledger' AS BLOB), CAST('beside' AS BLOB)),"
    " (CAST('m/1' AS BLOB), CAST('mid' AS BLOB));"
    LAYOUT_2_TRIGGERS;

/*
 * A layout 2 file is brought to layout 3 on open, in one transaction: the
 * protected rows (and those of the handle's new prefix) move to kv_log, the
 * kv triggers go. An upgrade that fails half-way leaves the file as it was.
 */
static void test_layout_2_upgraded(void **state)
{
    (void)state;
    const char *path = db_path("layout2.db");
    assert_int_equal(raw_exec(path, layout_2, NULL, 0), SQLITE_OK);
    static const uint8_t mid[] = "m/";
    const uint8_t *prefixes[] = {mid};
    size_t lens[] = {sizeof mid - 1};
    icms_sqlite_options o = ICMS_SQLITE_OPTIONS_INIT;
    o.append_only_prefixes = prefixes;
    o.append_only_prefix_lens = lens;
    o.append_only_count = 1;

    /* A key in both tables (only SQL behind the store's back makes one) stops the upgrade. */
    assert_int_equal(raw_exec(path,
                              "CREATE TABLE kv_log(k BLOB PRIMARY KEY, v BLOB NOT NULL) "
                              "WITHOUT ROWID; INSERT INTO kv_log VALUES(CAST('m/1' AS BLOB), X'')",
                              NULL, 0),
                     SQLITE_OK);
    icms_store *s = NULL;
    assert_int_not_equal(icms_store_sqlite_new(&s, path, &o), ICMS_OK);
    assert_null(s);
    assert_int_equal(raw_int(path, "PRAGMA user_version"), 2);
    assert_int_equal(raw_int(path, "SELECT count(*) FROM kv"), 6);
    assert_int_equal(raw_int(path, "SELECT count(*) FROM kv_log"), 1);
    assert_int_equal(raw_int(path, "SELECT count(*) FROM icms_append_only"), 2);
    assert_int_equal(raw_int(path, "SELECT count(*) FROM sqlite_schema WHERE type = 'trigger' "
                                   "AND tbl_name = 'kv'"),
                     3);
    assert_int_equal(raw_exec(path, "DELETE FROM kv_log", NULL, 0), SQLITE_OK);

    /*
     * A process of a layout 2 build with the file open across the upgrade: its
     * prepared put (word for word what those builds ran) must fail once the
     * file is layout 3 rather than put a ledger row where nothing reads it.
     */
    sqlite3 *old_build;
    sqlite3_stmt *old_put;
    assert_int_equal(sqlite3_open(path, &old_build), SQLITE_OK);
    assert_int_equal(sqlite3_prepare_v2(old_build,
                                        "INSERT INTO kv(k, v) VALUES(?1, ?2) ON CONFLICT(k) DO "
                                        "UPDATE SET v = excluded.v",
                                        -1, &old_put, NULL),
                     SQLITE_OK);

    assert_icms_ok(icms_store_sqlite_new(&s, path, &o));
    sqlite3_bind_blob(old_put, 1, "ledger/3", 8, SQLITE_STATIC);
    sqlite3_bind_blob(old_put, 2, "lost?", 5, SQLITE_STATIC);
    assert_int_equal(sqlite3_step(old_put), SQLITE_CONSTRAINT);
    sqlite3_reset(old_put);
    sqlite3_bind_blob(old_put, 1, "free", 4, SQLITE_STATIC); /* its free rows still go in */
    sqlite3_bind_blob(old_put, 2, "x", 1, SQLITE_STATIC);
    assert_int_equal(sqlite3_step(old_put), SQLITE_DONE);
    sqlite3_finalize(old_put);
    assert_int_equal(sqlite3_close(old_build), SQLITE_OK);
    assert_int_equal(raw_int(path, "PRAGMA user_version"), 3);
    assert_int_equal(raw_int(path, "SELECT count(*) FROM kv"), 2); /* free, ledger */
    assert_int_equal(raw_int(path, "SELECT count(*) FROM kv_log"), 4);
    assert_int_equal(raw_int(path, "SELECT count(*) FROM icms_append_only"), 3);
    assert_int_equal(raw_int(path, "SELECT count(*) FROM sqlite_schema WHERE type = 'trigger' "
                                   "AND tbl_name = 'kv'"),
                     0);
    assert_int_equal(raw_int(path, "SELECT count(*) FROM sqlite_schema WHERE type = 'trigger'"), 6);
    assert_value(s, K("ledger/1"), "one");
    assert_value(s, K("a\x00\x01"), "audit");
    assert_value(s, K("m/1"), "mid");
    assert_value(s, K("free"), "x");
    listed l = {0};
    icms_store_txn *t;
    assert_icms_ok(s->begin(s, ICMS_STORE_READ, &t));
    assert_icms_ok(s->scan(t, NULL, 0, NULL, 0, 0, list_cb, &l));
    assert_icms_ok(s->commit(t));
    static const char *const order[] = {"a\x00\x01", "free",     "ledger",
                                        "ledger/1",  "ledger/2", "m/1"};
    static const size_t order_len[] = {3, 4, 6, 8, 8, 3};
    assert_int_equal(l.n, 6);
    for (size_t i = 0; i < 6; i++) {
        assert_int_equal(l.len[i], order_len[i]);
        assert_memory_equal(l.key[i], order[i], order_len[i]);
    }
    assert_icms_ok(s->begin(s, ICMS_STORE_WRITE, &t));
    assert_icms(ICMS_EINVALID, s->put(t, K("m/1"), K("again")));
    assert_icms(ICMS_EINVALID, s->del(t, K("ledger/2")));
    assert_icms_ok(s->put(t, K("ledger"), K("free still")));
    assert_icms_ok(s->commit(t));
    icms_store_free(s);
    char err[64];
    assert_int_equal(
        raw_exec(path, "DELETE FROM kv_log WHERE k = CAST('ledger/1' AS BLOB)", err, sizeof err),
        SQLITE_CONSTRAINT);
    assert_string_equal(err, "append-only");
}

/* One scan, its keys and whether it runs backwards. */
static void expect_scan(icms_store *s, const char *start, const char *end, unsigned int flags,
                        const char *const *want, size_t n_want)
{
    listed l = {0};
    icms_store_txn *t;
    assert_icms_ok(s->begin(s, ICMS_STORE_READ, &t));
    assert_icms_ok(s->scan(t, (const uint8_t *)start, start ? strlen(start) : 0,
                           (const uint8_t *)end, end ? strlen(end) : 0, flags, list_cb, &l));
    assert_icms_ok(s->commit(t));
    if (l.n != n_want)
        fail_msg("scan [%s, %s) %u: %zu keys, want %zu", start ? start : "", end ? end : "-", flags,
                 l.n, n_want);
    for (size_t i = 0; i < n_want; i++) {
        const char *w = want[flags & ICMS_STORE_SCAN_REVERSE ? n_want - 1 - i : i];
        assert_int_equal(l.len[i], strlen(w));
        assert_memory_equal(l.key[i], w, l.len[i]);
        assert_string_equal(l.value[i], w); /* each key's value is itself */
    }
}

typedef struct nested {
    icms_store *store;
    icms_store_txn *txn;
    size_t outer, inner, stop_after;
} nested;

static int inner_cb(const uint8_t *key, size_t key_len, const uint8_t *value, size_t value_len,
                    void *payload)
{
    (void)key, (void)key_len, (void)value, (void)value_len;
    ((nested *)payload)->inner++;
    return 0;
}

static int outer_cb(const uint8_t *key, size_t key_len, const uint8_t *value, size_t value_len,
                    void *payload)
{
    (void)key, (void)key_len, (void)value, (void)value_len;
    nested *n = payload;
    int rc = n->store->scan(n->txn, NULL, 0, NULL, 0, ICMS_STORE_SCAN_REVERSE, inner_cb, n);
    if (rc != 0)
        return rc;
    return ++n->outer == n->stop_after ? ICMS_STORE_STOP : 0;
}

/* Scans over both tables come out in key order, forwards and backwards, cut where asked. */
static void test_scans_across_tables(void **state)
{
    (void)state;
    const char *path = db_path("across.db");
    static const uint8_t b[] = "b/", d[] = "d/", ff[] = {0xff};
    const uint8_t *prefixes[] = {b, d, ff};
    size_t lens[] = {2, 2, 1};
    icms_sqlite_options o = ICMS_SQLITE_OPTIONS_INIT;
    o.append_only_prefixes = prefixes;
    o.append_only_prefix_lens = lens;
    o.append_only_count = 3;
    icms_store *s = NULL;
    assert_icms_ok(icms_store_sqlite_new(&s, path, &o));
    static const char *const keys[] = {"a",   "b",   "b/1", "b/2",  "c",
                                       "d/1", "d/9", "e",   "\xff", "\xff\x01"};
    icms_store_txn *t;
    assert_icms_ok(s->begin(s, ICMS_STORE_WRITE, &t));
    for (size_t i = 0; i < 10; i++)
        assert_icms_ok(s->put(t, (const uint8_t *)keys[i], strlen(keys[i]),
                              (const uint8_t *)keys[i], strlen(keys[i])));
    assert_icms_ok(s->commit(t));
    assert_int_equal(raw_int(path, "SELECT count(*) FROM kv_log"), 6);

    for (unsigned int f = 0; f <= ICMS_STORE_SCAN_REVERSE; f++) {
        expect_scan(s, NULL, NULL, f, keys, 10);
        expect_scan(s, "", NULL, f, keys, 10);
        expect_scan(s, "b/1", "d/1", f, keys + 2, 3);  /* log, kv, cut before log */
        expect_scan(s, "b/", "b0", f, keys + 2, 2);    /* one prefix: kv_log only */
        expect_scan(s, "b/15", "d/5", f, keys + 3, 3); /* bounds inside both ranges */
        expect_scan(s, "c", NULL, f, keys + 4, 6);     /* open end into the 0xFF range */
        expect_scan(s, NULL, "d/5", f, keys, 6);       /* empty start */
        expect_scan(s, "a", "b/", f, keys, 2);         /* kv only, up to a range */
        expect_scan(s, "d/9", "d/9", f, NULL, 0);      /* empty */
        expect_scan(s, "e", "b", f, NULL, 0);          /* inverted */
        expect_scan(s, "\xff\x01", NULL, f, keys + 9, 1);
        expect_scan(s, "ca", "d/", f, NULL, 0); /* the kv gap between, nothing in it */
    }

    /* Scans inside scans, stopping in the middle of a kv_log stretch. */
    nested n = {s, NULL, 0, 0, 4};
    assert_icms_ok(s->begin(s, ICMS_STORE_READ, &t));
    n.txn = t;
    assert_icms_ok(s->scan(t, NULL, 0, NULL, 0, 0, outer_cb, &n));
    assert_int_equal(n.outer, 4);
    assert_int_equal(n.inner, 40);
    n.outer = n.inner = 0;
    n.stop_after = 100;
    assert_icms_ok(s->scan(t, K("b/"), K("d0"), ICMS_STORE_SCAN_REVERSE, outer_cb, &n));
    assert_int_equal(n.outer, 5);
    assert_int_equal(n.inner, 50);
    assert_icms_ok(s->commit(t));
    icms_store_free(s);
}

/*
 * A second handle adds a prefix while the first is open: the rows move, and
 * the first routes that prefix to kv_log from its next transaction on, on
 * every pooled connection. A read that began before keeps its whole view.
 */
static void test_prefix_added_by_second_handle(void **state)
{
    (void)state;
    const char *path = db_path("added.db");
    static const uint8_t x[] = "x/", y[] = "y/";
    const uint8_t *prefixes[] = {x, y};
    size_t lens[] = {2, 2};
    icms_sqlite_options o = ICMS_SQLITE_OPTIONS_INIT;
    o.append_only_prefixes = prefixes;
    o.append_only_prefix_lens = lens;
    o.append_only_count = 1;
    icms_store *first = NULL;
    assert_icms_ok(icms_store_sqlite_new(&first, path, &o));
    put1(first, K("y/1"), K("y/1"));
    put1(first, K("z"), K("z"));
    icms_store_txn *w, *r, *old;
    /* Two connections in first's pool, both with the old prefix set loaded. */
    assert_icms_ok(first->begin(first, ICMS_STORE_WRITE, &w));
    assert_icms_ok(first->begin(first, ICMS_STORE_READ, &r));
    assert_icms_ok(first->put(w, K("y/1"), K("y/1"))); /* still free here */
    assert_icms_ok(first->commit(w));
    assert_icms_ok(first->commit(r));
    assert_icms_ok(first->begin(first, ICMS_STORE_READ, &old));

    o.append_only_count = 2;
    icms_store *second = NULL;
    assert_icms_ok(icms_store_sqlite_new(&second, path, &o));
    assert_int_equal(raw_int(path, "SELECT count(*) FROM kv_log WHERE k = CAST('y/1' AS BLOB)"), 1);
    assert_int_equal(raw_int(path, "SELECT count(*) FROM kv WHERE k = CAST('y/1' AS BLOB)"), 0);

    /* The read that began before sees the file as it was, routed as it was. */
    const uint8_t *v;
    size_t vl;
    assert_icms_ok(first->get(old, K("y/1"), &v, &vl));
    assert_int_equal(vl, 3);
    listed l = {0};
    assert_icms_ok(first->scan(old, NULL, 0, NULL, 0, 0, list_cb, &l));
    assert_int_equal(l.n, 2);
    first->rollback(old);

    /* Both of first's connections now refuse to rewrite y/1 and find it in kv_log. */
    assert_icms_ok(first->begin(first, ICMS_STORE_WRITE, &w));
    assert_icms_ok(first->begin(first, ICMS_STORE_READ, &r));
    assert_icms(ICMS_EINVALID, first->put(w, K("y/1"), K("rewritten")));
    assert_icms(ICMS_EINVALID, first->del(w, K("y/1")));
    assert_icms_ok(first->put(w, K("y/2"), K("y/2")));
    assert_icms_ok(first->get(r, K("y/1"), &v, &vl));
    assert_int_equal(vl, 3);
    assert_memory_equal(v, "y/1", 3);
    assert_icms_ok(first->commit(w));
    assert_icms_ok(first->commit(r));
    assert_int_equal(raw_int(path, "SELECT count(*) FROM kv_log WHERE k = CAST('y/2' AS BLOB)"), 1);
    static const char *const all[] = {"y/1", "y/2", "z"};
    expect_scan(first, NULL, NULL, 0, all, 3);
    expect_scan(first, NULL, NULL, ICMS_STORE_SCAN_REVERSE, all, 3);
    expect_scan(second, "y/", "y0", 0, all, 2);
    icms_store_free(second);

    /* The same when the prefix comes from another process. */
    put1(first, K("w/1"), K("w/1"));
    fflush(NULL);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        static const uint8_t wp[] = "w/";
        const uint8_t *child_prefixes[] = {wp};
        size_t child_lens[] = {2};
        icms_sqlite_options co = ICMS_SQLITE_OPTIONS_INIT;
        co.append_only_prefixes = child_prefixes;
        co.append_only_prefix_lens = child_lens;
        co.append_only_count = 1;
        icms_store *c = NULL;
        _exit(icms_store_sqlite_new(&c, path, &co) == 0 ? (icms_store_free(c), 0) : 1);
    }
    int status;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 0);
    assert_icms_ok(first->begin(first, ICMS_STORE_WRITE, &w));
    assert_icms(ICMS_EINVALID, first->put(w, K("w/1"), K("again")));
    assert_icms_ok(first->get(w, K("w/1"), &v, &vl));
    assert_int_equal(vl, 3);
    assert_icms_ok(first->commit(w));
    assert_int_equal(raw_int(path, "SELECT count(*) FROM kv_log WHERE k = CAST('w/1' AS BLOB)"), 1);
    icms_store_free(first);
}

int main(void)
{
    snprintf(tmpdir, sizeof tmpdir, "%s", icms_test_tmpdir("store_sqlite"));
    struct CMUnitTest tests[STORE_CONFORMANCE_MAX + 16];
    size_t n = store_conformance_tests(&sqlite_factory, tests, STORE_CONFORMANCE_MAX);
    const struct CMUnitTest own[] = {
        cmocka_unit_test(test_survives_close_and_reopen),
        cmocka_unit_test(test_pragmas_applied),
        cmocka_unit_test(test_append_only_prefixes),
        cmocka_unit_test(test_layout_1_upgraded),
        cmocka_unit_test(test_layout_2_upgraded),
        cmocka_unit_test(test_scans_across_tables),
        cmocka_unit_test(test_prefix_added_by_second_handle),
        cmocka_unit_test(test_bad_options_and_files),
        cmocka_unit_test(test_busy_timeout),
        cmocka_unit_test(test_processes_lose_no_write),
        cmocka_unit_test(test_killed_writer_leaves_committed_data_only),
        cmocka_unit_test(test_full_database),
        cmocka_unit_test(test_processes_create_one_file_together),
    };
    memcpy(tests + n, own, sizeof own);
    n += sizeof own / sizeof own[0];
    int failed = _cmocka_run_group_tests("sqlite store", tests, n, NULL, NULL);
    n = store_conformance_tests(&sqlite_split_factory, tests, STORE_CONFORMANCE_MAX);
    failed += _cmocka_run_group_tests("sqlite store, key space split by append-only prefixes",
                                      tests, n, NULL, NULL);
    return failed;
}
