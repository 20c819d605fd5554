/*
 * An event consumer: reads the outbox through a durable named consumer,
 * prints each event as a CloudEvent, and acknowledges what it handled, so a
 * restart carries on where it stopped (at-least-once: handle events
 * idempotently, by their id).
 *
 *   event_consumer DATABASE [CONSUMER]   (default consumer: "example")
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>
#include <icms.h>

static int fail(int rc, const char *what)
{
    fprintf(stderr, "%s: %s: %s\n", what, icms_error_name(rc), icms_error_last()->message);
    return 1;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: event_consumer DATABASE [CONSUMER]\n");
        return 2;
    }
    const char *consumer = argc > 2 ? argv[2] : "example";
    if (icms_init() < 0)
        return 1;
    icms_options options = ICMS_OPTIONS_INIT;
    options.path = argv[1];
    icms_db *db = NULL;
    int rc = icms_open(&db, &options);
    if (rc)
        return fail(rc, "open");
    icms_request host = ICMS_REQUEST_INIT;
    host.actor_kind = ICMS_ACTOR_HOST;
    long long handled = 0;
    for (;;) {
        char *text = NULL;
        if ((rc = icms_events_read(db, &host, consumer, ICMS_EVENTS_FROM_CURSOR, 50, &text)))
            return fail(rc, "read");
        /*
         * cJSON re-prints numbers through a double: exact up to 2^53 base units
         * (90 million GAP), plenty here; a host that needs more reads the page
         * with an exact JSON reader.
         */
        cJSON *page = cJSON_Parse(text);
        icms_free(text);
        const cJSON *events = cJSON_GetObjectItemCaseSensitive(page, "events");
        long long seq = -1;
        const cJSON *event;
        cJSON_ArrayForEach(event, events)
        {
            char *one = cJSON_PrintUnformatted(event);
            char *cloud = NULL;
            if (icms_events_to_cloudevent(one, strlen(one), &cloud) == ICMS_OK) {
                printf("%s\n", cloud); /* handle the event: here, print it */
                icms_free(cloud);
                handled++;
            }
            cJSON_free(one);
            seq = (long long)cJSON_GetObjectItemCaseSensitive(event, "seq")->valuedouble;
        }
        cJSON_Delete(page);
        if (seq < 0)
            break; /* nothing new */
        /* Acknowledge only what was handled: a crash before this line redelivers. */
        if ((rc = icms_events_ack(db, &host, consumer, seq)))
            return fail(rc, "ack");
    }
    fprintf(stderr, "%lld events handled\n", handled);
    icms_close(db);
    icms_shutdown();
    return 0;
}
