/*
 * Notifications: routing events to users, then sending them.
 *
 * Routing is a consumer of the outbox (cursor "icms.notify"): a batch of
 * events, their recipients (read from the store now), each recipient's
 * channels, and the cursor move are one transaction, so an event is routed
 * exactly once. Sending is claim, send, record: the claim (attempts + 1,
 * held for a lease) commits before the host's notifier is called outside
 * any transaction, and the outcome is recorded after. A crash between send
 * and record sends again after the lease with the same notification id,
 * which the host dedupes on.
 */
#include <stdio.h>
#include <string.h>

#include "app/command.h"
#include "app/events_hub.h"
#include "app/notify_doc.h"
#include "app/page.h"
#include "app/records.h"
#include "core/core.h"
#include "core/json.h"
#include "core/uuid.h"
#include "events/consumer.h"

#define ROUTE_BATCH 64
#define SEND_BATCH 32
#define MAX_ROUNDS 1000 /* bounds one run; the next carries on */

typedef struct counts {
    int64_t routed, created, sent, failed, dead, skipped;
} counts;

/* ---- routing ---- */

struct pending_event {
    int64_t seq;
    char *json;
    size_t len;
};

struct route_call {
    icms_db *db;
    struct pending_event events[ROUTE_BATCH];
    size_t count;
    int64_t routed, created;
};

static int on_routable(int64_t seq, const uint8_t *value, size_t value_len, void *payload)
{
    struct route_call *call = payload;
    char *json = icms__strndup((const char *)value, value_len);
    if (!json)
        return icms__error(ICMS_ENOMEM, "out of memory");
    call->events[call->count++] = (struct pending_event){seq, json, value_len};
    return 0;
}

static void drop_events(struct route_call *call)
{
    for (size_t i = 0; i < call->count; i++)
        icms__free(call->events[i].json);
    call->count = 0;
}

static int notification_data(const icms__envelope *env, const icms__recipients *r, const char *role,
                             cJSON **out)
{
    cJSON *data = cJSON_Duplicate(r->context, true);
    int rc = data ? icms__json_add_string(data, "event_type", env->type) : ICMS_ENOMEM;
    if (rc == ICMS_OK)
        rc = icms__json_add_string(data, "event_id", env->event_id);
    if (rc == ICMS_OK)
        rc = icms__json_add_string(data, "occurred_at", env->occurred_at);
    if (rc == ICMS_OK)
        rc = icms__json_add_string(data, "subject", env->subject);
    if (rc == ICMS_OK)
        rc = icms__json_add_string(data, "role", role);
    if (rc == ICMS_OK) {
        cJSON *copy = cJSON_Duplicate(env->data, true);
        rc = copy ? icms__json_add(data, "event", copy) : ICMS_ENOMEM;
    }
    if (rc) {
        cJSON_Delete(data);
        return icms__error(ICMS_ENOMEM, "out of memory");
    }
    *out = data;
    return ICMS_OK;
}

static int create_notification(icms__tx *tx, struct route_call *call, const icms__envelope *env,
                               const icms__recipient *to, int channel, const cJSON *data,
                               int64_t now_ms)
{
    uint8_t id[16];
    int rc = icms__uuid7_new(call->db->clock, id);
    if (rc)
        return rc;
    char template_key[ICMS__EVENT_TYPE_MAX + 32];
    snprintf(template_key, sizeof template_key, "%s.%s", env->type, to->role);
    cJSON *doc = cJSON_CreateObject();
    rc = doc ? icms__json_add_uuid(doc, "id", id) : ICMS_ENOMEM;
    if (rc == ICMS_OK)
        rc = icms__json_add_string(doc, "event_id", env->event_id);
    if (rc == ICMS_OK)
        rc = icms__json_add_int64(doc, "event_seq", env->seq);
    if (rc == ICMS_OK)
        rc = icms__json_add_string(doc, "event_type", env->type);
    if (rc == ICMS_OK)
        rc = icms__json_add_uuid(doc, "user_id", to->user_id);
    if (rc == ICMS_OK)
        rc = icms__json_add_string(doc, "role", to->role);
    if (rc == ICMS_OK)
        rc = icms__json_add_string(doc, "channel", icms__channel_names[channel]);
    if (rc == ICMS_OK)
        rc = icms__json_add_string(doc, "template", template_key);
    if (rc == ICMS_OK) {
        cJSON *copy = cJSON_Duplicate(data, true);
        rc = copy ? icms__json_add(doc, "data", copy) : ICMS_ENOMEM;
    }
    if (rc == ICMS_OK)
        rc = icms__json_add_string(doc, "status", "PENDING");
    if (rc == ICMS_OK)
        rc = icms__json_add_int64(doc, "attempts", 0);
    if (rc == ICMS_OK)
        rc = icms__json_add_int64(doc, "next_attempt_at", now_ms);
    if (rc == ICMS_OK)
        rc = icms__json_add_null(doc, "last_error");
    if (rc == ICMS_OK)
        rc = icms__json_add_time(doc, "created_at", now_ms);
    if (rc == ICMS_OK)
        rc = icms__json_add_time(doc, "updated_at", now_ms);
    if (rc == ICMS_OK)
        rc = icms__record_put(tx, &icms__notification_record, id, doc);
    else if (rc == ICMS_ENOMEM)
        rc = icms__error(ICMS_ENOMEM, "out of memory");
    cJSON_Delete(doc);
    if (rc == ICMS_OK)
        call->created++;
    return rc;
}

static int route_event(icms__tx *tx, struct route_call *call, const struct pending_event *pe,
                       int64_t now_ms)
{
    icms__envelope env;
    int rc = icms__envelope_parse(pe->json, pe->len, ICMS_ECORRUPT, &env);
    if (rc)
        return rc;
    const icms__route *route = icms__route_find(env.type);
    icms__recipients r = {0};
    if (route)
        rc = icms__route_recipients(tx, route, env.subject, &r);
    for (size_t i = 0; route && rc == ICMS_OK && i < r.count; i++) {
        bool on[ICMS__CHANNEL_COUNT];
        cJSON *data = NULL;
        rc = icms__notify_prefs_read(tx, r.items[i].user_id, on);
        if (rc == ICMS_OK)
            rc = notification_data(&env, &r, r.items[i].role, &data);
        for (int c = 0; rc == ICMS_OK && c < ICMS__CHANNEL_COUNT; c++)
            if (on[c])
                rc = create_notification(tx, call, &env, &r.items[i], c, data, now_ms);
        cJSON_Delete(data);
    }
    icms__recipients_free(&r);
    icms__envelope_free(&env);
    return rc;
}

static int route_batch(icms__tx *tx, void *arg)
{
    struct route_call *call = arg;
    drop_events(call);
    call->routed = call->created = 0;
    int64_t now_ms = icms__db_now(call->db), cursor = 0;
    int rc = icms__consumer_get(tx, ICMS__CONSUMER_NOTIFY, &cursor);
    if (rc == ICMS_ENOTFOUND) {
        icms_error_clear();
        rc = ICMS_OK;
    }
    if (rc == ICMS_OK)
        rc = icms__outbox_scan(tx, cursor, ROUTE_BATCH, on_routable, call);
    for (size_t i = 0; rc == ICMS_OK && i < call->count; i++)
        rc = route_event(tx, call, &call->events[i], now_ms);
    if (rc == ICMS_OK && call->count)
        cursor = call->events[call->count - 1].seq;
    /* Registered even when there is nothing yet, so retention waits for the router. */
    if (rc == ICMS_OK)
        rc = icms__consumer_put(tx, ICMS__CONSUMER_NOTIFY, cursor, now_ms);
    call->routed = (int64_t)call->count;
    return rc;
}

static int route_all(icms_db *db, counts *c)
{
    struct route_call call;
    memset(&call, 0, sizeof call);
    call.db = db;
    int rc = ICMS_OK;
    for (int round = 0; round < MAX_ROUNDS; round++) {
        rc = icms__db_write(db, route_batch, &call);
        size_t got = call.count;
        drop_events(&call);
        if (rc)
            break;
        c->routed += call.routed;
        c->created += call.created;
        if (got < ROUTE_BATCH)
            break;
    }
    return rc;
}

/* ---- sending ---- */

struct due {
    uint8_t ids[SEND_BATCH][16];
    size_t count;
    int64_t now_ms;
};

static void due_prefix(icms__key *key)
{
    icms__key_init(key);
    icms__key_str(key, "i");
    icms__key_str(key, icms__notification_record.name);
    icms__key_str(key, "due");
}

static int on_due(const uint8_t *key, size_t key_len, const uint8_t *value, size_t value_len,
                  void *payload)
{
    (void)value;
    (void)value_len;
    struct due *due = payload;
    if (key_len < 17)
        return icms__error(ICMS_ECORRUPT, "malformed notification index entry");
    if (due->count == SEND_BATCH)
        return ICMS_STORE_STOP;
    memcpy(due->ids[due->count++], key + key_len - 16, 16);
    return 0;
}

static int read_due(icms__tx *tx, void *arg)
{
    struct due *due = arg;
    due->count = 0;
    icms__key start, end;
    due_prefix(&start);
    due_prefix(&end);
    icms__key_int(&end, due->now_ms < INT64_MAX ? due->now_ms + 1 : INT64_MAX);
    return icms__tx_scan_range(tx, &start, &end, 0, on_due, due);
}

/* What a claim hands to the sender: copies, since the transaction is over. */
struct claim {
    icms_db *db;
    const uint8_t *id;
    icms_events_policy policy;
    int64_t attempts; /* after the claim */
    bool claimed, skipped;
    char id_text[ICMS_UUID_STRING_SIZE];
    char user_id[ICMS_UUID_STRING_SIZE];
    char channel[8];
    char *address, *template_key, *data_json, *event_id;
};

static void claim_clear(struct claim *c)
{
    icms__free(c->address);
    icms__free(c->template_key);
    icms__free(c->data_json);
    icms__free(c->event_id);
    c->address = c->template_key = c->data_json = c->event_id = NULL;
    c->claimed = c->skipped = false;
}

static int set_status(cJSON *doc, const char *status, const char *error, int64_t now_ms)
{
    cJSON_DeleteItemFromObjectCaseSensitive(doc, "status");
    cJSON_DeleteItemFromObjectCaseSensitive(doc, "last_error");
    cJSON_DeleteItemFromObjectCaseSensitive(doc, "updated_at");
    int rc = icms__json_add_string(doc, "status", status);
    if (rc == ICMS_OK)
        rc = error ? icms__json_add_string(doc, "last_error", error)
                   : icms__json_add_null(doc, "last_error");
    if (rc == ICMS_OK)
        rc = icms__json_add_time(doc, "updated_at", now_ms);
    return rc;
}

static int set_int(cJSON *doc, const char *name, int64_t v)
{
    cJSON_DeleteItemFromObjectCaseSensitive(doc, name);
    return icms__json_add_int64(doc, name, v);
}

/* Why a notification cannot go out any more, or NULL when it can. */
static const char *skip_reason(icms__tx *tx, const cJSON *doc, const uint8_t user[16],
                               struct claim *c, int *rc)
{
    cJSON *u = NULL;
    *rc = icms__record_get(tx, &icms__user_record, user, &u);
    if (*rc == ICMS_ENOTFOUND) {
        icms_error_clear();
        *rc = ICMS_OK;
        return "the recipient no longer exists";
    }
    if (*rc)
        return NULL;
    const char *reason = NULL;
    const char *status = icms__json_get_string(u, "status");
    bool on[ICMS__CHANNEL_COUNT];
    int channel = -1;
    for (int i = 0; i < ICMS__CHANNEL_COUNT; i++)
        if (strcmp(icms__channel_names[i], c->channel) == 0)
            channel = i;
    if (!status || strcmp(status, "ACTIVE") != 0)
        reason = "the recipient is not active";
    else if (channel < 0)
        reason = "unknown channel";
    else if ((*rc = icms__notify_prefs_read(tx, user, on)) == ICMS_OK && !on[channel])
        reason = "the recipient turned this channel off";
    const char *field = channel == ICMS__CHANNEL_EMAIL ? "email"
                        : channel == ICMS__CHANNEL_SMS ? "phone"
                                                       : NULL;
    if (!reason && *rc == ICMS_OK && field) {
        const char *address = icms__json_get_string(u, field);
        if (!address)
            reason = channel == ICMS__CHANNEL_EMAIL ? "the recipient has no email address"
                                                    : "the recipient has no phone number";
        else if (!(c->address = icms__strdup(address)))
            *rc = icms__error(ICMS_ENOMEM, "out of memory");
    }
    (void)doc;
    cJSON_Delete(u);
    return reason;
}

static int claim_one(icms__tx *tx, void *arg)
{
    struct claim *c = arg;
    claim_clear(c);
    int64_t now_ms = icms__db_now(c->db), next_at = 0, attempts = 0;
    cJSON *doc = NULL;
    int rc = icms__record_get(tx, &icms__notification_record, c->id, &doc);
    if (rc == ICMS_ENOTFOUND) {
        icms_error_clear();
        return ICMS_OK;
    }
    if (rc)
        return rc;
    const char *status = icms__json_get_string(doc, "status");
    const char *user = icms__json_get_string(doc, "user_id");
    const char *channel = icms__json_get_string(doc, "channel");
    uint8_t user_id[16];
    if (!status || !user || !channel || strlen(channel) >= sizeof c->channel ||
        icms__uuid_parse(user, strlen(user), user_id) != ICMS_OK ||
        !icms__json_int64(icms__json_get(doc, "next_attempt_at"), &next_at) ||
        !icms__json_int64(icms__json_get(doc, "attempts"), &attempts)) {
        cJSON_Delete(doc);
        return icms__error(ICMS_ECORRUPT, "a notification record is malformed");
    }
    if (strcmp(status, "PENDING") != 0 || next_at > now_ms) {
        cJSON_Delete(doc); /* sent, or claimed by another process meanwhile */
        return ICMS_OK;
    }
    strcpy(c->channel, channel);
    strcpy(c->user_id, user);
    const char *reason = skip_reason(tx, doc, user_id, c, &rc);
    if (rc == ICMS_OK && reason) {
        rc = set_status(doc, "SKIPPED", reason, now_ms);
        c->skipped = true;
    } else if (rc == ICMS_OK) {
        c->attempts = attempts + 1;
        rc = set_int(doc, "attempts", c->attempts);
        if (rc == ICMS_OK)
            rc = set_int(doc, "next_attempt_at", now_ms + c->policy.notify_lease_ms);
        if (rc == ICMS_OK) {
            const cJSON *data = icms__json_get(doc, "data");
            rc = icms__json_write(data, 0, &c->data_json, NULL);
        }
        const char *template_key = icms__json_get_string(doc, "template");
        const char *event_id = icms__json_get_string(doc, "event_id");
        if (rc == ICMS_OK && (!template_key || !event_id))
            rc = icms__error(ICMS_ECORRUPT, "a notification record is malformed");
        if (rc == ICMS_OK && (!(c->template_key = icms__strdup(template_key)) ||
                              !(c->event_id = icms__strdup(event_id))))
            rc = icms__error(ICMS_ENOMEM, "out of memory");
        c->claimed = rc == ICMS_OK;
    }
    if (rc == ICMS_OK)
        rc = icms__record_put(tx, &icms__notification_record, c->id, doc);
    cJSON_Delete(doc);
    return rc;
}

struct outcome {
    icms_db *db;
    const struct claim *claim;
    int send_rc;
    char error[256];
    int result; /* 1 sent, 2 retry later, 3 dead, 0 lost the claim */
};

static int64_t backoff(const icms_events_policy *p, int64_t attempts)
{
    int64_t delay = p->notify_base_delay_ms;
    for (int64_t i = 1; i < attempts && delay < p->notify_max_delay_ms; i++)
        delay = delay > p->notify_max_delay_ms / 2 ? p->notify_max_delay_ms : delay * 2;
    return delay < p->notify_max_delay_ms ? delay : p->notify_max_delay_ms;
}

static int record_outcome(icms__tx *tx, void *arg)
{
    struct outcome *o = arg;
    const struct claim *c = o->claim;
    int64_t now_ms = icms__db_now(o->db), attempts = 0;
    o->result = 0;
    cJSON *doc = NULL;
    int rc = icms__record_get(tx, &icms__notification_record, c->id, &doc);
    if (rc == ICMS_ENOTFOUND) {
        icms_error_clear();
        return ICMS_OK;
    }
    if (rc)
        return rc;
    const char *status = icms__json_get_string(doc, "status");
    /* Still ours? A sender slower than its lease lost it to another attempt. */
    if (!status || strcmp(status, "PENDING") != 0 ||
        !icms__json_int64(icms__json_get(doc, "attempts"), &attempts) || attempts != c->attempts) {
        cJSON_Delete(doc);
        return ICMS_OK;
    }
    if (o->send_rc == ICMS_OK) {
        rc = set_status(doc, "SENT", NULL, now_ms);
        if (rc == ICMS_OK)
            rc = icms__json_add_time(doc, "sent_at", now_ms);
        o->result = 1;
    } else if (o->send_rc == ICMS_EINVALID || attempts >= (int64_t)c->policy.notify_max_attempts) {
        rc = set_status(doc, "DEAD", o->error, now_ms);
        o->result = 3;
    } else {
        rc = set_status(doc, "PENDING", o->error, now_ms);
        if (rc == ICMS_OK)
            rc = set_int(doc, "next_attempt_at", now_ms + backoff(&c->policy, attempts));
        o->result = 2;
    }
    if (rc == ICMS_OK)
        rc = icms__record_put(tx, &icms__notification_record, c->id, doc);
    cJSON_Delete(doc);
    return rc;
}

static int send_one(icms_db *db, icms_notifier *notifier, const uint8_t id[16], counts *cnt)
{
    struct claim c;
    memset(&c, 0, sizeof c);
    c.db = db;
    c.id = id;
    icms__events_policy_get(db, &c.policy);
    icms__uuid_format(id, c.id_text);
    int rc = icms__db_write(db, claim_one, &c);
    if (rc == ICMS_OK && c.skipped)
        cnt->skipped++;
    if (rc || !c.claimed) {
        claim_clear(&c);
        return rc;
    }
    icms_notification n = {ICMS_NOTIFICATION_VERSION,
                           c.id_text,
                           c.user_id,
                           c.channel,
                           c.address,
                           c.template_key,
                           c.data_json,
                           c.event_id,
                           (unsigned)c.attempts};
    struct outcome o = {db, &c, ICMS_OK, {0}, 0};
    icms_error_clear();
    o.send_rc = notifier->send(notifier, &n);
    if (o.send_rc != ICMS_OK) {
        const icms_error *e = icms_error_last();
        snprintf(o.error, sizeof o.error, "%s%s%s", icms_error_name(o.send_rc),
                 e->code == o.send_rc ? ": " : "", e->code == o.send_rc ? e->message : "");
    }
    rc = icms__db_write(db, record_outcome, &o);
    if (rc == ICMS_OK) {
        if (o.result == 1)
            cnt->sent++;
        else if (o.result == 2)
            cnt->failed++;
        else if (o.result == 3) {
            cnt->failed++;
            cnt->dead++;
        }
    }
    claim_clear(&c);
    return rc;
}

static int send_due(icms_db *db, icms_notifier *notifier, counts *cnt)
{
    struct due due;
    int rc = ICMS_OK;
    for (int round = 0; rc == ICMS_OK && round < MAX_ROUNDS; round++) {
        due.now_ms = icms__db_now(db);
        if ((rc = icms__db_read(db, read_due, &due)) || due.count == 0)
            break;
        for (size_t i = 0; rc == ICMS_OK && i < due.count; i++)
            rc = send_one(db, notifier, due.ids[i], cnt);
    }
    return rc;
}

static int add_counts(cJSON *report, const counts *c)
{
    const char *names[] = {"routed", "created", "sent", "failed", "dead", "skipped"};
    int64_t values[] = {c->routed, c->created, c->sent, c->failed, c->dead, c->skipped};
    int rc = ICMS_OK;
    for (size_t i = 0; rc == ICMS_OK && i < ICMS__ARRAY_LEN(names); i++)
        rc = icms__json_add_int64(report, names[i], values[i]);
    return rc;
}

static int run_with(icms_db *db, icms_notifier *notifier, counts *c)
{
    int rc = route_all(db, c);
    if (rc == ICMS_OK)
        rc = send_due(db, notifier, c);
    return rc;
}

int icms__notify_run(icms_db *db, cJSON *report)
{
    icms_notifier *notifier = icms__events_notifier_acquire(db);
    counts c = {0};
    int rc = notifier ? run_with(db, notifier, &c) : ICMS_OK;
    icms__events_notifier_release(db);
    if (rc == ICMS_OK && report && notifier) {
        cJSON *sub = NULL;
        rc = icms__json_add_object(report, "notifications", &sub);
        if (rc == ICMS_OK)
            rc = add_counts(sub, &c);
    }
    return rc;
}

int icms_notify_run(icms_db *db, char **report_out)
{
    if (report_out)
        *report_out = NULL;
    if (!db)
        return icms__error(ICMS_EINVALID, "a database is required");
    icms_notifier *notifier = icms__events_notifier_acquire(db);
    counts c = {0};
    int rc = notifier ? run_with(db, notifier, &c)
                      : icms__error(ICMS_EINVALID, "no notifier is set "
                                                   "(icms_notify_set_notifier)");
    icms__events_notifier_release(db);
    if (rc == ICMS_OK && report_out) {
        cJSON *report = cJSON_CreateObject();
        rc = report ? add_counts(report, &c) : ICMS_ENOMEM;
        if (rc == ICMS_OK)
            rc = icms__json_write(report, 0, report_out, NULL);
        cJSON_Delete(report);
    }
    return rc;
}

/* ---- the dead-letter view ---- */

static const char *const statuses[] = {"PENDING", "SENT", "DEAD", "SKIPPED", NULL};

struct list_call {
    const char *status;
    const uint8_t *after;
    icms__cmd *cmd;
    icms__page page;
};

static int on_listed(const uint8_t id[16], void *payload)
{
    struct list_call *list = payload;
    cJSON *doc = NULL;
    int rc = icms__record_get(list->cmd->tx, &icms__notification_record, id, &doc);
    if (rc)
        return rc;
    return icms__page_offer(&list->page, id, doc);
}

static int require_operator(const icms__cmd *cmd)
{
    if (cmd->actor.anonymous || !icms__actor_has_role(&cmd->actor, ICMS_ROLE_ADMIN))
        return icms__error(ICMS_EFORBIDDEN, "only the host and admins see notifications");
    return ICMS_OK;
}

static int list_cmd(icms__cmd *cmd)
{
    struct list_call *list = cmd->arg;
    list->cmd = cmd;
    int rc = require_operator(cmd);
    if (rc == ICMS_OK)
        rc = icms__page_reset(&list->page, ICMS__PAGE_MAX_LIMIT);
    icms__key values;
    icms__key_init(&values);
    icms__key_str(&values, list->status);
    if (rc == ICMS_OK)
        rc = icms__record_scan_index(cmd->tx, &icms__notification_record, "by_status", &values,
                                     list->after, 0, on_listed, list);
    cJSON *doc = NULL;
    if (rc == ICMS_OK && (rc = icms__page_finish(&list->page, &doc)) == ICMS_OK)
        icms__cmd_set_result(cmd, doc);
    icms__page_clear(&list->page);
    return rc;
}

int icms_notify_list(icms_db *db, const icms_request *req, const char *status, const char *after,
                     char **out)
{
    if (out)
        *out = NULL;
    if (!out)
        return icms__error(ICMS_EINVALID, "out is required");
    bool known = false;
    for (size_t i = 0; status && statuses[i]; i++)
        known = known || strcmp(status, statuses[i]) == 0;
    if (!known)
        return icms__error(ICMS_EINVALID, "status must be PENDING, SENT, DEAD or SKIPPED");
    uint8_t after_id[16];
    if (after && icms__uuid_parse(after, strlen(after), after_id) != ICMS_OK)
        return icms__error(ICMS_EINVALID, "after is not an id");
    struct list_call list = {status, after ? after_id : NULL, NULL, {0}};
    return icms__query(db, req, list_cmd, &list, out);
}

struct retry_call {
    uint8_t id[16];
    const char *id_text;
};

static int retry_cmd(icms__cmd *cmd)
{
    struct retry_call *call = cmd->arg;
    int rc = require_operator(cmd);
    cJSON *doc = NULL;
    if (rc == ICMS_OK)
        rc = icms__record_get(cmd->tx, &icms__notification_record, call->id, &doc);
    if (rc == ICMS_ENOTFOUND)
        return icms__error(ICMS_ENOTFOUND, "no notification %s", call->id_text);
    if (rc)
        return rc;
    const char *status = icms__json_get_string(doc, "status");
    if (!status || strcmp(status, "DEAD") != 0) {
        cJSON_Delete(doc);
        return icms__error(ICMS_EINVALID_TRANSITION, "only a DEAD notification is retried");
    }
    rc = set_status(doc, "PENDING", NULL, cmd->now_ms);
    if (rc == ICMS_OK)
        rc = set_int(doc, "attempts", 0);
    if (rc == ICMS_OK)
        rc = set_int(doc, "next_attempt_at", cmd->now_ms);
    if (rc == ICMS_OK)
        rc = icms__record_put(cmd->tx, &icms__notification_record, call->id, doc);
    if (rc == ICMS_OK)
        rc = icms__cmd_audit(cmd, "notify.retry", call->id_text, NULL);
    if (rc == ICMS_OK) {
        icms__cmd_set_result(cmd, doc);
        doc = NULL;
    }
    cJSON_Delete(doc);
    return rc;
}

int icms_notify_retry(icms_db *db, const icms_request *req, const char *notification_id, char **out)
{
    if (out)
        *out = NULL;
    struct retry_call call = {{0}, notification_id};
    if (!notification_id ||
        icms__uuid_parse(notification_id, strlen(notification_id), call.id) != ICMS_OK)
        return icms__error(ICMS_EINVALID, "notification_id is not an id");
    return icms__command(db, req, "notify.retry", NULL, retry_cmd, &call, out);
}
