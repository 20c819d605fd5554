/*
 * A notifier for tests that keeps every notification it is asked to send
 * (user, channel, template key, data), so a test can say who heard what.
 */
#ifndef ICMS_TEST_NOTIFY_RECORDER_H
#define ICMS_TEST_NOTIFY_RECORDER_H

#include "icms/db.h"

#define NOTIFY_RECORDER_MAX 256

typedef struct notify_sent {
    char user[37], channel[8], template_key[96], data[4096];
} notify_sent;

typedef struct notify_recorder {
    int count; /* notifications past NOTIFY_RECORDER_MAX are not kept */
    notify_sent items[NOTIFY_RECORDER_MAX];
} notify_recorder;

/* Make db's notifier one that records into r (r must outlive db's use of it). */
void notify_recorder_attach(icms_db *db, notify_recorder *r);

/*
 * Notifications recorded for user_id (NULL: anyone) whose template key is
 * template_key or, with user_id NULL, starts with it.
 */
int notify_recorder_count(const notify_recorder *r, const char *user_id, const char *template_key);

#endif
