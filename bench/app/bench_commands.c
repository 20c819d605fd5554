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
#include "bench_common.h"
#include "app/records.h"
#include "core/uuid.h"
#include "icms/participations.h"
#include "icms/projects.h"

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
    bench_check(icms_open(&db, &options), "open");
    char owner_id[37];
    bench_add_user(db, "OWNER", 0, owner_id);
    icms_request owner = ICMS_REQUEST_INIT;
    owner.actor_id = owner_id;
    char (*investors)[37] = malloc((size_t)rounds * 37);
    for (int i = 0; i < rounds; i++)
        bench_add_user(db, "INVESTOR", i + 1, investors[i]);

    const char *project_json =
        "{\"title\":\"Bench\",\"expiry_date\":\"2099-01-01T00:00:00Z\","
        "\"shipping_costs\":{\"freight\":300000000},"
        "\"products\":[{\"name\":\"Oil\",\"unit\":\"can\",\"quantity\":100,"
        "\"unit_price\":2500000000}]}";
    double t0 = bench_now();
    for (int i = 0; i < rounds; i++) {
        char *out = NULL;
        bench_check(icms_project_create(db, &owner, project_json, &out), "create");
        cJSON *p = cJSON_Parse(out);
        char pid[37];
        snprintf(pid, sizeof pid, "%s", cJSON_GetObjectItem(p, "id")->valuestring);
        cJSON_Delete(p);
        icms_free(out);
        bench_check(icms_project_publish(db, &owner, pid, NULL), "publish");
        icms_request investor = ICMS_REQUEST_INIT;
        investor.actor_id = investors[i];
        bench_check(icms_participation_request(db, &investor, pid,
                                         "{\"type\":\"PROFIT\",\"capital\":100000000}", &out),
              "request");
        p = cJSON_Parse(out);
        char rid[37];
        snprintf(rid, sizeof rid, "%s", cJSON_GetObjectItem(p, "id")->valuestring);
        cJSON_Delete(p);
        icms_free(out);
        bench_check(icms_participation_approve(db, &owner, rid, NULL), "approve");
    }
    double rate = 4.0 * rounds / (bench_now() - t0);
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
        double base = bench_raw_sqlite(raw, syncs[i].name, 4 * rounds);
        printf("%-8s %16.0f %22.0f %8.2f\n", syncs[i].name, cmd, base, base / cmd);
    }
    icms_shutdown();
    return 0;
}
