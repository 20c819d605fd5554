/*
 * Confirmed payments per second through the whole path: the RPC answer
 * parsed, the raw transaction decoded and its txid recomputed, the output
 * claimed, the ledger entry, the participation and project updated, the
 * audit entry and the outbox event written, and the commit. The node is the
 * in-process memchain (tests/app/memchain.c) answering through the transport
 * port (no network), so what is measured is libicms and the disk.
 *
 *   bench_payments [DIR] [PAYMENTS] [BATCH] [SYNC]   (defaults: /tmp, 1000, 100, both)
 *
 * BENCH_CHECKPOINT_PAGES in the environment sets the SQLite checkpoint size
 * of every file (the library's and the floors'); unset, the library's default.
 *
 * SYNC is FULL or NORMAL to run only that one (for profiling: under
 * callgrind, --toggle-collect=icms_payment_verify and
 * --toggle-collect=icms_payment_verify_batch then each count PAYMENTS
 * payments).
 *
 * For synchronous=FULL and NORMAL: payments verified one per transaction,
 * beside two raw SQLite floors with the same settings, measured in steps
 * between them (so a shared machine's load falls on all alike):
 *
 *   - "1 row": committing one 600-byte row per transaction;
 *   - "shape": committing, with plain SQL, a transaction of exactly the rows
 *     one payment's verification writes (recorded by bench_shape.c as the
 *     first payment commits: the same count of inserts and deletes, the same
 *     key and value sizes): "the raw durable commit it needs".
 *
 * and the ratio of the payments' time to each (the target is at most
 * 2 against the commit it needs); then in batches of BATCH per transaction
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
#include "bench_shape.h"
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

/* MEMORY mode: every handle opens this memory store instead of the SQLite file. */
static icms_store *memory;

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
    options.sqlite_checkpoint_pages = bench_checkpoint_pages();
    icms_store *store = NULL;
    if (memory) {
        options.store = bench_shape_store_borrowing(memory);
    } else {
        bench_check(icms__db_open_sqlite(&options, &store), "sqlite store");
        /* Records the shape of each write transaction, for the "shape" floor. */
        options.store = bench_shape_store(store);
    }
    options.path = NULL;
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
    if (path) { /* NULL in MEMORY mode */
        char wal[4200];
        unlink(path);
        snprintf(wal, sizeof wal, "%s-wal", path);
        unlink(wal);
    }
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
        if (memchain_pay(chain, cJSON_GetObjectItem(payment, "script")->valuestring, PRICE,
                         &txid) < 0) {
            fprintf(stderr, "the node fixture is full: it holds %d transactions, and each sync "
                            "setting pays PAYMENTS twice (one per transaction, then batches)\n",
                    MEMCHAIN_MAX_TX);
            exit(1);
        }
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
 * Payments verified per second, one per transaction (batch 1) or in batches.
 * With floors, each step (STEP payments, or one batch) is followed by as many
 * commits of each raw floor as it made; the shape floor opens once the first
 * step has committed and shown its shape (a payment's transaction, or a
 * batch's).
 */
enum { STEP = 10 };

typedef struct floors {
    const char *sync_name;
    const char *shape_path;
    bench_raw *one_row; /* NULL: not measured */
    bench_floor *shape;
    bench_shape recorded;
    double one_row_s, shape_s;
    int payments;
} floors;

static void run_floors(floors *f, icms_db *db, int commits, int payments)
{
    if (!f->shape) {
        bench_shape_last(db->store, &f->recorded);
        f->shape = bench_floor_open(f->shape_path, f->sync_name, &f->recorded);
    }
    if (f->one_row)
        f->one_row_s += bench_raw_commits(f->one_row, commits);
    f->shape_s += bench_floor_commits(f->shape, commits, 1);
    f->payments += payments;
}

static void close_floors(floors *f)
{
    if (f->one_row)
        bench_raw_close(f->one_row);
    bench_floor_close(f->shape);
    bench_shape_free(&f->recorded);
}

static double verify_rate(const char *path, unsigned sync, char **payments, int n, int batch,
                          floors *f)
{
    icms_db *db = open_db(path, sync);
    icms_request host = ICMS_REQUEST_INIT;
    host.actor_kind = ICMS_ACTOR_HOST;
    double spent = 0;
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
        if (f)
            run_floors(f, db, batch == 1 ? done : 1, done);
    }
    char *report = NULL;
    bench_check(icms_check(db, &host, &report), "icms_check");
    icms_free(report);
    icms_close(db);
    return n / spent;
}

static void free_payments(char **payments, int n)
{
    for (int i = 0; i < n; i++)
        free(payments[i]);
    free(payments);
}

/*
 * MEMORY: the library alone, on the memory store (no SQLite, no disk): what
 * its own work allows, whatever the store.
 */
static void run_memory(int n, int batch)
{
    double rates[2];
    int sizes[2] = {1, batch};
    for (int k = 0; k < 2; k++) {
        bench_check(icms_store_memory_new(&memory), "memory store");
        char **payments = setup(NULL, n);
        rates[k] = verify_rate(NULL, 1, payments, n, sizes[k], NULL);
        free_payments(payments, n);
        icms_store_free(memory);
        memory = NULL;
    }
    printf("library alone (memory store): one/txn %.0f/s, batches of %d %.0f/s\n", rates[0],
           batch, rates[1]);
}

/*
 * Ceilings for the batch's rows in plain SQL, replayed as many times as the
 * batches measured, on a fresh file like the shape floor's (a larger file
 * writes slower once it outgrows SQLite's page cache, so the count must
 * match for the figures to compare): the same rows with no durability at all
 * (synchronous=OFF), and the fewest rows a storage redesign could leave
 * (bench_shape_fewest) with the same synchronous setting.
 */
static void print_ceilings(const char *shape_path, const char *sync, const bench_shape *batch_rows,
                           int batches, int per_batch)
{
    bench_shape fewest;
    bench_shape_fewest(batch_rows, &fewest);
    int replays = batches;
    bench_floor *off = bench_floor_open(shape_path, "OFF", batch_rows);
    double off_rate = replays * (double)per_batch / bench_floor_commits(off, replays, 1);
    bench_floor_close(off);
    bench_floor *least = bench_floor_open(shape_path, sync, &fewest);
    double least_rate = replays * (double)per_batch / bench_floor_commits(least, replays, 1);
    bench_floor_close(least);
    printf("%-7s ceilings, plain SQL: the batch's %zu rows with synchronous=OFF %.0f/s; the fewest "
           "rows (%zu) %.0f/s\n",
           sync, batch_rows->count, off_rate, fewest.count, least_rate);
    bench_shape_free(&fewest);
}

int main(int argc, char **argv)
{
    const char *dir = argc > 1 ? argv[1] : "/tmp";
    int n = argc > 2 ? atoi(argv[2]) : 1000;
    int batch = argc > 3 ? atoi(argv[3]) : 100;
    const char *only = argc > 4 ? argv[4] : NULL;
    if (n < 1 || batch < 1) {
        fprintf(stderr, "usage: bench_payments [DIR] [PAYMENTS] [BATCH] [FULL|NORMAL|MEMORY]\n");
        return 2;
    }
    if (icms_init() < 0)
        return 1;
    chain = memchain_new();
    if (only && strcmp(only, "MEMORY") == 0) {
        run_memory(n, batch);
        memchain_free(chain);
        icms_shutdown();
        return 0;
    }
    char path[4096], raw[4096], shape[4096];
    snprintf(path, sizeof path, "%s/bench_payments.db", dir);
    snprintf(raw, sizeof raw, "%s/bench_payments_raw.db", dir);
    snprintf(shape, sizeof shape, "%s/bench_payments_shape.db", dir);
    printf("%-7s %10s | %12s %6s | %12s %6s || %10s | %12s %6s\n", "sync", "one/txn/s",
           "1-row raw/s", "ratio", "shape raw/s", "ratio", "batch/s", "shape raw/s", "ratio");
    static const struct {
        const char *name;
        unsigned setting;
    } syncs[] = {{"FULL", 0}, {"NORMAL", 1}};
    size_t rows = 0, reads = 0, batch_rows = 0;
    bench_shape batch_shapes[2] = {{0}, {0}};
    for (size_t s = 0; s < 2; s++) {
        if (only && strcmp(only, syncs[s].name) != 0)
            continue;
        floors one_f = {.sync_name = syncs[s].name, .shape_path = shape};
        one_f.one_row = bench_raw_open(raw, syncs[s].name);
        char **payments = setup(path, n);
        double one = verify_rate(path, syncs[s].setting, payments, n, 1, &one_f);
        free_payments(payments, n);
        rows = one_f.recorded.count;
        reads = one_f.recorded.reads;
        if (s == 0 && getenv("BENCH_SHOW_SHAPE")) {
            printf("one payment's transaction:\n");
            bench_shape_print(stdout, &one_f.recorded);
        }
        close_floors(&one_f);

        floors many_f = {.sync_name = syncs[s].name, .shape_path = shape};
        payments = setup(path, n);
        double many = verify_rate(path, syncs[s].setting, payments, n, batch, &many_f);
        free_payments(payments, n);
        batch_rows = many_f.recorded.count;
        /* The batch's rows, kept for the ceilings printed below the table. */
        batch_shapes[s] = many_f.recorded;
        many_f.recorded = (bench_shape){0};
        close_floors(&many_f);

        double one_row = one_f.payments / one_f.one_row_s;
        double shaped = one_f.payments / one_f.shape_s;
        double batch_shaped = many_f.payments / many_f.shape_s;
        printf("%-7s %10.0f | %12.0f %6.2f | %12.0f %6.2f || %10.0f | %12.0f %6.2f\n",
               syncs[s].name, one, one_row, one_row / one, shaped, shaped / one, many,
               batch_shaped, batch_shaped / many);
    }
    printf("one payment's transaction writes %zu rows and reads %zu keys; a batch of %d writes "
           "%zu rows\n",
           rows, reads, batch, batch_rows);
    int per_batch = batch < n ? batch : n;
    for (size_t s = 0; s < 2; s++) {
        if (batch_shapes[s].count)
            print_ceilings(shape, syncs[s].name, &batch_shapes[s], n / per_batch, per_batch);
        bench_shape_free(&batch_shapes[s]);
    }
    memchain_free(chain);
    icms_shutdown();
    return 0;
}
