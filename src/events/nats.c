/*
 * The NATS JetStream publisher: the outbox drained to a stream.
 *
 * It is an ordinary pull consumer of the outbox (icms_events_read / ack,
 * acting as the host): read a batch after its cursor, publish every event
 * asynchronously with Nats-Msg-Id = event_id, wait until the server has
 * acknowledged all of them, and only then acknowledge the batch in the
 * outbox. Any failure leaves the cursor where it was, drops the connection
 * (and with it every half-finished publish) and reports ICMS_ETRANSPORT;
 * the next drain reconnects and publishes the batch again, and the stream's
 * duplicate window drops what it already holds. So every event reaches the
 * stream exactly once as long as a retry comes within that window.
 */
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>

#include <nats/nats.h>

#include "core/core.h"
#include "core/json.h"
#include "events/nats_hook.h"
#include "icms/events.h"

void (*icms__nats_after_publish_hook)(void) = NULL;

#define DEFAULT_URL "nats://127.0.0.1:4222"
#define NAME_MAX_LEN 200

struct icms_nats_publisher {
    icms_db *db;
    char url[NAME_MAX_LEN + 1];
    char stream[NAME_MAX_LEN + 1];
    char prefix[NAME_MAX_LEN + 1];
    char consumer[ICMS_EVENTS_CONSUMER_MAX + 1];
    bool create_stream;
    unsigned int batch;
    int64_t timeout_ms;
    int64_t duplicate_window_ms;
    natsConnection *nc;
    jsCtx *js;
    atomic_long acked, failed; /* per batch, from libnats's ack thread */
};

int icms_nats_available(void)
{
    return 1;
}

static int copy_opt(char *dst, size_t size, const char *value, const char *fallback,
                    const char *what)
{
    const char *v = value ? value : fallback;
    size_t len = strlen(v);
    if (len >= size)
        return icms__error(ICMS_EINVALID, "nats %s is longer than %zu bytes", what, size - 1);
    for (size_t i = 0; i < len; i++)
        if ((unsigned char)v[i] <= ' ' || v[i] == 0x7f)
            return icms__error(ICMS_EINVALID, "nats %s may not contain spaces or control bytes",
                               what);
    memcpy(dst, v, len + 1);
    return ICMS_OK;
}

static int check_options(const icms_nats_options *o, icms_nats_publisher *p)
{
    if (o->version != ICMS_NATS_OPTIONS_VERSION)
        return icms__error(ICMS_EVERSION, "nats options version %u is not %u", o->version,
                           ICMS_NATS_OPTIONS_VERSION);
    int rc = copy_opt(p->url, sizeof p->url, o->url, DEFAULT_URL, "url");
    if (rc == ICMS_OK)
        rc = copy_opt(p->stream, sizeof p->stream, o->stream, "ICMS", "stream");
    if (rc == ICMS_OK)
        rc = copy_opt(p->prefix, sizeof p->prefix, o->subject_prefix, "icms.", "subject_prefix");
    if (rc == ICMS_OK)
        rc = copy_opt(p->consumer, sizeof p->consumer, o->consumer, "nats", "consumer");
    if (rc)
        return rc;
    if (!p->stream[0] || strpbrk(p->stream, ".*>"))
        return icms__error(ICMS_EINVALID, "nats stream must be a name without '.', '*' or '>'");
    if (strpbrk(p->prefix, "*>"))
        return icms__error(ICMS_EINVALID, "nats subject_prefix may not hold wildcards");
    size_t plen = strlen(p->prefix);
    if (plen && p->prefix[plen - 1] != '.')
        return icms__error(ICMS_EINVALID, "nats subject_prefix must end with '.' (\"icms.\")");
    if (o->create_stream && !plen)
        return icms__error(ICMS_EINVALID,
                           "create_stream needs a subject_prefix, so the stream can hold prefix.>");
    if (o->batch > ICMS_EVENTS_READ_MAX)
        return icms__error(ICMS_EINVALID, "nats batch may be at most %d", ICMS_EVENTS_READ_MAX);
    if (o->timeout_ms < 0 || o->duplicate_window_ms < 0)
        return icms__error(ICMS_EINVALID, "nats timeouts may not be negative");
    p->create_stream = o->create_stream != 0;
    p->batch = o->batch ? o->batch : 256;
    p->timeout_ms = o->timeout_ms ? o->timeout_ms : 5000;
    p->duplicate_window_ms = o->duplicate_window_ms ? o->duplicate_window_ms : 60LL * 60 * 1000;
    return ICMS_OK;
}

int icms_nats_publisher_new(icms_db *db, const icms_nats_options *options,
                            icms_nats_publisher **out)
{
    if (out)
        *out = NULL;
    if (!db || !out)
        return icms__error(ICMS_EINVALID, "a database and out are required");
    icms_nats_options defaults = ICMS_NATS_OPTIONS_INIT;
    icms_nats_publisher *p = icms__calloc(1, sizeof *p);
    if (!p)
        return ICMS_ENOMEM;
    int rc = check_options(options ? options : &defaults, p);
    if (rc) {
        icms__free(p);
        return rc;
    }
    p->db = db;
    *out = p;
    return ICMS_OK;
}

static void disconnect(icms_nats_publisher *p)
{
    if (p->js)
        jsCtx_Destroy(p->js);
    if (p->nc) {
        natsConnection_Close(p->nc);
        natsConnection_Destroy(p->nc);
    }
    p->js = NULL;
    p->nc = NULL;
}

void icms_nats_publisher_free(icms_nats_publisher *publisher)
{
    if (!publisher)
        return;
    disconnect(publisher);
    icms__free(publisher);
}

static int nats_failed(icms_nats_publisher *p, natsStatus s, const char *what)
{
    disconnect(p);
    return icms__error(ICMS_ETRANSPORT, "nats: %s: %s", what, natsStatus_GetText(s));
}

static void on_ack(jsCtx *js, natsMsg *msg, jsPubAck *pa, jsPubAckErr *pae, void *closure)
{
    (void)js;
    icms_nats_publisher *p = closure;
    if (pa && !pae)
        atomic_fetch_add(&p->acked, 1);
    else
        atomic_fetch_add(&p->failed, 1);
    natsMsg_Destroy(msg);
}

static int ensure_stream(icms_nats_publisher *p)
{
    jsStreamInfo *si = NULL;
    jsErrCode jerr = 0;
    natsStatus s = js_GetStreamInfo(&si, p->js, p->stream, NULL, &jerr);
    if (s == NATS_OK) {
        jsStreamInfo_Destroy(si);
        return ICMS_OK;
    }
    if (s != NATS_NOT_FOUND && jerr != JSStreamNotFoundErr)
        return nats_failed(p, s, "reading the stream");
    if (!p->create_stream) {
        disconnect(p);
        return icms__error(ICMS_ETRANSPORT, "nats: stream %s does not exist", p->stream);
    }
    char subject[NAME_MAX_LEN + 2];
    snprintf(subject, sizeof subject, "%s>", p->prefix);
    const char *subjects[1] = {subject};
    jsStreamConfig cfg;
    jsStreamConfig_Init(&cfg);
    cfg.Name = p->stream;
    cfg.Subjects = subjects;
    cfg.SubjectsLen = 1;
    cfg.Storage = js_FileStorage;
    cfg.Duplicates = p->duplicate_window_ms * 1000000; /* nanoseconds */
    s = js_AddStream(&si, p->js, &cfg, NULL, &jerr);
    if (s != NATS_OK)
        return nats_failed(p, s, "creating the stream");
    jsStreamInfo_Destroy(si);
    return ICMS_OK;
}

static int connect_server(icms_nats_publisher *p)
{
    if (p->js)
        return ICMS_OK;
    natsOptions *opts = NULL;
    natsStatus s = natsOptions_Create(&opts);
    if (s == NATS_OK)
        s = natsOptions_SetURL(opts, p->url);
    if (s == NATS_OK)
        s = natsOptions_SetTimeout(opts, p->timeout_ms);
    /* We reconnect ourselves, at the next drain: a failed batch is simply done again. */
    if (s == NATS_OK)
        s = natsOptions_SetAllowReconnect(opts, false);
    if (s == NATS_OK)
        s = natsConnection_Connect(&p->nc, opts);
    natsOptions_Destroy(opts);
    if (s != NATS_OK)
        return nats_failed(p, s, "connecting");
    jsOptions jo;
    jsOptions_Init(&jo);
    jo.Wait = p->timeout_ms;
    jo.PublishAsync.AckHandler = on_ack;
    jo.PublishAsync.AckHandlerClosure = p;
    jo.PublishAsync.MaxPending = ICMS_EVENTS_READ_MAX;
    s = natsConnection_JetStream(&p->js, p->nc, &jo);
    if (s != NATS_OK)
        return nats_failed(p, s, "opening JetStream");
    return ensure_stream(p);
}

static natsStatus header(natsMsg *msg, const char *key, const char *value)
{
    return value ? natsMsgHeader_Set(msg, key, value) : NATS_OK;
}

/* Queue one event for publishing; the message passes to libnats. */
static int publish_event(icms_nats_publisher *p, const cJSON *event)
{
    const char *id = icms__json_get_string(event, "event_id");
    const char *type = icms__json_get_string(event, "type");
    int64_t seq;
    if (!id || !type || !icms__json_int64(icms__json_get(event, "seq"), &seq))
        return icms__error(ICMS_ECORRUPT, "an outbox event lacks event_id, type or seq");
    char subject[NAME_MAX_LEN + 80], seq_text[24];
    if ((size_t)snprintf(subject, sizeof subject, "%s%s", p->prefix, type) >= sizeof subject)
        return icms__error(ICMS_ELIMIT, "nats subject for %s is too long", type);
    snprintf(seq_text, sizeof seq_text, "%lld", (long long)seq);
    char *body = NULL;
    size_t body_len = 0;
    int rc = icms__json_write(event, 0, &body, &body_len);
    if (rc)
        return rc;
    natsMsg *msg = NULL;
    natsStatus s = natsMsg_Create(&msg, subject, NULL, body, (int)body_len);
    icms__free(body);
    /* The server deduplicates on Nats-Msg-Id; the ce- headers are CloudEvents' NATS binding. */
    if (s == NATS_OK)
        s = header(msg, "Nats-Msg-Id", id);
    if (s == NATS_OK)
        s = header(msg, "Icms-Seq", seq_text);
    if (s == NATS_OK)
        s = header(msg, "ce-specversion", "1.0");
    if (s == NATS_OK)
        s = header(msg, "ce-id", id);
    if (s == NATS_OK)
        s = header(msg, "ce-type", type);
    if (s == NATS_OK)
        s = header(msg, "ce-source", icms__json_get_string(event, "source"));
    if (s == NATS_OK)
        s = header(msg, "ce-time", icms__json_get_string(event, "occurred_at"));
    if (s == NATS_OK)
        s = header(msg, "ce-subject", icms__json_get_string(event, "subject"));
    if (s == NATS_OK)
        s = header(msg, "Content-Type", "application/json");
    if (s == NATS_OK)
        s = js_PublishMsgAsync(p->js, &msg, NULL);
    natsMsg_Destroy(msg);
    return s == NATS_OK ? ICMS_OK : nats_failed(p, s, "publishing");
}

/* One batch: ICMS_OK with *count events published and acknowledged (0: nothing new). */
static int drain_batch(icms_nats_publisher *p, const icms_request *req, size_t *count)
{
    *count = 0;
    char *page = NULL;
    int rc = icms_events_read(p->db, req, p->consumer, ICMS_EVENTS_FROM_CURSOR, p->batch, &page);
    if (rc)
        return rc;
    cJSON *doc = NULL;
    static const icms__json_limits limits = {(size_t)1 << 30, 64};
    rc = icms__json_parse(page, strlen(page), &limits, &doc);
    icms_free(page);
    if (rc)
        return rc;
    const cJSON *events = icms__json_get(doc, "events");
    int n = cJSON_GetArraySize(events);
    if (n == 0) {
        cJSON_Delete(doc);
        return ICMS_OK;
    }
    if ((rc = connect_server(p))) {
        cJSON_Delete(doc);
        return rc;
    }
    atomic_store(&p->acked, 0);
    atomic_store(&p->failed, 0);
    const cJSON *event;
    int64_t last = 0;
    cJSON_ArrayForEach(event, events)
    {
        if ((rc = publish_event(p, event)))
            break;
        icms__json_int64(icms__json_get(event, "seq"), &last);
    }
    cJSON_Delete(doc);
    if (rc)
        return rc;
    jsPubOptions po;
    jsPubOptions_Init(&po);
    po.MaxWait = p->timeout_ms;
    natsStatus s = js_PublishAsyncComplete(p->js, &po);
    if (s != NATS_OK)
        return nats_failed(p, s, "waiting for publish acks");
    if (atomic_load(&p->failed) || atomic_load(&p->acked) != n) {
        disconnect(p);
        return icms__error(ICMS_ETRANSPORT, "nats: %ld of %d events were not acknowledged",
                           (long)(n - atomic_load(&p->acked)), n);
    }
    if (icms__nats_after_publish_hook)
        icms__nats_after_publish_hook();
    if ((rc = icms_events_ack(p->db, req, p->consumer, last)))
        return rc;
    *count = (size_t)n;
    return ICMS_OK;
}

int icms_nats_publisher_drain(icms_nats_publisher *publisher, size_t *published_out)
{
    if (published_out)
        *published_out = 0;
    if (!publisher)
        return icms__error(ICMS_EINVALID, "a publisher is required");
    icms_request req = ICMS_REQUEST_INIT;
    req.actor_kind = ICMS_ACTOR_HOST;
    req.source = "icms.nats";
    size_t total = 0, count = 0;
    int rc;
    do {
        rc = drain_batch(publisher, &req, &count);
        total += count;
    } while (rc == ICMS_OK && count == publisher->batch);
    if (published_out)
        *published_out = total;
    return rc;
}
