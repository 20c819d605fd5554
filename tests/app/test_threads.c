/*
 * One icms_db shared by the threads of a host backend (include/icms/db.h
 * says the handle is thread-safe): writers creating users, projects,
 * participations and payments, approvals racing for the last units of one
 * project, payments confirming at once and funding it, readers listing and
 * pulling events all the while; then every count the threads report is
 * checked against what the database holds, and icms_check must find
 * nothing. Also icms_init/icms_shutdown racing, UUIDv7 from many threads, and
 * the thread-local last error.
 *
 * Built for the tsan stage of scripts/test.sh (label `threads`), where
 * ThreadSanitizer watches every one of these interleavings; it also runs in
 * the unit, asan and valgrind stages (shorter under ICMS_VALGRIND).
 *
 * cmocka's assertions may only fail on the test's own thread, so a worker
 * records its first failure as text and the main thread fails with it.
 */
#include "support/test_support.h"

#include <pthread.h>
#include <sched.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "app/db.h"
#include "app/events_hub.h"
#include "app_fixture.h"
#include "core/core.h"
#include "core/json.h"
#include "core/uuid.h"
#include "icms/audit.h"
#include "icms/auth.h"
#include "icms/events.h"
#include "icms/participations.h"
#include "icms/payments.h"
#include "icms/projects.h"
#include "icms/rpc.h"
#include "icms/sys/notifier.h"
#include "icms/sys/secrets.h"
#include "icms/sys/store.h"
#include "icms/sys/transport.h"
#include "icms/users.h"
#include "memchain.h"

#define MAX_THREADS 8
#define MAX_ROUNDS 8
#define READERS 2

static bool under_valgrind(void)
{
    return getenv("ICMS_VALGRIND") != NULL;
}

/* ---- a worker's first failure, reported by the main thread ---- */

typedef struct failure {
    char text[768];
} failure;

static void note(failure *f, int line, const char *fmt, ...)
{
    if (f->text[0])
        return;
    char what[384];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);
    snprintf(f->text, sizeof f->text, "line %d: %s (last error on this thread: %s)", line, what,
             icms_error_last()->message);
}

/* On a worker: record the failure and leave the worker's loop. */
#define EXPECT(fail, cond, ...)                                                                    \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            note((fail), __LINE__, __VA_ARGS__);                                                   \
            goto done;                                                                             \
        }                                                                                          \
    } while (0)

static void assert_no_failure(const failure *f, const char *who)
{
    if (f->text[0])
        fail_msg("%s: %s", who, f->text);
}

/* Parse a call's JSON output and free the text; NULL when it is no JSON (never fails the test). */
static cJSON *parse_out(char *text)
{
    cJSON *doc = NULL;
    if (text && icms__json_parse(text, strlen(text), NULL, &doc) != ICMS_OK)
        doc = NULL;
    icms_free(text);
    return doc;
}

static int64_t int_field(const cJSON *doc, const char *name)
{
    int64_t v = -1;
    if (!icms__json_int64(icms__json_get(doc, name), &v))
        return -1;
    return v;
}

static void copy_id(char out[37], const cJSON *doc, const char *name)
{
    const char *s = icms__json_get_string(doc, name);
    snprintf(out, 37, "%s", s ? s : "");
}

static int compare_text(const void *a, const void *b)
{
    return strcmp(a, b);
}

static void pause_ms(long ms)
{
    struct timespec ts = {0, ms * 1000000L};
    nanosleep(&ts, NULL);
}

/* ---- an in-process Gapcoin node that many threads may call ---- */

/*
 * memchain itself is single-threaded test code; the transport port lets
 * post() be called from several threads at once (icms/sys/transport.h), so
 * this wrapper serializes the node's calls, and the test takes the same lock
 * to pay and mine.
 */
typedef struct locked_chain {
    pthread_mutex_t lock;
    memchain *chain;
} locked_chain;

typedef struct locked_transport {
    icms_transport base;
    locked_chain *chain;
    icms_transport *inner;
} locked_transport;

static int locked_post(icms_transport *t, const icms_transport_request *req, int *status,
                       uint8_t **body, size_t *body_len)
{
    locked_transport *lt = (locked_transport *)t;
    pthread_mutex_lock(&lt->chain->lock);
    int rc = lt->inner->post(lt->inner, req, status, body, body_len);
    pthread_mutex_unlock(&lt->chain->lock);
    return rc;
}

static void locked_free(icms_transport *t)
{
    locked_transport *lt = (locked_transport *)t;
    lt->inner->free(lt->inner);
    icms_free(lt);
}

static icms_transport *locked_transport_new(locked_chain *chain)
{
    locked_transport *lt = icms_transport_alloc(sizeof *lt);
    assert_non_null(lt);
    lt->base = (icms_transport)ICMS_TRANSPORT_INIT;
    lt->base.post = locked_post;
    lt->base.free = locked_free;
    lt->chain = chain;
    lt->inner = memchain_transport(chain->chain);
    return &lt->base;
}

/* ---- the shared handle and its workload ---- */

typedef struct shared {
    fx f;
    locked_chain chain;
    int threads, rounds;
    int units;          /* the race project's one product: fewer units than requests */
    char race[37];      /* the race project */
    char product[37];   /* its product */
    int64_t unit_cost;  /* landed cost of one unit (no shipping: exactly the unit price) */
    pthread_barrier_t start;
    pthread_barrier_t writers_requested; /* the writers between their two phases */
    atomic_int writers_running;
} shared;

typedef struct worker {
    shared *s;
    int index;
    failure fail;
    /* What this thread saw succeed (or be refused for the cap). */
    int users, projects, requested, approved;
    int refused;  /* by the cap, at request or at approval */
    int rejected; /* of those, at approval (then rejected by the owner) */
    int payments;
    char payment_ids[MAX_ROUNDS][37];
    char project_ids[MAX_ROUNDS][37]; /* in the order this thread created them */
    int64_t paid;
} worker;

typedef struct reader {
    shared *s;
    int index;
    failure fail;
    int64_t last_seq; /* the last event seq pulled */
    int events;
    int user_created, project_created, participation_approved, payment_submitted;
    int passes;
} reader;

static int create_investor(worker *w, char id_out[37])
{
    shared *s = w->s;
    char json[200], *out = NULL;
    snprintf(json, sizeof json,
             "{\"name\":\"Thread %d investor %d\",\"email\":\"t%d.i%d@example.com\"}", w->index,
             w->users, w->index, w->users);
    int rc = icms_user_create(s->f.db, &s->f.host, json, &out);
    if (rc)
        return rc;
    cJSON *doc = parse_out(out);
    copy_id(id_out, doc, "id");
    cJSON_Delete(doc);
    if (!id_out[0])
        return ICMS_ERROR;
    if ((rc = icms_user_set_kyc(s->f.db, &s->f.host, id_out, "PENDING",
                                "{\"document\":\"passport\"}", NULL)))
        return rc;
    return icms_user_set_kyc(s->f.db, &s->f.host, id_out, "VERIFIED", NULL, NULL);
}

/* A payment for the whole commitment, paid exactly on the node, then submitted. */
static int pay(worker *w, const icms_request *investor, const char *participation_id)
{
    shared *s = w->s;
    char key[48], json[160], *out = NULL;
    snprintf(key, sizeof key, "pay-%d-%d", w->index, w->payments);
    icms_request req = *investor;
    req.idempotency_key = key;
    snprintf(json, sizeof json, "{\"refund_address\":\"%s\"}",
             memchain_address(s->chain.chain, 63, NULL));
    int rc = icms_payment_initiate(s->f.db, &req, participation_id, json, &out);
    if (rc)
        return rc;
    cJSON *payment = parse_out(out);
    char id[37], script[128], txid[65] = "";
    copy_id(id, payment, "id");
    const char *sc = icms__json_get_string(payment, "script");
    snprintf(script, sizeof script, "%s", sc ? sc : "");
    int64_t amount = int_field(payment, "amount");
    cJSON_Delete(payment);
    if (!id[0] || !script[0] || amount != w->s->unit_cost)
        return icms__error(ICMS_ERROR, "test: the payment lacks an id or a script, or asks %lld",
                           (long long)amount);
    pthread_mutex_lock(&s->chain.lock);
    const char *t = NULL;
    int index = memchain_pay(s->chain.chain, script, amount, &t);
    if (index >= 0)
        snprintf(txid, sizeof txid, "%s", t);
    pthread_mutex_unlock(&s->chain.lock);
    if (index < 0)
        return icms__error(ICMS_ERROR, "test: memchain is full");
    req.idempotency_key = NULL;
    if ((rc = icms_payment_submit(s->f.db, &req, id, txid, NULL)))
        return rc;
    snprintf(w->payment_ids[w->payments++], 37, "%s", id);
    w->paid += amount;
    return ICMS_OK;
}

/* Approve one request; the loser of the race for the last units is refused and then rejected. */
static int settle(worker *w, const char *investor_id, const char *participation_id)
{
    shared *s = w->s;
    fx *f = &s->f;
    char *out = NULL;
    int rc = icms_participation_approve(f->db, &f->owner.req, participation_id, &out);
    if (rc == ICMS_ELIMIT) {
        w->refused++;
        w->rejected++;
        return icms_participation_reject(f->db, &f->owner.req, participation_id, "sold out",
                                         NULL);
    }
    if (rc)
        return rc;
    cJSON *doc = parse_out(out);
    const char *status = icms__json_get_string(doc, "status");
    bool approved = status && strcmp(status, "APPROVED") == 0;
    cJSON_Delete(doc);
    if (!approved)
        return icms__error(ICMS_ERROR, "test: an approved participation is not APPROVED");
    w->approved++;
    icms_request investor = ICMS_REQUEST_INIT;
    investor.actor_id = investor_id;
    return pay(w, &investor, participation_id);
}

/*
 * Phase one, every round: a new investor (users commands), a project of the
 * shared owner published, a request for one unit of the race project, and
 * reads. Phase two, once every writer has made its requests (there are more
 * than units): approvals race for the units, the winners pay.
 */
static void *writer_main(void *arg)
{
    worker *w = arg;
    shared *s = w->s;
    fx *f = &s->f;
    char *out = NULL;
    char investors[MAX_ROUNDS][37], participations[MAX_ROUNDS][37];
    int pending = 0;
    bool phase_one_done = false;
    pthread_barrier_wait(&s->start);
    for (int round = 0; round < s->rounds; round++) {
        char *investor_id = investors[pending];
        int rc = create_investor(w, investor_id);
        EXPECT(&w->fail, rc == ICMS_OK, "creating investor %d: %s", w->users, icms_error_name(rc));
        w->users++;
        icms_request investor = ICMS_REQUEST_INIT;
        investor.actor_id = investor_id;

        rc = icms_project_create(f->db, &f->owner.req, fx_project_json(30), &out);
        EXPECT(&w->fail, rc == ICMS_OK, "project_create: %s", icms_error_name(rc));
        cJSON *doc = parse_out(out);
        char *project_id = w->project_ids[w->projects];
        copy_id(project_id, doc, "id");
        cJSON_Delete(doc);
        rc = icms_project_publish(f->db, &f->owner.req, project_id, NULL);
        EXPECT(&w->fail, rc == ICMS_OK, "project_publish: %s", icms_error_name(rc));
        w->projects++;

        /* The cap is checked at request too (against units already approved). */
        char json[200];
        snprintf(json, sizeof json,
                 "{\"type\":\"PRODUCTS\",\"items\":[{\"product_id\":\"%s\",\"units\":1}]}",
                 s->product);
        rc = icms_participation_request(f->db, &investor, s->race, json, &out);
        EXPECT(&w->fail, rc == ICMS_OK || rc == ICMS_ELIMIT, "participation_request: %s",
               icms_error_name(rc));
        if (rc == ICMS_ELIMIT) {
            w->refused++;
        } else {
            w->requested++;
            doc = parse_out(out);
            copy_id(participations[pending], doc, "id");
            cJSON_Delete(doc);
            pending++;
        }

        /* Reads on the writer's own thread, between its writes. */
        rc = icms_project_get(f->db, &investor, s->race, &out);
        EXPECT(&w->fail, rc == ICMS_OK, "project_get: %s", icms_error_name(rc));
        doc = parse_out(out);
        const cJSON *product = cJSON_GetArrayItem(cJSON_GetObjectItem(doc, "products"), 0);
        int64_t reserved = int_field(product, "reserved");
        cJSON_Delete(doc);
        EXPECT(&w->fail, reserved >= 0 && reserved <= s->units,
               "the race project shows %lld units reserved (cap %d)", (long long)reserved,
               s->units);
        rc = icms_user_get(f->db, &investor, investor_id, &out);
        EXPECT(&w->fail, rc == ICMS_OK, "user_get (self): %s", icms_error_name(rc));
        icms_free(out);
    }
    phase_one_done = true;
done:
    /* Every writer reaches the barrier, failed or not, so that none waits forever. */
    pthread_barrier_wait(&s->writers_requested);
    for (int i = 0; phase_one_done && i < pending; i++) {
        int rc = settle(w, investors[i], participations[i]);
        if (rc) {
            note(&w->fail, __LINE__, "approving or paying: %s", icms_error_name(rc));
            break;
        }
    }
    atomic_fetch_sub(&s->writers_running, 1);
    return NULL;
}

/* One pass of the event pull: every seq after the last one, contiguously. */
static int pull_events(reader *r, bool *empty)
{
    shared *s = r->s;
    char consumer[32], *out = NULL;
    snprintf(consumer, sizeof consumer, "reader-%d", r->index);
    int rc = icms_events_read(s->f.db, &s->f.host, consumer, ICMS_EVENTS_FROM_CURSOR, 50, &out);
    if (rc)
        return rc;
    cJSON *doc = parse_out(out);
    const cJSON *events = cJSON_GetObjectItem(doc, "events");
    if (!cJSON_IsArray(events)) {
        cJSON_Delete(doc);
        return icms__error(ICMS_ERROR, "test: events_read gave no events array");
    }
    *empty = cJSON_GetArraySize(events) == 0;
    const cJSON *e;
    cJSON_ArrayForEach(e, events) {
        int64_t seq = int_field(e, "seq");
        if (seq != r->last_seq + 1) {
            cJSON_Delete(doc);
            return icms__error(ICMS_ERROR, "test: event seq %lld after %lld (lost or repeated)",
                               (long long)seq, (long long)r->last_seq);
        }
        r->last_seq = seq;
        r->events++;
        const char *type = icms__json_get_string(e, "type");
        type = type ? type : "";
        r->user_created += strcmp(type, "user.created") == 0;
        r->project_created += strcmp(type, "project.created") == 0;
        r->participation_approved += strcmp(type, "participation.approved") == 0;
        r->payment_submitted += strcmp(type, "payment.submitted") == 0;
    }
    cJSON_Delete(doc);
    if (!*empty && (rc = icms_events_ack(s->f.db, &s->f.host, consumer, r->last_seq)))
        return rc;
    return ICMS_OK;
}

static void *reader_main(void *arg)
{
    reader *r = arg;
    shared *s = r->s;
    fx *f = &s->f;
    char filter[128], *out = NULL;
    pthread_barrier_wait(&s->start);
    for (;;) {
        bool writers_done = atomic_load(&s->writers_running) == 0;
        int rc = icms_project_list(f->db, &f->anonymous, NULL, &out);
        EXPECT(&r->fail, rc == ICMS_OK, "project_list: %s", icms_error_name(rc));
        cJSON *doc = parse_out(out);
        EXPECT(&r->fail, cJSON_IsArray(cJSON_GetObjectItem(doc, "items")), "no items listed");
        cJSON_Delete(doc);
        snprintf(filter, sizeof filter, "{\"project_id\":\"%s\",\"status\":\"APPROVED\"}",
                 s->race);
        rc = icms_participation_list(f->db, &f->admin.req, filter, &out);
        EXPECT(&r->fail, rc == ICMS_OK, "participation_list: %s", icms_error_name(rc));
        doc = parse_out(out);
        int approved = cJSON_GetArraySize(cJSON_GetObjectItem(doc, "items"));
        cJSON_Delete(doc);
        EXPECT(&r->fail, approved <= s->units, "%d participations approved for %d units", approved,
               s->units);
        bool empty = false;
        rc = pull_events(r, &empty);
        EXPECT(&r->fail, rc == ICMS_OK, "pulling events: %s", icms_error_name(rc));
        r->passes++;
        /* After the writers stopped: drain what is left, then stop. */
        while (writers_done && !empty) {
            rc = pull_events(r, &empty);
            EXPECT(&r->fail, rc == ICMS_OK, "pulling events: %s", icms_error_name(rc));
        }
        if (writers_done)
            break;
        pause_ms(2);
    }
done:
    return NULL;
}

/* The race project: one product of `units` units, no shipping, one confirmation. */
static void create_race_project(shared *s)
{
    char json[512], expiry[32], *out = NULL;
    assert_icms_ok(icms_time_format(FX_NOW + 30 * FX_DAY, expiry, sizeof expiry));
    s->unit_cost = 1000000;
    snprintf(json, sizeof json,
             "{\"title\":\"Race\",\"expiry_date\":\"%s\",\"confirmations\":1,"
             "\"products\":[{\"name\":\"Saffron 1g\",\"unit\":\"tin\",\"quantity\":%d,"
             "\"unit_price\":%lld}]}",
             expiry, s->units, (long long)s->unit_cost);
    assert_icms_ok(icms_project_create(s->f.db, &s->f.owner.req, json, &out));
    cJSON *doc = fx_json(out);
    copy_id(s->race, doc, "id");
    copy_id(s->product, cJSON_GetArrayItem(cJSON_GetObjectItem(doc, "products"), 0), "id");
    cJSON_Delete(doc);
    assert_int_equal(strlen(s->product), 36);
    assert_icms_ok(icms_project_publish(s->f.db, &s->f.owner.req, s->race, NULL));
}

/* The handle: a SQLite file (path set) or the memory store, with the locked node. */
static void open_shared(shared *s, const char *name, bool memory)
{
    memset(s, 0, sizeof *s);
    fx_open(&s->f, name);
    s->chain.chain = memchain_new();
    pthread_mutex_init(&s->chain.lock, NULL);
    icms_options options = ICMS_OPTIONS_INIT;
    assert_icms_ok(icms_rpc_client_new(&options.gapcoin, locked_transport_new(&s->chain),
                                       "http://memchain.invalid/", NULL));
    if (memory) {
        /*
         * The memory store is optimistic: racing writers get ICMS_ECONFLICT
         * and the handle retries; with every command appending to the one
         * events outbox, eight threads need more tries than the default.
         */
        assert_icms_ok(icms_store_memory_new(&options.store));
        options.retry_attempts = 1000;
    }
    fx_reopen(&s->f, &options);
    if (memory) {
        /* fx_reopen opened a new, empty store: put the users back. */
        fx_add_user(&s->f, &s->f.admin, ICMS_ROLE_ADMIN, "VERIFIED");
        fx_add_user(&s->f, &s->f.owner, ICMS_ROLE_OWNER, "VERIFIED");
    }
}

static void close_shared(shared *s)
{
    fx_close(&s->f);
    memchain_free(s->chain.chain);
    pthread_mutex_destroy(&s->chain.lock);
}

/* Every page of a list call, counting items (and checking statuses when want_status is set). */
static int count_listed(icms_db *db, const icms_request *req,
                        int (*list)(icms_db *, const icms_request *, const char *, char **),
                        const char *filter_head, const char *want_status)
{
    int count = 0;
    char after[37] = "";
    for (;;) {
        char filter[256], *out = NULL;
        if (after[0])
            snprintf(filter, sizeof filter, "{%s%s\"limit\":100,\"after\":\"%s\"}", filter_head,
                     filter_head[0] ? "," : "", after);
        else
            snprintf(filter, sizeof filter, "{%s%s\"limit\":100}", filter_head,
                     filter_head[0] ? "," : "");
        assert_icms_ok(list(db, req, filter, &out));
        cJSON *page = fx_json(out);
        const cJSON *item;
        cJSON_ArrayForEach(item, cJSON_GetObjectItem(page, "items")) {
            if (want_status)
                assert_string_equal(fx_str(item, "status"), want_status);
            count++;
        }
        const char *next = icms__json_get_string(page, "next");
        snprintf(after, sizeof after, "%s", next ? next : "");
        cJSON_Delete(page);
        if (!after[0])
            return count;
    }
}

static void *verifier_main(void *arg)
{
    worker *w = arg;
    shared *s = w->s;
    pthread_barrier_wait(&s->start);
    for (int i = 0; i < w->payments; i++) {
        char *out = NULL;
        int rc = icms_payment_verify(s->f.db, &s->f.host, w->payment_ids[i], &out);
        EXPECT(&w->fail, rc == ICMS_OK, "payment_verify: %s", icms_error_name(rc));
        cJSON *doc = parse_out(out);
        const char *status = icms__json_get_string(doc, "status");
        bool confirmed = status && strcmp(status, "CONFIRMED") == 0;
        cJSON_Delete(doc);
        EXPECT(&w->fail, confirmed, "a verified payment is %s", status ? status : "(no status)");
    }
done:
    return NULL;
}

static void run_threads(shared *s, worker *w, void *(*fn)(void *), reader *r, int readers)
{
    pthread_t t[MAX_THREADS + READERS];
    assert_int_equal(pthread_barrier_init(&s->start, NULL, (unsigned)(s->threads + readers)), 0);
    assert_int_equal(pthread_barrier_init(&s->writers_requested, NULL, (unsigned)s->threads), 0);
    atomic_store(&s->writers_running, s->threads);
    for (int i = 0; i < s->threads; i++)
        assert_int_equal(pthread_create(&t[i], NULL, fn, &w[i]), 0);
    for (int i = 0; i < readers; i++)
        assert_int_equal(pthread_create(&t[s->threads + i], NULL, reader_main, &r[i]), 0);
    for (int i = 0; i < s->threads + readers; i++)
        assert_int_equal(pthread_join(t[i], NULL), 0);
    pthread_barrier_destroy(&s->start);
    pthread_barrier_destroy(&s->writers_requested);
    for (int i = 0; i < s->threads; i++)
        assert_no_failure(&w[i].fail, "a writer");
    for (int i = 0; i < readers; i++)
        assert_no_failure(&r[i].fail, "a reader");
}

static void shared_handle_workload(const char *name, bool memory)
{
    shared *s = calloc(1, sizeof *s);
    assert_non_null(s);
    open_shared(s, name, memory);
    s->threads = under_valgrind() ? 4 : 6;
    s->rounds = under_valgrind() ? 2 : MAX_ROUNDS;
    /* Two thirds as many units as requests: the last ones are raced for. */
    s->units = s->threads * s->rounds * 2 / 3;
    create_race_project(s);

    worker w[MAX_THREADS];
    reader r[READERS];
    memset(w, 0, sizeof w);
    memset(r, 0, sizeof r);
    for (int i = 0; i < s->threads; i++)
        w[i] = (worker){.s = s, .index = i};
    for (int i = 0; i < READERS; i++)
        r[i] = (reader){.s = s, .index = i};
    run_threads(s, w, writer_main, r, READERS);

    int users = 0, projects = 0, requested = 0, approved = 0, refused = 0, rejected = 0;
    int payments = 0;
    int64_t paid = 0;
    for (int i = 0; i < s->threads; i++) {
        users += w[i].users;
        projects += w[i].projects;
        requested += w[i].requested;
        approved += w[i].approved;
        refused += w[i].refused;
        rejected += w[i].rejected;
        payments += w[i].payments;
        paid += w[i].paid;
    }
    int attempts = s->threads * s->rounds;
    printf("%s: %d threads x %d rounds: %d approved, %d refused at request, %d at approval; "
           "readers made %d and %d passes over %lld events\n",
           memory ? "memory store" : "sqlite", s->threads, s->rounds, approved, refused - rejected,
           rejected, r[0].passes, r[1].passes, (long long)r[0].last_seq);
    /* Exactly the units there were went out, and everyone else was refused. */
    assert_int_equal(users, attempts);
    assert_int_equal(projects, attempts);
    assert_int_equal(approved, s->units);
    assert_int_equal(refused, attempts - s->units);
    assert_int_equal(requested, approved + rejected);
    assert_int_equal(payments, approved);

    /* Ids made on many threads at once: each thread's increase, and none is made twice. */
    char(*all_ids)[37] = calloc((size_t)projects, sizeof *all_ids);
    assert_non_null(all_ids);
    int n_ids = 0;
    for (int i = 0; i < s->threads; i++)
        for (int j = 0; j < w[i].projects; j++) {
            if (j > 0)
                assert_true(strcmp(w[i].project_ids[j - 1], w[i].project_ids[j]) < 0);
            memcpy(all_ids[n_ids++], w[i].project_ids[j], 37);
        }
    qsort(all_ids, (size_t)n_ids, sizeof *all_ids, compare_text);
    for (int j = 1; j < n_ids; j++)
        assert_true(strcmp(all_ids[j - 1], all_ids[j]) < 0);
    free(all_ids);

    /* The database agrees with what the threads saw succeed. */
    fx *f = &s->f;
    char head[128];
    snprintf(head, sizeof head, "\"project_id\":\"%s\",\"status\":\"APPROVED\"", s->race);
    assert_int_equal(count_listed(f->db, &f->admin.req, icms_participation_list, head, NULL),
                     approved);
    snprintf(head, sizeof head, "\"project_id\":\"%s\",\"status\":\"REJECTED\"", s->race);
    assert_int_equal(count_listed(f->db, &f->admin.req, icms_participation_list, head, NULL),
                     rejected);
    assert_int_equal(count_listed(f->db, &f->admin.req, icms_project_list, "", NULL),
                     projects + 1);
    snprintf(head, sizeof head, "\"project_id\":\"%s\"", s->race);
    assert_int_equal(count_listed(f->db, &f->admin.req, icms_payment_list, head, "SUBMITTED"),
                     payments);
    char *out = NULL;
    assert_icms_ok(icms_project_get(f->db, &f->admin.req, s->race, &out));
    cJSON *race = fx_json(out);
    assert_string_equal(fx_str(race, "state"), "FUNDING");
    assert_int_equal(fx_int(cJSON_GetArrayItem(cJSON_GetObjectItem(race, "products"), 0),
                            "reserved"),
                     s->units);
    assert_int_equal(fx_int(race, "committed"), fx_int(race, "total_cost"));
    assert_int_equal(fx_int(race, "committed"), paid);
    assert_int_equal(fx_int(race, "funded"), 0);
    cJSON_Delete(race);

    /* Every event, once, in order, on both readers; as many as the threads caused. */
    for (int i = 0; i < READERS; i++) {
        assert_true(r[i].passes >= 1);
        assert_true(r[i].last_seq == r[0].last_seq && r[i].events == r[0].events);
        assert_int_equal(r[i].user_created, users);
        assert_int_equal(r[i].project_created, projects + 1);
        assert_int_equal(r[i].participation_approved, approved);
        assert_int_equal(r[i].payment_submitted, payments);
    }
    assert_icms_ok(icms_events_read(f->db, &f->host, "reader-0", ICMS_EVENTS_FROM_CURSOR, 1, &out));
    cJSON *pulled = fx_json(out);
    assert_int_equal(fx_int(pulled, "last_seq"), r[0].last_seq);
    assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(pulled, "events")), 0);
    cJSON_Delete(pulled);

    /* The payments confirm at once, on every thread, funding the project together. */
    pthread_mutex_lock(&s->chain.lock);
    memchain_mine(s->chain.chain, 2);
    pthread_mutex_unlock(&s->chain.lock);
    for (int i = 0; i < s->threads; i++)
        memset(&w[i].fail, 0, sizeof w[i].fail);
    run_threads(s, w, verifier_main, NULL, 0);
    assert_int_equal(count_listed(f->db, &f->admin.req, icms_payment_list, head, "CONFIRMED"),
                     payments);
    assert_icms_ok(icms_project_get(f->db, &f->admin.req, s->race, &out));
    race = fx_json(out);
    assert_int_equal(fx_int(race, "funded"), paid);
    assert_string_equal(fx_str(race, "state"), "PENDING_ADMIN_APPROVAL");
    cJSON_Delete(race);

    char *report = NULL;
    int rc = icms_check(f->db, &f->host, &report);
    if (rc != ICMS_OK)
        fail_msg("icms_check: %s\n%s", icms_error_last()->message, report ? report : "");
    cJSON *doc = fx_json(report);
    assert_true(cJSON_IsTrue(cJSON_GetObjectItem(doc, "ok")));
    cJSON_Delete(doc);
    close_shared(s);
    free(s);
}

static void test_shared_handle_sqlite(void **state)
{
    (void)state;
    shared_handle_workload("threads_sqlite", false);
}

static void test_shared_handle_memory_store(void **state)
{
    (void)state;
    shared_handle_workload("threads_memory", true);
}

/* ---- icms_init and icms_shutdown from many threads ---- */

typedef struct init_job {
    pthread_barrier_t *start;
    int index, iterations;
    failure fail;
} init_job;

/* Each pass holds its own reference, and uses the library (cJSON and the allocator) meanwhile. */
static void *init_main(void *arg)
{
    init_job *job = arg;
    pthread_barrier_wait(job->start);
    for (int i = 0; i < job->iterations; i++) {
        int refs = icms_init();
        EXPECT(&job->fail, refs >= 1, "icms_init answered %d", refs);
        icms_options options = ICMS_OPTIONS_INIT;
        int rc = icms_store_memory_new(&options.store);
        icms_db *db = NULL;
        if (rc == ICMS_OK)
            rc = icms_open(&db, &options);
        EXPECT(&job->fail, rc == ICMS_OK, "opening a memory database: %s", icms_error_name(rc));
        char json[128], *out = NULL;
        icms_request host = ICMS_REQUEST_INIT;
        host.actor_kind = ICMS_ACTOR_HOST;
        snprintf(json, sizeof json, "{\"name\":\"Init %d\",\"email\":\"init%d.%d@example.com\"}",
                 job->index, job->index, i);
        rc = icms_user_create(db, &host, json, &out);
        cJSON *doc = parse_out(out);
        bool named = doc && icms__json_get_string(doc, "id") != NULL;
        cJSON_Delete(doc);
        icms_close(db);
        EXPECT(&job->fail, rc == ICMS_OK && named, "user_create: %s", icms_error_name(rc));
        refs = icms_shutdown();
        EXPECT(&job->fail, refs >= 0, "icms_shutdown answered %d", refs);
    }
done:
    return NULL;
}

static void test_init_shutdown_race(void **state)
{
    (void)state;
    /* Nothing else holds the library: the count really goes to zero and back during the race. */
    assert_int_equal(icms_init(), 1);
    assert_int_equal(icms_shutdown(), 0);
    int threads = under_valgrind() ? 3 : MAX_THREADS;
    pthread_barrier_t start;
    assert_int_equal(pthread_barrier_init(&start, NULL, (unsigned)threads), 0);
    init_job jobs[MAX_THREADS];
    pthread_t t[MAX_THREADS];
    for (int i = 0; i < threads; i++) {
        jobs[i] = (init_job){.start = &start, .index = i, .iterations = under_valgrind() ? 5 : 50};
        assert_int_equal(pthread_create(&t[i], NULL, init_main, &jobs[i]), 0);
    }
    for (int i = 0; i < threads; i++)
        assert_int_equal(pthread_join(t[i], NULL), 0);
    pthread_barrier_destroy(&start);
    for (int i = 0; i < threads; i++)
        assert_no_failure(&jobs[i].fail, "an init thread");
    /* Every reference was given back: the count is zero again, and says so. */
    assert_icms(ICMS_ERROR, icms_shutdown());
    assert_int_equal(icms_init(), 1);
    assert_int_equal(icms_shutdown(), 0);
}

/* ---- icms_set_allocator racing icms_init ---- */

/* A counting allocator: every block it hands out must come back to it, and no other. */
static atomic_long counted_allocs, counted_frees;

static void *counted_malloc(size_t size, void *payload)
{
    (void)payload;
    atomic_fetch_add(&counted_allocs, 1);
    return malloc(size);
}

static void *counted_realloc(void *ptr, size_t size, void *payload)
{
    (void)payload;
    if (!ptr)
        atomic_fetch_add(&counted_allocs, 1);
    return realloc(ptr, size);
}

static void counted_free(void *ptr, void *payload)
{
    (void)payload;
    if (ptr)
        atomic_fetch_add(&counted_frees, 1);
    free(ptr);
}

typedef struct allocator_job {
    pthread_barrier_t *start;
    atomic_bool *stop;
    int swaps, refused;
    failure fail;
} allocator_job;

/* Swaps the allocator back and forth; refused (ICMS_EBUSY) whenever the library is in use. */
static void *allocator_main(void *arg)
{
    allocator_job *job = arg;
    icms_allocator counted = {ICMS_ALLOCATOR_VERSION, counted_malloc, counted_realloc,
                              counted_free, NULL};
    pthread_barrier_wait(job->start);
    while (!atomic_load(job->stop)) {
        int rc = icms_set_allocator(job->swaps % 2 ? NULL : &counted);
        EXPECT(&job->fail, rc == ICMS_OK || rc == ICMS_EBUSY, "icms_set_allocator: %s",
               icms_error_name(rc));
        if (rc == ICMS_OK)
            job->swaps++;
        else
            job->refused++;
    }
done:
    return NULL;
}

static void test_allocator_swap_races_init(void **state)
{
    (void)state;
    assert_int_equal(icms_init(), 1);
    assert_int_equal(icms_shutdown(), 0);
    atomic_store(&counted_allocs, 0);
    atomic_store(&counted_frees, 0);
    int threads = under_valgrind() ? 2 : 4;
    pthread_barrier_t start;
    assert_int_equal(pthread_barrier_init(&start, NULL, (unsigned)threads + 1), 0);
    atomic_bool stop;
    atomic_init(&stop, false);
    allocator_job swapper = {.start = &start, .stop = &stop};
    init_job jobs[MAX_THREADS];
    pthread_t t[MAX_THREADS], st;
    assert_int_equal(pthread_create(&st, NULL, allocator_main, &swapper), 0);
    for (int i = 0; i < threads; i++) {
        jobs[i] = (init_job){.start = &start, .index = i, .iterations = under_valgrind() ? 5 : 40};
        assert_int_equal(pthread_create(&t[i], NULL, init_main, &jobs[i]), 0);
    }
    for (int i = 0; i < threads; i++)
        assert_int_equal(pthread_join(t[i], NULL), 0);
    atomic_store(&stop, true);
    assert_int_equal(pthread_join(st, NULL), 0);
    pthread_barrier_destroy(&start);
    assert_no_failure(&swapper.fail, "the allocator thread");
    for (int i = 0; i < threads; i++)
        assert_no_failure(&jobs[i].fail, "an init thread");
    assert_icms_ok(icms_set_allocator(NULL));
    /* Never a block of one allocator given back to the other. */
    assert_int_equal(atomic_load(&counted_allocs), atomic_load(&counted_frees));
    printf("allocator swapped %d times, refused %d times while in use; %ld blocks counted\n",
           swapper.swaps, swapper.refused, atomic_load(&counted_allocs));
}

/* ---- UUIDv7 from many threads, the clock standing still or going back ---- */

#define UUID_MAX 4000

typedef struct uuid_job {
    pthread_barrier_t *start;
    icms_clock *clock;
    int count;
    uint8_t (*ids)[ICMS_UUID_BYTES];
    failure fail;
} uuid_job;

static void *uuid_main(void *arg)
{
    uuid_job *job = arg;
    pthread_barrier_wait(job->start);
    for (int i = 0; i < job->count; i++) {
        int rc = icms__uuid7_new(job->clock, job->ids[i]);
        EXPECT(&job->fail, rc == ICMS_OK, "uuid %d: %s", i, icms_error_name(rc));
        EXPECT(&job->fail, job->ids[i][6] >> 4 == 7 && (job->ids[i][8] & 0xc0) == 0x80,
               "uuid %d is not a version 7, RFC 9562 variant id", i);
        EXPECT(&job->fail, i == 0 || memcmp(job->ids[i - 1], job->ids[i], ICMS_UUID_BYTES) < 0,
               "uuid %d is not above the one before it on the same thread", i);
    }
done:
    return NULL;
}

/* A thread that moves the shared fake clock back and forth while ids are made. */
typedef struct clock_job {
    icms_clock *clock;
    atomic_bool stop;
} clock_job;

static void *clock_main(void *arg)
{
    clock_job *job = arg;
    for (int64_t tick = 0; !atomic_load(&job->stop); tick++) {
        icms_clock_fake_set(job->clock, FX_NOW + (tick % 7) - 3);
        sched_yield();
    }
    return NULL;
}

static int compare_uuid(const void *a, const void *b)
{
    return memcmp(a, b, ICMS_UUID_BYTES);
}

static void uuid_race(icms_clock *clock, bool move_clock)
{
    int threads = under_valgrind() ? 3 : MAX_THREADS;
    int per_thread = under_valgrind() ? 300 : UUID_MAX;
    uint8_t(*ids)[ICMS_UUID_BYTES] = calloc((size_t)(threads * per_thread), ICMS_UUID_BYTES);
    assert_non_null(ids);
    pthread_barrier_t start;
    assert_int_equal(pthread_barrier_init(&start, NULL, (unsigned)threads), 0);
    uuid_job jobs[MAX_THREADS];
    pthread_t t[MAX_THREADS], mover;
    clock_job cj = {.clock = clock};
    atomic_init(&cj.stop, false);
    if (move_clock)
        assert_int_equal(pthread_create(&mover, NULL, clock_main, &cj), 0);
    for (int i = 0; i < threads; i++) {
        jobs[i] = (uuid_job){.start = &start, .clock = clock, .count = per_thread,
                             .ids = ids + (size_t)i * per_thread};
        assert_int_equal(pthread_create(&t[i], NULL, uuid_main, &jobs[i]), 0);
    }
    for (int i = 0; i < threads; i++)
        assert_int_equal(pthread_join(t[i], NULL), 0);
    atomic_store(&cj.stop, true);
    if (move_clock)
        assert_int_equal(pthread_join(mover, NULL), 0);
    pthread_barrier_destroy(&start);
    for (int i = 0; i < threads; i++)
        assert_no_failure(&jobs[i].fail, "a uuid thread");
    qsort(ids, (size_t)(threads * per_thread), ICMS_UUID_BYTES, compare_uuid);
    for (int j = 1; j < threads * per_thread; j++)
        if (memcmp(ids[j - 1], ids[j], ICMS_UUID_BYTES) == 0)
            fail_msg("the same uuid was made twice");
    free(ids);
}

static void test_uuid_from_threads(void **state)
{
    (void)state;
    icms_clock *clock = NULL;
    /* The clock stands still: every id comes from the counter of one millisecond. */
    assert_icms_ok(icms_clock_fake_new(FX_NOW, &clock));
    uuid_race(clock, false);
    /* The clock jumps back and forth under the threads' feet. */
    uuid_race(clock, true);
    icms_clock_free(clock);
    /* The real clock. */
    uuid_race(NULL, false);
}

/* ---- the last error belongs to its thread ---- */

typedef struct error_job {
    pthread_barrier_t *start;
    icms_db *db;
    icms_request owner;
    int index, iterations;
    failure fail;
} error_job;

static void *error_main(void *arg)
{
    error_job *job = arg;
    char bad_uuid[64], expect_uuid[32], bad_project[160], expect_field[32];
    /* Failures whose messages name this thread: a uuid of 40 + index characters, a field. */
    memset(bad_uuid, 'a', sizeof bad_uuid);
    bad_uuid[40 + job->index] = '\0';
    snprintf(expect_uuid, sizeof expect_uuid, "got %d", 40 + job->index);
    snprintf(expect_field, sizeof expect_field, "thread_%d_field", job->index);
    snprintf(bad_project, sizeof bad_project, "{\"title\":\"T\",\"%s\":1}", expect_field);
    pthread_barrier_wait(job->start);
    EXPECT(&job->fail, icms_error_last()->code == ICMS_OK, "a new thread starts with an error");
    for (int i = 0; i < job->iterations; i++) {
        uint8_t id[ICMS_UUID_BYTES];
        int rc = icms_uuid_parse(bad_uuid, id, sizeof id);
        EXPECT(&job->fail, rc == ICMS_EINVALID, "icms_uuid_parse: %s", icms_error_name(rc));
        sched_yield(); /* let the others set theirs */
        const icms_error *e = icms_error_last();
        EXPECT(&job->fail, e->code == ICMS_EINVALID && strstr(e->message, expect_uuid),
               "the uuid error is not this thread's: %s", e->message);
        rc = icms_project_create(job->db, &job->owner, bad_project, NULL);
        EXPECT(&job->fail, rc == ICMS_EINVALID, "project_create: %s", icms_error_name(rc));
        sched_yield();
        e = icms_error_last();
        EXPECT(&job->fail, e->code == ICMS_EINVALID && strstr(e->message, expect_field),
               "the project error is not this thread's: %s", e->message);
        icms_error_clear();
        sched_yield();
        EXPECT(&job->fail, icms_error_last()->code == ICMS_OK,
               "after icms_error_clear another thread's error shows: %s",
               icms_error_last()->message);
    }
done:
    return NULL;
}

static void test_errors_stay_on_their_thread(void **state)
{
    (void)state;
    fx f;
    fx_open(&f, "threads_errors");
    /* The main thread's own error must survive the others' too. */
    icms__error(ICMS_EFORBIDDEN, "the main thread's error");
    int threads = under_valgrind() ? 3 : MAX_THREADS;
    pthread_barrier_t start;
    assert_int_equal(pthread_barrier_init(&start, NULL, (unsigned)threads), 0);
    error_job jobs[MAX_THREADS];
    pthread_t t[MAX_THREADS];
    for (int i = 0; i < threads; i++) {
        jobs[i] = (error_job){.start = &start, .db = f.db, .owner = f.owner.req, .index = i,
                              .iterations = under_valgrind() ? 10 : 200};
        assert_int_equal(pthread_create(&t[i], NULL, error_main, &jobs[i]), 0);
    }
    for (int i = 0; i < threads; i++)
        assert_int_equal(pthread_join(t[i], NULL), 0);
    pthread_barrier_destroy(&start);
    for (int i = 0; i < threads; i++)
        assert_no_failure(&jobs[i].fail, "an error thread");
    assert_int_equal(icms_error_last()->code, ICMS_EFORBIDDEN);
    assert_string_equal(icms_error_last()->message, "the main thread's error");
    fx_close(&f);
}

/* ---- handles of one file opened at once, from threads ---- */

typedef struct open_job {
    pthread_barrier_t *start;
    const char *path;
    int index;
    failure fail;
} open_job;

static void *open_main(void *arg)
{
    open_job *job = arg;
    icms_options options = ICMS_OPTIONS_INIT;
    options.path = job->path;
    options.sqlite_sync = ICMS_SQLITE_SYNC_OFF;
    icms_db *db = NULL;
    pthread_barrier_wait(job->start);
    int rc = icms_open(&db, &options);
    EXPECT(&job->fail, rc == ICMS_OK, "icms_open: %s", icms_error_name(rc));
    icms_request host = ICMS_REQUEST_INIT;
    host.actor_kind = ICMS_ACTOR_HOST;
    char json[128];
    snprintf(json, sizeof json, "{\"name\":\"Opener %d\",\"email\":\"opener%d@example.com\"}",
             job->index, job->index);
    rc = icms_user_create(db, &host, json, NULL);
    EXPECT(&job->fail, rc == ICMS_OK, "user_create: %s", icms_error_name(rc));
done:
    icms_close(db);
    return NULL;
}

/* Creating the file, its schema and its format stamp from threads at once: all agree. */
static void test_handles_open_one_new_file_at_once(void **state)
{
    (void)state;
    assert_true(icms_init() > 0);
    char path[4200];
    snprintf(path, sizeof path, "%s/icms.db", icms_test_tmpdir("threads_open"));
    int threads = under_valgrind() ? 3 : MAX_THREADS;
    pthread_barrier_t start;
    assert_int_equal(pthread_barrier_init(&start, NULL, (unsigned)threads), 0);
    open_job jobs[MAX_THREADS];
    pthread_t t[MAX_THREADS];
    for (int i = 0; i < threads; i++) {
        jobs[i] = (open_job){.start = &start, .path = path, .index = i};
        assert_int_equal(pthread_create(&t[i], NULL, open_main, &jobs[i]), 0);
    }
    for (int i = 0; i < threads; i++)
        assert_int_equal(pthread_join(t[i], NULL), 0);
    pthread_barrier_destroy(&start);
    for (int i = 0; i < threads; i++)
        assert_no_failure(&jobs[i].fail, "an opener");
    /* One database holding every opener's user: one user.created event each. */
    icms_options options = ICMS_OPTIONS_INIT;
    options.path = path;
    icms_db *db = NULL;
    assert_icms_ok(icms_open(&db, &options));
    icms_request host = ICMS_REQUEST_INIT;
    host.actor_kind = ICMS_ACTOR_HOST;
    char *out = NULL;
    assert_icms_ok(icms_events_read(db, &host, "check", 0, ICMS_EVENTS_READ_MAX, &out));
    cJSON *doc = fx_json(out);
    int created = 0;
    const cJSON *e;
    cJSON_ArrayForEach(e, cJSON_GetObjectItem(doc, "events"))
        created += strcmp(fx_str(e, "type"), "user.created") == 0;
    cJSON_Delete(doc);
    assert_int_equal(created, threads);
    icms_close(db);
    icms_shutdown();
}

/* ---- subscribers coming and going while commands dispatch ---- */

typedef struct churn {
    fx *f;
    pthread_barrier_t start;
    atomic_int writers_running;
    atomic_int seen_by_permanent; /* project.created seen by the subscriber that stays */
    atomic_int seen_by_passing;   /* by the ones that come and go */
} churn;

typedef struct churn_job {
    churn *c;
    int created;
    failure fail;
} churn_job;

static int count_permanent(const icms_event_view *e, void *payload)
{
    (void)e;
    atomic_fetch_add(&((churn *)payload)->seen_by_permanent, 1);
    return 0;
}

static int count_passing(const icms_event_view *e, void *payload)
{
    (void)e;
    atomic_fetch_add(&((churn *)payload)->seen_by_passing, 1);
    return 0;
}

static void *churn_writer(void *arg)
{
    churn_job *job = arg;
    fx *f = job->c->f;
    pthread_barrier_wait(&job->c->start);
    for (int i = 0; i < (under_valgrind() ? 3 : 15); i++) {
        int rc = icms_project_create(f->db, &f->owner.req, fx_project_json(30), NULL);
        EXPECT(&job->fail, rc == ICMS_OK, "project_create: %s", icms_error_name(rc));
        job->created++;
        rc = icms_tick(f->db, NULL);
        EXPECT(&job->fail, rc == ICMS_OK, "tick: %s", icms_error_name(rc));
    }
done:
    atomic_fetch_sub(&job->c->writers_running, 1);
    return NULL;
}

static void *churn_subscriber(void *arg)
{
    churn_job *job = arg;
    fx *f = job->c->f;
    pthread_barrier_wait(&job->c->start);
    while (atomic_load(&job->c->writers_running) > 0) {
        uint64_t id = 0;
        int rc = icms_events_subscribe(f->db, "project.*", count_passing, job->c, &id);
        EXPECT(&job->fail, rc == ICMS_OK, "subscribe: %s", icms_error_name(rc));
        icms_events_policy policy = ICMS_EVENTS_POLICY_INIT;
        policy.retention_ms = 30LL * FX_DAY;
        rc = icms_events_set_policy(f->db, &policy);
        EXPECT(&job->fail, rc == ICMS_OK, "set_policy: %s", icms_error_name(rc));
        sched_yield();
        rc = icms_events_unsubscribe(f->db, id);
        EXPECT(&job->fail, rc == ICMS_OK, "unsubscribe: %s", icms_error_name(rc));
        job->created++; /* here: subscriptions made */
    }
done:
    return NULL;
}

static void test_subscribers_come_and_go_during_dispatch(void **state)
{
    (void)state;
    fx f;
    fx_open(&f, "threads_churn");
    churn c = {.f = &f};
    atomic_init(&c.seen_by_permanent, 0);
    atomic_init(&c.seen_by_passing, 0);
    uint64_t permanent = 0;
    assert_icms_ok(icms_events_subscribe(f.db, "project.created", count_permanent, &c, &permanent));
    enum { WRITERS = 4, SUBSCRIBERS = 2 };
    atomic_init(&c.writers_running, WRITERS);
    assert_int_equal(pthread_barrier_init(&c.start, NULL, WRITERS + SUBSCRIBERS), 0);
    churn_job jobs[WRITERS + SUBSCRIBERS];
    pthread_t t[WRITERS + SUBSCRIBERS];
    for (int i = 0; i < WRITERS + SUBSCRIBERS; i++) {
        jobs[i] = (churn_job){.c = &c};
        assert_int_equal(pthread_create(&t[i], NULL, i < WRITERS ? churn_writer : churn_subscriber,
                                        &jobs[i]),
                         0);
    }
    for (int i = 0; i < WRITERS + SUBSCRIBERS; i++)
        assert_int_equal(pthread_join(t[i], NULL), 0);
    pthread_barrier_destroy(&c.start);
    int created = 0;
    for (int i = 0; i < WRITERS + SUBSCRIBERS; i++) {
        assert_no_failure(&jobs[i].fail, i < WRITERS ? "a writer" : "a subscriber");
        if (i < WRITERS)
            created += jobs[i].created;
    }
    /* The subscriber that stayed saw every project created, once; no callback failed. */
    assert_int_equal(atomic_load(&c.seen_by_permanent), created);
    assert_int_equal(icms__events_callback_failures(f.db), 0);
    assert_icms_ok(icms_events_unsubscribe(f.db, permanent));
    fx_close(&f);
}

/* ---- one auth handle: logins, tokens, refreshes and key rotations at once ---- */

typedef struct auth_shared {
    fx *f;
    icms_auth *auth;
    pthread_barrier_t start;
    atomic_int users_running;
    int rounds;
} auth_shared;

typedef struct auth_job {
    auth_shared *a;
    int index;
    int logins, refreshes, verified, commands, rotations;
    char user[37]; /* the user this thread signed in as */
    failure fail;
} auth_job;

/* The fields of a token pair this test needs (each buffer big enough for its token). */
typedef struct token_pair {
    char access[1024];
    char refresh[64];
    char user[37];
} token_pair;

static bool take_tokens(char *out, token_pair *p)
{
    cJSON *doc = parse_out(out);
    const char *access = icms__json_get_string(doc, "access_token");
    const char *refresh = icms__json_get_string(doc, "refresh_token");
    const char *user = icms__json_get_string(doc, "user_id");
    bool ok = access && refresh && user && strlen(access) < sizeof p->access &&
              strlen(refresh) < sizeof p->refresh && strlen(user) < sizeof p->user;
    if (ok) {
        strcpy(p->access, access);
        strcpy(p->refresh, refresh);
        strcpy(p->user, user);
    }
    cJSON_Delete(doc);
    return ok;
}

static void *auth_user_main(void *arg)
{
    auth_job *job = arg;
    auth_shared *a = job->a;
    char subject[32], email[64], password[32], *out = NULL;
    snprintf(subject, sizeof subject, "subject-%d", job->index);
    snprintf(email, sizeof email, "auth%d@example.com", job->index);
    snprintf(password, sizeof password, "password of %d", job->index);
    token_pair p;
    pthread_barrier_wait(&a->start);
    icms_auth_identity id = ICMS_AUTH_IDENTITY_INIT;
    id.provider = "google";
    id.subject = subject;
    id.email = email;
    id.email_verified = 1;
    int rc = icms_auth_login_external(a->auth, &a->f->anonymous, &id, &out);
    EXPECT(&job->fail, rc == ICMS_OK && take_tokens(out, &p), "login_external: %s",
           icms_error_name(rc));
    job->logins++;
    memcpy(job->user, p.user, sizeof job->user);
    icms_request self = ICMS_REQUEST_INIT;
    self.actor_id = p.user;
    rc = icms_auth_password_set(a->auth, &self, p.user, password);
    EXPECT(&job->fail, rc == ICMS_OK, "password_set: %s", icms_error_name(rc));
    for (int round = 0; round < a->rounds; round++) {
        rc = icms_auth_verify(a->auth, p.access, NULL);
        EXPECT(&job->fail, rc == ICMS_OK, "verify: %s", icms_error_name(rc));
        job->verified++;
        /* A command acting through the token: this thread's user, nobody else's. */
        icms_request bearer = ICMS_REQUEST_INIT;
        bearer.access_token = p.access;
        rc = icms_user_get(a->f->db, &bearer, p.user, &out);
        cJSON *doc = parse_out(out);
        const char *mail = icms__json_get_string(doc, "email");
        bool mine = mail && strcmp(mail, email) == 0;
        cJSON_Delete(doc);
        EXPECT(&job->fail, rc == ICMS_OK && mine, "user_get with a token: %s",
               icms_error_name(rc));
        job->commands++;
        if (round % 2 == 0) {
            rc = icms_auth_refresh(a->auth, &a->f->anonymous, p.refresh, &out);
            EXPECT(&job->fail, rc == ICMS_OK && take_tokens(out, &p), "refresh: %s",
                   icms_error_name(rc));
            job->refreshes++;
        } else {
            icms_auth_password_login login = ICMS_AUTH_PASSWORD_LOGIN_INIT;
            login.email = email;
            login.password = password;
            rc = icms_auth_login_password(a->auth, &a->f->anonymous, &login, &out);
            EXPECT(&job->fail, rc == ICMS_OK && take_tokens(out, &p), "login_password: %s",
                   icms_error_name(rc));
            job->logins++;
        }
    }
done:
    atomic_fetch_sub(&a->users_running, 1);
    return NULL;
}

static void *auth_rotator_main(void *arg)
{
    auth_job *job = arg;
    auth_shared *a = job->a;
    pthread_barrier_wait(&a->start);
    while (atomic_load(&a->users_running) > 0) {
        char *out = NULL;
        int rc = icms_auth_rotate_keys(a->auth, &a->f->host, &out);
        EXPECT(&job->fail, rc == ICMS_OK, "rotate_keys: %s", icms_error_name(rc));
        icms_free(out);
        rc = icms_auth_jwks(a->auth, &out);
        EXPECT(&job->fail, rc == ICMS_OK, "jwks: %s", icms_error_name(rc));
        icms_free(out);
        job->rotations++;
        pause_ms(5);
    }
done:
    return NULL;
}

static void test_auth_handle_shared_by_threads(void **state)
{
    (void)state;
    fx f;
    fx_open(&f, "threads_auth");
    auth_shared a = {.f = &f, .rounds = under_valgrind() ? 2 : 6};
    icms_auth_options o = ICMS_AUTH_OPTIONS_INIT;
    o.issuer = "https://icms.example";
    o.audience = "icms-api";
    o.password_opslimit = 1;
    o.password_memlimit = 8192; /* libsodium's minimum: Argon2id's cost is not the subject */
    uint8_t master[32];
    for (int i = 0; i < 32; i++)
        master[i] = (uint8_t)(i * 5 + 1);
    assert_icms_ok(icms_secrets_static_new(master, sizeof master, &o.secrets));
    assert_icms_ok(icms_auth_new(&a.auth, f.db, &o));
    int users = under_valgrind() ? 3 : 6;
    atomic_init(&a.users_running, users);
    assert_int_equal(pthread_barrier_init(&a.start, NULL, (unsigned)users + 1), 0);
    auth_job jobs[MAX_THREADS + 1];
    pthread_t t[MAX_THREADS + 1];
    for (int i = 0; i <= users; i++) {
        jobs[i] = (auth_job){.a = &a, .index = i};
        assert_int_equal(pthread_create(&t[i], NULL, i < users ? auth_user_main : auth_rotator_main,
                                        &jobs[i]),
                         0);
    }
    for (int i = 0; i <= users; i++)
        assert_int_equal(pthread_join(t[i], NULL), 0);
    pthread_barrier_destroy(&a.start);
    for (int i = 0; i <= users; i++) {
        assert_no_failure(&jobs[i].fail, i < users ? "a user thread" : "the rotator");
        if (i < users) {
            assert_int_equal(jobs[i].verified, a.rounds);
            assert_int_equal(jobs[i].commands, a.rounds);
        }
    }
    assert_true(jobs[users].rotations >= 1);
    /* One live session per login (a refresh keeps its session), each user only their own. */
    for (int i = 0; i < users; i++) {
        char *out = NULL;
        assert_icms_ok(icms_auth_sessions(f.db, &f.host, jobs[i].user, &out));
        cJSON *doc = fx_json(out);
        int live = 0;
        const cJSON *session;
        cJSON_ArrayForEach(session, cJSON_GetObjectItem(doc, "sessions"))
            live += strcmp(fx_str(session, "status"), "ACTIVE") == 0;
        assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(doc, "sessions")), jobs[i].logins);
        assert_int_equal(live, jobs[i].logins);
        cJSON_Delete(doc);
    }
    assert_icms_ok(icms_audit_verify(f.db, NULL, NULL, 0, NULL));
    icms_auth_free(a.auth);
    fx_close(&f);
}

/* ---- notifications routed and sent while commands run, the notifier swapped ---- */

#define SENT_MAX 512

/* What every notifier of the test saw sent, shared by the notifiers that replace each other. */
typedef struct sent_log {
    pthread_mutex_t lock;
    char ids[SENT_MAX][37];
    int count;
    bool overflow;
    atomic_int freed; /* notifiers released by the handle */
    icms_db *db;      /* send may use the handle (icms/sys/notifier.h): it reads the recipient */
    atomic_int recipients_missing;
} sent_log;

static int logging_send(icms_notifier *self, const icms_notification *n)
{
    sent_log *log = self->payload;
    icms_request host = ICMS_REQUEST_INIT;
    host.actor_kind = ICMS_ACTOR_HOST;
    char *out = NULL;
    if (icms_user_get(log->db, &host, n->user_id, &out) != ICMS_OK)
        atomic_fetch_add(&log->recipients_missing, 1);
    icms_free(out);
    pthread_mutex_lock(&log->lock);
    if (log->count < SENT_MAX)
        snprintf(log->ids[log->count++], 37, "%s", n->id);
    else
        log->overflow = true;
    pthread_mutex_unlock(&log->lock);
    return ICMS_OK;
}

static void logging_free(icms_notifier *self)
{
    sent_log *log = self->payload;
    atomic_fetch_add(&log->freed, 1);
    free(self);
}

static icms_notifier *logging_notifier(sent_log *log)
{
    icms_notifier *n = malloc(sizeof *n);
    if (!n)
        return NULL;
    *n = (icms_notifier)ICMS_NOTIFIER_INIT;
    n->send = logging_send;
    n->free = logging_free;
    n->payload = log;
    return n;
}

typedef struct notify_shared {
    fx *f;
    sent_log *log;
    char project[37];
    fx_user investors[MAX_THREADS];
    pthread_barrier_t start;
    atomic_int writers_running;
} notify_shared;

typedef struct notify_job {
    notify_shared *n;
    int index;
    int runs, swaps;
    failure fail;
} notify_job;

/* An investor asks to take part and the owner approves: one notification each way. */
static void *notify_writer(void *arg)
{
    notify_job *job = arg;
    notify_shared *n = job->n;
    fx *f = n->f;
    char *out = NULL;
    pthread_barrier_wait(&n->start);
    int rc = icms_participation_request(f->db, &n->investors[job->index].req, n->project,
                                        "{\"type\":\"PROFIT\",\"capital\":1000}", &out);
    cJSON *doc = parse_out(out);
    char id[37];
    copy_id(id, doc, "id");
    cJSON_Delete(doc);
    EXPECT(&job->fail, rc == ICMS_OK, "participation_request: %s", icms_error_name(rc));
    rc = icms_participation_approve(f->db, &f->owner.req, id, NULL);
    EXPECT(&job->fail, rc == ICMS_OK, "participation_approve: %s", icms_error_name(rc));
done:
    atomic_fetch_sub(&n->writers_running, 1);
    return NULL;
}

/* Runs notifications (and ticks) until the writers are done; the last one swaps notifiers too. */
static void *notify_runner(void *arg)
{
    notify_job *job = arg;
    notify_shared *n = job->n;
    pthread_barrier_wait(&n->start);
    while (atomic_load(&n->writers_running) > 0) {
        int rc = job->index == 0 ? icms_notify_run(n->f->db, NULL) : icms_tick(n->f->db, NULL);
        EXPECT(&job->fail, rc == ICMS_OK, "notify_run or tick: %s", icms_error_name(rc));
        job->runs++;
        if (job->index == 1) {
            rc = icms_notify_set_notifier(n->f->db, logging_notifier(n->log));
            EXPECT(&job->fail, rc == ICMS_OK, "set_notifier: %s", icms_error_name(rc));
            job->swaps++;
        }
        pause_ms(1);
    }
done:
    return NULL;
}

static void test_notifications_sent_once_under_threads(void **state)
{
    (void)state;
    fx f;
    fx_open(&f, "threads_notify");
    sent_log *log = calloc(1, sizeof *log);
    assert_non_null(log);
    pthread_mutex_init(&log->lock, NULL);
    atomic_init(&log->freed, 0);
    atomic_init(&log->recipients_missing, 0);
    log->db = f.db;
    notify_shared n = {.f = &f, .log = log};
    int writers = under_valgrind() ? 3 : MAX_THREADS;
    for (int i = 0; i < writers; i++)
        fx_add_user(&f, &n.investors[i], ICMS_ROLE_INVESTOR, "VERIFIED");
    fx_published_project(&f, n.project);
    assert_icms_ok(icms_notify_set_notifier(f.db, logging_notifier(log)));
    enum { RUNNERS = 2 };
    atomic_init(&n.writers_running, writers);
    assert_int_equal(pthread_barrier_init(&n.start, NULL, (unsigned)(writers + RUNNERS)), 0);
    notify_job jobs[MAX_THREADS + RUNNERS];
    pthread_t t[MAX_THREADS + RUNNERS];
    for (int i = 0; i < writers + RUNNERS; i++) {
        jobs[i] = (notify_job){.n = &n, .index = i < writers ? i : i - writers};
        assert_int_equal(pthread_create(&t[i], NULL, i < writers ? notify_writer : notify_runner,
                                        &jobs[i]),
                         0);
    }
    for (int i = 0; i < writers + RUNNERS; i++)
        assert_int_equal(pthread_join(t[i], NULL), 0);
    pthread_barrier_destroy(&n.start);
    for (int i = 0; i < writers + RUNNERS; i++)
        assert_no_failure(&jobs[i].fail, i < writers ? "a writer" : "a runner");
    /* Whatever is left goes out now. */
    assert_icms_ok(icms_notify_run(f.db, NULL));
    /*
     * Each investor's request told the owner, each approval told the investor,
     * by email and by push (the default channels): once each.
     */
    assert_false(log->overflow);
    assert_int_equal(log->count, 2 * 2 * writers);
    assert_int_equal(atomic_load(&log->recipients_missing), 0);
    qsort(log->ids, (size_t)log->count, sizeof log->ids[0], compare_text);
    for (int i = 1; i < log->count; i++)
        if (strcmp(log->ids[i - 1], log->ids[i]) == 0)
            fail_msg("notification %s was sent twice", log->ids[i]);
    char *out = NULL;
    assert_icms_ok(icms_notify_list(f.db, &f.host, "SENT", NULL, &out));
    cJSON *doc = fx_json(out);
    assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(doc, "items")), log->count);
    cJSON_Delete(doc);
    /* Every notifier replaced was released by the handle, and the last one is at close. */
    assert_int_equal(atomic_load(&log->freed), jobs[writers + 1].swaps);
    fx_close(&f);
    assert_int_equal(atomic_load(&log->freed), jobs[writers + 1].swaps + 1);
    pthread_mutex_destroy(&log->lock);
    free(log);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_shared_handle_sqlite),
        cmocka_unit_test(test_shared_handle_memory_store),
        cmocka_unit_test(test_init_shutdown_race),
        cmocka_unit_test(test_allocator_swap_races_init),
        cmocka_unit_test(test_uuid_from_threads),
        cmocka_unit_test(test_errors_stay_on_their_thread),
        cmocka_unit_test(test_handles_open_one_new_file_at_once),
        cmocka_unit_test(test_subscribers_come_and_go_during_dispatch),
        cmocka_unit_test(test_auth_handle_shared_by_threads),
        cmocka_unit_test(test_notifications_sent_once_under_threads),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
