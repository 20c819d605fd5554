/*
 * The transactional outbox.
 *
 * A command that changes state appends its events here in its own
 * transaction, so an event exists exactly when its change committed. Events
 * live under ("outbox", seq) with seq strictly increasing per store; delivery
 * (pull consumers, callbacks, NATS) reads them from there after commit.
 */
#ifndef ICMS_SRC_EVENTS_OUTBOX_H
#define ICMS_SRC_EVENTS_OUTBOX_H

#include <cjson/cJSON.h>

#include "icms/sys/clock.h"
#include "kv/tx.h"

#define ICMS__EVENT_SCHEMA_VERSION 1
#define ICMS__EVENT_SOURCE "libicms"

typedef struct icms__event {
    const char *type;           /* "project.published" */
    const char *subject;        /* id text of the record the event is about */
    const char *correlation_id; /* may be NULL */
    const cJSON *data;          /* borrowed; may be NULL for {} */
} icms__event;

/*
 * Append an event with a fresh UUIDv7 event_id and occurred_at = now_ms.
 * *seq_out (may be NULL) receives its place in the outbox.
 */
int icms__outbox_append(icms__tx *tx, icms_clock *clock, int64_t now_ms, const icms__event *event,
                        int64_t *seq_out);

/* The last sequence number used (0 when the outbox is empty). */
int icms__outbox_last_seq(icms__tx *tx, int64_t *seq);

void icms__outbox_prefix(icms__key *key);
void icms__outbox_key(icms__key *key, int64_t seq);

#endif
