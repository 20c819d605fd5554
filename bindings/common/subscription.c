/*
 * Push subscriptions for the bindings (subscription.h): a closed flag and an
 * in-flight count under a mutex, so that closing waits for running calls and
 * no call starts afterwards; a thread-local list of the calls running on
 * this thread, so that a callback may close its own subscription without
 * waiting for itself.
 */
#include "subscription.h"

#include <pthread.h>
#include <stdlib.h>

struct icms_binding_sub {
    pthread_mutex_t lock;
    pthread_cond_t idle;
    icms_db *db;
    uint64_t id;
    icms_binding_deliver_fn deliver;
    void *target;
    int closed;
    unsigned inflight;
    uint64_t delivered, failures;
};

/* One running call on this thread (a callback may run a command that dispatches again). */
struct frame {
    icms_binding_sub *sub;
    struct frame *next;
};
static _Thread_local struct frame *running;

static int trampoline(const icms_event_view *event, void *payload)
{
    icms_binding_sub *s = payload;
    pthread_mutex_lock(&s->lock);
    if (s->closed) {
        pthread_mutex_unlock(&s->lock);
        return ICMS_OK;
    }
    s->inflight++;
    s->delivered++;
    pthread_mutex_unlock(&s->lock);

    struct frame f = {s, running};
    running = &f;
    int rc = s->deliver(s->target, event->seq, event->type, event->json, event->json_len);
    running = f.next;

    pthread_mutex_lock(&s->lock);
    if (rc != 0)
        s->failures++;
    s->inflight--;
    pthread_cond_broadcast(&s->idle);
    pthread_mutex_unlock(&s->lock);
    return rc == 0 ? ICMS_OK : ICMS_EUSER;
}

int icms_binding_sub_new(icms_db *db, const char *pattern, icms_binding_deliver_fn deliver,
                         void *target, icms_binding_sub **out)
{
    *out = NULL;
    icms_binding_sub *s = calloc(1, sizeof *s);
    if (!s)
        return ICMS_ENOMEM;
    pthread_mutex_init(&s->lock, NULL);
    pthread_cond_init(&s->idle, NULL);
    s->db = db;
    s->deliver = deliver;
    s->target = target;
    int rc = icms_events_subscribe(db, pattern, trampoline, s, &s->id);
    if (rc != ICMS_OK) {
        icms_binding_sub_free(s); /* never subscribed: no dispatch can hold it */
        return rc;
    }
    *out = s;
    return ICMS_OK;
}

int icms_binding_sub_close(icms_binding_sub *s)
{
    pthread_mutex_lock(&s->lock);
    if (s->closed) {
        pthread_mutex_unlock(&s->lock);
        return 0;
    }
    s->closed = 1;
    pthread_mutex_unlock(&s->lock);
    /* The library's list forgets it; a dispatch already holding it sees closed. */
    (void)icms_events_unsubscribe(s->db, s->id);
    unsigned mine = 0;
    for (struct frame *f = running; f; f = f->next)
        mine += f->sub == s;
    pthread_mutex_lock(&s->lock);
    while (s->inflight > mine)
        pthread_cond_wait(&s->idle, &s->lock);
    pthread_mutex_unlock(&s->lock);
    return 1;
}

uint64_t icms_binding_sub_delivered(icms_binding_sub *s)
{
    pthread_mutex_lock(&s->lock);
    uint64_t n = s->delivered;
    pthread_mutex_unlock(&s->lock);
    return n;
}

uint64_t icms_binding_sub_failures(icms_binding_sub *s)
{
    pthread_mutex_lock(&s->lock);
    uint64_t n = s->failures;
    pthread_mutex_unlock(&s->lock);
    return n;
}

void icms_binding_sub_free(icms_binding_sub *s)
{
    if (!s)
        return;
    pthread_cond_destroy(&s->idle);
    pthread_mutex_destroy(&s->lock);
    free(s);
}
