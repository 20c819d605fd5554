/*
 * Notifications in the store.
 *
 * notification: {id, event_id, event_seq, event_type, user_id, role,
 *                channel, template, data, status: "PENDING" | "SENT" |
 *                "DEAD" | "SKIPPED", attempts, next_attempt_at (ms),
 *                last_error, created_at, updated_at, sent_at}
 * indexes: due (next_attempt_at, id) while PENDING, by_status (status, id),
 * by_user (user_id, id)
 *
 * Preferences: ("notify_prefs", user id) -> {"email": b, "push": b, "sms": b}.
 */
#ifndef ICMS_SRC_APP_NOTIFY_DOC_H
#define ICMS_SRC_APP_NOTIFY_DOC_H

#include <cjson/cJSON.h>

#include "app/db.h"
#include "kv/record.h"

extern const icms__record_type icms__notification_record;

typedef enum icms__channel_t {
    ICMS__CHANNEL_EMAIL = 0,
    ICMS__CHANNEL_PUSH = 1,
    ICMS__CHANNEL_SMS = 2,
    ICMS__CHANNEL_COUNT
} icms__channel_t;

extern const char *const icms__channel_names[ICMS__CHANNEL_COUNT];

/* A user's channels (defaults when none stored): on[channel]. */
int icms__notify_prefs_read(icms__tx *tx, const uint8_t user_id[16], bool on[ICMS__CHANNEL_COUNT]);
int icms__notify_prefs_write(icms__tx *tx, const uint8_t user_id[16],
                             const bool on[ICMS__CHANNEL_COUNT]);

/* Recipient roles a route names. */
#define ICMS__TO_OWNER 0x1u
#define ICMS__TO_INVESTOR 0x2u
#define ICMS__TO_PARTICIPANTS 0x4u

typedef struct icms__route {
    const char *type;
    unsigned to;
} icms__route;

/* The routing table, and the route for type (NULL when it notifies nobody). */
extern const icms__route icms__routes[];
extern const size_t icms__route_count;
const icms__route *icms__route_find(const char *type);

/* One recipient of an event: the user and the role they are told in. */
typedef struct icms__recipient {
    uint8_t user_id[16];
    const char *role; /* "owner", "investor", "participant" */
} icms__recipient;

typedef struct icms__recipients {
    icms__recipient *items;
    size_t count, cap;
    cJSON *context; /* {project_id, project_title, ...} for the templates; owned */
} icms__recipients;

/*
 * Who route sends event (type, subject, data) to, computed from the store
 * as it is now; each user once, in the first role that names them.
 */
int icms__route_recipients(icms__tx *tx, const icms__route *route, const char *subject,
                           icms__recipients *out);
void icms__recipients_free(icms__recipients *r);

/* icms_tick's notification step: route then send (report may be NULL). */
int icms__notify_run(icms_db *db, cJSON *report);

#endif
