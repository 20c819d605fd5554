/*
 * events publish-nats: drain the outbox to a NATS JetStream stream, once or
 * for a bounded time (--follow SECONDS), and say how many events the server
 * acknowledged. The library does the publishing and keeps the cursor; a
 * publish that is interrupted resumes where the server's acks stopped, and
 * the error says how far it got (published, cursor) so that an operator
 * knows what the stream already holds.
 */
#include "cli.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "icms/events.h"
#include "jbuf.h"
#include "jread.h"

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

/*
 * The consumer's cursor (the last seq the server acknowledged), read as the
 * host, since the publisher itself acts as the host; -1 when it cannot be
 * read (the store is what failed, say). A consumer never acknowledged is at 0.
 */
static int64_t cursor_of(cli *c, const char *consumer)
{
    icms_request req = ICMS_REQUEST_INIT;
    req.actor_kind = ICMS_ACTOR_HOST;
    req.source = "icms.cli";
    char *out = NULL;
    if (icms_events_consumers(c->db, &req, &out) != ICMS_OK)
        return -1;
    jval *v = jread_parse(out, strlen(out));
    icms_free(out);
    const jval *list = jget(v, "consumers");
    int64_t acked = v && list ? 0 : -1;
    for (const jval *item = list ? list->child : NULL; item; item = item->next) {
        const char *name = jstr(item, "name");
        if (name && strcmp(name, consumer) == 0 && !ji64(item, "acked", &acked))
            acked = -1;
    }
    jread_free(v);
    return acked;
}

/*
 * A drain that failed part-way: the error object on stderr, with what was
 * acknowledged before it (by every round of this run) and where the cursor
 * stands, read after the error so that it is what the next run starts from.
 */
static int fail_part_way(cli *c, const icms_nats_options *o, int rc, size_t published,
                         unsigned rounds)
{
    const icms_error *e = icms_error_last();
    char *message = strdup(e->code == rc ? e->message : icms_strerror(rc));
    int64_t cursor = cursor_of(c, o->consumer);
    jbuf b;
    jbuf_init(&b);
    jbuf_obj_open(&b);
    jbuf_key(&b, "error");
    jbuf_obj_open(&b);
    jbuf_kstr(&b, "code", icms_error_name(rc));
    jbuf_kstr(&b, "message", message ? message : icms_strerror(rc));
    jbuf_obj_close(&b);
    jbuf_kstr(&b, "url", o->url);
    jbuf_kstr(&b, "stream", o->stream);
    jbuf_kstr(&b, "consumer", o->consumer);
    jbuf_ku64(&b, "published", published);
    jbuf_key(&b, "cursor");
    if (cursor >= 0)
        jbuf_i64(&b, cursor);
    else
        jbuf_null(&b);
    jbuf_ku64(&b, "rounds", rounds);
    jbuf_obj_close(&b);
    free(message);
    char *text = jbuf_take(&b);
    if (!text)
        return cli_fail(ICMS_ENOMEM, NULL);
    fprintf(stderr, "%s\n", text);
    free(text);
    return cli_exit_code(rc);
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
    int status = rc ? fail_part_way(c, &o, rc, total, rounds) : report(&o, total, rounds);
    icms_nats_publisher_free(p);
    return status;
}
