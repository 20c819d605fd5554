/*
 * The PostgreSQL store against a real PostgreSQL server that this test starts
 * (tests/support/pg_server.h): the conformance suite, then what only the
 * PostgreSQL store promises. Without the server binaries the test is skipped
 * (exit 77) with the reason, except under CI=true, where it fails.
 */
#include "conformance.h"
#include "store_kv.h"

#include <libpq-fe.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "icms/sys/store_postgres.h"
#include "kv/run.h"
#include "support/pg_server.h"

static pg_server server;

/* ---- raw SQL, as an operator with psql would ---- */

static PGconn *raw_connect(void)
{
    PGconn *c = PQconnectdb(server.conninfo);
    if (PQstatus(c) != CONNECTION_OK)
        fail_msg("raw connection: %s", PQerrorMessage(c));
    return c;
}

/* Run sql; returns the SQLSTATE of its error ("" on success) in a static buffer. */
static const char *raw_exec(PGconn *c, const char *sql)
{
    static char state[8];
    PGresult *r = PQexec(c, sql);
    ExecStatusType st = PQresultStatus(r);
    const char *s = PQresultErrorField(r, PG_DIAG_SQLSTATE);
    snprintf(state, sizeof state, "%s",
             st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK ? "" : (s ? s : "?????"));
    PQclear(r);
    return state;
}

/* ---- the factory: a table per test on the one server ---- */

static unsigned int tables;

static icms_store *open_table(const char *table, unsigned int pool, unsigned int lock_ms)
{
    icms_postgres_options o = ICMS_POSTGRES_OPTIONS_INIT;
    o.table = table;
    o.pool_size = pool;
    o.lock_timeout_ms = lock_ms;
    icms_store *s = NULL;
    assert_icms_ok(icms_store_postgres_new(&s, server.conninfo, &o));
    handles_add(s, table);
    return s;
}

static icms_store *pg_open(store_factory *f)
{
    (void)f;
    char name[48];
    snprintf(name, sizeof name, "conformance_%u", tables++);
    return open_table(name, 0, 1000);
}

static icms_store *pg_open_second(store_factory *f, icms_store *first)
{
    (void)f;
    char table[48];
    handles_name(first, table, sizeof table);
    return open_table(table, 0, 1000);
}

static void pg_close(store_factory *f, icms_store *s)
{
    (void)f;
    handles_close(s);
}

static store_factory postgres_factory = {
    "postgres", STORE_SERIALIZABLE, pg_open, pg_open_second, pg_close, NULL,
};

/* ---- helpers ---- */

static void assert_message_lacks(const char *secret)
{
    const char *msg = icms_error_last()->message;
    if (strstr(msg, secret))
        fail_msg("the error message shows the password: %s", msg);
}

/* ---- what only the PostgreSQL store promises ---- */

static void test_bytea_order_is_memcmp(void **state)
{
    (void)state;
    /* The server sorts bytea exactly as memcmp with a proper prefix first (byteacmp). */
    PGconn *c = raw_connect();
    assert_string_equal(raw_exec(c, "CREATE TEMP TABLE o(k bytea PRIMARY KEY)"), "");
    uint32_t x = 12345;
    enum { N = 300 };
    static uint8_t keys[N][4];
    static size_t lens[N];
    for (int i = 0; i < N; i++) {
        lens[i] = 1 + (size_t)(i % 4);
        for (size_t j = 0; j < 4; j++) {
            x ^= x << 13, x ^= x >> 17, x ^= x << 5;
            keys[i][j] = (uint8_t)(j == 0 ? (x % 3 ? x : 0xff * (x & 1)) : x);
        }
        char hex[9] = "";
        for (size_t j = 0; j < lens[i]; j++)
            snprintf(hex + 2 * j, 3, "%02x", keys[i][j]);
        char sql[128];
        snprintf(sql, sizeof sql, "INSERT INTO o VALUES ('\\x%s'::bytea) ON CONFLICT DO NOTHING",
                 hex);
        assert_string_equal(raw_exec(c, sql), "");
    }
    PGresult *r = PQexecParams(c, "SELECT k FROM o ORDER BY k", 0, NULL, NULL, NULL, NULL, 1);
    assert_int_equal(PQresultStatus(r), PGRES_TUPLES_OK);
    int rows = PQntuples(r);
    assert_true(rows > 100);
    for (int i = 1; i < rows; i++) {
        const uint8_t *a = (const uint8_t *)PQgetvalue(r, i - 1, 0);
        const uint8_t *b = (const uint8_t *)PQgetvalue(r, i, 0);
        size_t al = (size_t)PQgetlength(r, i - 1, 0), bl = (size_t)PQgetlength(r, i, 0);
        int cmp = memcmp(a, b, al < bl ? al : bl);
        assert_true(cmp < 0 || (cmp == 0 && al < bl));
    }
    PQclear(r);
    PQfinish(c);
}

static void test_bad_options(void **state)
{
    (void)state;
    icms_store *s = (icms_store *)&s;
    icms_postgres_options o = ICMS_POSTGRES_OPTIONS_INIT;
    assert_icms(ICMS_EINVALID, icms_store_postgres_new(NULL, server.conninfo, NULL));
    assert_icms(ICMS_EINVALID, icms_store_postgres_new(&s, NULL, NULL));
    assert_null(s);
    o.version = 99;
    assert_icms(ICMS_EVERSION, icms_store_postgres_new(&s, server.conninfo, &o));
    static const char *const bad[] = {"",
                                      "Kv",
                                      "kv-1",
                                      "1kv",
                                      "kv;drop",
                                      "k\"v",
                                      "kv table",
                                      "\xc3\xa9t\xc3\xa9",
                                      "a23456789012345678901234567890123456789012"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        o = (icms_postgres_options)ICMS_POSTGRES_OPTIONS_INIT;
        o.table = bad[i];
        assert_icms(ICMS_EINVALID, icms_store_postgres_new(&s, server.conninfo, &o));
        assert_non_null(strstr(icms_error_last()->message, "identifier"));
        o.table = NULL;
        o.schema = bad[i];
        assert_icms(ICMS_EINVALID, icms_store_postgres_new(&s, server.conninfo, &o));
        assert_null(s);
    }
    o = (icms_postgres_options)ICMS_POSTGRES_OPTIONS_INIT;
    o.append_only_count = 1;
    assert_icms(ICMS_EINVALID, icms_store_postgres_new(&s, server.conninfo, &o));
    const uint8_t *prefixes[1] = {(const uint8_t *)"a"};
    size_t lens[1] = {0};
    o.append_only_prefixes = prefixes;
    o.append_only_prefix_lens = lens;
    assert_icms(ICMS_EINVALID, icms_store_postgres_new(&s, server.conninfo, &o));
    o = (icms_postgres_options)ICMS_POSTGRES_OPTIONS_INIT;
    o.pool_size = 100000;
    assert_icms(ICMS_EINVALID, icms_store_postgres_new(&s, server.conninfo, &o));
    /* A schema that does not exist: the server's words. */
    o = (icms_postgres_options)ICMS_POSTGRES_OPTIONS_INIT;
    o.schema = "no_such_schema";
    assert_icms(ICMS_ESTORAGE, icms_store_postgres_new(&s, server.conninfo, &o));
    assert_non_null(strstr(icms_error_last()->message, "no_such_schema"));
    assert_null(s);
    /* A 40-character name is the longest allowed, and works (trigger names derive from it). */
    o.schema = NULL;
    o.table = "a234567890123456789012345678901234567890";
    o.append_only_prefixes = prefixes;
    lens[0] = 1;
    o.append_only_prefix_lens = lens;
    o.append_only_count = 1;
    assert_icms_ok(icms_store_postgres_new(&s, server.conninfo, &o));
    put1(s, K("a1"), K("x"));
    icms_store_free(s);
}

#define SECRET "hunter2-very-secret"

static void test_bad_conninfo_hides_password(void **state)
{
    (void)state;
    icms_store *s = NULL;
    /* Malformed: libpq would quote the text near the mistake; we do not. */
    assert_icms(ICMS_EINVALID, icms_store_postgres_new(&s, "password=" SECRET " host", NULL));
    assert_non_null(strstr(icms_error_last()->message, "malformed"));
    assert_message_lacks(SECRET);
    assert_icms(ICMS_EINVALID,
                icms_store_postgres_new(&s, "postgresql://u:" SECRET "@h/db?bogus=1", NULL));
    assert_message_lacks(SECRET);
    assert_icms(ICMS_ESTORAGE,
                icms_store_postgres_new(&s, "postgresql://u:" SECRET "@h:x/db", NULL));
    assert_message_lacks(SECRET);
    assert_icms(ICMS_EINVALID, icms_store_postgres_new(&s, "password='" SECRET, NULL));
    assert_message_lacks(SECRET);
    assert_icms(ICMS_EINVALID, icms_store_postgres_new(&s, "nonsense=" SECRET, NULL));
    assert_message_lacks(SECRET);
    assert_null(s);

    /* Nothing listens there. */
    char conninfo[1024];
    snprintf(conninfo, sizeof conninfo, "host=%s/nowhere user=u password=" SECRET, server.dir);
    assert_icms(ICMS_ESTORAGE, icms_store_postgres_new(&s, conninfo, NULL));
    assert_non_null(strstr(icms_error_last()->message, "cannot connect"));
    assert_message_lacks(SECRET);

    /* A wrong password, checked by the server with SCRAM. */
    snprintf(conninfo, sizeof conninfo, "host=%s user=icms_pw dbname=postgres password=" SECRET,
             server.dir);
    assert_icms(ICMS_ESTORAGE, icms_store_postgres_new(&s, conninfo, NULL));
    assert_non_null(strstr(icms_error_last()->message, "password authentication failed"));
    assert_message_lacks(SECRET);

    /* A password that shows up in the text libpq echoes (here, as the host name) is scrubbed. */
    snprintf(conninfo, sizeof conninfo,
             "host=" SECRET " user=u password=" SECRET " connect_timeout=2");
    assert_icms(ICMS_ESTORAGE, icms_store_postgres_new(&s, conninfo, NULL));
    assert_message_lacks(SECRET);
    assert_non_null(strstr(icms_error_last()->message, "***"));
    assert_null(s);

    /* The right password opens (and the role may create a table in its own schema). */
    assert_int_equal(pg_server_psql(&server, "CREATE SCHEMA IF NOT EXISTS icms_pw "
                                             "AUTHORIZATION icms_pw"),
                     0);
    snprintf(conninfo, sizeof conninfo,
             "host=%s user=icms_pw dbname=postgres password=pw-secret-for-tests", server.dir);
    icms_postgres_options o = ICMS_POSTGRES_OPTIONS_INIT;
    o.schema = "icms_pw";
    assert_icms_ok(icms_store_postgres_new(&s, conninfo, &o));
    put1(s, K("k"), K("v"));
    assert_value(s, K("k"), "v");
    icms_store_free(s);
}

static void test_append_only_prefixes(void **state)
{
    (void)state;
    const uint8_t *prefixes[2] = {(const uint8_t *)"audit/", (const uint8_t *)"\x00\xff"};
    size_t lens[2] = {6, 2};
    icms_postgres_options o = ICMS_POSTGRES_OPTIONS_INIT;
    o.table = "append_only";
    o.append_only_prefixes = prefixes;
    o.append_only_prefix_lens = lens;
    o.append_only_count = 2;
    icms_store *s = NULL;
    assert_icms_ok(icms_store_postgres_new(&s, server.conninfo, &o));
    icms_store_txn *t;
    assert_icms_ok(s->begin(s, ICMS_STORE_WRITE, &t));
    assert_icms_ok(s->put(t, K("audit/1"), K("first")));
    assert_icms_ok(s->put(t, K("\x00\xff\x01"), K("bin")));
    assert_icms_ok(s->put(t, K("audit"), K("not under the prefix")));
    assert_icms_ok(s->put(t, K("plain"), K("p")));
    assert_icms_ok(s->commit(t));

    /* Through the store: rewriting or deleting a protected key is refused at commit. */
    assert_icms_ok(s->begin(s, ICMS_STORE_WRITE, &t));
    assert_icms_ok(s->put(t, K("audit/1"), K("rewritten")));
    assert_icms_ok(s->put(t, K("plain"), K("changed with it")));
    assert_icms(ICMS_EINVALID, s->commit(t));
    assert_non_null(strstr(icms_error_last()->message, "append-only"));
    assert_icms_ok(s->begin(s, ICMS_STORE_WRITE, &t));
    assert_icms_ok(s->del(t, K("\x00\xff\x01")));
    assert_icms(ICMS_EINVALID, s->commit(t));
    assert_value(s, K("audit/1"), "first");
    assert_value(s, K("\x00\xff\x01"), "bin");
    assert_value(s, K("plain"), "p"); /* nothing of the refused transaction */
    /* New keys under the prefix, and any change elsewhere, are fine. */
    put1(s, K("audit/2"), K("second"));
    put1(s, K("audit"), K("changed"));
    put1(s, K("plain"), K("q"));

    /* A second handle with no prefixes in its options: the triggers are in the table. */
    icms_postgres_options o2 = ICMS_POSTGRES_OPTIONS_INIT;
    o2.table = "append_only";
    icms_store *s2 = NULL;
    assert_icms_ok(icms_store_postgres_new(&s2, server.conninfo, &o2));
    assert_icms_ok(s2->begin(s2, ICMS_STORE_WRITE, &t));
    assert_icms_ok(s2->del(t, K("audit/2")));
    assert_icms(ICMS_EINVALID, s2->commit(t));
    icms_store_free(s2);

    /* Raw SQL, as an operator with psql: UPDATE, DELETE, moving a key in, TRUNCATE. */
    PGconn *c = raw_connect();
    assert_string_equal(raw_exec(c, "UPDATE append_only SET v = 'x' WHERE k = 'audit/1'"), "IC001");
    assert_string_equal(raw_exec(c, "DELETE FROM append_only WHERE k = 'audit/2'"), "IC001");
    assert_string_equal(raw_exec(c, "DELETE FROM append_only"), "IC001");
    assert_string_equal(raw_exec(c, "UPDATE append_only SET v = 'x' WHERE k = '\\x00ff01'"),
                        "IC001");
    assert_string_equal(raw_exec(c, "UPDATE append_only SET k = 'audit/9' WHERE k = 'plain'"),
                        "IC001");
    assert_string_equal(raw_exec(c, "TRUNCATE append_only"), "IC001");
    assert_string_equal(raw_exec(c, "UPDATE append_only SET v = 'r' WHERE k = 'plain'"), "");
    assert_string_equal(raw_exec(c, "DELETE FROM append_only WHERE k = 'audit'"), "");
    PQfinish(c);
    assert_value(s, K("audit/1"), "first");
    assert_value(s, K("audit/2"), "second");
    assert_value(s, K("plain"), "r");
    assert_value(s, K("audit"), NULL);
    icms_store_free(s);
}

/* Two handles (two connections) race on one counter; the loser gets ICMS_ECONFLICT. */
typedef struct race {
    icms_store *rival;
    int attempts;
} race;

static int increment(icms__tx *tx, void *arg)
{
    race *r = arg;
    r->attempts++;
    icms__key key;
    icms__key_init(&key);
    icms__key_str(&key, "counter");
    const uint8_t *v;
    size_t vl;
    int rc = icms__tx_get(tx, &key, &v, &vl);
    if (rc != 0)
        return rc;
    char n[32];
    snprintf(n, sizeof n, "%.*s", (int)(vl < 31 ? vl : 31), (const char *)v);
    snprintf(n, sizeof n, "%d", atoi(n) + 1);
    if (r->attempts == 1) {
        /* The rival commits its own increment between our read and our commit. */
        icms_store *s = r->rival;
        icms_store_txn *t;
        const uint8_t *rv;
        size_t rvl;
        assert_icms_ok(s->begin(s, ICMS_STORE_WRITE, &t));
        assert_icms_ok(s->get(t, key.bytes, key.len, &rv, &rvl));
        assert_icms_ok(s->put(t, key.bytes, key.len, K("1")));
        assert_icms_ok(s->commit(t));
    }
    return icms__tx_put(tx, &key, n, strlen(n));
}

static void test_race_conflict_and_runner_retry(void **state)
{
    (void)state;
    icms_store *a = open_table("race", 0, 1000);
    icms_store *b = pg_open_second(NULL, a);
    icms__key key;
    icms__key_init(&key);
    icms__key_str(&key, "counter");
    put1(a, key.bytes, key.len, K("0"));

    /* Bare: the second commit is the one that loses, and says why. */
    icms_store_txn *t1, *t2;
    const uint8_t *v;
    size_t vl;
    assert_icms_ok(a->begin(a, ICMS_STORE_WRITE, &t1));
    assert_icms_ok(b->begin(b, ICMS_STORE_WRITE, &t2));
    assert_icms_ok(a->get(t1, key.bytes, key.len, &v, &vl));
    assert_icms_ok(b->get(t2, key.bytes, key.len, &v, &vl));
    assert_icms_ok(a->put(t1, key.bytes, key.len, K("a")));
    assert_icms_ok(b->put(t2, key.bytes, key.len, K("b")));
    assert_icms_ok(b->commit(t2));
    assert_icms(ICMS_ECONFLICT, a->commit(t1));
    assert_non_null(strstr(icms_error_last()->message, "SQLSTATE 40001"));
    assert_value(a, key.bytes, key.len, "b");

    /* Through the command runner: the first attempt conflicts, the rerun succeeds. */
    put1(a, key.bytes, key.len, K("0"));
    race r = {b, 0};
    assert_icms_ok(icms__run_write(a, NULL, NULL, increment, &r));
    assert_int_equal(r.attempts, 2);
    assert_value(a, key.bytes, key.len, "2"); /* the rival's 1, then ours */
    pg_close(NULL, b);
    pg_close(NULL, a);
}

static void test_lock_and_statement_timeouts(void **state)
{
    (void)state;
    icms_store *s = open_table("locked", 0, 200);
    put1(s, K("row"), K("v"));
    /* An operator's session holds the row lock. */
    PGconn *c = raw_connect();
    assert_string_equal(raw_exec(c, "BEGIN; UPDATE locked SET v = 'held' WHERE k = 'row'"), "");
    icms_store_txn *t;
    assert_icms_ok(s->begin(s, ICMS_STORE_WRITE, &t));
    assert_icms_ok(s->put(t, K("row"), K("mine")));
    assert_icms_ok(s->put(t, K("other"), K("x")));
    assert_icms(ICMS_EBUSY, s->commit(t));
    assert_non_null(strstr(icms_error_last()->message, "lock_timeout"));
    assert_string_equal(raw_exec(c, "ROLLBACK"), "");
    PQfinish(c);
    assert_value(s, K("row"), "v");
    assert_value(s, K("other"), NULL);
    /* The same write goes through once the lock is gone. */
    put1(s, K("row"), K("mine"));
    assert_value(s, K("row"), "mine");
    pg_close(NULL, s);

    /* statement_timeout shorter than lock_timeout: the statement's own limit ends the wait. */
    icms_postgres_options o = ICMS_POSTGRES_OPTIONS_INIT;
    o.table = "locked";
    o.statement_timeout_ms = 200;
    o.lock_timeout_ms = 20000;
    assert_icms_ok(icms_store_postgres_new(&s, server.conninfo, &o));
    c = raw_connect();
    assert_string_equal(raw_exec(c, "BEGIN; UPDATE locked SET v = 'held' WHERE k = 'row'"), "");
    assert_icms_ok(s->begin(s, ICMS_STORE_WRITE, &t));
    assert_icms_ok(s->put(t, K("row"), K("late")));
    assert_icms(ICMS_ESTORAGE, s->commit(t));
    assert_non_null(strstr(icms_error_last()->message, "statement_timeout"));
    assert_string_equal(raw_exec(c, "ROLLBACK"), "");
    PQfinish(c);
    assert_value(s, K("row"), "mine");
    icms_store_free(s);
}

static void test_pool_exhausted_is_busy(void **state)
{
    (void)state;
    icms_store *s = open_table("pool", 2, 150);
    icms_store_txn *a, *b, *c;
    assert_icms_ok(s->begin(s, ICMS_STORE_READ, &a));
    assert_icms_ok(s->begin(s, ICMS_STORE_WRITE, &b));
    assert_icms(ICMS_EBUSY, s->begin(s, ICMS_STORE_READ, &c));
    assert_null(c);
    assert_non_null(strstr(icms_error_last()->message, "pool"));
    s->rollback(a);
    assert_icms_ok(s->begin(s, ICMS_STORE_READ, &c));
    assert_icms_ok(s->commit(c));
    assert_icms_ok(s->commit(b));
    pg_close(NULL, s);
}

static int order_cb(const uint8_t *key, size_t key_len, const uint8_t *value, size_t value_len,
                    void *payload)
{
    (void)value, (void)value_len;
    long *state = payload; /* [count, last key as number, direction] */
    char buf[16] = "";
    memcpy(buf, key + 2, key_len - 2 < 15 ? key_len - 2 : 15);
    long k = atol(buf);
    if (state[0] > 0 && (state[2] > 0 ? k <= state[1] : k >= state[1]))
        return ICMS_ECORRUPT;
    state[0]++;
    state[1] = k;
    return 0;
}

static void test_big_scans_come_in_pages(void **state)
{
    (void)state;
    icms_store *s = open_table("big", 0, 1000);
    enum { N = 5000 };
    icms_store_txn *t;
    assert_icms_ok(s->begin(s, ICMS_STORE_WRITE, &t));
    for (int i = 0; i < N; i++) {
        char k[16];
        int n = snprintf(k, sizeof k, "b/%06d", i);
        assert_icms_ok(s->put(t, (const uint8_t *)k, (size_t)n, (const uint8_t *)k, (size_t)n));
    }
    assert_icms_ok(s->commit(t));
    for (int mode = 0; mode < 2; mode++) {
        assert_icms_ok(s->begin(s, mode ? ICMS_STORE_WRITE : ICMS_STORE_READ, &t));
        if (mode) {
            /* Buffered writes spread over many pages: deletes and inserts between stored keys. */
            for (int i = 0; i < N; i += 7)
                assert_icms_ok(s->del(t, (const uint8_t *)"b/000000", 8 - (i ? 0 : 0)));
            for (int i = 1000; i < 4000; i += 10) {
                char k[16];
                int n = snprintf(k, sizeof k, "b/%06d", i);
                assert_icms_ok(s->del(t, (const uint8_t *)k, (size_t)n));
            }
        }
        long want = mode ? N - 1 - 300 : N;
        long fwd[3] = {0, 0, 1}, rev[3] = {0, 0, -1};
        assert_icms_ok(s->scan(t, K("b/"), K("b0"), 0, order_cb, fwd));
        assert_int_equal(fwd[0], want);
        assert_int_equal(fwd[1], N - 1);
        assert_icms_ok(s->scan(t, K("b/"), NULL, 0, ICMS_STORE_SCAN_REVERSE, order_cb, rev));
        assert_int_equal(rev[0], want);
        assert_int_equal(rev[1], mode ? 1 : 0);
        s->rollback(t);
    }
    pg_close(NULL, s);
}

static void test_layout_checks(void **state)
{
    (void)state;
    PGconn *c = raw_connect();
    assert_string_equal(raw_exec(c, "CREATE TABLE foreign_t (id int)"), "");
    assert_string_equal(raw_exec(c, "CREATE TABLE newer_t (k bytea PRIMARY KEY, v bytea NOT NULL);"
                                    "COMMENT ON TABLE newer_t IS 'icms store, layout 2'"),
                        "");
    PQfinish(c);
    icms_postgres_options o = ICMS_POSTGRES_OPTIONS_INIT;
    icms_store *s = NULL;
    o.table = "foreign_t";
    assert_icms(ICMS_ESTORAGE, icms_store_postgres_new(&s, server.conninfo, &o));
    assert_non_null(strstr(icms_error_last()->message, "not an icms store"));
    o.table = "newer_t";
    assert_icms(ICMS_EVERSION, icms_store_postgres_new(&s, server.conninfo, &o));
    assert_null(s);
}

/* Several handles create one new table together: the advisory lock makes them agree. */
static void *open_racer(void *arg)
{
    icms_postgres_options o = ICMS_POSTGRES_OPTIONS_INIT;
    const uint8_t *prefixes[1] = {(const uint8_t *)"log/"};
    size_t lens[1] = {4};
    o.table = "created_together";
    o.append_only_prefixes = prefixes;
    o.append_only_prefix_lens = lens;
    o.append_only_count = 1;
    icms_store *s = NULL;
    intptr_t rc = icms_store_postgres_new(&s, server.conninfo, &o);
    icms_store_free(s);
    (void)arg;
    return (void *)rc;
}

static void test_openers_create_one_table_together(void **state)
{
    (void)state;
    pthread_t th[4];
    for (int i = 0; i < 4; i++)
        assert_int_equal(pthread_create(&th[i], NULL, open_racer, NULL), 0);
    for (int i = 0; i < 4; i++) {
        void *rc;
        pthread_join(th[i], &rc);
        assert_int_equal((intptr_t)rc, 0);
    }
}

typedef struct committer {
    icms_store *store;
    icms_store_txn *txn;
    int rc;
    char message[512];
} committer;

static void *commit_thread(void *arg)
{
    committer *c = arg;
    c->rc = c->store->commit(c->txn);
    snprintf(c->message, sizeof c->message, "%s", icms_error_last()->message);
    return NULL;
}

/* A deadlock with an operator's session (40P01) is a conflict: the command may be rerun. */
static void test_deadlock_is_conflict(void **state)
{
    (void)state;
    icms_store *s = open_table("deadlock", 0, 20000);
    put1(s, K("a"), K("0"));
    put1(s, K("b"), K("0"));
    PGconn *c = raw_connect();
    /* Only the store's session detects the deadlock (after the default 1 s), so it is the victim.
     */
    assert_string_equal(raw_exec(c, "SET deadlock_timeout = '60s'"), "");
    assert_string_equal(raw_exec(c, "BEGIN; UPDATE deadlock SET v = 'raw' WHERE k = 'b'"), "");
    committer job = {s, NULL, 0, ""};
    assert_icms_ok(s->begin(s, ICMS_STORE_WRITE, &job.txn));
    assert_icms_ok(s->put(job.txn, K("a"), K("store"))); /* sent first: key order */
    assert_icms_ok(s->put(job.txn, K("b"), K("store")));
    pthread_t th;
    assert_int_equal(pthread_create(&th, NULL, commit_thread, &job), 0);
    /* Wait until the store's commit holds a and waits for b, then ask for a. */
    PGconn *watch = raw_connect();
    bool waiting = false;
    for (int i = 0; i < 2000 && !waiting; i++) {
        PGresult *r = PQexec(watch, "SELECT count(*) FROM pg_stat_activity WHERE application_name "
                                    "= 'libicms' AND wait_event_type = 'Lock'");
        waiting = PQresultStatus(r) == PGRES_TUPLES_OK && strcmp(PQgetvalue(r, 0, 0), "1") == 0;
        PQclear(r);
        if (!waiting)
            usleep(5000);
    }
    PQfinish(watch);
    assert_true(waiting);
    assert_string_equal(raw_exec(c, "UPDATE deadlock SET v = 'raw' WHERE k = 'a'"), "");
    pthread_join(th, NULL);
    if (job.rc != ICMS_ECONFLICT)
        fail_msg("commit answered %d: %s", job.rc, job.message);
    assert_non_null(strstr(job.message, "40P01"));
    assert_string_equal(raw_exec(c, "COMMIT"), "");
    PQfinish(c);
    assert_value(s, K("a"), "raw");
    assert_value(s, K("b"), "raw");
    pg_close(NULL, s);
}

/* The store's session is ended by the server (an operator's pg_terminate_backend) before commit. */
static void test_backend_terminated_before_commit(void **state)
{
    (void)state;
    icms_store *s = open_table("terminated", 0, 1000);
    put1(s, K("k"), K("old"));
    icms_store_txn *t;
    const uint8_t *v;
    size_t vl;
    assert_icms_ok(s->begin(s, ICMS_STORE_WRITE, &t));
    assert_icms_ok(s->get(t, K("k"), &v, &vl));
    for (int i = 0; i < 300; i++) /* more than one pipeline batch */
        assert_icms_ok(s->put(t, (const uint8_t *)&i, sizeof i, K("x")));
    assert_icms_ok(s->put(t, K("k"), K("new")));
    PGconn *c = raw_connect();
    PGresult *r = PQexec(c, "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                            "WHERE application_name = 'libicms' AND state = 'idle in transaction'");
    assert_int_equal(PQresultStatus(r), PGRES_TUPLES_OK);
    assert_string_equal(PQgetvalue(r, 0, 0), "1");
    PQclear(r);
    PQfinish(c);
    assert_icms(ICMS_ESTORAGE, s->commit(t));
    assert_non_null(strstr(icms_error_last()->message, "connection"));
    /* The next transaction gets a working connection, and nothing of the lost one is there. */
    assert_value(s, K("k"), "old");
    put1(s, K("k"), K("newer"));
    assert_value(s, K("k"), "newer");
    pg_close(NULL, s);
}

/* Last: stops and restarts the server. */
static void test_server_killed_mid_transaction(void **state)
{
    (void)state;
    icms_store *s = open_table("killed", 0, 1000);
    put1(s, K("before"), K("1"));
    PGconn *c = raw_connect();
    int backend = PQbackendPID(c);
    assert_true(backend > 0);

    icms_store_txn *w, *r;
    const uint8_t *v;
    size_t vl;
    assert_icms_ok(s->begin(s, ICMS_STORE_WRITE, &w));
    assert_icms_ok(s->begin(s, ICMS_STORE_READ, &r));
    assert_icms_ok(s->get(w, K("before"), &v, &vl));
    assert_icms_ok(s->put(w, K("during"), K("2")));

    pg_server_kill(&server);                /* immediate shutdown: every backend dies at once */
    assert_int_equal(kill(backend, 0), -1); /* no backend left behind */

    assert_icms(ICMS_ESTORAGE, s->get(r, K("before"), &v, &vl));
    assert_non_null(strstr(icms_error_last()->message, "connection"));
    /* A failed transaction keeps answering the same, and the commit says so too. */
    assert_icms(ICMS_ESTORAGE, s->get(r, K("before"), &v, &vl));
    s->rollback(r);
    assert_icms(ICMS_ESTORAGE, s->commit(w));
    assert_non_null(strstr(icms_error_last()->message, "lost"));
    /* No server: begin cannot connect, and says so. */
    assert_icms(ICMS_ESTORAGE, s->begin(s, ICMS_STORE_READ, &r));
    assert_null(r);
    assert_non_null(strstr(icms_error_last()->message, "cannot connect"));
    PQfinish(c);

    /* Back up: the store reconnects by itself; the interrupted write is not there. */
    assert_int_equal(pg_server_restart(&server), 0);
    assert_value(s, K("before"), "1");
    assert_value(s, K("during"), NULL);
    put1(s, K("after"), K("3"));
    assert_value(s, K("after"), "3");
    pg_close(NULL, s);
}

/* ---- main ---- */

int main(void)
{
    int started = pg_server_start_for_test(&server, "test_store_postgres");
    if (started != 0)
        return started;
    struct CMUnitTest tests[STORE_CONFORMANCE_MAX + 16];
    size_t n = store_conformance_tests(&postgres_factory, tests, STORE_CONFORMANCE_MAX);
    const struct CMUnitTest own[] = {
        cmocka_unit_test(test_bytea_order_is_memcmp),
        cmocka_unit_test(test_bad_options),
        cmocka_unit_test(test_bad_conninfo_hides_password),
        cmocka_unit_test(test_append_only_prefixes),
        cmocka_unit_test(test_race_conflict_and_runner_retry),
        cmocka_unit_test(test_lock_and_statement_timeouts),
        cmocka_unit_test(test_pool_exhausted_is_busy),
        cmocka_unit_test(test_big_scans_come_in_pages),
        cmocka_unit_test(test_layout_checks),
        cmocka_unit_test(test_openers_create_one_table_together),
        cmocka_unit_test(test_deadlock_is_conflict),
        cmocka_unit_test(test_backend_terminated_before_commit),
        cmocka_unit_test(test_server_killed_mid_transaction),
    };
    memcpy(tests + n, own, sizeof own);
    n += sizeof own / sizeof own[0];
    int rc = _cmocka_run_group_tests("postgres store", tests, n, NULL, NULL);
    pg_server_destroy(&server);
    return rc;
}
