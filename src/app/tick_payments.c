/*
 * The payment part of icms_tick: close payment windows that passed without a
 * transaction, verify submitted payments, and re-verify confirmed ones while
 * their project can still be un-funded (before APPROVED), or while a refund
 * of them is still DUE once their project ended, so a re-org or a double
 * spend is found before money moves on it. Each payment is handled by its own command, which
 * decides again from what it reads then; a node that is down ends the
 * verification part of this tick (nothing is lost: the next tick retries).
 *
 * A tick costs what is due, not what the database holds: the window sweep
 * stops at the first payment still open, re-verification reads only the
 * projects a re-org could still un-fund, and each verification pass takes
 * at most BATCH payments, going on where the last tick's stopped.
 */
#include <pthread.h>
#include <string.h>

#include "app/payment_doc.h"
#include "app/project_cmd.h"
#include "app/records.h"
#include "app/tick_payments.h"
#include "core/core.h"
#include "core/rfc3339.h"
#include "core/uuid.h"
#include "icms/payments.h"

#define BATCH 64

/*
 * Where a verification pass stopped: the next tick goes on after it, so that
 * every payment waiting gets its turn however many there are (once, each
 * tick took the first BATCH by id again: past BATCH transactions that never
 * confirm, a newer payment was never verified by the tick). `project` is the
 * re-check pass's project (the submitted pass walks one index and needs no
 * project).
 */
typedef struct cursor {
    bool set;
    uint8_t project[16];
    uint8_t after[16];
} cursor;

enum { PASS_RECHECK, PASS_SUBMITTED, PASS_REFUNDS_DUE, PASS_COUNT };

struct icms__tick_cursors {
    pthread_mutex_t lock;      /* a handle is shared by threads; two may tick at once */
    cursor passes[PASS_COUNT]; /* re-checks, submitted, refunds due */
};

int icms__tick_cursors_new(icms__tick_cursors **out)
{
    icms__tick_cursors *c = icms__calloc(1, sizeof *c);
    if (!c)
        return ICMS_ENOMEM;
    if (pthread_mutex_init(&c->lock, NULL) != 0) {
        icms__free(c);
        return icms__error(ICMS_ERROR, "cannot create the tick's lock");
    }
    *out = c;
    return ICMS_OK;
}

void icms__tick_cursors_free(icms__tick_cursors *c)
{
    if (!c)
        return;
    pthread_mutex_destroy(&c->lock);
    icms__free(c);
}

static cursor cursor_get(icms__tick_cursors *c, int pass)
{
    pthread_mutex_lock(&c->lock);
    cursor at = c->passes[pass];
    pthread_mutex_unlock(&c->lock);
    return at;
}

static void cursor_set(icms__tick_cursors *c, int pass, const cursor *at)
{
    pthread_mutex_lock(&c->lock);
    c->passes[pass] = *at;
    pthread_mutex_unlock(&c->lock);
}

struct batch {
    uint8_t ids[BATCH][16];
    size_t count;
    cursor from; /* where this pass starts */
    cursor next; /* where the next tick's starts: after the last taken, or unset at the end */
};

static int take(const uint8_t id[16], void *payload)
{
    struct batch *b = payload;
    if (b->count == BATCH)
        return ICMS_STORE_STOP;
    memcpy(b->ids[b->count++], id, 16);
    return 0;
}

/* Submitted payments to verify: every one is due, BATCH a tick, on from the last tick's. */
static int read_submitted(icms__cmd *cmd)
{
    struct batch *b = cmd->arg;
    b->count = 0;
    icms__key values;
    icms__key_init(&values);
    icms__key_str(&values, "SUBMITTED");
    int rc = icms__record_scan_index(cmd->tx, &icms__payment_record, "by_status", &values,
                                     b->from.set ? b->from.after : NULL, 0, take, b);
    memset(&b->next, 0, sizeof b->next);
    if (rc == ICMS_OK && b->count == BATCH) {
        b->next.set = true;
        memcpy(b->next.after, b->ids[BATCH - 1], 16);
    }
    return rc;
}

/*
 * The confirmed payments a re-org could still take back: those of projects
 * whose funds are reversible (before APPROVED). They are found through the
 * projects in those states and each one's payments, never through every
 * CONFIRMED payment: the payments of approved, shipped and completed
 * projects are history that only grows, and taking the first of them by id
 * (as once) re-verified the same old payments at every tick, asking the
 * node and rewriting them, while newer ones that needed it were never
 * reached once there were a batch of old ones.
 */
struct open_projects {
    uint8_t (*ids)[16];
    size_t count, cap;
};

static int take_project(const uint8_t id[16], void *payload)
{
    struct open_projects *open = payload;
    if (open->count == open->cap) {
        size_t cap = open->cap ? 2 * open->cap : 16;
        void *grown = icms__realloc(open->ids, cap * 16);
        if (!grown)
            return icms__error(ICMS_ENOMEM, "out of memory");
        open->ids = grown;
        open->cap = cap;
    }
    memcpy(open->ids[open->count++], id, 16);
    return 0;
}

struct recheck {
    struct batch *b;
    icms__tx *tx;
    const uint8_t *project; /* the project being walked */
};

static int take_if_confirmed(const uint8_t id[16], void *payload)
{
    struct recheck *r = payload;
    if (r->b->count == BATCH)
        return ICMS_STORE_STOP;
    const cJSON *payment = NULL; /* borrowed: only read */
    icms_payment_status_t status;
    int rc = icms__record_peek(r->tx, &icms__payment_record, id, &payment);
    if (rc == ICMS_OK)
        rc = icms__payment_status(payment, &status);
    if (rc == ICMS_OK && (status == ICMS_PAYMENT_CONFIRMED || status == ICMS_PAYMENT_PARTIAL)) {
        memcpy(r->b->ids[r->b->count++], id, 16);
        if (r->b->count == BATCH) { /* the next tick goes on after this one */
            r->b->next.set = true;
            memcpy(r->b->next.project, r->project, 16);
            memcpy(r->b->next.after, id, 16);
        }
    }
    return rc;
}

static int read_rechecks(icms__cmd *cmd)
{
    struct batch *b = cmd->arg;
    b->count = 0;
    memset(&b->next, 0, sizeof b->next);
    struct open_projects open = {NULL, 0, 0};
    int rc = ICMS_OK;
    for (int s = 0; rc == ICMS_OK && s < ICMS_PROJECT_STATE_COUNT; s++) {
        if (!icms__project_funds_reversible((icms_project_state_t)s))
            continue;
        icms__key values;
        icms__key_init(&values);
        icms__key_str(&values, icms_project_state_name((icms_project_state_t)s));
        rc = icms__record_scan_index(cmd->tx, &icms__project_record, "by_state", &values, NULL, 0,
                                     take_project, &open);
    }
    /* On from the last tick's project and payment; from the start if that project moved on. */
    size_t first = 0;
    const uint8_t *after = NULL;
    for (size_t i = 0; b->from.set && i < open.count; i++)
        if (memcmp(open.ids[i], b->from.project, 16) == 0) {
            first = i;
            after = b->from.after;
        }
    struct recheck r = {b, cmd->tx, NULL};
    for (size_t i = first; rc == ICMS_OK && i < open.count && b->count < BATCH; i++) {
        icms__key values;
        icms__key_init(&values);
        icms__key_id(&values, open.ids[i]);
        r.project = open.ids[i];
        rc = icms__record_scan_index(cmd->tx, &icms__payment_record, "by_project", &values,
                                     i == first ? after : NULL, 0, take_if_confirmed, &r);
    }
    icms__free(open.ids);
    return rc;
}

/*
 * Payments of ended (CANCELLED or EXPIRED) projects whose refund is still
 * DUE: the refund is money the host is about to send, so the payment it
 * gives back is re-verified while it waits (a re-org voids the refund,
 * payment_verify.c). They are found through the DUE refunds, which are what
 * is open, never through the ended projects, which are history.
 */
static int take_if_refund_at_risk(const uint8_t id[16], void *payload)
{
    struct recheck *r = payload;
    if (r->b->count == BATCH)
        return ICMS_STORE_STOP;
    const cJSON *refund = NULL, *payment = NULL, *project = NULL; /* borrowed: only read */
    uint8_t payment_id[16], project_id[16];
    int rc = icms__record_peek(r->tx, &icms__refund_record, id, &refund);
    if (rc == ICMS_OK)
        rc = icms__parse_id(icms__json_get_string(refund, "payment_id"), "payment id",
                            payment_id);
    if (rc == ICMS_OK)
        rc = icms__record_peek(r->tx, &icms__payment_record, payment_id, &payment);
    if (rc == ICMS_OK)
        rc = icms__parse_id(icms__json_get_string(payment, "project_id"), "project id",
                            project_id);
    if (rc == ICMS_OK)
        rc = icms__record_peek(r->tx, &icms__project_record, project_id, &project);
    icms_payment_status_t status;
    icms_project_state_t state;
    if (rc == ICMS_OK)
        rc = icms__payment_status(payment, &status);
    if (rc == ICMS_OK)
        rc = icms__project_state(project, &state);
    if (rc)
        return rc;
    if ((status == ICMS_PAYMENT_CONFIRMED || status == ICMS_PAYMENT_PARTIAL) &&
        icms__project_ended(state)) {
        memcpy(r->b->ids[r->b->count++], payment_id, 16);
        if (r->b->count == BATCH) { /* the next tick goes on after this refund */
            r->b->next.set = true;
            memcpy(r->b->next.after, id, 16);
        }
    }
    return ICMS_OK;
}

static int read_refund_rechecks(icms__cmd *cmd)
{
    struct batch *b = cmd->arg;
    b->count = 0;
    memset(&b->next, 0, sizeof b->next);
    struct recheck r = {b, cmd->tx, NULL};
    icms__key values;
    icms__key_init(&values);
    icms__key_str(&values, "DUE");
    return icms__record_scan_index(cmd->tx, &icms__refund_record, "by_status", &values,
                                   b->from.set ? b->from.after : NULL, 0, take_if_refund_at_risk,
                                   &r);
}

/*
 * The PENDING payments whose window has passed: a tick costs what is due,
 * however many payments are still in their window. A payment's id (UUIDv7)
 * and its expires_at both come from the clock when it is made, and every
 * window is as long, so in id order the PENDING payments are in expiry
 * order: the scan stops at the first one still open (only a payment made on
 * a clock behind another's can wait behind it, by as much as the clocks
 * differ). Only those due get a write command of their own, which decides
 * again from what it reads then.
 */
struct pending_due {
    struct batch *b;
    icms__tx *tx;
    int64_t now_ms;
};

static int take_if_due(const uint8_t id[16], void *payload)
{
    struct pending_due *p = payload;
    if (p->b->count == BATCH)
        return ICMS_STORE_STOP;
    const cJSON *payment = NULL; /* borrowed: only read */
    int rc = icms__record_peek(p->tx, &icms__payment_record, id, &payment);
    if (rc)
        return rc;
    const char *expires_text = icms__json_get_string(payment, "expires_at");
    int64_t expires = 0;
    if (expires_text && icms__time_parse(expires_text, strlen(expires_text), &expires) == ICMS_OK &&
        p->now_ms < expires)
        return ICMS_STORE_STOP;
    icms_error_clear(); /* unreadable: the command says so */
    memcpy(p->b->ids[p->b->count++], id, 16);
    return 0;
}

static int read_pending_due(icms__cmd *cmd)
{
    struct batch *b = cmd->arg;
    b->count = 0;
    struct pending_due p = {b, cmd->tx, cmd->now_ms};
    icms__key values;
    icms__key_init(&values);
    icms__key_str(&values, "PENDING");
    return icms__record_scan_index(cmd->tx, &icms__payment_record, "by_status", &values, NULL, 0,
                                   take_if_due, &p);
}

static int expire_one(icms__cmd *cmd)
{
    const uint8_t *id = cmd->arg;
    cJSON *payment = NULL;
    int rc = icms__record_get(cmd->tx, &icms__payment_record, id, &payment);
    if (rc)
        return rc == ICMS_ENOTFOUND ? ICMS_OK : rc;
    icms_payment_status_t status;
    int64_t expires = 0;
    const char *expires_text = icms__json_get_string(payment, "expires_at");
    rc = icms__payment_status(payment, &status);
    if (rc == ICMS_OK &&
        (!expires_text || icms__time_parse(expires_text, strlen(expires_text), &expires)))
        rc = icms__error(ICMS_ECORRUPT, "payment without a valid expires_at");
    icms__payment_facts facts = {.now_ms = cmd->now_ms, .expires_at_ms = expires, .expected = 1};
    icms__payment_decision decision;
    if (rc == ICMS_OK && status == ICMS_PAYMENT_PENDING && cmd->now_ms >= expires) {
        rc = icms__payment_decide(status, ICMS__PAYMENT_EXPIRE, ICMS__PARTY_SYSTEM, &facts,
                                  &decision);
        if (rc == ICMS_OK)
            rc = icms__doc_set_string(payment, "status", icms_payment_status_name(decision.to));
        if (rc == ICMS_OK)
            rc = icms__doc_set_time(payment, "updated_at", cmd->now_ms);
        if (rc == ICMS_OK)
            rc = icms__record_put(cmd->tx, &icms__payment_record, id, payment);
        const char *pid = icms__json_get_string(payment, "id");
        if (rc == ICMS_OK)
            rc = icms__cmd_audit(cmd, "payment.expire", pid, NULL);
        if (rc == ICMS_OK)
            rc = icms__cmd_event(cmd, decision.event, pid, NULL);
    }
    cJSON_Delete(payment);
    return rc;
}

int icms__tick_payments(icms_db *db, icms__tick_payment_report *report)
{
    icms_request system = ICMS_REQUEST_INIT;
    system.actor_kind = ICMS_ACTOR_SYSTEM;
    struct batch b;
    memset(&b, 0, sizeof b);
    icms__tick_cursors *cursors = db->tick;

    int rc = icms__query(db, &system, read_pending_due, &b, NULL);
    for (size_t i = 0; rc == ICMS_OK && i < b.count; i++)
        rc = icms__command(db, &system, "payment.expire", NULL, expire_one, b.ids[i], NULL);
    if (rc)
        return rc;

    if (!db->gapcoin)
        return ICMS_OK; /* no node: nothing can be verified */
    /* Re-checks first, so that a payment confirmed by this tick is not asked about twice. */
    static int (*const readers[PASS_COUNT])(icms__cmd *) = {read_rechecks, read_submitted,
                                                            read_refund_rechecks};
    for (int pass = 0; pass < PASS_COUNT; pass++) {
        b.from = cursor_get(cursors, pass);
        if ((rc = icms__query(db, &system, readers[pass], &b, NULL)))
            return rc;
        for (size_t i = 0; i < b.count; i++) {
            char id[ICMS_UUID_STRING_SIZE];
            icms__uuid_format(b.ids[i], id);
            rc = icms_payment_verify(db, &system, id, NULL);
            if (rc == ICMS_ETRANSPORT) {
                report->node_errors++;
                icms_error_clear();
                return ICMS_OK; /* the node is down or confused: try again next tick */
            }
            if (rc == ICMS_EINVALID_TRANSITION || rc == ICMS_ECORRUPT) {
                icms_error_clear(); /* moved on meanwhile, or a node answering nonsense */
                rc = ICMS_OK;
            }
            if (rc)
                return rc;
            report->verified++;
        }
        cursor_set(cursors, pass, &b.next); /* only once the whole batch was asked about */
    }
    return ICMS_OK;
}
