/*
 * Reading the outbox and keeping consumer cursors, inside a transaction.
 *
 * A durable consumer is the key ("consumer", name) holding
 * {"acked": seq, "updated_at": ms}: everything up to acked was delivered.
 * The pull API, the notification router and the NATS publisher are all
 * consumers; retention prunes only what every one of them acknowledged.
 */
#ifndef ICMS_SRC_EVENTS_CONSUMER_H
#define ICMS_SRC_EVENTS_CONSUMER_H

#include <stdbool.h>

#include <cjson/cJSON.h>

#include "kv/tx.h"

#define ICMS__EVENT_TYPE_MAX 64
/* The notification router's cursor; "icms." names are refused from hosts. */
#define ICMS__CONSUMER_NOTIFY "icms.notify"
#define ICMS__CONSUMER_RESERVED_PREFIX "icms."

/* ICMS_EINVALID (with a message) unless name is a valid consumer name. */
int icms__consumer_name_check(const char *name, bool allow_reserved);

void icms__consumer_key(icms__key *key, const char *name);

/* The consumer's cursor; ICMS_ENOTFOUND when it is not registered. */
int icms__consumer_get(icms__tx *tx, const char *name, int64_t *acked);
int icms__consumer_put(icms__tx *tx, const char *name, int64_t acked, int64_t now_ms);
int icms__consumer_delete(icms__tx *tx, const char *name);

typedef int (*icms__consumer_cb)(const char *name, int64_t acked, int64_t updated_at,
                                 void *payload);
/* Every registered consumer, by name. */
int icms__consumer_scan(icms__tx *tx, icms__consumer_cb cb, void *payload);

/* The least cursor of all consumers; *any false (and *min 0) when there are none. */
int icms__consumer_min_acked(icms__tx *tx, bool *any, int64_t *min);

/* Events with after < seq, oldest first, at most max (0: no limit). */
typedef int (*icms__outbox_cb)(int64_t seq, const uint8_t *value, size_t value_len, void *payload);
int icms__outbox_scan(icms__tx *tx, int64_t after, size_t max, icms__outbox_cb cb, void *payload);

/*
 * Delete events with seq <= upto that occurred at or before cutoff_ms,
 * oldest first, stopping at the first younger one, at the store's last event
 * (kept, so that the sequence never restarts) or after max deletions (then
 * *more is true).
 */
int icms__outbox_prune(icms__tx *tx, int64_t upto, int64_t cutoff_ms, size_t max, size_t *pruned,
                       bool *more);

/* An event read back from the outbox. */
typedef struct icms__envelope {
    cJSON *doc; /* owned */
    const char *event_id;
    const char *type;
    const char *subject;
    const char *occurred_at;
    int64_t occurred_ms;
    int64_t seq;
    const cJSON *data;
} icms__envelope;

/* Parse and check an event; ICMS_EINVALID (or ICMS_ECORRUPT with corrupt) when malformed. */
int icms__envelope_parse(const char *json, size_t len, int bad_code, icms__envelope *out);
void icms__envelope_free(icms__envelope *env);

/* Patterns ("*", "project.*", "project.published"). */
int icms__event_pattern_check(const char *pattern);
bool icms__event_pattern_match(const char *pattern, const char *type);

#endif
