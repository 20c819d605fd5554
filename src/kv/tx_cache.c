#include "kv/tx_cache.h"

#include <string.h>

#include "core/core.h"
#include "core/json.h"

typedef struct memo {
    struct memo *next;
    const void *tag;
    void (*release)(void *data); /* frees what the memo owns; NULL: nothing */
    max_align_t data[];          /* the memo's bytes, aligned for anything */
} memo;

static void free_memo(memo *m)
{
    if (m->release)
        m->release(m->data);
    icms__free(m);
}

typedef struct icms__tx_cache icms__tx_cache;

struct icms__tx_cache {
    icms__cached **buckets;
    size_t bucket_count; /* a power of two */
    size_t count;
    icms__cached *first;
    icms__cached **last_next;
    memo *memos;
    cJSON *retired; /* lent documents replaced meanwhile, chained by next; freed at the end */
    size_t trim_at; /* the next trim's entry count: TRIM_AT, or twice what the last one kept */
};

enum {
    FIRST_BUCKETS = 64,
    /* Entries held before the clean ones are dropped (a batch of 100 payments uses ~500). */
    TRIM_AT = 4096
};

static uint32_t hash_key(const uint8_t *key, size_t len)
{
    uint32_t h = 2166136261u; /* FNV-1a */
    for (size_t i = 0; i < len; i++)
        h = (h ^ key[i]) * 16777619u;
    return h;
}

static int cache_of(icms__tx *tx, icms__tx_cache **out)
{
    if (!tx->cache) {
        icms__tx_cache *cache = icms__calloc(1, sizeof *cache);
        icms__cached **buckets = icms__calloc(FIRST_BUCKETS, sizeof *buckets);
        if (!cache || !buckets) {
            icms__free(cache);
            icms__free(buckets);
            return icms__error(ICMS_ENOMEM, "out of memory");
        }
        cache->buckets = buckets;
        cache->bucket_count = FIRST_BUCKETS;
        cache->last_next = &cache->first;
        cache->trim_at = TRIM_AT;
        tx->cache = cache;
    }
    *out = tx->cache;
    return ICMS_OK;
}

icms__cached *icms__tx_cache_find(const icms__tx *tx, const uint8_t *key, size_t key_len)
{
    const icms__tx_cache *cache = tx->cache;
    if (!cache)
        return NULL;
    icms__cached *e = cache->buckets[hash_key(key, key_len) & (cache->bucket_count - 1)];
    for (; e; e = e->bucket_next)
        if (e->key_len == key_len && memcmp(e->key, key, key_len) == 0)
            return e;
    return NULL;
}

/* Double the buckets; on failure keep the old ones (longer chains, still correct). */
static void grow(icms__tx_cache *cache)
{
    size_t n = cache->bucket_count * 2;
    icms__cached **buckets = icms__calloc(n, sizeof *buckets);
    if (!buckets)
        return;
    for (icms__cached *e = cache->first; e; e = e->order_next) {
        size_t b = hash_key(e->key, e->key_len) & (n - 1);
        e->bucket_next = buckets[b];
        buckets[b] = e;
    }
    icms__free(cache->buckets);
    cache->buckets = buckets;
    cache->bucket_count = n;
}

static void clear_value(icms__tx_cache *cache, icms__cached *e);

/* Drop every entry that holds nothing the store lacks and that nobody borrows. */
static void trim(icms__tx_cache *cache)
{
    memset(cache->buckets, 0, cache->bucket_count * sizeof *cache->buckets);
    icms__cached **link = &cache->first;
    cache->count = 0;
    for (icms__cached *e = cache->first, *next; e; e = next) {
        next = e->order_next;
        if (!e->dirty && !e->lent) {
            clear_value(cache, e);
            icms__free(e);
            continue;
        }
        *link = e;
        link = &e->order_next;
        size_t b = hash_key(e->key, e->key_len) & (cache->bucket_count - 1);
        e->bucket_next = cache->buckets[b];
        cache->buckets[b] = e;
        cache->count++;
    }
    *link = NULL;
    cache->last_next = link;
    /* When most entries must stay (a transaction writing thousands of records), wait longer. */
    cache->trim_at = cache->count * 2 > TRIM_AT ? cache->count * 2 : TRIM_AT;
}

size_t icms__tx_cache_count(const icms__tx *tx)
{
    return tx->cache ? tx->cache->count : 0;
}

int icms__tx_cache_entry(icms__tx *tx, const icms__key *key, icms__cached **out)
{
    icms__cached *e = icms__tx_cache_find(tx, key->bytes, key->len);
    if (e) {
        *out = e;
        return ICMS_OK;
    }
    icms__tx_cache *cache;
    int rc = cache_of(tx, &cache);
    if (rc)
        return rc;
    if (cache->count >= cache->trim_at)
        trim(cache);
    e = icms__calloc(1, sizeof *e + key->len);
    if (!e)
        return icms__error(ICMS_ENOMEM, "out of memory");
    e->key_len = key->len;
    memcpy(e->key, key->bytes, key->len);
    *cache->last_next = e;
    cache->last_next = &e->order_next;
    size_t b = hash_key(e->key, e->key_len) & (cache->bucket_count - 1);
    e->bucket_next = cache->buckets[b];
    cache->buckets[b] = e;
    if (++cache->count > cache->bucket_count)
        grow(cache); /* rebuilds the chains from the order list, e included */
    *out = e;
    return ICMS_OK;
}

static void clear_value(icms__tx_cache *cache, icms__cached *e)
{
    if (e->lent && e->doc) {
        /* Someone still holds it (icms__record_ref): it lives until the transaction ends. */
        e->doc->next = cache->retired;
        cache->retired = e->doc;
        e->doc = NULL;
    }
    e->lent = false;
    cJSON_Delete(e->doc);
    e->doc = NULL;
    icms__free(e->index_keys);
    e->index_keys = NULL;
    e->index_keys_len = 0;
    e->index_keys_known = false;
    icms__free(e->bytes);
    e->bytes = NULL;
    e->bytes_len = 0;
}

void icms__tx_cache_set(icms__tx *tx, icms__cached *entry, cJSON *doc, bool dirty)
{
    clear_value(tx->cache, entry);
    entry->doc = doc;
    entry->state = doc ? ICMS__CACHED_PRESENT : ICMS__CACHED_ABSENT;
    entry->dirty = dirty;
}

void icms__tx_cache_forget(icms__tx *tx, icms__cached *entry)
{
    clear_value(tx->cache, entry);
    entry->state = ICMS__CACHED_UNKNOWN;
    entry->dirty = false;
}

int icms__tx_put_deferred(icms__tx *tx, const icms__key *key, const void *value, size_t len)
{
    int rc = icms__key_check(key);
    if (rc)
        return rc;
    if (len > ICMS_STORE_VALUE_MAX)
        return icms__error(ICMS_ELIMIT, "value of %zu bytes is over the %u-byte limit", len,
                           ICMS_STORE_VALUE_MAX);
    icms__cached *e;
    if ((rc = icms__tx_cache_entry(tx, key, &e)))
        return rc;
    uint8_t *copy = icms__malloc(len ? len : 1);
    if (!copy)
        return icms__error(ICMS_ENOMEM, "out of memory");
    memcpy(copy, value, len);
    clear_value(tx->cache, e);
    e->bytes = copy;
    e->bytes_len = len;
    e->state = ICMS__CACHED_PRESENT;
    e->dirty = true;
    return ICMS_OK;
}

int icms__tx_cache_bytes(icms__cached *entry, const uint8_t **bytes, size_t *len)
{
    if (!entry->bytes) {
        char *text;
        size_t text_len;
        int rc = icms__json_write(entry->doc, 0, &text, &text_len);
        if (rc)
            return rc;
        entry->bytes = (uint8_t *)text;
        entry->bytes_len = text_len;
    }
    *bytes = entry->bytes;
    *len = entry->bytes_len;
    return ICMS_OK;
}

int icms__tx_cache_flush(icms__tx *tx)
{
    if (!tx->cache)
        return ICMS_OK;
    for (icms__cached *e = tx->cache->first; e; e = e->order_next) {
        if (!e->dirty)
            continue;
        const uint8_t *bytes;
        size_t len;
        int rc = icms__tx_cache_bytes(e, &bytes, &len);
        if (rc)
            return rc;
        if (len > ICMS_STORE_VALUE_MAX)
            return icms__error(ICMS_ELIMIT, "value of %zu bytes is over the %u-byte limit", len,
                               ICMS_STORE_VALUE_MAX);
        rc = tx->store->put(tx->txn, e->key, e->key_len, bytes, len);
        if (rc)
            return icms_error_last()->code == rc
                       ? rc
                       : icms__error(rc, "store put failed: %s", icms_strerror(rc));
        e->dirty = false;
        if (e->doc) { /* the bytes were only for the store; the document is what is read */
            icms__free(e->bytes);
            e->bytes = NULL;
            e->bytes_len = 0;
        } else { /* a raw value: the store has it now */
            icms__tx_cache_forget(tx, e);
        }
    }
    return ICMS_OK;
}

void icms__tx_cache_free(icms__tx *tx)
{
    icms__tx_cache *cache = tx->cache;
    if (!cache)
        return;
    for (icms__cached *e = cache->first, *next; e; e = next) {
        next = e->order_next;
        clear_value(cache, e);
        icms__free(e);
    }
    cJSON_Delete(cache->retired); /* the whole chain */
    for (memo *m = cache->memos, *next; m; m = next) {
        next = m->next;
        free_memo(m);
    }
    icms__free(cache->buckets);
    icms__free(cache);
    tx->cache = NULL;
}

int icms__tx_memo(icms__tx *tx, const void *tag, size_t size, void **out, bool *fresh)
{
    icms__tx_cache *cache;
    int rc = cache_of(tx, &cache);
    if (rc)
        return rc;
    for (memo *m = cache->memos; m; m = m->next)
        if (m->tag == tag) {
            *out = m->data;
            *fresh = false;
            return ICMS_OK;
        }
    memo *m = icms__calloc(1, sizeof *m + size);
    if (!m)
        return icms__error(ICMS_ENOMEM, "out of memory");
    m->tag = tag;
    m->next = cache->memos;
    cache->memos = m;
    *out = m->data;
    *fresh = true;
    return ICMS_OK;
}

void icms__tx_memo_drop(icms__tx *tx, const void *tag)
{
    if (!tx->cache)
        return;
    for (memo **m = &tx->cache->memos; *m; m = &(*m)->next)
        if ((*m)->tag == tag) {
            memo *gone = *m;
            *m = gone->next;
            free_memo(gone);
            return;
        }
}

void icms__tx_memo_set_release(icms__tx *tx, const void *tag, void (*release)(void *data))
{
    for (memo *m = tx->cache ? tx->cache->memos : NULL; m; m = m->next)
        if (m->tag == tag)
            m->release = release;
}

void icms__tx_memo_each(icms__tx *tx, void (*release)(void *data),
                        void (*fn)(const void *tag, void *data, void *arg), void *arg)
{
    for (memo *m = tx->cache ? tx->cache->memos : NULL; m; m = m->next)
        if (m->release == release)
            fn(m->tag, m->data, arg);
}
