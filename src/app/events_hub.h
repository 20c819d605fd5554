/*
 * The handle's event state: in-process subscribers, the events policy and
 * the host's notifier. Created with the handle, freed with it.
 */
#ifndef ICMS_SRC_APP_EVENTS_HUB_H
#define ICMS_SRC_APP_EVENTS_HUB_H

#include <cjson/cJSON.h>

#include "app/db.h"
#include "icms/events.h"
#include "icms/sys/notifier.h"

typedef struct icms__events_hub icms__events_hub;

int icms__events_hub_new(icms__events_hub **out);
void icms__events_hub_free(icms__events_hub *hub);

/*
 * The harness calls this after a command committed the events seq
 * first..last: subscribers whose pattern matches are called, here, outside
 * any transaction. Never fails the command; problems are counted.
 */
void icms__events_after_commit(icms_db *db, int64_t first, int64_t last);

/* The policy in force, defaults filled in. */
void icms__events_policy_get(icms_db *db, icms_events_policy *out);

/*
 * Hold the notifier for one icms_notify_run (NULL when none is set); the
 * runs of one handle take turns. Release with icms__events_notifier_release.
 */
icms_notifier *icms__events_notifier_acquire(icms_db *db);
void icms__events_notifier_release(icms_db *db);
/* True when a notifier is set (for icms_tick, without waiting for a run). */
bool icms__events_has_notifier(icms_db *db);

/* Callback failures counted so far (tests and stats). */
long icms__events_callback_failures(icms_db *db);

/*
 * icms_tick's share: prune what retention allows, then route and send
 * notifications when a notifier is set. Adds its counts to report (may be
 * NULL).
 */
int icms__events_tick(icms_db *db, cJSON *report);

#endif
