/*
 * Pull delivery: durable named consumers read the outbox after their cursor
 * and acknowledge what they processed. Reading is a query; the cursor moves
 * only on icms_events_ack (or seek), so whatever a consumer read but did not
 * acknowledge is read again after a crash: at least once.
 */
#include <stdio.h>
#include <string.h>

#include "app/command.h"
#include "core/core.h"
#include "core/json.h"
#include "events/consumer.h"
#include "events/outbox.h"
#include "icms/events.h"

static int require_operator(const icms__cmd *cmd)
{
    if (cmd->actor.anonymous || !icms__actor_has_role(&cmd->actor, ICMS_ROLE_ADMIN))
        return icms__error(ICMS_EFORBIDDEN, "only the host and admins read the event outbox");
    return ICMS_OK;
}

/* ---- read ---- */

struct buf {
    char *bytes;
    size_t len, cap;
};

static int buf_add(struct buf *b, const char *s, size_t n)
{
    size_t need;
    if (!icms__add_size(b->len, n + 1, &need))
        return icms__error(ICMS_ELIMIT, "the events page is too large");
    if (need > b->cap) {
        size_t cap = b->cap ? b->cap : 4096;
        while (cap < need)
            cap *= 2;
        char *bytes = icms__realloc(b->bytes, cap);
        if (!bytes)
            return icms__error(ICMS_ENOMEM, "out of memory");
        b->bytes = bytes;
        b->cap = cap;
    }
    memcpy(b->bytes + b->len, s, n);
    b->len += n;
    b->bytes[b->len] = '\0';
    return ICMS_OK;
}

struct read_call {
    const char *consumer;
    int64_t after;
    size_t max;
    bool registered;
    int64_t acked, last_seq;
    size_t count;
    struct buf events; /* "ev,ev,..." */
};

static int on_read(int64_t seq, const uint8_t *value, size_t value_len, void *payload)
{
    (void)seq;
    struct read_call *call = payload;
    /* Events are stored as the compact JSON they are handed out as. */
    if (value_len < 2 || value[0] != '{')
        return icms__error(ICMS_ECORRUPT, "outbox event %lld is not a JSON object", (long long)seq);
    int rc = call->count ? buf_add(&call->events, ",", 1) : ICMS_OK;
    if (rc == ICMS_OK)
        rc = buf_add(&call->events, (const char *)value, value_len);
    call->count++;
    return rc;
}

static int read_events(icms__cmd *cmd)
{
    struct read_call *call = cmd->arg;
    call->events.len = 0;
    call->count = 0;
    int rc = require_operator(cmd);
    if (rc)
        return rc;
    rc = icms__consumer_get(cmd->tx, call->consumer, &call->acked);
    call->registered = rc == ICMS_OK;
    if (rc == ICMS_ENOTFOUND) {
        call->acked = 0;
        icms_error_clear();
        rc = ICMS_OK;
    }
    if (rc == ICMS_OK)
        rc = icms__outbox_last_seq(cmd->tx, &call->last_seq);
    int64_t after = call->after == ICMS_EVENTS_FROM_CURSOR ? call->acked : call->after;
    if (rc == ICMS_OK)
        rc = icms__outbox_scan(cmd->tx, after, call->max, on_read, call);
    return rc;
}

static int register_consumer(icms__cmd *cmd)
{
    const char *name = cmd->arg;
    int64_t acked;
    int rc = require_operator(cmd);
    if (rc == ICMS_OK)
        rc = icms__consumer_get(cmd->tx, name, &acked);
    if (rc != ICMS_ENOTFOUND)
        return rc; /* registered meanwhile, or an error */
    icms_error_clear();
    cJSON *data = cJSON_CreateObject();
    rc = data ? icms__json_add_string(data, "consumer", name) : ICMS_ENOMEM;
    if (rc == ICMS_OK)
        rc = icms__consumer_put(cmd->tx, name, 0, cmd->now_ms);
    if (rc == ICMS_OK)
        rc = icms__cmd_audit(cmd, "events.consumer_register", name, data);
    cJSON_Delete(data);
    return rc;
}

static int check_name(const char *consumer)
{
    return icms__consumer_name_check(consumer, false);
}

int icms_events_read(icms_db *db, const icms_request *req, const char *consumer, int64_t after,
                     unsigned int max, char **out)
{
    if (out)
        *out = NULL;
    if (!out)
        return icms__error(ICMS_EINVALID, "out is required");
    int rc = check_name(consumer);
    if (rc)
        return rc;
    if (after < 0 && after != ICMS_EVENTS_FROM_CURSOR)
        return icms__error(ICMS_EINVALID, "after must be a seq >= 0 or ICMS_EVENTS_FROM_CURSOR");
    if (max > ICMS_EVENTS_READ_MAX)
        return icms__error(ICMS_EINVALID, "max may be at most %d", ICMS_EVENTS_READ_MAX);
    struct read_call call = {consumer, after, max ? max : 100, false, 0, 0, 0, {NULL, 0, 0}};
    rc = icms__query(db, req, read_events, &call, NULL);
    if (rc == ICMS_OK && !call.registered)
        rc = icms__command(db, req, "events.consumer_register", NULL, register_consumer,
                           (void *)consumer, NULL);
    struct buf b = {NULL, 0, 0};
    char head[ICMS_EVENTS_CONSUMER_MAX + 128];
    int n = snprintf(head, sizeof head,
                     "{\"consumer\":\"%s\",\"acked\":%lld,\"last_seq\":%lld,"
                     "\"events\":[",
                     consumer, (long long)call.acked, (long long)call.last_seq);
    if (rc == ICMS_OK)
        rc = buf_add(&b, head, (size_t)n);
    if (rc == ICMS_OK && call.events.len)
        rc = buf_add(&b, call.events.bytes, call.events.len);
    if (rc == ICMS_OK)
        rc = buf_add(&b, "]}", 2);
    icms__free(call.events.bytes);
    if (rc) {
        icms__free(b.bytes);
        return rc;
    }
    *out = b.bytes;
    return ICMS_OK;
}

/* ---- ack, seek, delete ---- */

struct move_call {
    const char *consumer;
    int64_t seq;
    bool backwards_ok; /* seek */
};

static int move_cursor(icms__cmd *cmd)
{
    struct move_call *call = cmd->arg;
    int rc = require_operator(cmd);
    if (rc)
        return rc;
    int64_t last, acked = 0;
    if ((rc = icms__outbox_last_seq(cmd->tx, &last)))
        return rc;
    if (call->seq > last)
        return icms__error(ICMS_EINVALID, "seq %lld is beyond the outbox's last event (%lld)",
                           (long long)call->seq, (long long)last);
    rc = icms__consumer_get(cmd->tx, call->consumer, &acked);
    bool known = rc == ICMS_OK;
    if (rc == ICMS_ENOTFOUND) {
        icms_error_clear();
        rc = ICMS_OK;
    }
    if (rc)
        return rc;
    if (!known) { /* the first ack of a name registers it, as a first read does */
        cJSON *reg = cJSON_CreateObject();
        rc = reg ? icms__json_add_string(reg, "consumer", call->consumer) : ICMS_ENOMEM;
        if (rc == ICMS_OK)
            rc = icms__cmd_audit(cmd, "events.consumer_register", call->consumer, reg);
        cJSON_Delete(reg);
        if (rc)
            return rc == ICMS_ENOMEM ? icms__error(ICMS_ENOMEM, "out of memory") : rc;
    }
    if (!call->backwards_ok) {
        /* Cumulative: an ack at or below the cursor is a late repeat, not an error. */
        if (known && call->seq <= acked)
            return ICMS_OK;
        return icms__consumer_put(cmd->tx, call->consumer, call->seq, cmd->now_ms);
    }
    cJSON *data = cJSON_CreateObject();
    rc = data ? icms__json_add_int64(data, "from", acked) : ICMS_ENOMEM;
    if (rc == ICMS_OK)
        rc = icms__json_add_int64(data, "to", call->seq);
    if (rc == ICMS_OK)
        rc = icms__consumer_put(cmd->tx, call->consumer, call->seq, cmd->now_ms);
    if (rc == ICMS_OK)
        rc = icms__cmd_audit(cmd, "events.consumer_seek", call->consumer, data);
    cJSON_Delete(data);
    return rc;
}

static int move(icms_db *db, const icms_request *req, const char *consumer, int64_t seq, bool seek)
{
    int rc = check_name(consumer);
    if (rc)
        return rc;
    if (seq < 0)
        return icms__error(ICMS_EINVALID, "seq may not be negative");
    struct move_call call = {consumer, seq, seek};
    return icms__command(db, req, seek ? "events.seek" : "events.ack", NULL, move_cursor, &call,
                         NULL);
}

int icms_events_ack(icms_db *db, const icms_request *req, const char *consumer, int64_t seq)
{
    return move(db, req, consumer, seq, false);
}

int icms_events_seek(icms_db *db, const icms_request *req, const char *consumer, int64_t seq)
{
    return move(db, req, consumer, seq, true);
}

static int delete_consumer(icms__cmd *cmd)
{
    const char *name = cmd->arg;
    int64_t acked;
    int rc = require_operator(cmd);
    if (rc == ICMS_OK)
        rc = icms__consumer_get(cmd->tx, name, &acked);
    if (rc == ICMS_ENOTFOUND)
        return icms__error(ICMS_ENOTFOUND, "no consumer named %s", name);
    cJSON *data = rc == ICMS_OK ? cJSON_CreateObject() : NULL;
    if (rc == ICMS_OK)
        rc = data ? icms__json_add_int64(data, "acked", acked) : ICMS_ENOMEM;
    if (rc == ICMS_OK)
        rc = icms__consumer_delete(cmd->tx, name);
    if (rc == ICMS_OK)
        rc = icms__cmd_audit(cmd, "events.consumer_delete", name, data);
    cJSON_Delete(data);
    return rc;
}

int icms_events_consumer_delete(icms_db *db, const icms_request *req, const char *consumer)
{
    /* The library's own ("icms.notify") too: a host that stops notifying must free the outbox. */
    int rc = icms__consumer_name_check(consumer, true);
    if (rc)
        return rc;
    return icms__command(db, req, "events.consumer_delete", NULL, delete_consumer, (void *)consumer,
                         NULL);
}

/* ---- listing ---- */

struct list_call {
    cJSON *items;
    int64_t last;
};

static int on_listed(const char *name, int64_t acked, int64_t updated_at, void *payload)
{
    struct list_call *call = payload;
    cJSON *item = cJSON_CreateObject();
    int rc = item ? icms__json_add_string(item, "name", name) : ICMS_ENOMEM;
    if (rc == ICMS_OK)
        rc = icms__json_add_int64(item, "acked", acked);
    if (rc == ICMS_OK)
        rc = icms__json_add_int64(item, "lag", call->last > acked ? call->last - acked : 0);
    if (rc == ICMS_OK)
        rc = icms__json_add_time(item, "updated_at", updated_at);
    if (rc == ICMS_OK)
        return icms__json_add(call->items, NULL, item);
    cJSON_Delete(item);
    return rc == ICMS_ENOMEM ? icms__error(ICMS_ENOMEM, "out of memory") : rc;
}

static int list_consumers(icms__cmd *cmd)
{
    int rc = require_operator(cmd);
    if (rc)
        return rc;
    cJSON *doc = cJSON_CreateObject();
    struct list_call call = {NULL, 0};
    rc = doc ? icms__outbox_last_seq(cmd->tx, &call.last) : ICMS_ENOMEM;
    if (rc == ICMS_OK)
        rc = icms__json_add_int64(doc, "last_seq", call.last);
    if (rc == ICMS_OK)
        rc = icms__json_add_array(doc, "consumers", &call.items);
    if (rc == ICMS_OK)
        rc = icms__consumer_scan(cmd->tx, on_listed, &call);
    if (rc) {
        cJSON_Delete(doc);
        return rc == ICMS_ENOMEM ? icms__error(ICMS_ENOMEM, "out of memory") : rc;
    }
    icms__cmd_set_result(cmd, doc);
    return ICMS_OK;
}

int icms_events_consumers(icms_db *db, const icms_request *req, char **out)
{
    if (!out)
        return icms__error(ICMS_EINVALID, "out is required");
    return icms__query(db, req, list_consumers, NULL, out);
}
