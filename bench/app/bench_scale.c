/*
 * Commands as the database grows: for one project holding N participations
 * (each requested, approved and paid: a confirmed payment), the wall time and
 * the store reads of each per-item command, at several N. A per-item command
 * reads O(1) records of other items (docs/architecture.md), so its line is
 * flat: what it costs at 100 it costs at 10,000.
 *
 *   bench_scale [DIR] [N...]   (defaults: /tmp, 100 1000 10000)
 *
 * The project grows from one N to the next (the same file, the same
 * project); at each N every command runs REPS times on fresh items (the
 * project commands once), and the median time and the mean reads are
 * printed. Reads are the store's own calls through a counting wrapper
 * (tests/support/fault_store.c): point reads + scans + keys the scans visited.
 * The node is the in-process memchain (tests/app/memchain.c); the SQLite
 * file runs with synchronous=NORMAL, so the times are the library's and
 * SQLite's work rather than the disk's flushes. The project commands
 * (publish, approve, ship, complete, cancel) act on a small project of their
 * own in the same growing database. The tick re-verifies 64 of the big
 * project's confirmed payments each time (it is still funding, so a re-org
 * could take them back): that is its work due here, the same at every N.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "app/db.h"
#include "bench_common.h"
#include "icms/events.h"
#include "icms/gapcoin.h"
#include "icms/participations.h"
#include "icms/payments.h"
#include "icms/projects.h"
#include "icms/rpc.h"
#include "icms/users.h"
#include "memchain.h"
#include "support/fault_store.h"

#define PRICE 100000000LL /* one unit, and each filler's capital */
#define REPS 20
#define MAX_SIZES 8

static memchain *chain;
static icms_store *counter; /* borrowed: the handle owns it */
static icms_db *db;
static icms_request host, owner_req, admin_req;
static char owner[37], admin[37], project[37];
static const char *refund_address, *refund_script;
static int users; /* users written so far: each its own email */

/* ---- measuring ---- */

enum {
    C_REQUEST,
    C_APPROVE,
    C_REJECT,
    C_WITHDRAW,
    C_INITIATE,
    C_SUBMIT,
    C_VERIFY,
    C_VERIFY_BATCH,
    C_REFUND_RECORD,
    C_PART_PAGE,
    C_PAY_PAGE,
    C_INVESTOR_PAGE,
    C_PARTICIPATION_PAGE,
    C_STATUS_PAGE,
    C_HISTORY,
    C_EVENTS,
    C_TICK,
    C_PUBLISH,
    C_P_APPROVE,
    C_SHIP,
    C_COMPLETE,
    C_CANCEL,
    C_COUNT
};

static const char *const names[C_COUNT] = {
    "participation request", "participation approve", "participation reject",
    "participation withdraw", "payment initiate", "payment submit", "payment verify",
    "payment verify (batch)", "refund record", "participation page (10)", "payment page (10)",
    "page: one investor's", "page: one request's paym.", "page: PENDING requests",
    "user history", "events read (10)", "tick (64 re-checks)", "project publish",
    "project approve", "project ship", "project complete", "project cancel (1 part.)"};

/* A command's samples at one size: the median time (a shared machine's load comes in bursts). */
typedef struct sample {
    double per_item[REPS]; /* seconds per item of each run */
    int samples;
    unsigned long reads;
    int runs; /* items */
} sample;

static sample table[MAX_SIZES][C_COUNT];
static double t0;

static void start(void)
{
    icms_test_fault_store_reset(counter);
    t0 = bench_now();
}

/* Close a measurement of `items` items (a batch counts each of its payments). */
static void stop(sample *s, int items)
{
    double spent = bench_now() - t0;
    if (s->samples < REPS)
        s->per_item[s->samples++] = spent / items;
    s->reads += icms_test_fault_store_reads(counter);
    s->runs += items;
}

static int by_value(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static double median(sample *s)
{
    if (!s->samples)
        return 0;
    qsort(s->per_item, (size_t)s->samples, sizeof s->per_item[0], by_value);
    return s->per_item[s->samples / 2];
}

/* ---- the world ---- */

static char *take_id(char *json)
{
    cJSON *doc = cJSON_Parse(json);
    if (!doc || !cJSON_GetObjectItem(doc, "id")) {
        fprintf(stderr, "no id in %s\n", json ? json : "(null)");
        exit(1);
    }
    char *id = strdup(cJSON_GetObjectItem(doc, "id")->valuestring);
    cJSON_Delete(doc);
    icms_free(json);
    return id;
}

static void open_db(const char *path)
{
    char wal[4200];
    unlink(path);
    snprintf(wal, sizeof wal, "%s-wal", path);
    unlink(wal);
    icms_options options = ICMS_OPTIONS_INIT;
    options.path = path;
    options.sqlite_sync = 1; /* NORMAL */
    icms_store *store = NULL;
    bench_check(icms__db_open_sqlite(&options, &store), "sqlite store");
    bench_check(icms_test_fault_store_new(&counter, store, true), "counter");
    options.store = counter;
    options.path = NULL;
    bench_check(icms_rpc_client_new(&options.gapcoin, memchain_transport(chain),
                                    "http://memchain.invalid/", NULL),
                "rpc");
    bench_check(icms_open(&db, &options), "open");
}

static void user(const char *role, char id[37], icms_request *req)
{
    bench_add_user(db, role, users++, id);
    icms_request r = ICMS_REQUEST_INIT;
    r.actor_id = id;
    *req = r;
}

/* A project of `units` units of PRICE, published; its id in id (37 bytes). */
static void new_project(int64_t units, bool payout, char id[37])
{
    char json[768], *out = NULL;
    snprintf(json, sizeof json,
             "{\"title\":\"Scale\",\"expiry_date\":\"2099-01-01T00:00:00Z\",\"min_ticket\":1,"
             "%s%s%s\"products\":[{\"name\":\"Unit\",\"unit\":\"u\",\"quantity\":%lld,"
             "\"unit_price\":%lld}]}",
             payout ? "\"payout_address\":\"" : "", payout ? refund_address : "",
             payout ? "\"," : "", (long long)units, PRICE);
    bench_check(icms_project_create(db, &owner_req, json, &out), "create");
    char *p = take_id(out);
    snprintf(id, 37, "%s", p);
    free(p);
    bench_check(icms_project_publish(db, &owner_req, id, NULL), "publish");
}

typedef struct investor {
    char id[37];
    icms_request req;
    char part[37];
    char payment[37];
    char key[32];
} investor;

static void request_in(investor *v, const char *in, int64_t capital)
{
    char json[128], *out = NULL;
    snprintf(json, sizeof json, "{\"type\":\"PROFIT\",\"capital\":%lld}", (long long)capital);
    bench_check(icms_participation_request(db, &v->req, in, json, &out), "request");
    char *id = take_id(out);
    snprintf(v->part, sizeof v->part, "%s", id);
    free(id);
}

static void initiate(investor *v)
{
    static int keys;
    char json[256], *out = NULL;
    snprintf(v->key, sizeof v->key, "k-%d", keys++);
    v->req.idempotency_key = v->key;
    snprintf(json, sizeof json, "{\"refund_address\":\"%s\"}", refund_address);
    bench_check(icms_payment_initiate(db, &v->req, v->part, json, &out), "initiate");
    v->req.idempotency_key = NULL;
    char *id = take_id(out);
    snprintf(v->payment, sizeof v->payment, "%s", id);
    free(id);
}

/* Pay the payment `amount` in a new mempool transaction and attach it. */
static void submit(investor *v, int64_t amount)
{
    char *out = NULL;
    bench_check(icms_payment_get(db, &host, v->payment, &out), "payment get");
    cJSON *payment = cJSON_Parse(out);
    icms_free(out);
    const char *txid = NULL;
    memchain_pay(chain, cJSON_GetObjectItem(payment, "script")->valuestring, amount, &txid);
    cJSON_Delete(payment);
    bench_check(icms_payment_submit(db, &v->req, v->payment, txid, NULL), "submit");
}

/* Grow the project to n participations, each approved and paid (confirmed). */
static void grow(int *have, int n)
{
    int count = n - *have;
    if (count <= 0)
        return;
    investor *v = calloc((size_t)count, sizeof *v);
    const char **ids = calloc((size_t)count, sizeof *ids);
    for (int i = 0; i < count; i++) {
        user("INVESTOR", v[i].id, &v[i].req);
        request_in(&v[i], project, PRICE);
        bench_check(icms_participation_approve(db, &owner_req, v[i].part, NULL), "approve");
        initiate(&v[i]);
        submit(&v[i], PRICE);
        ids[i] = v[i].payment;
    }
    memchain_mine(chain, 6);
    for (int i = 0; i < count; i += ICMS_PAYMENT_BATCH_MAX) {
        size_t batch = (size_t)(count - i < ICMS_PAYMENT_BATCH_MAX ? count - i
                                                                   : ICMS_PAYMENT_BATCH_MAX);
        bench_check(icms_payment_verify_batch(db, &host, ids + i, batch, NULL), "verify batch");
    }
    free(ids);
    free(v);
    *have = n;
    /* What the filling left for the periodic work (events, notifications) is done first. */
    bench_check(icms_tick(db, NULL), "tick");
}

/* ---- one round of every command, at the project's current size ---- */

static void per_item(sample *row)
{
    investor v[REPS], other[REPS];
    for (int i = 0; i < REPS; i++) {
        user("INVESTOR", v[i].id, &v[i].req);
        user("INVESTOR", other[i].id, &other[i].req);
    }
    for (int i = 0; i < REPS; i++) {
        char json[128], *out = NULL;
        snprintf(json, sizeof json, "{\"type\":\"PROFIT\",\"capital\":%lld}", PRICE);
        start();
        bench_check(icms_participation_request(db, &v[i].req, project, json, &out), "request");
        stop(&row[C_REQUEST], 1);
        char *id = take_id(out);
        snprintf(v[i].part, sizeof v[i].part, "%s", id);
        free(id);
    }
    for (int i = 0; i < REPS; i++) {
        start();
        bench_check(icms_participation_approve(db, &owner_req, v[i].part, NULL), "approve");
        stop(&row[C_APPROVE], 1);
    }
    for (int i = 0; i < REPS; i++) {
        request_in(&other[i], project, PRICE);
        start();
        if (i % 2 == 0)
            bench_check(icms_participation_reject(db, &owner_req, other[i].part, "no", NULL),
                        "reject");
        else
            bench_check(icms_participation_withdraw(db, &other[i].req, other[i].part, NULL),
                        "withdraw");
        stop(&row[i % 2 == 0 ? C_REJECT : C_WITHDRAW], 1);
    }
    /* Half pay exactly, half pay double: the excess is a refund due, to be recorded. */
    for (int i = 0; i < REPS; i++) {
        start();
        initiate(&v[i]);
        stop(&row[C_INITIATE], 1);
    }
    for (int i = 0; i < REPS; i++) {
        char *out = NULL;
        bench_check(icms_payment_get(db, &host, v[i].payment, &out), "payment get");
        cJSON *payment = cJSON_Parse(out);
        icms_free(out);
        const char *txid = NULL;
        memchain_pay(chain, cJSON_GetObjectItem(payment, "script")->valuestring,
                     i % 2 ? 2 * PRICE : PRICE, &txid);
        cJSON_Delete(payment);
        start();
        bench_check(icms_payment_submit(db, &v[i].req, v[i].payment, txid, NULL), "submit");
        stop(&row[C_SUBMIT], 1);
    }
    memchain_mine(chain, 6);
    for (int i = 0; i < REPS / 2; i++) {
        start();
        bench_check(icms_payment_verify(db, &host, v[i].payment, NULL), "verify");
        stop(&row[C_VERIFY], 1);
    }
    const char *batch[REPS];
    for (int i = REPS / 2; i < REPS; i++)
        batch[i - REPS / 2] = v[i].payment;
    start();
    bench_check(icms_payment_verify_batch(db, &host, batch, REPS - REPS / 2, NULL), "batch");
    stop(&row[C_VERIFY_BATCH], REPS - REPS / 2);

    /* Refunds of the double payments, paid back by a transaction to the refund address. */
    char filter[256], *out = NULL;
    for (int i = 1; i < REPS; i += 2) {
        snprintf(filter, sizeof filter, "{\"investor_id\":\"%s\"}", v[i].id);
        bench_check(icms_refund_list(db, &host, filter, &out), "refund list");
        cJSON *list = cJSON_Parse(out);
        icms_free(out);
        cJSON *refund = cJSON_GetArrayItem(cJSON_GetObjectItem(list, "items"), 0);
        const char *txid = NULL;
        memchain_pay(chain, refund_script, PRICE, &txid);
        memchain_mine(chain, 6);
        start();
        bench_check(icms_refund_record(db, &host, cJSON_GetObjectItem(refund, "id")->valuestring,
                                       txid, NULL),
                    "refund record");
        stop(&row[C_REFUND_RECORD], 1);
        cJSON_Delete(list);
    }

    for (int i = 0; i < REPS; i++) {
        snprintf(filter, sizeof filter, "{\"project_id\":\"%s\",\"limit\":10}", project);
        start();
        bench_check(icms_participation_list(db, &owner_req, filter, &out), "participation list");
        stop(&row[C_PART_PAGE], 1);
        icms_free(out);
        start();
        bench_check(icms_payment_list(db, &owner_req, filter, &out), "payment list");
        stop(&row[C_PAY_PAGE], 1);
        icms_free(out);
        snprintf(filter, sizeof filter, "{\"project_id\":\"%.36s\",\"investor_id\":\"%.36s\"}",
                 project, v[i].id);
        start();
        bench_check(icms_participation_list(db, &owner_req, filter, &out), "investor's page");
        stop(&row[C_INVESTOR_PAGE], 1);
        icms_free(out);
        snprintf(filter, sizeof filter,
                 "{\"project_id\":\"%.36s\",\"participation_id\":\"%.36s\"}", project, v[i].part);
        start();
        bench_check(icms_payment_list(db, &owner_req, filter, &out), "request's payments");
        stop(&row[C_PARTICIPATION_PAGE], 1);
        icms_free(out);
        snprintf(filter, sizeof filter, "{\"project_id\":\"%.36s\",\"status\":\"PENDING\"}",
                 project);
        start();
        bench_check(icms_participation_list(db, &owner_req, filter, &out), "PENDING page");
        stop(&row[C_STATUS_PAGE], 1);
        icms_free(out);
        start();
        bench_check(icms_user_history(db, &v[i].req, v[i].id, &out), "history");
        stop(&row[C_HISTORY], 1);
        icms_free(out);
        start();
        bench_check(icms_events_read(db, &host, "bench", ICMS_EVENTS_FROM_CURSOR, 10, &out),
                    "events read");
        stop(&row[C_EVENTS], 1);
        icms_free(out);
        bench_check(icms_events_ack(db, &host, "bench", 0), "ack");
    }
    bench_check(icms_tick(db, NULL), "tick");
    for (int i = 0; i < REPS; i++) {
        start();
        bench_check(icms_tick(db, NULL), "tick");
        stop(&row[C_TICK], 1);
    }
}

/* A small project through its whole life, and another cancelled, in the grown database. */
static void project_acts(sample *row)
{
    char small[37], doomed[37];
    investor v;
    start();
    new_project(1, true, small);
    stop(&row[C_PUBLISH], 1);
    user("INVESTOR", v.id, &v.req);
    request_in(&v, small, PRICE);
    bench_check(icms_participation_approve(db, &owner_req, v.part, NULL), "approve");
    initiate(&v);
    submit(&v, PRICE);
    memchain_mine(chain, 6);
    bench_check(icms_payment_verify(db, &host, v.payment, NULL), "verify");
    start();
    bench_check(icms_project_approve(db, &admin_req, small, NULL), "project approve");
    stop(&row[C_P_APPROVE], 1);
    start();
    bench_check(icms_project_ship(db, &admin_req, small,
                                  "{\"container_number\":\"CSQU3054383\",\"vessel\":\"V\","
                                  "\"bill_of_lading\":\"B\",\"port_of_loading\":\"P\","
                                  "\"port_of_discharge\":\"Q\",\"eta\":\"2098-01-01T00:00:00Z\"}",
                                  NULL),
                "ship");
    stop(&row[C_SHIP], 1);
    start();
    bench_check(icms_project_complete(db, &admin_req, small, NULL), "complete");
    stop(&row[C_COMPLETE], 1);

    new_project(10, false, doomed);
    user("INVESTOR", v.id, &v.req);
    request_in(&v, doomed, PRICE);
    bench_check(icms_participation_approve(db, &owner_req, v.part, NULL), "approve");
    start();
    bench_check(icms_project_cancel(db, &owner_req, doomed, "bench", NULL), "cancel");
    stop(&row[C_CANCEL], 1);
}

int main(int argc, char **argv)
{
    const char *dir = argc > 1 ? argv[1] : "/tmp";
    int sizes[MAX_SIZES] = {100, 1000, 10000};
    int count = 3;
    if (argc > 2) {
        count = 0;
        for (int i = 2; i < argc && count < MAX_SIZES; i++)
            sizes[count++] = atoi(argv[i]);
    }
    for (int i = 0; i < count; i++)
        if (sizes[i] < 1 || (i && sizes[i] <= sizes[i - 1])) {
            fprintf(stderr, "usage: bench_scale [DIR] [N...] (N rising, at most %d)\n",
                    MAX_SIZES);
            return 2;
        }
    if (icms_init() < 0)
        return 1;
    chain = memchain_new();
    refund_address = memchain_address(chain, 0, &refund_script);
    char path[4096];
    snprintf(path, sizeof path, "%s/bench_scale.db", dir);
    open_db(path);
    icms_request h = ICMS_REQUEST_INIT;
    h.actor_kind = ICMS_ACTOR_HOST;
    host = h;
    user("OWNER", owner, &owner_req);
    user("ADMIN", admin, &admin_req);
    new_project(1000000000, false, project);

    double began = bench_now();
    int have = 0;
    for (int s = 0; s < count; s++) {
        grow(&have, sizes[s]);
        per_item(table[s]);
        project_acts(table[s]);
        /* The measured items joined the project too: the next size counts them. */
        have += 2 * REPS;
    }
    printf("%-26s", "participations in project");
    for (int s = 0; s < count; s++)
        printf(" | %7d: %8s %6s", sizes[s], "us", "reads");
    printf("\n");
    for (int c = 0; c < C_COUNT; c++) {
        printf("%-26s", names[c]);
        for (int s = 0; s < count; s++) {
            sample *x = &table[s][c];
            int runs = x->runs ? x->runs : 1;
            printf(" | %7s  %8.0f %6lu", "", 1e6 * median(x), x->reads / (unsigned long)runs);
        }
        printf("\n");
    }
    printf("total %.1f s (filling included)\n", bench_now() - began);
    icms_close(db);
    memchain_free(chain);
    icms_shutdown();
    return 0;
}
