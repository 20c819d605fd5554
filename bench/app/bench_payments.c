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
 * with the raw rate of SQLite committing one small row per transaction with
 * the same settings measured in steps between them (so a shared machine's
 * load falls on both alike) and the ratio of the two (the target is
 * at most 2); then in batches of BATCH per transaction
 * (icms_payment_verify_batch).
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
#include "icms/gapcoin.h"
#include "icms/participations.h"
#include "icms/payments.h"
#include "icms/projects.h"
#include "icms/rpc.h"
#include "icms/sys/address.h"
#include "icms/sys/transport.h"
#include "memchain.h"

#define PRICE 100000000LL

/* The node: tests/app/memchain.c, answering in-process through the transport port. */
static memchain *chain;

/* ---- setting up N submitted payments ---- */

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
    bench_check(icms_rpc_client_new(&options.gapcoin, memchain_transport(chain),
                              "http://memchain.invalid/", NULL),
          "rpc");
    icms_db *db;
    bench_check(icms_open(&db, &options), "open");
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
    bench_add_user(db, "OWNER", -1, owner);
    icms_request owner_req = ICMS_REQUEST_INIT;
    owner_req.actor_id = owner;
    snprintf(json, sizeof json,
             "{\"title\":\"Bench\",\"expiry_date\":\"2099-01-01T00:00:00Z\",\"products\":[{"
             "\"name\":\"Unit\",\"unit\":\"u\",\"quantity\":%d,\"unit_price\":%lld}]}",
             n, PRICE);
    char *out = NULL;
    bench_check(icms_project_create(db, &owner_req, json, &out), "create");
    char *project = id_of(out);
    bench_check(icms_project_publish(db, &owner_req, project, NULL), "publish");
    char **payments = calloc((size_t)n, sizeof *payments);
    for (int i = 0; i < n; i++) {
        char investor[37], key[32];
        bench_add_user(db, "INVESTOR", i, investor);
        icms_request req = ICMS_REQUEST_INIT;
        req.actor_id = investor;
        snprintf(json, sizeof json, "{\"type\":\"PROFIT\",\"capital\":%lld}", PRICE);
        bench_check(icms_participation_request(db, &req, project, json, &out), "request");
        char *part = id_of(out);
        bench_check(icms_participation_approve(db, &owner_req, part, NULL), "approve");
        snprintf(key, sizeof key, "pay-%d", i);
        req.idempotency_key = key;
        snprintf(json, sizeof json, "{\"refund_address\":\"%s\"}",
                 memchain_address(chain, 0, NULL));
        bench_check(icms_payment_initiate(db, &req, part, json, &out), "initiate");
        cJSON *payment = cJSON_Parse(out);
        const char *txid = NULL;
        memchain_pay(chain, cJSON_GetObjectItem(payment, "script")->valuestring, PRICE, &txid);
        cJSON_Delete(payment);
        payments[i] = id_of(out);
        req.idempotency_key = NULL;
        bench_check(icms_payment_submit(db, &req, payments[i], txid, NULL), "submit");
        free(part);
    }
    memchain_mine(chain, 6);
    free(project);
    icms_close(db);
    return payments;
}

/*
 * Payments verified per second, one per transaction (batch 1) or in batches;
 * with raw != NULL, each step of STEP payments is followed by STEP raw
 * commits, whose rate goes to *raw_rate.
 */
enum { STEP = 10 };

static double verify_rate(const char *path, unsigned sync, char **payments, int n, int batch,
                          bench_raw *raw, double *raw_rate)
{
    icms_db *db = open_db(path, sync);
    icms_request host = ICMS_REQUEST_INIT;
    host.actor_kind = ICMS_ACTOR_HOST;
    double spent = 0, raw_spent = 0;
    int raw_count = 0;
    for (int i = 0; i < n;) {
        double t0 = bench_now();
        int done = 0;
        if (batch == 1) {
            for (; done < STEP && i < n; done++, i++)
                bench_check(icms_payment_verify(db, &host, payments[i], NULL), "verify");
        } else {
            done = n - i < batch ? n - i : batch;
            bench_check(icms_payment_verify_batch(db, &host, (const char *const *)payments + i,
                                                  (size_t)done, NULL),
                        "verify batch");
            i += done;
        }
        spent += bench_now() - t0;
        if (raw) {
            raw_spent += bench_raw_commits(raw, done);
            raw_count += done;
        }
    }
    if (raw)
        *raw_rate = raw_count / raw_spent;
    char *report = NULL;
    bench_check(icms_check(db, &host, &report), "icms_check");
    icms_free(report);
    icms_close(db);
    return n / spent;
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
    printf("%-7s %14s %22s %7s %18s\n", "sync", "one/txn per s", "raw SQLite commits/s",
           "ratio", "batch of N per s");
    static const struct {
        const char *name;
        unsigned setting;
    } syncs[] = {{"FULL", 0}, {"NORMAL", 1}};
    for (size_t s = 0; s < 2; s++) {
        /* The raw floor runs in steps between the payments it is compared with. */
        bench_raw *floor = bench_raw_open(raw, syncs[s].name);
        char **payments = setup(path, n);
        double base = 0;
        double one = verify_rate(path, syncs[s].setting, payments, n, 1, floor, &base);
        bench_raw_close(floor);
        for (int i = 0; i < n; i++)
            free(payments[i]);
        free(payments);
        payments = setup(path, n);
        double many = verify_rate(path, syncs[s].setting, payments, n, batch, NULL, NULL);
        for (int i = 0; i < n; i++)
            free(payments[i]);
        free(payments);
        printf("%-7s %14.0f %22.0f %7.2f %18.0f   (N = %d)\n", syncs[s].name, one, base,
               base / one, many, batch);
    }
    memchain_free(chain);
    icms_shutdown();
    return 0;
}
