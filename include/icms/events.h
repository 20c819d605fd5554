/*
 * Events and notifications: the transactional outbox, delivered.
 *
 * Every command that changes state writes its events to the store's outbox
 * in its own transaction, numbered by a sequence (seq) that strictly
 * increases per store. This header delivers them:
 *
 * - pull: durable named consumers read after their cursor and acknowledge
 *   (icms_events_read / icms_events_ack); the cursor lives in the store, so
 *   a host process can restart and carry on; what was not acknowledged is
 *   read again (at least once);
 * - push in-process: callbacks subscribed to a type pattern run after the
 *   command committed, on the committing thread (icms_events_subscribe);
 * - NATS JetStream: icms_nats_publisher_* drains the outbox to a stream;
 * - notifications: routing rules turn events into notifications for users,
 *   delivered through the host's notifier port (icms/sys/notifier.h) by
 *   icms_notify_run or icms_tick.
 *
 * An event, as JSON (docs/events.md; one JSON schema per type in
 * docs/events/): {"event_id": UUIDv7, "type": "project.published",
 * "occurred_at": RFC 3339, "correlation_id": text or null, "source":
 * "libicms", "schema_version": 1, "subject": id of the record, "seq": n,
 * "data": {...}}.
 *
 * Threads: every call may be made from any thread with a shared handle.
 */
#ifndef ICMS_EVENTS_H
#define ICMS_EVENTS_H

#include "icms/db.h"
#include "icms/request.h"

#ifdef __cplusplus
extern "C" {
#endif

/** Longest consumer name, in bytes. */
#define ICMS_EVENTS_CONSUMER_MAX 64

/** `after` for icms_events_read: start after the consumer's acknowledged cursor. */
#define ICMS_EVENTS_FROM_CURSOR (-1)

/** Most events one icms_events_read returns. */
#define ICMS_EVENTS_READ_MAX 1000

/* ---- pull: durable consumers ---- */

/**
 * Read up to max events (1..ICMS_EVENTS_READ_MAX; 0 means 100) with seq
 * greater than after, oldest first, for the durable consumer named consumer
 * (1 to ICMS_EVENTS_CONSUMER_MAX bytes of [A-Za-z0-9._-]; names starting
 * with "icms." are the library's own). after is ICMS_EVENTS_FROM_CURSOR to
 * continue from the consumer's acknowledged cursor, or a seq >= 0.
 *
 * The first read (or ack) of a name registers the consumer with cursor 0;
 * from then on retention keeps every event it has not acknowledged.
 *
 * *out (freed with icms_free()): {"consumer": name, "acked": cursor,
 * "last_seq": the outbox's last seq, "events": [event, ...]}.
 *
 * Host or admin only. Errors: ICMS_EINVALID (bad name, after or max),
 * ICMS_EFORBIDDEN, ICMS_EUNAUTHENTICATED.
 */
ICMS_EXTERN int icms_events_read(icms_db *db, const icms_request *req, const char *consumer,
                                 int64_t after, unsigned int max, char **out);

/**
 * Acknowledge every event up to and including seq for consumer: its cursor
 * becomes seq. Acknowledgements are cumulative; one at or below the cursor
 * changes nothing and succeeds (a late or repeated ack is harmless).
 *
 * Host or admin only. Errors: ICMS_EINVALID (bad name, seq < 0 or beyond
 * the outbox's last seq), ICMS_EFORBIDDEN, ICMS_EUNAUTHENTICATED.
 */
ICMS_EXTERN int icms_events_ack(icms_db *db, const icms_request *req, const char *consumer,
                                int64_t seq);

/**
 * Move a consumer's cursor to seq, backwards too (to replay), registering it
 * if needed. Audited. Host or admin only. Errors as icms_events_ack.
 */
ICMS_EXTERN int icms_events_seek(icms_db *db, const icms_request *req, const char *consumer,
                                 int64_t seq);

/**
 * Forget a consumer, so that retention no longer waits for it; the
 * library's own names are accepted here (delete "icms.notify" when a host
 * stops using notifications: routing starts again from the oldest event kept
 * if a notifier is set later). Audited.
 * Host or admin only. Errors: ICMS_EINVALID, ICMS_ENOTFOUND, ICMS_EFORBIDDEN.
 */
ICMS_EXTERN int icms_events_consumer_delete(icms_db *db, const icms_request *req,
                                            const char *consumer);

/**
 * The registered consumers, the library's own included: *out is
 * {"last_seq": n, "consumers": [{"name", "acked", "lag", "updated_at"}, ...]}.
 * Host or admin only.
 */
ICMS_EXTERN int icms_events_consumers(icms_db *db, const icms_request *req, char **out);

/* ---- push: in-process subscribers ---- */

/** One event as a subscriber sees it; every pointer is borrowed for the call only. */
typedef struct icms_event_view {
    int64_t seq;
    const char *type;    /**< "project.published" */
    const char *subject; /**< id of the record the event is about */
    const char *json;    /**< the whole event, as read by icms_events_read */
    size_t json_len;
} icms_event_view;

/**
 * A subscriber. Called after the command that wrote the event committed, on
 * the thread that ran the command, outside any transaction (so it may call
 * libicms, commands included). Its return value is ignored apart from being
 * counted: a failing callback never fails or undoes the command.
 */
typedef int (*icms_event_cb)(const icms_event_view *event, void *payload);

/**
 * Subscribe callback to the events whose type matches pattern: "*" (every
 * event), "project.*" (every type that starts with "project."), or an exact
 * type. payload is handed back to each call and never read by the library.
 * *subscription_id (> 0) names the subscription for icms_events_unsubscribe.
 *
 * Delivery is at most once and in commit order per thread; it is not
 * durable (use a pull consumer for that). Errors: ICMS_EINVALID (NULL
 * argument, bad pattern), ICMS_ENOMEM.
 */
ICMS_EXTERN int icms_events_subscribe(icms_db *db, const char *pattern, icms_event_cb callback,
                                      void *payload, uint64_t *subscription_id);

/**
 * Stop a subscription. No call starts after this returns; a call already
 * running on another thread finishes. May be called from inside a callback.
 * Errors: ICMS_EINVALID, ICMS_ENOTFOUND (no such subscription).
 */
ICMS_EXTERN int icms_events_unsubscribe(icms_db *db, uint64_t subscription_id);

/* ---- formats ---- */

/**
 * Map an event (JSON as icms_events_read gives it) onto a CloudEvents 1.0
 * structured-mode JSON object: {"specversion": "1.0", "id": event_id,
 * "source": "libicms", "type", "time": occurred_at, "subject",
 * "datacontenttype": "application/json", "data", plus the extension
 * attributes "icmsseq", "icmsschemaversion" and "icmscorrelationid" (when
 * set)}. *out is freed with icms_free(). Errors: ICMS_EINVALID (not an
 * event).
 */
ICMS_EXTERN int icms_events_to_cloudevent(const char *event_json, size_t event_json_len,
                                          char **out);

/**
 * True (1) when type matches pattern ("*", "prefix.*" or an exact type),
 * 0 when not, ICMS_EINVALID for a malformed pattern.
 */
ICMS_EXTERN int icms_events_pattern_match(const char *pattern, const char *type);

/* ---- policy ---- */

/** Retention and notification delivery settings. Fill with ICMS_EVENTS_POLICY_INIT. */
typedef struct icms_events_policy {
    unsigned int version; /**< ICMS_EVENTS_POLICY_VERSION */
    /**
     * Events acknowledged by every registered consumer and older than this
     * are pruned by icms_tick. 0: 7 days. Negative: never prune.
     */
    int64_t retention_ms;
    /** Attempts at one notification before it is dead-lettered. 0: 8. */
    unsigned int notify_max_attempts;
    /** Wait after the first failed attempt; doubles each time. 0: 30 s. */
    int64_t notify_base_delay_ms;
    /** Cap of one wait. 0: 1 hour. */
    int64_t notify_max_delay_ms;
    /**
     * How long a notification being sent is held from other processes; a
     * sender that dies is retried after it. 0: 5 minutes.
     */
    int64_t notify_lease_ms;
} icms_events_policy;

#define ICMS_EVENTS_POLICY_VERSION 1
#define ICMS_EVENTS_POLICY_INIT                                                                    \
    {                                                                                              \
        ICMS_EVENTS_POLICY_VERSION, 0, 0, 0, 0, 0                                                  \
    }

/**
 * Replace the handle's policy (zeros mean the defaults above). Errors:
 * ICMS_EINVALID (NULL, a negative delay, max below base), ICMS_EVERSION.
 */
ICMS_EXTERN int icms_events_set_policy(icms_db *db, const icms_events_policy *policy);

/* ---- notifications ---- */

struct icms_notifier;

/**
 * Give the handle the host's notifier (icms/sys/notifier.h); the handle owns
 * it from then on and frees it at icms_close (or when replaced). NULL
 * removes it. Until a notifier is set, icms_tick routes no notifications and
 * events wait in the outbox for it. Errors: ICMS_EINVALID (wrong version or
 * no send), the notifier is released even then.
 */
ICMS_EXTERN int icms_notify_set_notifier(icms_db *db, struct icms_notifier *notifier);

/**
 * Route new events to notifications and send those due, now: what icms_tick
 * does for notifications. *report_out (may be NULL; icms_free()) is
 * {"routed": events read, "created", "sent", "failed", "dead", "skipped"}.
 * The notifier is called outside any transaction, on this thread.
 * Errors: ICMS_EINVALID (no notifier set), ICMS_ESTORAGE, ICMS_EBUSY.
 */
ICMS_EXTERN int icms_notify_run(icms_db *db, char **report_out);

/**
 * A user's notification channels: {"email": bool, "push": bool, "sms":
 * bool}; by default email and push are on and sms is off. The user
 * themselves or an admin. Errors: ICMS_EINVALID, ICMS_ENOTFOUND,
 * ICMS_EFORBIDDEN.
 */
ICMS_EXTERN int icms_notify_prefs_get(icms_db *db, const icms_request *req, const char *user_id,
                                      char **out);

/**
 * Change a user's channels: json holds any of "email", "push", "sms" as
 * booleans; the others keep their value. *out is the new preferences. The
 * user themselves or an admin. Errors as icms_notify_prefs_get.
 */
ICMS_EXTERN int icms_notify_prefs_set(icms_db *db, const icms_request *req, const char *user_id,
                                      const char *json, char **out);

/**
 * Notifications by status ("PENDING", "SENT", "DEAD", "SKIPPED"), oldest
 * first, at most 100: {"items": [...], "next": id or null}; after is the
 * last id of the previous page or NULL. Admin or host only.
 */
ICMS_EXTERN int icms_notify_list(icms_db *db, const icms_request *req, const char *status,
                                 const char *after, char **out);

/**
 * Put a DEAD notification back to PENDING with its attempts reset, due now.
 * Admin or host only. Errors: ICMS_ENOTFOUND, ICMS_EINVALID_TRANSITION.
 */
ICMS_EXTERN int icms_notify_retry(icms_db *db, const icms_request *req, const char *notification_id,
                                  char **out);

/* ---- NATS JetStream ---- */

/** A publisher that drains the outbox to a JetStream stream. */
typedef struct icms_nats_publisher icms_nats_publisher;

/** Where and how to publish. Fill with ICMS_NATS_OPTIONS_INIT. */
typedef struct icms_nats_options {
    unsigned int version; /**< ICMS_NATS_OPTIONS_VERSION */
    const char *url;      /**< "nats://127.0.0.1:4222"; NULL: that */
    const char *stream;   /**< JetStream stream; NULL: "ICMS" */
    /** Subject = prefix + event type; NULL: "icms." (so the stream holds "icms.>"). */
    const char *subject_prefix;
    /** The durable outbox consumer the publisher advances; NULL: "nats". */
    const char *consumer;
    /** Nonzero: create the stream (file storage, subjects prefix + ">") when missing. */
    int create_stream;
    /** Events per publish round, 1..ICMS_EVENTS_READ_MAX; 0: 256. */
    unsigned int batch;
    /** How long to wait for the server (connect, publish acks); 0: 5000 ms. */
    int64_t timeout_ms;
    /** The stream's duplicate window when creating it; 0: 1 hour. */
    int64_t duplicate_window_ms;
} icms_nats_options;

#define ICMS_NATS_OPTIONS_VERSION 1
#define ICMS_NATS_OPTIONS_INIT                                                                     \
    {                                                                                              \
        ICMS_NATS_OPTIONS_VERSION, NULL, NULL, NULL, NULL, 0, 0, 0, 0                              \
    }

/**
 * A publisher for db (borrowed: it must outlive the publisher). Connects
 * lazily, on the first drain, and reconnects after the server went away.
 * *out is freed with icms_nats_publisher_free(). Errors: ICMS_EINVALID (bad
 * options; also when libicms was built without NATS), ICMS_EVERSION.
 */
ICMS_EXTERN int icms_nats_publisher_new(icms_db *db, const icms_nats_options *options,
                                        icms_nats_publisher **out);

/**
 * Publish every event after the publisher's consumer cursor, in seq order,
 * with subject prefix + type and the header Nats-Msg-Id = event_id (so the
 * server drops a repeat within its duplicate window), and advance the
 * cursor only after the server acknowledged each event. *published_out (may
 * be NULL) receives how many events were acknowledged by this call. Events
 * wait in the outbox while the server is down.
 *
 * Not for concurrent use from several threads on one publisher. Errors:
 * ICMS_ETRANSPORT (server unreachable or no ack; nothing acknowledged past
 * what the server confirmed), ICMS_ESTORAGE.
 */
ICMS_EXTERN int icms_nats_publisher_drain(icms_nats_publisher *publisher, size_t *published_out);

/** Close the connection and free the publisher. NULL is allowed. */
ICMS_EXTERN void icms_nats_publisher_free(icms_nats_publisher *publisher);

/** 1 when this libicms was built with NATS support, else 0. */
ICMS_EXTERN int icms_nats_available(void);

#ifdef __cplusplus
}
#endif

#endif /* ICMS_EVENTS_H */
