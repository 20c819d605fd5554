/* check and the events commands. */
#include "cli.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "icms/events.h"
#include "icms/payments.h"
#include "jbuf.h"
#include "jread.h"

int cli_check(cli *c)
{
    char *report = NULL;
    int rc = icms_check(c->db, &c->req, &report);
    if (rc == ICMS_ECORRUPT && report) {
        /* violations are the command's finding: the report on stdout, exit 1 */
        printf("%s\n", report);
        icms_free(report);
        return CLI_EXIT_REFUSED;
    }
    return cli_finish(rc, report);
}

static bool parse_i64(const char *text, int64_t min, int64_t max, int64_t *out)
{
    char *end = NULL;
    errno = 0;
    long long v = strtoll(text, &end, 10);
    if (errno || !*text || *end || v < min || v > max)
        return false;
    *out = v;
    return true;
}

static int event_options(cli *c, int64_t *after, unsigned *max)
{
    *after = ICMS_EVENTS_FROM_CURSOR;
    *max = 0;
    int64_t v;
    if (c->after) {
        if (!parse_i64(c->after, 0, INT64_MAX, &v))
            return cli_usage(c, "--after must be a seq (0 or more)");
        *after = v;
    }
    if (c->max) {
        if (!parse_i64(c->max, 1, ICMS_EVENTS_READ_MAX, &v))
            return cli_usage(c, "--max must be from 1 to %d", ICMS_EVENTS_READ_MAX);
        *max = (unsigned)v;
    }
    return CLI_EXIT_OK;
}

int cli_events_read(cli *c)
{
    int64_t after;
    unsigned max;
    int status = event_options(c, &after, &max);
    if (status)
        return status;
    char *out = NULL;
    int rc = icms_events_read(c->db, &c->req, c->argv[0], after, max, &out);
    return cli_finish(rc, out);
}

int cli_events_ack(cli *c)
{
    int64_t seq;
    if (!parse_i64(c->argv[1], 0, INT64_MAX, &seq))
        return cli_usage(c, "SEQ must be a number (0 or more)");
    int rc = icms_events_ack(c->db, &c->req, c->argv[0], seq);
    if (rc)
        return cli_finish(rc, NULL);
    jbuf b;
    jbuf_init(&b);
    jbuf_obj_open(&b);
    jbuf_kstr(&b, "consumer", c->argv[0]);
    jbuf_ki64(&b, "acked", seq);
    jbuf_obj_close(&b);
    char *text = jbuf_take(&b);
    if (!text)
        return cli_fail(ICMS_ENOMEM, NULL);
    printf("%s\n", text);
    free(text);
    return CLI_EXIT_OK;
}

int cli_events_consumers(cli *c)
{
    char *out = NULL;
    int rc = icms_events_consumers(c->db, &c->req, &out);
    return cli_finish(rc, out);
}

/*
 * Print each event of one read as a line (re-encoded from the parsed answer:
 * numbers keep their text, so nothing passes through a double); *last gets
 * the seq of the last one printed.
 */
static int print_events(const char *json, int64_t *last, unsigned *printed)
{
    jval *v = jread_parse(json, strlen(json));
    const jval *events = jget(v, "events");
    if (!v || !events) {
        jread_free(v);
        return cli_fail(ICMS_ERROR, "the library's answer has no events");
    }
    for (const jval *e = events->child; e; e = e->next) {
        jbuf b;
        jbuf_init(&b);
        jbuf_value(&b, e);
        char *line = jbuf_take(&b);
        if (!line) {
            jread_free(v);
            return cli_fail(ICMS_ENOMEM, NULL);
        }
        printf("%s\n", line);
        free(line);
        ji64(e, "seq", last);
        (*printed)++;
    }
    fflush(stdout);
    jread_free(v);
    return CLI_EXIT_OK;
}

int cli_events_tail(cli *c)
{
    int64_t after;
    unsigned max;
    int status = event_options(c, &after, &max);
    if (status)
        return status;
    unsigned printed = 0;
    for (;;) {
        unsigned want = max ? max - printed : 100;
        if (want > 100)
            want = 100;
        char *out = NULL;
        int rc = icms_events_read(c->db, &c->req, c->argv[0], after, want, &out);
        if (rc)
            return cli_finish(rc, NULL);
        int64_t last = -1;
        unsigned before = printed;
        status = print_events(out, &last, &printed);
        icms_free(out);
        if (status)
            return status;
        if (last >= 0) {
            /* acknowledged only once printed: an interrupted tail loses nothing */
            rc = icms_events_ack(c->db, &c->req, c->argv[0], last);
            if (rc)
                return cli_finish(rc, NULL);
            after = ICMS_EVENTS_FROM_CURSOR;
        }
        if (max && printed >= max)
            return CLI_EXIT_OK;
        if (printed == before) {
            struct timespec ts = {0, 500 * 1000 * 1000};
            nanosleep(&ts, NULL);
        }
    }
}
