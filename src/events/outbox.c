#include "events/outbox.h"

#include <string.h>

#include "core/core.h"
#include "core/json.h"
#include "core/rfc3339.h"
#include "core/uuid.h"
#include "kv/log_memo.h"
#include "kv/tx_cache.h"

void icms__outbox_prefix(icms__key *key)
{
    icms__key_init(key);
    icms__key_str(key, "outbox");
}

void icms__outbox_key(icms__key *key, int64_t seq)
{
    icms__outbox_prefix(key);
    icms__key_int(key, seq);
}

/* The memo of where the outbox ends (kv/log_memo.h). */
static const char last_seq_tag = 0;

int icms__outbox_last_seq(icms__tx *tx, int64_t *seq)
{
    /* Derived from the last key, so the sequence is never kept twice in the store. */
    icms__key prefix;
    icms__outbox_prefix(&prefix);
    icms__log_memo *last;
    *seq = 0;
    int rc = icms__tx_log_memo(tx, &last_seq_tag, &prefix, NULL, &last);
    if (rc == ICMS_OK)
        *seq = last->seq;
    return rc;
}

static cJSON *envelope(const icms__event *event, const uint8_t id[16], int64_t now_ms, int64_t seq)
{
    char id_text[ICMS_UUID_STRING_SIZE];
    char when[ICMS_TIME_STRING_SIZE];
    icms__uuid_format(id, id_text);
    if (icms__time_format(now_ms, when) != ICMS_OK)
        return NULL;
    cJSON *doc = cJSON_CreateObject();
    bool ok = doc != NULL;
    ok = ok && cJSON_AddStringToObject(doc, "event_id", id_text);
    ok = ok && cJSON_AddStringToObject(doc, "type", event->type);
    ok = ok && cJSON_AddStringToObject(doc, "occurred_at", when);
    ok = ok && (event->correlation_id
                    ? cJSON_AddStringToObject(doc, "correlation_id", event->correlation_id) != NULL
                    : cJSON_AddNullToObject(doc, "correlation_id") != NULL);
    ok = ok && cJSON_AddStringToObject(doc, "source", ICMS__EVENT_SOURCE);
    ok = ok && cJSON_AddNumberToObject(doc, "schema_version", ICMS__EVENT_SCHEMA_VERSION);
    ok = ok && cJSON_AddStringToObject(doc, "subject", event->subject);
    ok = ok && icms__json_add_int64(doc, "seq", seq) == ICMS_OK;
    if (ok) {
        /* A reference, not a copy: the envelope is written and dropped before data is. */
        cJSON *data = !event->data ? cJSON_CreateObject()
                      : cJSON_IsObject(event->data)
                          ? cJSON_CreateObjectReference(event->data->child)
                          : cJSON_Duplicate(event->data, true);
        if (!data || !cJSON_AddItemToObject(doc, "data", data)) {
            cJSON_Delete(data);
            ok = false;
        }
    }
    if (!ok) {
        cJSON_Delete(doc);
        return NULL;
    }
    return doc;
}

int icms__outbox_append(icms__tx *tx, icms_clock *clock, int64_t now_ms, const icms__event *event,
                        int64_t *seq_out)
{
    if (!event->type || !event->subject)
        return icms__error(ICMS_EINVALID, "an event needs a type and a subject");
    icms__key prefix;
    icms__outbox_prefix(&prefix);
    icms__log_memo *last;
    int rc = icms__tx_log_memo(tx, &last_seq_tag, &prefix, NULL, &last);
    if (rc)
        return rc;
    int64_t seq = last->seq + 1;
    uint8_t id[16];
    if ((rc = icms__uuid7_new(clock, id)))
        return rc;
    cJSON *doc = envelope(event, id, now_ms, seq);
    if (!doc)
        return icms__error(ICMS_ENOMEM, "out of memory building event %s", event->type);
    char *text;
    size_t text_len;
    rc = icms__json_write(doc, 0, &text, &text_len);
    cJSON_Delete(doc);
    if (rc)
        return rc;
    icms__key key;
    icms__outbox_key(&key, seq);
    rc = icms__tx_put(tx, &key, text, text_len);
    if (rc == ICMS_OK)
        rc = icms__tx_log_appended(tx, last, text, text_len);
    icms__free(text);
    if (rc == ICMS_OK && seq_out)
        *seq_out = seq;
    return rc;
}
