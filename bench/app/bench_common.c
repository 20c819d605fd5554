#include "bench_common.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <sqlite3.h>

#include "app/db.h"
#include "app/records.h"
#include "core/uuid.h"
#include "icms/sys/store.h"

double bench_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

void bench_check(int rc, const char *what)
{
    if (rc != ICMS_OK) {
        fprintf(stderr, "%s: %s\n", what, icms_error_last()->message);
        exit(1);
    }
}

struct put_user {
    const uint8_t *id;
    cJSON *doc;
};

static int put_user(icms__tx *tx, void *arg)
{
    struct put_user *p = arg;
    return icms__record_put(tx, &icms__user_record, p->id, p->doc);
}

void bench_add_user(icms_db *db, const char *role, int n, char id_text[37])
{
    uint8_t id[16];
    bench_check(icms__uuid7_new(db->clock, id), "uuid");
    icms__uuid_format(id, id_text);
    char json[512];
    snprintf(json, sizeof json,
             "{\"id\":\"%s\",\"name\":\"Bench\",\"email\":\"b%d@example.com\",\"roles\":[\"%s\"],"
             "\"status\":\"ACTIVE\",\"kyc\":{\"status\":\"VERIFIED\"}}",
             id_text, n, role);
    cJSON *doc = cJSON_Parse(json);
    struct put_user p = {id, doc};
    bench_check(icms__db_write(db, put_user, &p), "user");
    cJSON_Delete(doc);
}

struct bench_raw {
    sqlite3 *conn;
    sqlite3_stmt *insert;
    int next;
};

bench_raw *bench_raw_open(const char *path, const char *sync)
{
    bench_raw *raw = calloc(1, sizeof *raw);
    if (!raw) {
        fprintf(stderr, "out of memory\n");
        exit(1);
    }
    unlink(path);
    if (sqlite3_open(path, &raw->conn) != SQLITE_OK) {
        fprintf(stderr, "cannot open %s\n", path);
        exit(1);
    }
    char pragma[64];
    snprintf(pragma, sizeof pragma, "PRAGMA synchronous=%s", sync);
    sqlite3_exec(raw->conn, "PRAGMA journal_mode=WAL", NULL, NULL, NULL);
    sqlite3_exec(raw->conn, pragma, NULL, NULL, NULL);
    /* The library's checkpoint size (src/store/sqlite.c, set_checkpoint), or the one compared. */
    snprintf(pragma, sizeof pragma, "PRAGMA wal_autocheckpoint=%u", bench_checkpoint_pages());
    sqlite3_exec(raw->conn, pragma, NULL, NULL, NULL);
    sqlite3_exec(raw->conn, "CREATE TABLE kv(k BLOB PRIMARY KEY, v BLOB NOT NULL) WITHOUT ROWID",
                 NULL, NULL, NULL);
    sqlite3_prepare_v2(raw->conn, "INSERT INTO kv VALUES(?1, ?2)", -1, &raw->insert, NULL);
    return raw;
}

unsigned bench_checkpoint_pages(void)
{
    const char *text = getenv("BENCH_CHECKPOINT_PAGES");
    if (!text || !*text)
        return ICMS_SQLITE_CHECKPOINT_PAGES_DEFAULT;
    char *end;
    unsigned long pages = strtoul(text, &end, 10);
    if (*end || pages == 0 || pages > ICMS_SQLITE_CHECKPOINT_PAGES_MAX) {
        fprintf(stderr, "BENCH_CHECKPOINT_PAGES: 1..%u pages\n", ICMS_SQLITE_CHECKPOINT_PAGES_MAX);
        exit(1);
    }
    return (unsigned)pages;
}

double bench_raw_commits(bench_raw *raw, int count)
{
    char value[600];
    memset(value, 'v', sizeof value);
    double t0 = bench_now();
    for (int i = 0; i < count; i++) {
        char key[32];
        int n = snprintf(key, sizeof key, "key-%08d", raw->next++);
        sqlite3_exec(raw->conn, "BEGIN IMMEDIATE", NULL, NULL, NULL);
        sqlite3_bind_blob(raw->insert, 1, key, n, SQLITE_STATIC);
        sqlite3_bind_blob(raw->insert, 2, value, sizeof value, SQLITE_STATIC);
        if (sqlite3_step(raw->insert) != SQLITE_DONE) {
            fprintf(stderr, "raw insert failed: %s\n", sqlite3_errmsg(raw->conn));
            exit(1);
        }
        sqlite3_reset(raw->insert);
        sqlite3_exec(raw->conn, "COMMIT", NULL, NULL, NULL);
    }
    return bench_now() - t0;
}

void bench_raw_close(bench_raw *raw)
{
    sqlite3_finalize(raw->insert);
    sqlite3_close(raw->conn);
    free(raw);
}

double bench_raw_sqlite(const char *path, const char *sync, int count)
{
    bench_raw *raw = bench_raw_open(path, sync);
    double seconds = bench_raw_commits(raw, count);
    bench_raw_close(raw);
    return count / seconds;
}
