/* Helpers shared by the events suites (on top of app_fixture.h). */
#ifndef ICMS_TEST_EVENTS_FIXTURE_H
#define ICMS_TEST_EVENTS_FIXTURE_H

#include <cjson/cJSON.h>

#include "app_fixture.h"
#include "icms/events.h"

/* icms_events_read as f->host, asserting success; the page as JSON. */
cJSON *ev_read(fx *f, const char *consumer, int64_t after, unsigned max);

/* Every event in the outbox, straight from the store (registers no consumer). */
cJSON *ev_outbox(icms_db *db);

/* The outbox's last seq, straight from the store. */
int64_t ev_last_seq(icms_db *db);

/* Create and publish a project due in `days` days as f->owner; its id in id_out. */
void ev_published_project(fx *f, int days, char *id_out);

/* seq of an event object. */
int64_t ev_seq(const cJSON *event);

/* Every audit entry's text, concatenated (malloc'd). */
char *ev_audit_text(icms_db *db);

#endif
