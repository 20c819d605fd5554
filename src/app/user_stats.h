/*
 * An investor's running totals, the "investor history" of the User Service.
 *
 * One record per user, ("r", "user_stats", id): {"user_id", "invested",
 * "refunded", "projects_joined"}, amounts in base units. The payments and
 * participations commands call icms__user_stats_add in their own
 * transaction, so the totals move exactly when the money does.
 */
#ifndef ICMS_SRC_APP_USER_STATS_H
#define ICMS_SRC_APP_USER_STATS_H

#include <stdint.h>

#include "kv/record.h"

extern const icms__record_type icms__user_stats_record;

typedef struct icms__user_stats {
    int64_t invested;        /* base units paid in (confirmed) */
    int64_t refunded;        /* base units paid back */
    int64_t projects_joined; /* distinct projects with an approved participation */
} icms__user_stats;

/* The totals of user id; all zero when nothing was recorded yet. */
int icms__user_stats_get(icms__tx *tx, const uint8_t id[16], icms__user_stats *out);

/*
 * Add the deltas (each may be negative, for corrections) to user id's
 * totals. Errors, with nothing written: ICMS_ENOTFOUND (no such user),
 * ICMS_EINVALID (a total would overflow int64 or drop below zero).
 * All-zero deltas write nothing.
 */
int icms__user_stats_add(icms__tx *tx, const uint8_t id[16], int64_t invested_delta,
                         int64_t refunded_delta, int64_t joined_delta);

#endif
