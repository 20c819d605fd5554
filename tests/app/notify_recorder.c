#include "notify_recorder.h"

#include "support/test_support.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "icms/events.h"
#include "icms/sys/notifier.h"

static int send_cb(icms_notifier *self, const icms_notification *n)
{
    notify_recorder *r = self->payload;
    if (r->count < NOTIFY_RECORDER_MAX) {
        notify_sent *s = &r->items[r->count++];
        snprintf(s->user, sizeof s->user, "%s", n->user_id);
        snprintf(s->channel, sizeof s->channel, "%s", n->channel);
        snprintf(s->template_key, sizeof s->template_key, "%s", n->template_key);
        snprintf(s->data, sizeof s->data, "%s", n->data_json);
    }
    return ICMS_OK;
}

static void free_notifier(icms_notifier *self)
{
    free(self);
}

void notify_recorder_attach(icms_db *db, notify_recorder *r)
{
    icms_notifier *n = calloc(1, sizeof *n);
    assert_non_null(n);
    *n = (icms_notifier)ICMS_NOTIFIER_INIT;
    n->send = send_cb;
    n->free = free_notifier;
    n->payload = r;
    assert_icms_ok(icms_notify_set_notifier(db, n));
}

int notify_recorder_count(const notify_recorder *r, const char *user_id, const char *template_key)
{
    int n = 0;
    for (int i = 0; i < r->count && i < NOTIFY_RECORDER_MAX; i++) {
        const notify_sent *s = &r->items[i];
        bool match =
            user_id ? strcmp(s->user, user_id) == 0 && strcmp(s->template_key, template_key) == 0
                    : strncmp(s->template_key, template_key, strlen(template_key)) == 0;
        n += match;
    }
    return n;
}
