/*
 * events publish-nats: drain the outbox to a NATS JetStream stream, once or
 * for a bounded time (--follow SECONDS), and say how many events the server
 * acknowledged. The library does the publishing and keeps the cursor; a
 * publish that is interrupted resumes where the server's acks stopped.
 */
#include "cli.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "icms/events.h"
#include "jbuf.h"

static int64_t monotonic_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int report(const icms_nats_options *o, size_t published, unsigned rounds)
{
    jbuf b;
    jbuf_init(&b);
    jbuf_obj_open(&b);
    jbuf_kstr(&b, "url", o->url);
    jbuf_kstr(&b, "stream", o->stream);
    jbuf_kstr(&b, "subject_prefix", o->subject_prefix);
    jbuf_kstr(&b, "consumer", o->consumer);
    jbuf_ku64(&b, "published", published);
    jbuf_ku64(&b, "rounds", rounds);
    jbuf_obj_close(&b);
    char *text = jbuf_take(&b);
    if (!text)
        return cli_fail(ICMS_ENOMEM, NULL);
    printf("%s\n", text);
    free(text);
    return fflush(stdout) == 0 ? CLI_EXIT_OK : CLI_EXIT_FAILURE;
}

int cli_events_publish_nats(cli *c)
{
    if (!icms_nats_available())
        return cli_fail(ICMS_EINVALID, "this libicms was built without NATS support");
    long follow_s = 0;
    if (c->follow) {
        char *end = NULL;
        errno = 0;
        follow_s = strtol(c->follow, &end, 10);
        if (errno || !*c->follow || *end || follow_s < 1 || follow_s > 86400)
            return cli_usage(c, "--follow must be a number of seconds from 1 to 86400");
    }
    icms_nats_options o = ICMS_NATS_OPTIONS_INIT;
    o.url = c->nats_url ? c->nats_url : "nats://127.0.0.1:4222";
    o.stream = c->nats_stream ? c->nats_stream : "ICMS";
    o.subject_prefix = c->subject_prefix ? c->subject_prefix : "icms.";
    o.consumer = c->nats_consumer ? c->nats_consumer : "nats";
    o.create_stream = c->create_stream;
    icms_nats_publisher *p = NULL;
    int rc = icms_nats_publisher_new(c->db, &o, &p);
    if (rc)
        return cli_finish(rc, NULL);
    size_t total = 0;
    unsigned rounds = 0;
    int64_t until = monotonic_ms() + (int64_t)follow_s * 1000;
    for (;;) {
        size_t n = 0;
        rc = icms_nats_publisher_drain(p, &n);
        total += n; /* acknowledged events count even when a later one failed */
        rounds++;
        if (rc || !c->follow || monotonic_ms() >= until)
            break;
        struct timespec ts = {0, 200 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
    icms_nats_publisher_free(p);
    if (rc)
        return cli_finish(rc, NULL);
    return report(&o, total, rounds);
}
