/*
 * Confirmed payments per second through the whole path: the RPC answer
 * parsed, the raw transaction decoded and its txid recomputed, the output
 * claimed, the ledger entry, the participation and project updated, the
 * audit entry and the outbox event written, and the commit. The node is the
 * in-process memchain (tests/app/memchain.c) answering through the transport
 * port (no network), so what is measured is libicms and the disk.
 *
 *   bench_payments [DIR] [PAYMENTS] [BATCH]      (defaults: /tmp, 1000, 100)
 *
 * For synchronous=FULL and NORMAL: payments verified one per transaction,
 * then in batches of BATCH per transaction (icms_payment_verify_batch);
 * beside each, the raw rate of SQLite committing one small row per
 * transaction with the same settings.
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
#include "icms/gapcoin.h"
#include "icms/participations.h"
#include "icms/payments.h"
#include "icms/projects.h"
#include "icms/rpc.h"
#include "icms/sys/address.h"
#include "icms/sys/transport.h"
#include "memchain.h"

#define PRICE 100000000LL

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

/* The node: tests/app/memchain.c, answering in-process through the transport port. */
static memchain *chain;

/* ---- setting up N submitted payments ---- */

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
             "{\"id\":\"%s\",\"name\":\"Bench\",\"email\":\"p%d@example.com\",\"roles\":[\"%s\"],"
             "\"status\":\"ACTIVE\",\"kyc\":{\"status\":\"VERIFIED\"}}",
             id_text, n, role);
    cJSON *doc = cJSON_Parse(json);
    struct put_user p = {id, doc};
    check(icms__db_write(db, put_user, &p), "user");
    cJSON_Delete(doc);
}

static char *id_of(char *json)
{
    cJSON *doc = cJSON_Parse(json);
    char *id = strdup(cJSON_GetObjectItem(doc, "id")->valuestring);
    cJSON_Delete(doc);
    icms_free(json);
    return id;
}

static icms_db *open_db(const char *path, unsigned sync)
{
    icms_options options = ICMS_OPTIONS_INIT;
    options.path = path;
    options.sqlite_sync = sync;
    check(icms_rpc_client_new(&options.gapcoin, memchain_transport(chain),
                              "http://memchain.invalid/", NULL),
          "rpc");
    icms_db *db;
    check(icms_open(&db, &options), "open");
    return db;
}

/* One project, n investors each with an approved PROFIT request and a submitted payment. */
static char **setup(const char *path, int n)
{
    char wal[4200];
    unlink(path);
    snprintf(wal, sizeof wal, "%s-wal", path);
    unlink(wal);
    icms_db *db = open_db(path, 2 /* OFF: setup is not what is measured */);
    char owner[37], json[512];
    add_user(db, "OWNER", -1, owner);
    icms_request owner_req = ICMS_REQUEST_INIT;
    owner_req.actor_id = owner;
    snprintf(json, sizeof json,
             "{\"title\":\"Bench\",\"expiry_date\":\"2099-01-01T00:00:00Z\",\"products\":[{"
             "\"name\":\"Unit\",\"unit\":\"u\",\"quantity\":%d,\"unit_price\":%lld}]}",
             n, PRICE);
    char *out = NULL;
    check(icms_project_create(db, &owner_req, json, &out), "create");
    char *project = id_of(out);
    check(icms_project_publish(db, &owner_req, project, NULL), "publish");
    char **payments = calloc((size_t)n, sizeof *payments);
    for (int i = 0; i < n; i++) {
        char investor[37], key[32];
        add_user(db, "INVESTOR", i, investor);
        icms_request req = ICMS_REQUEST_INIT;
        req.actor_id = investor;
        snprintf(json, sizeof json, "{\"type\":\"PROFIT\",\"capital\":%lld}", PRICE);
        check(icms_participation_request(db, &req, project, json, &out), "request");
        char *part = id_of(out);
        check(icms_participation_approve(db, &owner_req, part, NULL), "approve");
        snprintf(key, sizeof key, "pay-%d", i);
        req.idempotency_key = key;
        snprintf(json, sizeof json, "{\"refund_address\":\"%s\"}",
                 memchain_address(chain, 0, NULL));
        check(icms_payment_initiate(db, &req, part, json, &out), "initiate");
        cJSON *payment = cJSON_Parse(out);
        const char *txid = NULL;
        memchain_pay(chain, cJSON_GetObjectItem(payment, "script")->valuestring, PRICE, &txid);
        cJSON_Delete(payment);
        payments[i] = id_of(out);
        req.idempotency_key = NULL;
        check(icms_payment_submit(db, &req, payments[i], txid, NULL), "submit");
        free(part);
    }
    memchain_mine(chain, 6);
    free(project);
    icms_close(db);
    return payments;
}

static double verify_rate(const char *path, unsigned sync, char **payments, int n, int batch)
{
    icms_db *db = open_db(path, sync);
    icms_request host = ICMS_REQUEST_INIT;
    host.actor_kind = ICMS_ACTOR_HOST;
    double t0 = now_s();
    for (int i = 0; i < n; i += batch) {
        int count = n - i < batch ? n - i : batch;
        if (batch == 1)
            check(icms_payment_verify(db, &host, payments[i], NULL), "verify");
        else
            check(icms_payment_verify_batch(db, &host, (const char *const *)payments + i,
                                            (size_t)count, NULL),
                  "verify batch");
    }
    double rate = n / (now_s() - t0);
    char *report = NULL;
    check(icms_check(db, &host, &report), "icms_check");
    icms_free(report);
    icms_close(db);
    return rate;
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

int main(int argc, char **argv)
{
    const char *dir = argc > 1 ? argv[1] : "/tmp";
    int n = argc > 2 ? atoi(argv[2]) : 1000;
    int batch = argc > 3 ? atoi(argv[3]) : 100;
    if (icms_init() < 0)
        return 1;
    chain = memchain_new();
    char path[4096], raw[4096];
    snprintf(path, sizeof path, "%s/bench_payments.db", dir);
    snprintf(raw, sizeof raw, "%s/bench_payments_raw.db", dir);
    printf("%-7s %14s %18s %22s\n", "sync", "one/txn per s", "batch of N per s",
           "raw SQLite commits/s");
    static const struct {
        const char *name;
        unsigned setting;
    } syncs[] = {{"FULL", 0}, {"NORMAL", 1}};
    for (size_t s = 0; s < 2; s++) {
        char **payments = setup(path, n);
        double one = verify_rate(path, syncs[s].setting, payments, n, 1);
        for (int i = 0; i < n; i++)
            free(payments[i]);
        free(payments);
        payments = setup(path, n);
        double many = verify_rate(path, syncs[s].setting, payments, n, batch);
        for (int i = 0; i < n; i++)
            free(payments[i]);
        free(payments);
        double base = raw_sqlite(raw, syncs[s].name, n);
        printf("%-7s %14.0f %18.0f %22.0f   (N = %d)\n", syncs[s].name, one, many, base, batch);
    }
    memchain_free(chain);
    icms_shutdown();
    return 0;
}
