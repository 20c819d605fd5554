/*
 * Project commands per second through the whole path (validation, actor
 * lookup, rules, record and index writes, audit entry, outbox event, one
 * durable SQLite commit each), beside the raw rate of SQLite committing one
 * small row per transaction on the same disk with the same settings: the
 * floor any durable command stands on.
 *
 *   bench_commands [DIR] [ROUNDS]     (defaults: /tmp, 300)
 *
 * One round is create + publish + request + approve: four commands.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <sqlite3.h>

#include "app/db.h"
#include "app/records.h"
#include "core/uuid.h"
#include "icms/participations.h"
#include "icms/projects.h"

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void check(int rc, const char *what)
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

static void add_user(icms_db *db, const char *role, int n, char id_text[37])
{
    uint8_t id[16];
    check(icms__uuid7_new(db->clock, id), "uuid");
    icms__uuid_format(id, id_text);
    char json[512];
    snprintf(json, sizeof json,
             "{\"id\":\"%s\",\"name\":\"Bench\",\"email\":\"b%d@example.com\",\"roles\":[\"%s\"],"
             "\"status\":\"ACTIVE\",\"kyc\":{\"status\":\"VERIFIED\"}}",
             id_text, n, role);
    cJSON *doc = cJSON_Parse(json);
    struct put_user p = {id, doc};
    check(icms__db_write(db, put_user, &p), "user");
    cJSON_Delete(doc);
}

static double raw_sqlite(const char *path, const char *sync, int count)
{
    sqlite3 *conn;
    unlink(path);
    sqlite3_open(path, &conn);
    char pragma[64];
    snprintf(pragma, sizeof pragma, "PRAGMA synchronous=%s", sync);
    sqlite3_exec(conn, "PRAGMA journal_mode=WAL", NULL, NULL, NULL);
    sqlite3_exec(conn, pragma, NULL, NULL, NULL);
    sqlite3_exec(conn, "CREATE TABLE kv(k BLOB PRIMARY KEY, v BLOB NOT NULL) WITHOUT ROWID", NULL,
                 NULL, NULL);
    sqlite3_stmt *insert;
    sqlite3_prepare_v2(conn, "INSERT INTO kv VALUES(?1, ?2)", -1, &insert, NULL);
    char value[600];
    memset(value, 'v', sizeof value);
    double t0 = now_s();
    for (int i = 0; i < count; i++) {
        char key[32];
        int n = snprintf(key, sizeof key, "key-%08d", i);
        sqlite3_exec(conn, "BEGIN IMMEDIATE", NULL, NULL, NULL);
        sqlite3_bind_blob(insert, 1, key, n, SQLITE_STATIC);
        sqlite3_bind_blob(insert, 2, value, sizeof value, SQLITE_STATIC);
        sqlite3_step(insert);
        sqlite3_reset(insert);
        sqlite3_exec(conn, "COMMIT", NULL, NULL, NULL);
    }
    double rate = count / (now_s() - t0);
    sqlite3_finalize(insert);
    sqlite3_close(conn);
    return rate;
}

static double commands(const char *path, unsigned sync, int rounds)
{
    char wal[4200], shm[4200];
    snprintf(wal, sizeof wal, "%s-wal", path);
    snprintf(shm, sizeof shm, "%s-shm", path);
    unlink(path);
    unlink(wal);
    unlink(shm);
    icms_options options = ICMS_OPTIONS_INIT;
    options.path = path;
    options.sqlite_sync = sync;
    icms_db *db;
    check(icms_open(&db, &options), "open");
    char owner_id[37];
    add_user(db, "OWNER", 0, owner_id);
    icms_request owner = ICMS_REQUEST_INIT;
    owner.actor_id = owner_id;
    char (*investors)[37] = malloc((size_t)rounds * 37);
    for (int i = 0; i < rounds; i++)
        add_user(db, "INVESTOR", i + 1, investors[i]);

    const char *project_json =
        "{\"title\":\"Bench\",\"expiry_date\":\"2099-01-01T00:00:00Z\","
        "\"shipping_costs\":{\"freight\":300000000},"
        "\"products\":[{\"name\":\"Oil\",\"unit\":\"can\",\"quantity\":100,"
        "\"unit_price\":2500000000}]}";
    double t0 = now_s();
    for (int i = 0; i < rounds; i++) {
        char *out = NULL;
        check(icms_project_create(db, &owner, project_json, &out), "create");
        cJSON *p = cJSON_Parse(out);
        char pid[37];
        snprintf(pid, sizeof pid, "%s", cJSON_GetObjectItem(p, "id")->valuestring);
        cJSON_Delete(p);
        icms_free(out);
        check(icms_project_publish(db, &owner, pid, NULL), "publish");
        icms_request investor = ICMS_REQUEST_INIT;
        investor.actor_id = investors[i];
        check(icms_participation_request(db, &investor, pid,
                                         "{\"type\":\"PROFIT\",\"capital\":100000000}", &out),
              "request");
        p = cJSON_Parse(out);
        char rid[37];
        snprintf(rid, sizeof rid, "%s", cJSON_GetObjectItem(p, "id")->valuestring);
        cJSON_Delete(p);
        icms_free(out);
        check(icms_participation_approve(db, &owner, rid, NULL), "approve");
    }
    double rate = 4.0 * rounds / (now_s() - t0);
    free(investors);
    icms_close(db);
    return rate;
}

int main(int argc, char **argv)
{
    const char *dir = argc > 1 ? argv[1] : "/tmp";
    int rounds = argc > 2 ? atoi(argv[2]) : 300;
    if (icms_init() < 0)
        return 1;
    char path[4096], raw[4096];
    snprintf(path, sizeof path, "%s/bench_commands.db", dir);
    snprintf(raw, sizeof raw, "%s/bench_raw.db", dir);
    printf("%-8s %16s %22s %8s\n", "sync", "commands/s", "raw SQLite commits/s", "ratio");
    static const struct {
        const char *name;
        unsigned setting;
    } syncs[] = {{"FULL", 0}, {"NORMAL", 1}};
    for (size_t i = 0; i < 2; i++) {
        double cmd = commands(path, syncs[i].setting, rounds);
        double base = raw_sqlite(raw, syncs[i].name, 4 * rounds);
        printf("%-8s %16.0f %22.0f %8.2f\n", syncs[i].name, cmd, base, base / cmd);
    }
    icms_shutdown();
    return 0;
}
