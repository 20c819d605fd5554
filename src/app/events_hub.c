/*
 * In-process subscribers and the post-commit dispatch.
 *
 * Subscriptions are nodes in a list under the hub's lock. A dispatch takes a
 * reference on each matching node, calls it without the lock (a callback may
 * run commands, subscribe or unsubscribe), then drops the reference; an
 * unsubscribed node is freed by whoever drops the last reference.
 */
#include "app/events_hub.h"

#include <pthread.h>
#include <stdatomic.h>
#include <string.h>

#include "core/core.h"
#include "events/consumer.h"

struct sub {
    struct sub *next;
    uint64_t id;
    char pattern[ICMS__EVENT_TYPE_MAX + 1];
    icms_event_cb cb;
    void *payload;
    unsigned refs;    /* the list's own, plus one per dispatch under way */
    atomic_bool live; /* false once unsubscribed */
};

struct icms__events_hub {
    pthread_mutex_t lock; /* subs, next_id, policy */
    struct sub *subs;
    uint64_t next_id;
    atomic_size_t live_count;
    icms_events_policy policy;
    pthread_mutex_t notify_lock; /* held for a whole notify run and to swap the notifier */
    icms_notifier *notifier;
    atomic_bool has_notifier;
    atomic_long callback_failures;
};

int icms__events_hub_new(icms__events_hub **out)
{
    icms__events_hub *hub = icms__calloc(1, sizeof *hub);
    if (!hub)
        return ICMS_ENOMEM;
    pthread_mutex_init(&hub->lock, NULL);
    pthread_mutex_init(&hub->notify_lock, NULL);
    hub->next_id = 1;
    hub->policy = (icms_events_policy)ICMS_EVENTS_POLICY_INIT;
    atomic_init(&hub->live_count, 0);
    atomic_init(&hub->has_notifier, false);
    atomic_init(&hub->callback_failures, 0);
    *out = hub;
    return ICMS_OK;
}

static void free_notifier(icms_notifier *notifier)
{
    if (notifier && notifier->free)
        notifier->free(notifier);
}

void icms__events_hub_free(icms__events_hub *hub)
{
    if (!hub)
        return;
    for (struct sub *s = hub->subs, *next; s; s = next) {
        next = s->next;
        icms__free(s);
    }
    free_notifier(hub->notifier);
    pthread_mutex_destroy(&hub->lock);
    pthread_mutex_destroy(&hub->notify_lock);
    icms__free(hub);
}

/* ---- subscribe ---- */

int icms_events_subscribe(icms_db *db, const char *pattern, icms_event_cb callback, void *payload,
                          uint64_t *subscription_id)
{
    if (!db || !callback || !subscription_id)
        return icms__error(ICMS_EINVALID, "a database, a callback and subscription_id are "
                                          "required");
    *subscription_id = 0;
    int rc = icms__event_pattern_check(pattern);
    if (rc)
        return rc;
    struct sub *s = icms__calloc(1, sizeof *s);
    if (!s)
        return ICMS_ENOMEM;
    strcpy(s->pattern, pattern);
    s->cb = callback;
    s->payload = payload;
    s->refs = 1;
    atomic_init(&s->live, true);
    icms__events_hub *hub = db->events;
    pthread_mutex_lock(&hub->lock);
    s->id = hub->next_id++;
    s->next = hub->subs;
    hub->subs = s;
    atomic_fetch_add(&hub->live_count, 1);
    pthread_mutex_unlock(&hub->lock);
    *subscription_id = s->id;
    return ICMS_OK;
}

int icms_events_unsubscribe(icms_db *db, uint64_t subscription_id)
{
    if (!db)
        return icms__error(ICMS_EINVALID, "a database is required");
    icms__events_hub *hub = db->events;
    struct sub *found = NULL;
    pthread_mutex_lock(&hub->lock);
    for (struct sub **p = &hub->subs; *p; p = &(*p)->next) {
        if ((*p)->id == subscription_id) {
            found = *p;
            *p = found->next;
            break;
        }
    }
    bool free_it = false;
    if (found) {
        atomic_store(&found->live, false);
        atomic_fetch_sub(&hub->live_count, 1);
        free_it = --found->refs == 0;
    }
    pthread_mutex_unlock(&hub->lock);
    if (!found)
        return icms__error(ICMS_ENOTFOUND, "no subscription %llu",
                           (unsigned long long)subscription_id);
    if (free_it)
        icms__free(found);
    return ICMS_OK;
}

/* ---- dispatch ---- */

struct copied {
    int64_t seq;
    char *json;
    size_t len;
};

struct collect {
    struct copied *items;
    size_t count, cap;
};

static int on_committed(int64_t seq, const uint8_t *value, size_t value_len, void *payload)
{
    struct collect *c = payload;
    if (c->count == c->cap) {
        size_t cap = c->cap ? c->cap * 2 : 8;
        struct copied *items = icms__realloc(c->items, cap * sizeof *items);
        if (!items)
            return ICMS_ENOMEM;
        c->items = items;
        c->cap = cap;
    }
    char *json = icms__strndup((const char *)value, value_len);
    if (!json)
        return ICMS_ENOMEM;
    c->items[c->count++] = (struct copied){seq, json, value_len};
    return 0;
}

struct range {
    int64_t first, last;
    struct collect collect;
};

static int read_range(icms__tx *tx, void *arg)
{
    struct range *r = arg;
    return icms__outbox_scan(tx, r->first - 1, (size_t)(r->last - r->first + 1), on_committed,
                             &r->collect);
}

static void deliver(icms__events_hub *hub, const struct copied *item)
{
    icms__envelope env;
    if (icms__envelope_parse(item->json, item->len, ICMS_ECORRUPT, &env) != ICMS_OK) {
        atomic_fetch_add(&hub->callback_failures, 1);
        return;
    }
    icms_event_view view = {item->seq, env.type, env.subject, item->json, item->len};
    /* Take a reference on each matching node, then call them unlocked. */
    struct sub *stack[16], **matched = stack;
    size_t count = 0, cap = ICMS__ARRAY_LEN(stack);
    pthread_mutex_lock(&hub->lock);
    for (struct sub *s = hub->subs; s; s = s->next) {
        if (!icms__event_pattern_match(s->pattern, env.type))
            continue;
        if (count == cap) {
            struct sub **bigger = icms__malloc(cap * 2 * sizeof *bigger);
            if (!bigger) {
                atomic_fetch_add(&hub->callback_failures, 1);
                break;
            }
            memcpy(bigger, matched, count * sizeof *bigger);
            if (matched != stack)
                icms__free(matched);
            matched = bigger;
            cap *= 2;
        }
        s->refs++;
        matched[count++] = s;
    }
    pthread_mutex_unlock(&hub->lock);
    /* Subscribers were added newest first; call them oldest first. */
    for (size_t i = count; i-- > 0;) {
        struct sub *s = matched[i];
        if (atomic_load(&s->live) && s->cb(&view, s->payload) != ICMS_OK)
            atomic_fetch_add(&hub->callback_failures, 1);
    }
    pthread_mutex_lock(&hub->lock);
    for (size_t i = 0; i < count; i++)
        if (--matched[i]->refs == 0)
            icms__free(matched[i]);
        else
            matched[i] = NULL;
    pthread_mutex_unlock(&hub->lock);
    if (matched != stack)
        icms__free(matched);
    icms__envelope_free(&env);
}

void icms__events_after_commit(icms_db *db, int64_t first, int64_t last)
{
    icms__events_hub *hub = db->events;
    if (!hub || first <= 0 || last < first || atomic_load(&hub->live_count) == 0)
        return;
    /* Keep the command's own error state: a dispatch problem is not its failure. */
    struct range r = {first, last, {NULL, 0, 0}};
    if (icms__db_read(db, read_range, &r) != ICMS_OK)
        atomic_fetch_add(&hub->callback_failures, 1);
    for (size_t i = 0; i < r.collect.count; i++) {
        deliver(hub, &r.collect.items[i]);
        icms__free(r.collect.items[i].json);
    }
    icms__free(r.collect.items);
}

long icms__events_callback_failures(icms_db *db)
{
    return atomic_load(&db->events->callback_failures);
}

/* ---- policy ---- */

int icms_events_set_policy(icms_db *db, const icms_events_policy *policy)
{
    if (!db || !policy)
        return icms__error(ICMS_EINVALID, "a database and a policy are required");
    if (policy->version != ICMS_EVENTS_POLICY_VERSION)
        return icms__error(ICMS_EVERSION, "events policy version %u is not %u", policy->version,
                           ICMS_EVENTS_POLICY_VERSION);
    if (policy->notify_base_delay_ms < 0 || policy->notify_max_delay_ms < 0 ||
        policy->notify_lease_ms < 0)
        return icms__error(ICMS_EINVALID, "notification delays may not be negative");
    if (policy->notify_max_delay_ms && policy->notify_base_delay_ms &&
        policy->notify_max_delay_ms < policy->notify_base_delay_ms)
        return icms__error(ICMS_EINVALID, "notify_max_delay_ms is below notify_base_delay_ms");
    if (policy->notify_max_attempts > 1000)
        return icms__error(ICMS_EINVALID, "notify_max_attempts may be at most 1000");
    pthread_mutex_lock(&db->events->lock);
    db->events->policy = *policy;
    pthread_mutex_unlock(&db->events->lock);
    return ICMS_OK;
}

void icms__events_policy_get(icms_db *db, icms_events_policy *out)
{
    pthread_mutex_lock(&db->events->lock);
    *out = db->events->policy;
    pthread_mutex_unlock(&db->events->lock);
    if (!out->retention_ms)
        out->retention_ms = 7LL * 24 * 60 * 60 * 1000;
    if (!out->notify_max_attempts)
        out->notify_max_attempts = 8;
    if (!out->notify_base_delay_ms)
        out->notify_base_delay_ms = 30 * 1000;
    if (!out->notify_max_delay_ms)
        out->notify_max_delay_ms = 60 * 60 * 1000;
    if (out->notify_max_delay_ms < out->notify_base_delay_ms)
        out->notify_max_delay_ms = out->notify_base_delay_ms;
    if (!out->notify_lease_ms)
        out->notify_lease_ms = 5 * 60 * 1000;
}

/* ---- the notifier ---- */

int icms_notify_set_notifier(icms_db *db, icms_notifier *notifier)
{
    if (!db) {
        free_notifier(notifier);
        return icms__error(ICMS_EINVALID, "a database is required");
    }
    if (notifier && (notifier->version != ICMS_NOTIFIER_VERSION || !notifier->send)) {
        free_notifier(notifier);
        return icms__error(ICMS_EINVALID, "the notifier is not version %d or has no send",
                           ICMS_NOTIFIER_VERSION);
    }
    icms__events_hub *hub = db->events;
    pthread_mutex_lock(&hub->notify_lock);
    icms_notifier *old = hub->notifier;
    hub->notifier = notifier;
    atomic_store(&hub->has_notifier, notifier != NULL);
    pthread_mutex_unlock(&hub->notify_lock);
    free_notifier(old);
    return ICMS_OK;
}

icms_notifier *icms__events_notifier_acquire(icms_db *db)
{
    pthread_mutex_lock(&db->events->notify_lock);
    return db->events->notifier;
}

void icms__events_notifier_release(icms_db *db)
{
    pthread_mutex_unlock(&db->events->notify_lock);
}

bool icms__events_has_notifier(icms_db *db)
{
    return atomic_load(&db->events->has_notifier);
}
