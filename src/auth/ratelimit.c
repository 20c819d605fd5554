/*
 * The sliding-window rate limiter: an exact sliding log per key.
 *
 * Each key keeps the times of its allowed requests in the current window (a
 * ring that grows up to the key's limit), so the decision is exact at every
 * millisecond: a request at t counts the requests in (t - window, t]. Keys
 * live in a hash table and an LRU list; past max_keys the least recently
 * seen key is forgotten (which can only ever let that key through earlier,
 * never refuse anyone wrongly). One mutex guards the whole limiter: a hit is
 * a few hundred nanoseconds, far below what would need finer locks.
 */
#include <pthread.h>
#include <string.h>

#include "core/core.h"
#include "icms/auth.h"
#include "icms/sys/clock.h"

#define KEY_MAX 256

typedef struct entry {
    struct entry *chain;            /* next in the bucket */
    struct entry *newer, *older;    /* LRU list */
    int64_t *times;                 /* ring of allowed request times, oldest at head */
    uint32_t head, count, capacity; /* ring state */
    uint64_t hash;
    icms_ratelimit_kind_t kind;
    size_t key_len;
    char key[];
} entry;

struct icms_ratelimit {
    pthread_mutex_t lock;
    icms_ratelimit_options options;
    icms_clock *clock;
    entry **buckets;
    size_t bucket_mask;
    size_t size;
    entry *newest, *oldest;
};

static uint64_t hash_key(icms_ratelimit_kind_t kind, const char *key, size_t len)
{
    uint64_t h = 1469598103934665603ULL ^ (uint64_t)kind;
    for (size_t i = 0; i < len; i++)
        h = (h ^ (uint8_t)key[i]) * 1099511628211ULL;
    return h;
}

int icms_ratelimit_new(icms_ratelimit **out, const icms_ratelimit_options *options)
{
    icms_clock *clock = options ? options->clock : NULL;
    if (out)
        *out = NULL;
    if (!out || !options) {
        icms_clock_free(clock);
        return icms__error(ICMS_EINVALID, "icms_ratelimit_new needs out and options");
    }
    if (options->version != ICMS_RATELIMIT_OPTIONS_VERSION) {
        icms_clock_free(clock);
        return icms__error(ICMS_EVERSION, "rate limit options version %u is not %u",
                           options->version, ICMS_RATELIMIT_OPTIONS_VERSION);
    }
    if (!options->anonymous_limit || !options->authenticated_limit || options->window_ms <= 0 ||
        !options->max_keys || options->max_keys > ((size_t)1 << 28)) {
        icms_clock_free(clock);
        return icms__error(ICMS_EINVALID, "rate limits, window_ms and max_keys must be positive");
    }
    icms_ratelimit *rl = icms__calloc(1, sizeof *rl);
    size_t buckets = 16;
    while (buckets < options->max_keys)
        buckets <<= 1;
    entry **table = rl ? icms__calloc(buckets, sizeof *table) : NULL;
    if (!table) {
        icms__free(rl);
        icms_clock_free(clock);
        return ICMS_ENOMEM;
    }
    pthread_mutex_init(&rl->lock, NULL);
    rl->options = *options;
    rl->clock = clock;
    rl->buckets = table;
    rl->bucket_mask = buckets - 1;
    *out = rl;
    return ICMS_OK;
}

static void entry_free(entry *e)
{
    icms__free(e->times);
    icms__free(e);
}

void icms_ratelimit_free(icms_ratelimit *rl)
{
    if (!rl)
        return;
    entry *e = rl->newest;
    while (e) {
        entry *next = e->older;
        entry_free(e);
        e = next;
    }
    icms__free(rl->buckets);
    icms_clock_free(rl->clock);
    pthread_mutex_destroy(&rl->lock);
    icms__free(rl);
}

static void lru_unlink(icms_ratelimit *rl, entry *e)
{
    if (e->newer)
        e->newer->older = e->older;
    else
        rl->newest = e->older;
    if (e->older)
        e->older->newer = e->newer;
    else
        rl->oldest = e->newer;
    e->newer = e->older = NULL;
}

static void lru_push(icms_ratelimit *rl, entry *e)
{
    e->older = rl->newest;
    e->newer = NULL;
    if (rl->newest)
        rl->newest->newer = e;
    rl->newest = e;
    if (!rl->oldest)
        rl->oldest = e;
}

static void evict_oldest(icms_ratelimit *rl)
{
    entry *e = rl->oldest;
    entry **link = &rl->buckets[e->hash & rl->bucket_mask];
    while (*link != e)
        link = &(*link)->chain;
    *link = e->chain;
    lru_unlink(rl, e);
    entry_free(e);
    rl->size--;
}

static entry *find_or_add(icms_ratelimit *rl, icms_ratelimit_kind_t kind, const char *key,
                          size_t len)
{
    uint64_t h = hash_key(kind, key, len);
    entry **bucket = &rl->buckets[h & rl->bucket_mask];
    for (entry *e = *bucket; e; e = e->chain)
        if (e->hash == h && e->kind == kind && e->key_len == len && memcmp(e->key, key, len) == 0)
            return e;
    entry *e = icms__calloc(1, sizeof *e + len + 1);
    if (!e)
        return NULL;
    if (rl->size == rl->options.max_keys) {
        evict_oldest(rl);
        bucket = &rl->buckets[h & rl->bucket_mask];
    }
    e->hash = h;
    e->kind = kind;
    e->key_len = len;
    memcpy(e->key, key, len);
    e->chain = *bucket;
    *bucket = e;
    lru_push(rl, e);
    rl->size++;
    return e;
}

static bool grow(entry *e, uint32_t limit)
{
    uint32_t cap = e->capacity ? e->capacity * 2 : 4;
    if (cap > limit)
        cap = limit;
    int64_t *times = icms__malloc(cap * sizeof *times);
    if (!times)
        return false;
    for (uint32_t i = 0; i < e->count; i++)
        times[i] = e->times[(e->head + i) % e->capacity];
    icms__free(e->times);
    e->times = times;
    e->head = 0;
    e->capacity = cap;
    return true;
}

int icms_ratelimit_hit(icms_ratelimit *rl, icms_ratelimit_kind_t kind, const char *key,
                       icms_ratelimit_result *result)
{
    if (result)
        memset(result, 0, sizeof *result);
    if (!rl || !key)
        return icms__error(ICMS_EINVALID, "icms_ratelimit_hit needs a limiter and a key");
    if (kind != ICMS_RATELIMIT_ANONYMOUS && kind != ICMS_RATELIMIT_AUTHENTICATED)
        return icms__error(ICMS_EINVALID, "unknown rate limit kind %d", (int)kind);
    size_t len = strnlen(key, KEY_MAX + 1);
    if (len == 0 || len > KEY_MAX)
        return icms__error(ICMS_EINVALID, "a rate limit key is 1 to %d bytes", KEY_MAX);
    uint32_t limit = kind == ICMS_RATELIMIT_ANONYMOUS ? rl->options.anonymous_limit
                                                      : rl->options.authenticated_limit;
    int64_t now = icms_clock_now(rl->clock);
    int rc = ICMS_OK;
    pthread_mutex_lock(&rl->lock);
    entry *e = find_or_add(rl, kind, key, len);
    if (!e) {
        pthread_mutex_unlock(&rl->lock);
        return icms__error(ICMS_ENOMEM, "out of memory");
    }
    lru_unlink(rl, e);
    lru_push(rl, e);
    /* A clock that stepped back must not reorder the log: count such a request at the newest
     * time seen, which can only make the limiter stricter for a moment. */
    if (e->count && now < e->times[(e->head + e->count - 1) % e->capacity])
        now = e->times[(e->head + e->count - 1) % e->capacity];
    while (e->count && e->times[e->head] <= now - rl->options.window_ms) {
        e->head = (e->head + 1) % e->capacity;
        e->count--;
    }
    icms_ratelimit_result r = {0, limit, 0, 0};
    if (e->count >= limit) {
        r.retry_after_ms = e->times[e->head] + rl->options.window_ms - now;
        rc = ICMS_ELIMIT;
    } else if (e->count == e->capacity && !grow(e, limit)) {
        rc = ICMS_ENOMEM;
    } else {
        e->times[(e->head + e->count) % e->capacity] = now;
        e->count++;
        r.allowed = 1;
        r.remaining = limit - e->count;
    }
    pthread_mutex_unlock(&rl->lock);
    if (result)
        *result = r;
    if (rc == ICMS_ELIMIT)
        return icms__error(ICMS_ELIMIT, "rate limit of %u requests per %lld ms reached", limit,
                           (long long)rl->options.window_ms);
    if (rc == ICMS_ENOMEM)
        return icms__error(ICMS_ENOMEM, "out of memory");
    return ICMS_OK;
}

size_t icms_ratelimit_size(icms_ratelimit *rl)
{
    if (!rl)
        return 0;
    pthread_mutex_lock(&rl->lock);
    size_t n = rl->size;
    pthread_mutex_unlock(&rl->lock);
    return n;
}
