/*
 * Events delivered per second:
 *
 * - pull: icms_events_read + icms_events_ack of pages of BATCH events by a
 *   durable consumer, on a SQLite file (sync FULL), until the outbox is empty;
 * - NATS: icms_nats_publisher_drain to a JetStream stream (file storage) on a
 *   nats-server at URL (skipped without one), every event acknowledged by
 *   the server before the outbox cursor moves.
 *
 *   bench_events [EVENTS] [BATCH] [nats://127.0.0.1:PORT]   (defaults 20000, 500)
 *
 * The outbox is filled directly (one transaction per 1000 events, with
 * project.published-shaped events) so that what is timed is delivery only.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "app/db.h"
#include "core/json.h"
#include "events/outbox.h"
#include "icms/events.h"

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void check(int rc, const char *what)
{
    if (rc != ICMS_OK) {
        fprintf(stderr, "%s: %s\n", what, icms_error_last()->message);
        exit(1);
    }
}

struct fill {
    icms_db *db;
    int count;
};

static int fill(icms__tx *tx, void *arg)
{
    struct fill *f = arg;
    cJSON *data = cJSON_CreateObject();
    cJSON_AddStringToObject(data, "from", "DRAFT");
    cJSON_AddStringToObject(data, "to", "PUBLISHED");
    int rc = ICMS_OK;
    for (int i = 0; rc == ICMS_OK && i < f->count; i++) {
        icms__event e = {"project.published", "01900000-0000-7000-8000-0000000000aa", "bench",
                         data};
        rc = icms__outbox_append(tx, f->db->clock, icms__db_now(f->db), &e, NULL);
    }
    cJSON_Delete(data);
    return rc;
}

static void fill_outbox(icms_db *db, int events)
{
    for (int done = 0; done < events;) {
        struct fill f = {db, events - done < 1000 ? events - done : 1000};
        check(icms__db_write(db, fill, &f), "fill");
        done += f.count;
    }
}

int main(int argc, char **argv)
{
    int events = argc > 1 ? atoi(argv[1]) : 20000;
    unsigned batch = argc > 2 ? (unsigned)atoi(argv[2]) : 500;
    const char *url = argc > 3 ? argv[3] : NULL;
    char dir[] = "/tmp/icms-bench-events-XXXXXX", path[256];
    if (!mkdtemp(dir))
        return 1;
    snprintf(path, sizeof path, "%s/bench.db", dir);
    check(icms_init() > 0 ? ICMS_OK : ICMS_ERROR, "init");
    icms_options options = ICMS_OPTIONS_INIT;
    options.path = path;
    icms_db *db = NULL;
    check(icms_open(&db, &options), "open");
    icms_request host = ICMS_REQUEST_INIT;
    host.actor_kind = ICMS_ACTOR_HOST;
    fill_outbox(db, events);

    /* Pull: read a page, ack its last seq, until nothing is left. */
    double t0 = now_s();
    long delivered = 0, bytes = 0;
    for (;;) {
        char *page = NULL;
        check(icms_events_read(db, &host, "bench", ICMS_EVENTS_FROM_CURSOR, batch, &page), "read");
        cJSON *doc = cJSON_Parse(page);
        const cJSON *list = cJSON_GetObjectItem(doc, "events");
        int n = cJSON_GetArraySize(list);
        bytes += (long)strlen(page);
        if (n) {
            int64_t last = 0;
            icms__json_int64(cJSON_GetObjectItem(cJSON_GetArrayItem(list, n - 1), "seq"), &last);
            check(icms_events_ack(db, &host, "bench", last), "ack");
        }
        cJSON_Delete(doc);
        icms_free(page);
        delivered += n;
        if (n == 0)
            break;
    }
    double pull = now_s() - t0;
    printf("pull:  %ld events in %.3f s = %.0f events/s (pages of %u, %.1f MB of JSON, "
           "read + parse + ack each page)\n",
           delivered, pull, (double)delivered / pull, batch, (double)bytes / 1e6);

    if (url && icms_nats_available()) {
        icms_nats_options o = ICMS_NATS_OPTIONS_INIT;
        o.url = url;
        o.create_stream = 1;
        o.stream = "ICMSBENCH";
        o.subject_prefix = "icmsbench.";
        o.batch = batch;
        icms_nats_publisher *p = NULL;
        check(icms_nats_publisher_new(db, &o, &p), "nats publisher");
        size_t n = 0;
        t0 = now_s();
        check(icms_nats_publisher_drain(p, &n), "nats drain");
        double nats = now_s() - t0;
        printf("nats:  %zu events in %.3f s = %.0f events/s (batches of %u, JetStream file "
               "storage, every event acknowledged before the outbox ack)\n",
               n, nats, (double)n / nats, batch);
        icms_nats_publisher_free(p);
    }
    icms_close(db);
    icms_shutdown();
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    return system(cmd) == 0 ? 0 : 1;
}
