/*
 * Store micro-benchmarks: commits per second, bulk load, point reads, scans,
 * for the memory store, the SQLite store at each synchronous setting and,
 * when built with ICMS_POSTGRES, the PostgreSQL store.
 *
 *   bench_store [DIR]      (DIR for the SQLite files; default /tmp)
 *
 * PostgreSQL: on $ICMS_BENCH_PG_CONNINFO if set, else on a server of its own
 * started with tests/support/pg_server (fsync on, unix socket).
 *
 * Not a test: numbers depend on the machine (docs/storage.md has ours).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "icms/sys/store.h"
#ifdef ICMS_BENCH_POSTGRES
#include "icms/sys/store_postgres.h"
#include "support/pg_server.h"
#endif

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void die(const char *what, int rc)
{
    fprintf(stderr, "%s failed: %d %s\n", what, rc, icms_error_last()->message);
    exit(1);
}

#define CHECK(what, call)                                                                          \
    do {                                                                                           \
        int rc_ = (call);                                                                          \
        if (rc_ != 0)                                                                              \
            die(what, rc_);                                                                        \
    } while (0)

static size_t make_key(uint8_t *key, unsigned long i)
{
    /* "r/" + 8 big-endian bytes: ordered like the kv layer's integer keys. */
    key[0] = 'r';
    key[1] = '/';
    for (int b = 0; b < 8; b++)
        key[2 + b] = (uint8_t)(i >> (56 - 8 * b));
    return 10;
}

static int count_cb(const uint8_t *k, size_t kl, const uint8_t *v, size_t vl, void *p)
{
    (void)k, (void)kl, (void)v, (void)vl;
    (*(unsigned long *)p)++;
    return 0;
}

static void bench(const char *name, icms_store *s, unsigned long commits, unsigned long bulk)
{
    uint8_t key[10], value[200];
    memset(value, 'v', sizeof value);
    icms_store_txn *t;

    double t0 = now_s();
    for (unsigned long i = 0; i < commits; i++) {
        CHECK("begin", s->begin(s, ICMS_STORE_WRITE, &t));
        CHECK("put", s->put(t, key, make_key(key, 1000000000ul + i), value, sizeof value));
        CHECK("commit", s->commit(t));
    }
    double commit_s = now_s() - t0;

    t0 = now_s();
    CHECK("begin", s->begin(s, ICMS_STORE_WRITE, &t));
    for (unsigned long i = 0; i < bulk; i++)
        CHECK("put", s->put(t, key, make_key(key, i * 7919 % bulk), value, sizeof value));
    CHECK("commit", s->commit(t));
    double bulk_s = now_s() - t0;

    t0 = now_s();
    CHECK("begin", s->begin(s, ICMS_STORE_READ, &t));
    for (unsigned long i = 0; i < bulk; i++) {
        const uint8_t *v;
        size_t vl;
        CHECK("get", s->get(t, key, make_key(key, i * 104729 % bulk), &v, &vl));
    }
    CHECK("commit", s->commit(t));
    double get_s = now_s() - t0;

    t0 = now_s();
    unsigned long seen = 0;
    CHECK("begin", s->begin(s, ICMS_STORE_READ, &t));
    CHECK("scan", s->scan(t, NULL, 0, NULL, 0, 0, count_cb, &seen));
    CHECK("commit", s->commit(t));
    double scan_s = now_s() - t0;

    printf("%-14s %8.0f commits/s (%lu)  bulk %8.0f puts/s (%lu in one txn)  "
           "%8.0f gets/s  scan %8.0f keys/s (%lu)\n",
           name, (double)commits / commit_s, commits, (double)bulk / bulk_s, bulk,
           (double)bulk / get_s, (double)seen / scan_s, seen);
}

#ifdef ICMS_BENCH_POSTGRES
static void bench_postgres(void)
{
    pg_server server = {0};
    const char *conninfo = getenv("ICMS_BENCH_PG_CONNINFO");
    if (!conninfo || !*conninfo) {
        server.fsync = true; /* measure durable commits, as SQLite FULL */
        if (pg_server_start(&server) != 0) {
            fprintf(stderr, "postgres: not measured: %s\n", server.error);
            pg_server_destroy(&server);
            return;
        }
        conninfo = server.conninfo;
    }
    icms_postgres_options o = ICMS_POSTGRES_OPTIONS_INIT;
    o.table = "bench_store";
    icms_store *s;
    CHECK("postgres", icms_store_postgres_new(&s, conninfo, &o));
    bench("postgres", s, 2000, 20000);
    icms_store_free(s);
    pg_server_destroy(&server);
}
#endif

int main(int argc, char **argv)
{
    const char *dir = argc > 1 ? argv[1] : "/tmp";
    icms_store *s;
    CHECK("memory", icms_store_memory_new(&s));
    bench("memory", s, 20000, 100000);
    icms_store_free(s);

    static const struct {
        const char *name;
        icms_sqlite_sync_t sync;
        unsigned long commits;
    } modes[] = {{"sqlite FULL", ICMS_SQLITE_SYNC_FULL, 1000},
                 {"sqlite NORMAL", ICMS_SQLITE_SYNC_NORMAL, 5000},
                 {"sqlite OFF", ICMS_SQLITE_SYNC_OFF, 5000}};
    for (size_t m = 0; m < sizeof modes / sizeof modes[0]; m++) {
        char path[4096];
        snprintf(path, sizeof path, "%s/bench-store-%zu.db", dir, m);
        unlink(path);
        icms_sqlite_options o = ICMS_SQLITE_OPTIONS_INIT;
        o.sync = modes[m].sync;
        CHECK("sqlite", icms_store_sqlite_new(&s, path, &o));
        bench(modes[m].name, s, modes[m].commits, 100000);
        icms_store_free(s);
        unlink(path);
    }
#ifdef ICMS_BENCH_POSTGRES
    bench_postgres();
#endif
    return 0;
}
