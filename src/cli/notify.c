/*
 * notify run: the tool's notifier is a spool file. Each notification due is
 * appended to it as one JSON line (flushed and synced before it counts as
 * handed over), for a mailer or an SMS gateway to pick up; the library keeps
 * the delivery state, retries and dead letters as for any notifier.
 */
#include "cli.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "icms/events.h"
#include "icms/sys/notifier.h"
#include "jbuf.h"

static int spool_send(icms_notifier *self, const icms_notification *n)
{
    FILE *f = self->payload;
    jbuf b;
    jbuf_init(&b);
    jbuf_obj_open(&b);
    jbuf_kstr(&b, "id", n->id);
    jbuf_kstr(&b, "user_id", n->user_id);
    jbuf_kstr(&b, "channel", n->channel);
    if (n->address)
        jbuf_kstr(&b, "address", n->address);
    else
        jbuf_kjson(&b, "address", "null");
    jbuf_kstr(&b, "template", n->template_key);
    jbuf_kstr(&b, "event_id", n->event_id);
    jbuf_ku64(&b, "attempt", n->attempt);
    jbuf_kjson(&b, "data", n->data_json ? n->data_json : "null"); /* the library's JSON object */
    jbuf_obj_close(&b);
    char *line = jbuf_take(&b);
    if (!line)
        return ICMS_ENOMEM;
    /* a failed write is retried later by the library (with backoff), never lost */
    int ok = fprintf(f, "%s\n", line) > 0 && fflush(f) == 0 && fsync(fileno(f)) == 0;
    free(line);
    return ok ? ICMS_OK : ICMS_ERROR;
}

static void spool_free(icms_notifier *self)
{
    if (self->payload)
        fclose(self->payload);
    free(self);
}

int cli_notify_run(cli *c)
{
    if (!c->spool || !*c->spool)
        return cli_usage(c, "notify run needs --spool FILE (notifications are appended to it)");
    if (strcmp(c->spool, "-") == 0)
        return cli_usage(c, "--spool needs a file: stdout carries the report");
    int fd = open(c->spool, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
    if (fd < 0)
        return cli_usage(c, "cannot open %s: %s", c->spool, strerror(errno));
    FILE *f = fdopen(fd, "a");
    icms_notifier *n = f ? calloc(1, sizeof *n) : NULL;
    if (!n) {
        if (f)
            fclose(f);
        else
            close(fd);
        return cli_fail(ICMS_ENOMEM, NULL);
    }
    n->version = ICMS_NOTIFIER_VERSION;
    n->send = spool_send;
    n->free = spool_free;
    n->payload = f;
    int rc = icms_notify_set_notifier(c->db, n); /* the handle owns it, even on error */
    char *report = NULL;
    if (rc == ICMS_OK)
        rc = icms_notify_run(c->db, &report);
    return cli_finish(rc, report);
}
