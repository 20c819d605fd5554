/*
 * Notifications: the routing table, recipients from the store, user
 * preferences, delivery through the notifier port with retries, backoff
 * and dead-lettering on the fake clock, and a sender that dies mid-send.
 */
#include "support/test_support.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "app/db.h"
#include "app/notify_doc.h"
#include "core/core.h"
#include "core/json.h"
#include "core/uuid.h"
#include "events/outbox.h"
#include "events_fixture.h"
#include "icms/participations.h"
#include "icms/projects.h"
#include "icms/sys/notifier.h"
#include "icms/sys/store.h"
#include "support/fault_store.h"

#define MAX_SENT 128

typedef struct sent {
    char id[37], user[37], channel[8], template_key[96], address[96], data[2048];
    unsigned attempt;
} sent;

typedef struct rec {
    int fail_code; /* what send answers; ICMS_OK delivers */
    int count;
    sent items[MAX_SENT];
    int kill_fd; /* >= 0: write the id there and die (a sender crash) */
} rec;

static int send_cb(icms_notifier *self, const icms_notification *n)
{
    rec *r = self->payload;
    assert_int_equal(n->version, ICMS_NOTIFICATION_VERSION);
    if (r->kill_fd >= 0) {
        if (write(r->kill_fd, n->id, 36) != 36)
            _exit(98);
        raise(SIGKILL);
    }
    if (r->count < MAX_SENT) {
        sent *s = &r->items[r->count++];
        snprintf(s->id, sizeof s->id, "%s", n->id);
        snprintf(s->user, sizeof s->user, "%s", n->user_id);
        snprintf(s->channel, sizeof s->channel, "%s", n->channel);
        snprintf(s->template_key, sizeof s->template_key, "%s", n->template_key);
        snprintf(s->address, sizeof s->address, "%s", n->address ? n->address : "");
        snprintf(s->data, sizeof s->data, "%s", n->data_json);
        s->attempt = n->attempt;
    }
    if (r->fail_code)
        return icms__error(r->fail_code, "the mail relay said no");
    return ICMS_OK;
}

static void free_notifier(icms_notifier *self)
{
    free(self);
}

static void set_notifier(icms_db *db, rec *r)
{
    icms_notifier *n = calloc(1, sizeof *n);
    *n = (icms_notifier)ICMS_NOTIFIER_INIT;
    n->send = send_cb;
    n->free = free_notifier;
    n->payload = r;
    assert_icms_ok(icms_notify_set_notifier(db, n));
}

/* 4 attempts, 1 s doubling up to 8 s, a sender holds a notification for 60 s. */
static void set_policy(icms_db *db)
{
    icms_events_policy policy = ICMS_EVENTS_POLICY_INIT;
    policy.notify_max_attempts = 4;
    policy.notify_base_delay_ms = 1000;
    policy.notify_max_delay_ms = 8000;
    policy.notify_lease_ms = 60000;
    assert_icms_ok(icms_events_set_policy(db, &policy));
}

typedef struct nfx {
    fx f;
    rec r;
} nfx;

static int setup(void **state)
{
    static int n;
    nfx *t = calloc(1, sizeof *t);
    char name[32];
    snprintf(name, sizeof name, "events_notify_%d", n++);
    fx_open(&t->f, name);
    t->r.kill_fd = -1;
    set_notifier(t->f.db, &t->r);
    set_policy(t->f.db);
    *state = t;
    return 0;
}

static int teardown(void **state)
{
    nfx *t = *state;
    fx_close(&t->f);
    free(t);
    return 0;
}

static cJSON *run(fx *f)
{
    char *out = NULL;
    assert_icms_ok(icms_notify_run(f->db, &out));
    return fx_json(out);
}

/* How many sends went to user with template on channel (NULL: any channel). */
static int sent_to(const rec *r, const fx_user *u, const char *template_key, const char *channel)
{
    int n = 0;
    for (int i = 0; i < r->count; i++)
        if (strcmp(r->items[i].user, u->id) == 0 &&
            strcmp(r->items[i].template_key, template_key) == 0 &&
            (!channel || strcmp(r->items[i].channel, channel) == 0))
            n++;
    return n;
}

static void test_participation_routes(void **state)
{
    nfx *t = *state;
    fx *f = &t->f;
    char project[37], p1[37], p2[37], *out = NULL;
    fx_published_project(f, project);
    fx_request_profit(f, &f->investor, project, 100000000, p1);
    cJSON *report = run(f);
    assert_int_equal(fx_int(report, "routed"), 3);  /* created, published, requested */
    assert_int_equal(fx_int(report, "created"), 2); /* the owner, by email and push */
    assert_int_equal(fx_int(report, "sent"), 2);
    cJSON_Delete(report);
    assert_int_equal(sent_to(&t->r, &f->owner, "participation.requested.owner", "email"), 1);
    assert_int_equal(sent_to(&t->r, &f->owner, "participation.requested.owner", "push"), 1);
    /* The email goes to the address in the user's record; push carries no address. */
    for (int i = 0; i < 2; i++) {
        const sent *s = &t->r.items[i];
        if (strcmp(s->channel, "email") == 0)
            assert_non_null(strstr(s->address, "@example.com"));
        else
            assert_string_equal(s->address, "");
        cJSON *data = fx_json(strdup(s->data));
        assert_string_equal(fx_str(data, "project_id"), project);
        assert_string_equal(fx_str(data, "project_title"), "Olive oil from Crete");
        assert_string_equal(fx_str(data, "event_type"), "participation.requested");
        assert_string_equal(fx_str(data, "role"), "owner");
        assert_string_equal(fx_str(data, "subject"), p1);
        cJSON_Delete(data);
    }
    assert_icms_ok(icms_participation_approve(f->db, &f->owner.req, p1, NULL));
    fx_request_profit(f, &f->investor2, project, 100000000, p2);
    assert_icms_ok(icms_participation_reject(f->db, &f->owner.req, p2, "not now", NULL));
    report = run(f);
    cJSON_Delete(report);
    assert_int_equal(sent_to(&t->r, &f->investor, "participation.approved.investor", NULL), 2);
    assert_int_equal(sent_to(&t->r, &f->owner, "participation.requested.owner", NULL), 4);
    assert_int_equal(sent_to(&t->r, &f->investor2, "participation.rejected.investor", NULL), 2);
    assert_int_equal(t->r.count, 8);
    /* Cancelled: the owner and every participant; a rejected investor is none. */
    assert_icms_ok(icms_project_cancel(f->db, &f->owner.req, project, "supplier failed", &out));
    icms_free(out);
    report = run(f);
    cJSON_Delete(report);
    assert_int_equal(sent_to(&t->r, &f->owner, "project.cancelled.owner", NULL), 2);
    assert_int_equal(sent_to(&t->r, &f->investor, "project.cancelled.participant", NULL), 2);
    assert_int_equal(sent_to(&t->r, &f->investor2, "project.cancelled.participant", NULL), 0);
    assert_int_equal(t->r.count, 12);
    /* Running again sends nothing twice. */
    report = run(f);
    assert_int_equal(fx_int(report, "routed"), 0);
    assert_int_equal(fx_int(report, "sent"), 0);
    cJSON_Delete(report);
    assert_int_equal(t->r.count, 12);
}

/* ---- the rest of the table, on records written straight into the store ---- */

struct put {
    const char *type;
    uint8_t id[16];
    cJSON *doc;
    const char *event_type;
    const char *subject;
    icms_db *db;
};

static int put_and_emit(icms__tx *tx, void *arg)
{
    struct put *p = arg;
    int rc = ICMS_OK;
    if (p->doc) {
        icms__record_type type = {p->type, NULL, 0};
        rc = icms__record_put(tx, &type, p->id, p->doc);
    }
    icms__event e = {p->event_type, p->subject, NULL, NULL};
    if (rc == ICMS_OK)
        rc = icms__outbox_append(tx, p->db->clock, FX_NOW, &e, NULL);
    return rc;
}

static void emit(fx *f, const char *event_type, const char *subject)
{
    struct put p = {NULL, {0}, NULL, event_type, subject, f->db};
    assert_icms_ok(icms__db_write(f->db, put_and_emit, &p));
}

/* A payment or refund record of investor on project, and an event about it. */
static void emit_money(fx *f, const char *record_type, const char *event_type,
                       const fx_user *investor, const char *project)
{
    struct put p = {record_type, {0}, cJSON_CreateObject(), event_type, NULL, f->db};
    char id[37];
    assert_icms_ok(icms__uuid7_new(f->db->clock, p.id));
    icms__uuid_format(p.id, id);
    cJSON_AddStringToObject(p.doc, "id", id);
    cJSON_AddStringToObject(p.doc, "project_id", project);
    cJSON_AddStringToObject(p.doc, "investor_id", investor->id);
    icms__json_add_int64(p.doc, "amount", 250000000);
    p.subject = id;
    assert_icms_ok(icms__db_write(f->db, put_and_emit, &p));
    cJSON_Delete(p.doc);
}

/* A release of project to its owner, and an event about it. */
static void emit_release(fx *f, const char *event_type, const char *project)
{
    struct put p = {"release", {0}, cJSON_CreateObject(), event_type, NULL, f->db};
    char id[37];
    assert_icms_ok(icms__uuid7_new(f->db->clock, p.id));
    icms__uuid_format(p.id, id);
    cJSON_AddStringToObject(p.doc, "id", id);
    cJSON_AddStringToObject(p.doc, "project_id", project);
    cJSON_AddStringToObject(p.doc, "owner_id", f->owner.id);
    icms__json_add_int64(p.doc, "amount", 150000000);
    p.subject = id;
    assert_icms_ok(icms__db_write(f->db, put_and_emit, &p));
    cJSON_Delete(p.doc);
}

static void test_routing_table(void **state)
{
    nfx *t = *state;
    fx *f = &t->f;
    /* The table itself, as data. */
    static const struct {
        const char *type;
        unsigned to;
    } want[] = {
        {"participation.requested", ICMS__TO_OWNER},
        {"participation.approved", ICMS__TO_INVESTOR},
        {"participation.rejected", ICMS__TO_INVESTOR},
        {"payment.confirmed", ICMS__TO_INVESTOR | ICMS__TO_OWNER},
        {"project.approved", ICMS__TO_PARTICIPANTS | ICMS__TO_OWNER},
        {"project.shipped", ICMS__TO_PARTICIPANTS | ICMS__TO_OWNER},
        {"project.completed", ICMS__TO_PARTICIPANTS | ICMS__TO_OWNER},
        {"project.cancelled", ICMS__TO_PARTICIPANTS | ICMS__TO_OWNER},
        {"project.expired", ICMS__TO_PARTICIPANTS | ICMS__TO_OWNER},
        {"payout.due", ICMS__TO_INVESTOR},
        {"payout.paid", ICMS__TO_INVESTOR},
        {"refund.due", ICMS__TO_INVESTOR},
        {"refund.paid", ICMS__TO_INVESTOR},
        {"refund.voided", ICMS__TO_INVESTOR},
        {"release.due", ICMS__TO_OWNER},
        {"release.paid", ICMS__TO_OWNER},
        {"release.voided", ICMS__TO_OWNER},
    };
    assert_int_equal(icms__route_count, sizeof want / sizeof *want);
    for (size_t i = 0; i < sizeof want / sizeof *want; i++) {
        const icms__route *r = icms__route_find(want[i].type);
        assert_non_null(r);
        assert_int_equal(r->to, want[i].to);
    }
    static const char *silent[] = {"project.created",
                                   "project.published",
                                   "project.updated",
                                   "participation.withdrawn",
                                   "participation.cancelled",
                                   "payment.initiated",
                                   "payment.failed",
                                   "project.distributed",
                                   "payment.lost",
                                   "user.created",
                                   "session.invalidated"};
    for (size_t i = 0; i < sizeof silent / sizeof *silent; i++)
        assert_null(icms__route_find(silent[i]));

    /* Each route delivered, recipients from the store. */
    char project[37], p1[37], p2[37];
    fx_published_project(f, project);
    fx_request_profit(f, &f->investor, project, 100000000, p1);
    fx_request_profit(f, &f->investor2, project, 100000000, p2);
    assert_icms_ok(icms_participation_approve(f->db, &f->owner.req, p1, NULL));
    assert_icms_ok(icms_participation_approve(f->db, &f->owner.req, p2, NULL));
    cJSON_Delete(run(f));
    int base = t->r.count;
    static const char *project_types[] = {"project.approved", "project.shipped",
                                          "project.completed", "project.expired"};
    for (size_t i = 0; i < 4; i++)
        emit(f, project_types[i], project);
    emit_money(f, "payment", "payment.confirmed", &f->investor, project);
    emit_money(f, "refund", "refund.due", &f->investor2, project);
    emit_money(f, "refund", "refund.paid", &f->investor2, project);
    emit_money(f, "payout", "payout.due", &f->investor, project);
    emit_money(f, "payout", "payout.paid", &f->investor, project);
    static const char *release_types[] = {"release.due", "release.paid", "release.voided"};
    for (size_t i = 0; i < 3; i++)
        emit_release(f, release_types[i], project);
    emit(f, "project.updated", project); /* routes to nobody */
    cJSON *report = run(f);
    assert_int_equal(fx_int(report, "routed"), 13);
    cJSON_Delete(report);
    char key[96];
    for (size_t i = 0; i < 4; i++) {
        snprintf(key, sizeof key, "%s.owner", project_types[i]);
        assert_int_equal(sent_to(&t->r, &f->owner, key, NULL), 2);
        snprintf(key, sizeof key, "%s.participant", project_types[i]);
        assert_int_equal(sent_to(&t->r, &f->investor, key, NULL), 2);
        assert_int_equal(sent_to(&t->r, &f->investor2, key, NULL), 2);
        assert_int_equal(sent_to(&t->r, &f->stranger, key, NULL), 0);
    }
    assert_int_equal(sent_to(&t->r, &f->investor, "payment.confirmed.investor", NULL), 2);
    assert_int_equal(sent_to(&t->r, &f->owner, "payment.confirmed.owner", NULL), 2);
    assert_int_equal(sent_to(&t->r, &f->investor2, "refund.due.investor", NULL), 2);
    /* Refunds and payouts: the investor the record is for, no one else. */
    assert_int_equal(sent_to(&t->r, &f->investor2, "refund.paid.investor", NULL), 2);
    assert_int_equal(sent_to(&t->r, &f->investor, "payout.due.investor", NULL), 2);
    assert_int_equal(sent_to(&t->r, &f->investor, "payout.paid.investor", NULL), 2);
    for (int i = base; i < t->r.count; i++)
        if (strncmp(t->r.items[i].template_key, "payout.", 7) == 0)
            assert_string_equal(t->r.items[i].user, f->investor.id);
        else if (strncmp(t->r.items[i].template_key, "refund.", 7) == 0)
            assert_string_equal(t->r.items[i].user, f->investor2.id);
    /* A release is the project owner's business alone, participants hear nothing of it. */
    for (size_t i = 0; i < 3; i++) {
        snprintf(key, sizeof key, "%s.owner", release_types[i]);
        assert_int_equal(sent_to(&t->r, &f->owner, key, NULL), 2);
    }
    for (int i = base; i < t->r.count; i++)
        if (strncmp(t->r.items[i].template_key, "release.", 8) == 0) {
            assert_string_equal(t->r.items[i].user, f->owner.id);
            cJSON *data = fx_json(strdup(t->r.items[i].data));
            assert_string_equal(fx_str(data, "project_id"), project);
            assert_string_equal(fx_str(data, "role"), "owner");
            assert_int_equal(fx_int(data, "amount"), 150000000);
            cJSON_Delete(data);
        }
    assert_int_equal(t->r.count - base, 4 * 6 + 4 + 2 + 3 * 2 + 3 * 2);
    /* The amount travels with money notifications. */
    for (int i = base; i < t->r.count; i++)
        if (strstr(t->r.items[i].template_key, "refund.") ||
            strstr(t->r.items[i].template_key, "payout."))
            assert_non_null(strstr(t->r.items[i].data, "\"amount\":250000000"));
}

static void test_preferences(void **state)
{
    nfx *t = *state;
    fx *f = &t->f;
    char *out = NULL;
    assert_icms_ok(icms_notify_prefs_get(f->db, &f->owner.req, f->owner.id, &out));
    cJSON *p = fx_json(out);
    assert_true(cJSON_IsTrue(cJSON_GetObjectItem(p, "email")));
    assert_true(cJSON_IsTrue(cJSON_GetObjectItem(p, "push")));
    assert_true(cJSON_IsFalse(cJSON_GetObjectItem(p, "sms")));
    cJSON_Delete(p);
    assert_icms_ok(icms_notify_prefs_set(f->db, &f->owner.req, f->owner.id,
                                         "{\"email\":false,\"sms\":true}", &out));
    p = fx_json(out);
    assert_true(cJSON_IsFalse(cJSON_GetObjectItem(p, "email")));
    assert_true(cJSON_IsTrue(cJSON_GetObjectItem(p, "push")));
    assert_true(cJSON_IsTrue(cJSON_GetObjectItem(p, "sms")));
    cJSON_Delete(p);
    /* Others may not read or change them; admins may. */
    assert_icms(ICMS_ENOTFOUND, icms_notify_prefs_get(f->db, &f->investor.req, f->owner.id, &out));
    assert_icms(ICMS_ENOTFOUND, icms_notify_prefs_set(f->db, &f->investor.req, f->owner.id,
                                                      "{\"push\":false}", &out));
    assert_icms(ICMS_EFORBIDDEN, icms_notify_prefs_get(f->db, &f->anonymous, f->owner.id, &out));
    assert_icms_ok(icms_notify_prefs_get(f->db, &f->admin.req, f->owner.id, &out));
    icms_free(out);
    static const char *bad[] = {"", "[]", "{\"email\":1}", "{\"fax\":true}", "{\"sms\":null}"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
        assert_icms(ICMS_EINVALID,
                    icms_notify_prefs_set(f->db, &f->owner.req, f->owner.id, bad[i], &out));
    assert_icms(ICMS_EINVALID, icms_notify_prefs_get(f->db, &f->owner.req, "nope", &out));
    assert_icms(
        ICMS_ENOTFOUND,
        icms_notify_prefs_get(f->db, &f->admin.req, "01900000-0000-7000-8000-000000000000", &out));
    /* The channels in force when routing: push, and sms, which is skipped without a phone. */
    char project[37], p1[37];
    fx_published_project(f, project);
    fx_request_profit(f, &f->investor, project, 100000000, p1);
    cJSON *report = run(f);
    assert_int_equal(fx_int(report, "created"), 2);
    assert_int_equal(fx_int(report, "sent"), 1);
    assert_int_equal(fx_int(report, "skipped"), 1);
    cJSON_Delete(report);
    assert_int_equal(sent_to(&t->r, &f->owner, "participation.requested.owner", "push"), 1);
    assert_int_equal(t->r.count, 1);
    assert_icms_ok(icms_notify_list(f->db, &f->host, "SKIPPED", NULL, &out));
    cJSON *skipped = fx_json(out);
    const cJSON *item = cJSON_GetArrayItem(cJSON_GetObjectItem(skipped, "items"), 0);
    assert_string_equal(fx_str(item, "channel"), "sms");
    assert_non_null(strstr(fx_str(item, "last_error"), "phone"));
    cJSON_Delete(skipped);
}

static void owner_email_only(fx *f)
{
    assert_icms_ok(
        icms_notify_prefs_set(f->db, &f->owner.req, f->owner.id, "{\"push\":false}", NULL));
}

static void test_retry_backoff_dead_letter(void **state)
{
    nfx *t = *state;
    fx *f = &t->f;
    owner_email_only(f);
    t->r.fail_code = ICMS_ETRANSPORT;
    char project[37], p1[37], *out = NULL;
    fx_published_project(f, project);
    fx_request_profit(f, &f->investor, project, 100000000, p1);
    cJSON *report = run(f);
    assert_int_equal(fx_int(report, "failed"), 1);
    assert_int_equal(fx_int(report, "sent"), 0);
    cJSON_Delete(report);
    assert_int_equal(t->r.count, 1);
    /* Waits 1 s, 2 s, 4 s between attempts; nothing goes early. */
    static const int64_t waits[] = {1000, 2000, 4000};
    for (int i = 0; i < 3; i++) {
        assert_icms_ok(icms_clock_fake_advance(f->clock, waits[i] - 1));
        cJSON_Delete(run(f));
        assert_int_equal(t->r.count, i + 1);
        assert_icms_ok(icms_clock_fake_advance(f->clock, 1));
        cJSON_Delete(run(f));
        assert_int_equal(t->r.count, i + 2);
    }
    for (int i = 0; i < 4; i++) {
        assert_string_equal(t->r.items[i].id, t->r.items[0].id); /* one id to dedupe on */
        assert_int_equal(t->r.items[i].attempt, i + 1);
    }
    /* The fourth failure was the last: dead-lettered, never tried again. */
    assert_icms_ok(icms_clock_fake_advance(f->clock, 24 * 3600 * 1000LL));
    report = run(f);
    assert_int_equal(fx_int(report, "sent") + fx_int(report, "failed"), 0);
    cJSON_Delete(report);
    assert_int_equal(t->r.count, 4);
    assert_icms_ok(icms_notify_list(f->db, &f->admin.req, "DEAD", NULL, &out));
    cJSON *dead = fx_json(out);
    const cJSON *items = cJSON_GetObjectItem(dead, "items");
    assert_int_equal(cJSON_GetArraySize(items), 1);
    const cJSON *d = cJSON_GetArrayItem(items, 0);
    assert_string_equal(fx_str(d, "id"), t->r.items[0].id);
    assert_int_equal(fx_int(d, "attempts"), 4);
    assert_non_null(strstr(fx_str(d, "last_error"), "ICMS_ETRANSPORT"));
    assert_non_null(strstr(fx_str(d, "last_error"), "mail relay"));
    /* An operator puts it back; the relay works again; it goes out with the same id. */
    assert_icms(ICMS_EFORBIDDEN, icms_notify_retry(f->db, &f->owner.req, fx_str(d, "id"), &out));
    assert_icms(ICMS_EFORBIDDEN, icms_notify_list(f->db, &f->owner.req, "DEAD", NULL, &out));
    assert_icms_ok(icms_notify_retry(f->db, &f->admin.req, fx_str(d, "id"), &out));
    icms_free(out);
    assert_icms(ICMS_EINVALID_TRANSITION,
                icms_notify_retry(f->db, &f->admin.req, fx_str(d, "id"), &out));
    assert_icms(ICMS_ENOTFOUND, icms_notify_retry(f->db, &f->admin.req,
                                                  "01900000-0000-7000-8000-000000000000", &out));
    assert_icms(ICMS_EINVALID, icms_notify_retry(f->db, &f->admin.req, "x", &out));
    assert_icms(ICMS_EINVALID, icms_notify_list(f->db, &f->admin.req, "LOST", NULL, &out));
    t->r.fail_code = ICMS_OK;
    report = run(f);
    assert_int_equal(fx_int(report, "sent"), 1);
    cJSON_Delete(report);
    assert_string_equal(t->r.items[4].id, t->r.items[0].id);
    assert_int_equal(t->r.items[4].attempt, 1);
    assert_icms_ok(icms_notify_list(f->db, &f->admin.req, "SENT", NULL, &out));
    cJSON *sent_list = fx_json(out);
    assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(sent_list, "items")), 1);
    cJSON_Delete(sent_list);
    cJSON_Delete(dead);
}

static void test_permanent_failure_is_dead_at_once(void **state)
{
    nfx *t = *state;
    fx *f = &t->f;
    owner_email_only(f);
    t->r.fail_code = ICMS_EINVALID;
    char project[37], p1[37];
    fx_published_project(f, project);
    fx_request_profit(f, &f->investor, project, 100000000, p1);
    cJSON *report = run(f);
    assert_int_equal(fx_int(report, "dead"), 1);
    cJSON_Delete(report);
    assert_icms_ok(icms_clock_fake_advance(f->clock, 24 * 3600 * 1000LL));
    cJSON_Delete(run(f));
    assert_int_equal(t->r.count, 1);
}

static void test_tick_and_no_notifier(void **state)
{
    nfx *t = *state;
    fx *f = &t->f;
    owner_email_only(f);
    char project[37], p1[37], *out = NULL;
    fx_published_project(f, project);
    fx_request_profit(f, &f->investor, project, 100000000, p1);
    assert_icms_ok(icms_tick(f->db, &out));
    cJSON *report = fx_json(out);
    const cJSON *n = cJSON_GetObjectItem(report, "notifications");
    assert_int_equal(fx_int(n, "sent"), 1);
    cJSON_Delete(report);
    assert_int_equal(t->r.count, 1);
    /* Without a notifier, run refuses and tick routes nothing: events wait. */
    assert_icms_ok(icms_notify_set_notifier(f->db, NULL));
    assert_icms(ICMS_EINVALID, icms_notify_run(f->db, &out));
    assert_null(out);
    fx_request_profit(f, &f->investor2, project, 100000000, p1);
    assert_icms_ok(icms_tick(f->db, NULL));
    set_notifier(f->db, &t->r);
    cJSON_Delete(run(f));
    assert_int_equal(t->r.count, 2);
    /* A notifier of the wrong version is refused (and released). */
    icms_notifier *bad = calloc(1, sizeof *bad);
    *bad = (icms_notifier)ICMS_NOTIFIER_INIT;
    bad->version = 99;
    bad->send = send_cb;
    bad->free = free_notifier;
    assert_icms(ICMS_EINVALID, icms_notify_set_notifier(f->db, bad));
    icms_events_policy policy = ICMS_EVENTS_POLICY_INIT;
    policy.notify_base_delay_ms = -1;
    assert_icms(ICMS_EINVALID, icms_events_set_policy(f->db, &policy));
    policy = (icms_events_policy)ICMS_EVENTS_POLICY_INIT;
    policy.version = 2;
    assert_icms(ICMS_EVERSION, icms_events_set_policy(f->db, &policy));
}

static void test_sender_dies_mid_send(void **state)
{
    nfx *t = *state;
    fx *f = &t->f;
    owner_email_only(f);
    char project[37], p1[37];
    fx_published_project(f, project);
    fx_request_profit(f, &f->investor, project, 100000000, p1);
    int fds[2];
    assert_int_equal(pipe(fds), 0);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        close(fds[0]);
        icms_options options = ICMS_OPTIONS_INIT;
        options.path = f->path;
        options.sqlite_sync = ICMS_SQLITE_SYNC_OFF;
        icms_clock_fake_new(FX_NOW, &options.clock);
        icms_db *db = NULL;
        if (icms_open(&db, &options))
            _exit(90);
        static rec killer;
        killer.kill_fd = fds[1];
        set_notifier(db, &killer);
        set_policy(db);
        icms_notify_run(db, NULL);
        _exit(91); /* not reached: send kills the process */
    }
    close(fds[1]);
    char id[37] = {0};
    assert_int_equal(read(fds[0], id, 36), 36);
    close(fds[0]);
    int status = 0;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFSIGNALED(status));
    /* Held by the dead sender's lease, then sent again with the same id. */
    cJSON_Delete(run(f));
    assert_int_equal(t->r.count, 0);
    assert_icms_ok(icms_clock_fake_advance(f->clock, 60000));
    cJSON_Delete(run(f));
    assert_int_equal(t->r.count, 1);
    assert_string_equal(t->r.items[0].id, id);
    assert_int_equal(t->r.items[0].attempt, 2);
}

/* Open path through a fault-injecting store on the fake clock, with notifier and policy. */
static icms_db *open_faulty(const char *path, rec *r, icms_store **fault_out, icms_clock **clock)
{
    icms_store *inner, *fault;
    icms_sqlite_options sqlite = ICMS_SQLITE_OPTIONS_INIT;
    sqlite.sync = ICMS_SQLITE_SYNC_OFF; /* durability is the store suite's subject */
    assert_icms_ok(icms_store_sqlite_new(&inner, path, &sqlite));
    assert_icms_ok(icms_test_fault_store_new(&fault, inner, true));
    icms_options options = ICMS_OPTIONS_INIT;
    options.store = fault;
    options.retry_attempts = 1;
    assert_icms_ok(icms_clock_fake_new(FX_NOW, &options.clock));
    *clock = options.clock;
    icms_db *db = NULL;
    assert_icms_ok(icms_open(&db, &options));
    set_notifier(db, r);
    set_policy(db);
    *fault_out = fault;
    return db;
}

static icms_store *reopen_faulty(fx *f, rec *r)
{
    icms_close(f->db);
    icms_store *fault;
    f->db = open_faulty(f->path, r, &fault, &f->clock);
    return fault;
}

static void copy_file(const char *from, const char *to)
{
    size_t len;
    char *bytes = icms_test_read_file(from, &len);
    FILE *out = fopen(to, "wb");
    assert_non_null(out);
    assert_int_equal(fwrite(bytes, 1, len, out), len);
    assert_int_equal(fclose(out), 0);
    free(bytes);
}

/*
 * A failure at any store call (or allocation) of a run loses no
 * notification and sends none under a new id: the run answers the error, and
 * the next one (after the lease) finishes the work with the same
 * notifications. Each failure point starts from a copy of one prepared file.
 */
static void faults_lose_nothing(bool allocations)
{
    fx f;
    char project[37], p1[37], template_path[4200], path[4200];
    fx_open(&f, allocations ? "events_notify_fault_alloc" : "events_notify_fault_store");
    ev_published_project(&f, 30, project);
    fx_request_profit(&f, &f.investor, project, 100000000, p1);
    icms_close(f.db);
    f.db = NULL;
    snprintf(template_path, sizeof template_path, "%s", f.path);
    snprintf(path, sizeof path, "%s.copy", f.path);
    icms_request host = f.host;
    unsigned long calls = 0;
    /* Under valgrind every fifth failure point: the same assertions, a tenth of the time. */
    const char *valgrind = getenv("ICMS_VALGRIND");
    unsigned long stride = valgrind && strcmp(valgrind, "1") == 0 ? 5 : 1;
    for (unsigned long nth = 1;; nth += stride) {
        static rec r;
        memset(&r, 0, sizeof r);
        r.kill_fd = -1;
        copy_file(template_path, path);
        icms_store *fault;
        icms_clock *clock;
        icms_db *db = open_faulty(path, &r, &fault, &clock);
        int rc;
        bool fired;
        if (allocations) {
            icms__alloc_fail_after((long)nth);
            rc = icms_notify_run(db, NULL);
            icms__alloc_fail_after(0);
            fired = rc != ICMS_OK;
        } else {
            icms_test_fault_store_fail(fault, ICMS_TEST_FAULT_ANY, nth, ICMS_ESTORAGE);
            rc = icms_notify_run(db, NULL);
            fired = icms_test_fault_store_fired(fault);
            icms_test_fault_store_reset(fault);
        }
        if (fired) {
            assert_icms(allocations ? ICMS_ENOMEM : ICMS_ESTORAGE, rc);
            assert_icms_ok(icms_clock_fake_advance(clock, 60000));
            assert_icms_ok(icms_notify_run(db, NULL));
        } else {
            assert_icms_ok(rc);
            calls = nth - 1;
        }
        /* Two notifications (owner: email, push), both SENT, each id among the sends. */
        char *out = NULL;
        assert_icms_ok(icms_notify_list(db, &host, "SENT", NULL, &out));
        cJSON *sent_list = fx_json(out);
        const cJSON *items = cJSON_GetObjectItem(sent_list, "items"), *it;
        if (cJSON_GetArraySize(items) != 2)
            fail_msg("failure point %lu: %d notifications SENT", nth, cJSON_GetArraySize(items));
        cJSON_ArrayForEach(it, items)
        {
            bool found = false;
            for (int i = 0; i < r.count; i++)
                found = found || strcmp(r.items[i].id, fx_str(it, "id")) == 0;
            assert_true(found);
        }
        for (int i = 0; i < r.count; i++) /* a resend keeps its id: nothing else was sent */
            assert_true(strcmp(r.items[i].id, fx_str(cJSON_GetArrayItem(items, 0), "id")) == 0 ||
                        strcmp(r.items[i].id, fx_str(cJSON_GetArrayItem(items, 1), "id")) == 0);
        cJSON_Delete(sent_list);
        assert_icms_ok(icms_notify_list(db, &host, "PENDING", NULL, &out));
        cJSON *pending = fx_json(out);
        assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(pending, "items")), 0);
        cJSON_Delete(pending);
        icms_close(db);
        if (!fired)
            break;
    }
    fx_close(&f);
    assert_true(calls > 10);
}

static void test_store_faults_lose_nothing(void **state)
{
    (void)state;
    faults_lose_nothing(false);
}

/* The same for an allocation failing anywhere in a run: ICMS_ENOMEM, then the work is done. */
static void test_allocation_failures_lose_nothing(void **state)
{
    (void)state;
    faults_lose_nothing(true);
}

/* An ack that fails at any store call changes nothing. */
static void test_ack_faults_change_nothing(void **state)
{
    nfx *t = *state;
    fx *f = &t->f;
    char project[37];
    ev_published_project(f, 30, project);
    assert_icms_ok(icms_events_ack(f->db, &f->host, "c", 1));
    icms_store *fault = reopen_faulty(f, &t->r);
    unsigned long calls = 0;
    for (unsigned long nth = 1;; nth++) {
        icms_test_fault_store_fail(fault, ICMS_TEST_FAULT_ANY, nth, ICMS_ESTORAGE);
        int rc = icms_events_ack(f->db, &f->host, nth % 2 ? "c" : "fresh", 2);
        if (!icms_test_fault_store_fired(fault)) {
            assert_icms_ok(rc);
            calls = nth - 1;
            break;
        }
        assert_int_equal(rc, ICMS_ESTORAGE);
        icms_test_fault_store_reset(fault);
        char *out = NULL;
        assert_icms_ok(icms_events_consumers(f->db, &f->host, &out));
        cJSON *list = fx_json(out);
        const cJSON *consumers = cJSON_GetObjectItem(list, "consumers");
        assert_int_equal(cJSON_GetArraySize(consumers), 1); /* "fresh" was not registered */
        assert_int_equal(fx_int(cJSON_GetArrayItem(consumers, 0), "acked"), 1);
        cJSON_Delete(list);
    }
    icms_test_fault_store_reset(fault);
    assert_true(calls >= 3);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_participation_routes, setup, teardown),
        cmocka_unit_test_setup_teardown(test_routing_table, setup, teardown),
        cmocka_unit_test_setup_teardown(test_preferences, setup, teardown),
        cmocka_unit_test_setup_teardown(test_retry_backoff_dead_letter, setup, teardown),
        cmocka_unit_test_setup_teardown(test_permanent_failure_is_dead_at_once, setup, teardown),
        cmocka_unit_test_setup_teardown(test_tick_and_no_notifier, setup, teardown),
        cmocka_unit_test_setup_teardown(test_sender_dies_mid_send, setup, teardown),
        cmocka_unit_test(test_store_faults_lose_nothing),
        cmocka_unit_test(test_allocation_failures_lose_nothing),
        cmocka_unit_test_setup_teardown(test_ack_faults_change_nothing, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
