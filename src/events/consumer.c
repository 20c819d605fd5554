/* Consumer cursors and outbox scans. */
#include "events/consumer.h"

#include <stdio.h>
#include <string.h>

#include "core/core.h"
#include "core/json.h"
#include "core/rfc3339.h"
#include "events/outbox.h"
#include "icms/events.h"

static bool name_char(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
           c == '-' || c == '.';
}

int icms__consumer_name_check(const char *name, bool allow_reserved)
{
    if (!name)
        return icms__error(ICMS_EINVALID, "a consumer name is required");
    size_t len = strnlen(name, ICMS_EVENTS_CONSUMER_MAX + 1);
    if (len == 0 || len > ICMS_EVENTS_CONSUMER_MAX)
        return icms__error(ICMS_EINVALID, "a consumer name must be 1 to %d bytes",
                           ICMS_EVENTS_CONSUMER_MAX);
    for (size_t i = 0; i < len; i++)
        if (!name_char(name[i]))
            return icms__error(ICMS_EINVALID,
                               "consumer name: only A-Z, a-z, 0-9, '.', '_' and '-' are allowed");
    if (!allow_reserved &&
        strncmp(name, ICMS__CONSUMER_RESERVED_PREFIX, strlen(ICMS__CONSUMER_RESERVED_PREFIX)) == 0)
        return icms__error(ICMS_EINVALID, "consumer names starting with \"%s\" are the library's",
                           ICMS__CONSUMER_RESERVED_PREFIX);
    return ICMS_OK;
}

static void consumer_prefix(icms__key *key)
{
    icms__key_init(key);
    icms__key_str(key, "consumer");
}

void icms__consumer_key(icms__key *key, const char *name)
{
    consumer_prefix(key);
    icms__key_str(key, name);
}

static int parse_cursor(const uint8_t *value, size_t len, int64_t *acked, int64_t *updated_at)
{
    cJSON *doc = NULL;
    int rc = icms__json_parse((const char *)value, len, NULL, &doc);
    if (rc == ICMS_ENOMEM)
        return rc;
    bool ok = rc == ICMS_OK && icms__json_int64(icms__json_get(doc, "acked"), acked) && *acked >= 0;
    if (ok && updated_at && !icms__json_int64(icms__json_get(doc, "updated_at"), updated_at))
        ok = false;
    cJSON_Delete(doc);
    return ok ? ICMS_OK : icms__error(ICMS_ECORRUPT, "a consumer cursor record is malformed");
}

int icms__consumer_get(icms__tx *tx, const char *name, int64_t *acked)
{
    icms__key key;
    const uint8_t *value;
    size_t len;
    icms__consumer_key(&key, name);
    int rc = icms__tx_get(tx, &key, &value, &len);
    if (rc)
        return rc;
    return parse_cursor(value, len, acked, NULL);
}

int icms__consumer_put(icms__tx *tx, const char *name, int64_t acked, int64_t now_ms)
{
    char text[96];
    int n = snprintf(text, sizeof text, "{\"acked\":%lld,\"updated_at\":%lld}", (long long)acked,
                     (long long)now_ms);
    icms__key key;
    icms__consumer_key(&key, name);
    return icms__tx_put(tx, &key, text, (size_t)n);
}

int icms__consumer_delete(icms__tx *tx, const char *name)
{
    icms__key key;
    icms__consumer_key(&key, name);
    return icms__tx_del(tx, &key);
}

struct scan {
    icms__consumer_cb cb;
    void *payload;
};

static int on_consumer(const uint8_t *key, size_t key_len, const uint8_t *value, size_t value_len,
                       void *payload)
{
    struct scan *scan = payload;
    icms__key_reader r;
    char table[16], name[ICMS_EVENTS_CONSUMER_MAX + 1];
    icms__key_reader_init(&r, key, key_len);
    int rc = icms__key_read_str(&r, table, sizeof table);
    if (rc == ICMS_OK)
        rc = icms__key_read_str(&r, name, sizeof name);
    if (rc)
        return icms__error(ICMS_ECORRUPT, "a consumer key is malformed");
    int64_t acked, updated_at;
    if ((rc = parse_cursor(value, value_len, &acked, &updated_at)))
        return rc;
    return scan->cb(name, acked, updated_at, scan->payload);
}

int icms__consumer_scan(icms__tx *tx, icms__consumer_cb cb, void *payload)
{
    icms__key prefix;
    consumer_prefix(&prefix);
    struct scan scan = {cb, payload};
    return icms__tx_scan_prefix(tx, &prefix, 0, on_consumer, &scan);
}

struct min_acked {
    bool any;
    int64_t min;
};

static int on_min(const char *name, int64_t acked, int64_t updated_at, void *payload)
{
    (void)name;
    (void)updated_at;
    struct min_acked *m = payload;
    if (!m->any || acked < m->min)
        m->min = acked;
    m->any = true;
    return 0;
}

int icms__consumer_min_acked(icms__tx *tx, bool *any, int64_t *min)
{
    struct min_acked m = {false, 0};
    int rc = icms__consumer_scan(tx, on_min, &m);
    *any = m.any;
    *min = m.min;
    return rc;
}

/* ---- the outbox ---- */

static int read_seq(const uint8_t *key, size_t key_len, int64_t *seq)
{
    icms__key_reader r;
    char table[8];
    icms__key_reader_init(&r, key, key_len);
    int rc = icms__key_read_str(&r, table, sizeof table);
    if (rc == ICMS_OK)
        rc = icms__key_read_int(&r, seq);
    return rc ? icms__error(ICMS_ECORRUPT, "an outbox key is malformed") : ICMS_OK;
}

struct outbox_scan {
    icms__outbox_cb cb;
    void *payload;
    size_t max, seen;
};

static int on_event(const uint8_t *key, size_t key_len, const uint8_t *value, size_t value_len,
                    void *payload)
{
    struct outbox_scan *scan = payload;
    if (scan->max && scan->seen == scan->max)
        return ICMS_STORE_STOP;
    int64_t seq;
    int rc = read_seq(key, key_len, &seq);
    if (rc)
        return rc;
    scan->seen++;
    return scan->cb(seq, value, value_len, scan->payload);
}

int icms__outbox_scan(icms__tx *tx, int64_t after, size_t max, icms__outbox_cb cb, void *payload)
{
    icms__key start, end;
    icms__outbox_key(&start, after < INT64_MAX ? after + 1 : INT64_MAX);
    icms__outbox_prefix(&end);
    int rc = icms__key_prefix_end(&end, &end);
    if (rc)
        return rc;
    struct outbox_scan scan = {cb, payload, max, 0};
    return icms__tx_scan_range(tx, &start, &end, 0, on_event, &scan);
}

struct prune {
    int64_t upto, last, cutoff_ms;
    size_t max;
    int64_t seqs[256];
    size_t count;
    bool more;
};

static int on_prune(int64_t seq, const uint8_t *value, size_t value_len, void *payload)
{
    struct prune *p = payload;
    if (seq > p->upto || seq >= p->last)
        return ICMS_STORE_STOP;
    if (p->count == p->max || p->count == ICMS__ARRAY_LEN(p->seqs)) {
        p->more = true;
        return ICMS_STORE_STOP;
    }
    icms__envelope env;
    int rc = icms__envelope_parse((const char *)value, value_len, ICMS_ECORRUPT, &env);
    if (rc)
        return rc;
    bool old = env.occurred_ms <= p->cutoff_ms;
    icms__envelope_free(&env);
    if (!old)
        return ICMS_STORE_STOP;
    p->seqs[p->count++] = seq;
    return 0;
}

int icms__outbox_prune(icms__tx *tx, int64_t upto, int64_t cutoff_ms, size_t max, size_t *pruned,
                       bool *more)
{
    *pruned = 0;
    *more = false;
    struct prune p = {.upto = upto, .cutoff_ms = cutoff_ms, .max = max};
    int rc = icms__outbox_last_seq(tx, &p.last);
    if (rc == ICMS_OK)
        rc = icms__outbox_scan(tx, 0, 0, on_prune, &p);
    for (size_t i = 0; rc == ICMS_OK && i < p.count; i++) {
        icms__key key;
        icms__outbox_key(&key, p.seqs[i]);
        rc = icms__tx_del(tx, &key);
    }
    if (rc == ICMS_OK) {
        *pruned = p.count;
        *more = p.more;
    }
    return rc;
}

/* ---- envelopes ---- */

int icms__envelope_parse(const char *json, size_t len, int bad_code, icms__envelope *out)
{
    memset(out, 0, sizeof *out);
    int rc = icms__json_parse(json, len, NULL, &out->doc);
    if (rc == ICMS_ENOMEM)
        return rc;
    if (rc)
        return icms__error(bad_code, "an event is not JSON: %s", icms_error_last()->message);
    out->event_id = icms__json_get_string(out->doc, "event_id");
    out->type = icms__json_get_string(out->doc, "type");
    out->subject = icms__json_get_string(out->doc, "subject");
    out->occurred_at = icms__json_get_string(out->doc, "occurred_at");
    out->data = icms__json_get(out->doc, "data");
    bool ok =
        out->event_id && out->type && out->subject && out->occurred_at &&
        cJSON_IsObject(out->data) && icms__json_int64(icms__json_get(out->doc, "seq"), &out->seq) &&
        icms__time_parse(out->occurred_at, strlen(out->occurred_at), &out->occurred_ms) == ICMS_OK;
    if (!ok) {
        icms__envelope_free(out);
        return icms__error(bad_code, "an event lacks event_id, type, subject, occurred_at, seq "
                                     "or data");
    }
    return ICMS_OK;
}

void icms__envelope_free(icms__envelope *env)
{
    cJSON_Delete(env->doc);
    memset(env, 0, sizeof *env);
}
