/*
 * The in-memory store: an ordered key-value map with snapshot reads, buffered
 * writes and optimistic concurrency.
 *
 * Committed data is a snapshot: a sorted array of immutable, reference-counted
 * entries. A transaction pins the snapshot current at its begin, so it reads a
 * consistent view without holding the lock. A commit builds the next snapshot
 * (in place when no transaction pins the current one, else as a copy that
 * shares the unchanged entries), so the cost of a commit is O(keys) pointer
 * moves: fine for tests and small embedded data, not for millions of keys.
 *
 * A write transaction buffers its writes (read-your-writes) and records the
 * keys it read and the ranges it scanned. Every commit that happens while
 * another write transaction is open is logged with the keys it changed; at
 * commit a transaction checks the log since its begin against its reads and
 * ranges and answers ICMS_ECONFLICT on any overlap, which makes write
 * transactions serializable in commit order (backward validation).
 *
 * One mutex guards the current snapshot, the reference counts, the commit log
 * and the list of open writers; it is held only for short steps, never across
 * a caller's callback.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "store_internal.h"

#define WHO "memory store"

/* One committed key and value; immutable once published, freed at refs == 0. */
typedef struct mem_entry {
    size_t refs;
    size_t key_len;
    size_t value_len;
    uint8_t *value; /* points into data, after the key */
    uint8_t data[];
} mem_entry;

typedef struct mem_snapshot {
    size_t refs;
    size_t count, cap;
    mem_entry **items; /* sorted by key */
} mem_snapshot;

/* A commit with at most this many writes edits an unshared snapshot in place. */
#define IN_PLACE_MAX 64

typedef struct mem_buf {
    uint8_t *bytes;
    size_t len;
} mem_buf;

/* A scanned range [start, end); end.bytes == NULL with has_end false = unbounded. */
typedef struct mem_range {
    mem_buf start;
    mem_buf end;
    bool has_end;
} mem_range;

/* A buffered write: value NULL with deleted set is a delete. */
typedef struct mem_write {
    uint8_t *key; /* key and value share one allocation */
    size_t key_len;
    uint8_t *value;
    size_t value_len;
    bool deleted;
    uint64_t order; /* arrival, so that the last write of a key wins */
} mem_write;

/* The keys one commit changed, kept while a writer that began before it is open. */
typedef struct mem_logged {
    uint64_t seq;
    size_t count;
    mem_buf *keys;
    struct mem_logged *next;
} mem_logged;

typedef struct mem_txn mem_txn;

typedef struct mem_store {
    icms_store base; /* first: the icms_store * the core holds points here */
    pthread_mutex_t lock;
    mem_snapshot *current;
    uint64_t seq; /* number of the last commit that changed something */
    mem_logged *log_head, *log_tail;
    mem_txn *writers; /* open write transactions, for pruning the log */
} mem_store;

struct mem_txn {
    mem_store *store;
    icms_store_mode_t mode;
    mem_snapshot *snap;
    uint64_t begin_seq;
    mem_write *writes; /* sorted by key, unique */
    size_t n_writes, cap_writes;
    size_t n_sorted;   /* writes[0, n_sorted) sorted and unique, the rest pending */
    uint64_t n_orders; /* arrival counter for pending writes */
    mem_buf *reads;    /* sorted by key, unique */
    size_t n_reads, cap_reads;
    mem_range *ranges;
    size_t n_ranges, cap_ranges;
    unsigned int scanning; /* nesting depth of scans in progress */
    bool lost_reads;       /* recording a read failed: the commit cannot be validated */
    mem_txn *prev, *next;  /* in store->writers */
};

static mem_txn *as_mem(icms_store_txn *txn)
{
    return (mem_txn *)(void *)txn;
}

/* ---- entries and snapshots (callers hold the lock for refcounts) ---- */

static mem_entry *entry_new(const uint8_t *key, size_t key_len, const uint8_t *value,
                            size_t value_len)
{
    mem_entry *e = icms__malloc(sizeof *e + key_len + value_len);
    if (!e)
        return NULL;
    e->refs = 1;
    e->key_len = key_len;
    e->value_len = value_len;
    memcpy(e->data, key, key_len);
    e->value = e->data + key_len;
    if (value_len)
        memcpy(e->value, value, value_len);
    return e;
}

static void entry_unref(mem_entry *e)
{
    if (e && --e->refs == 0)
        icms__free(e);
}

static void snapshot_unref(mem_snapshot *s)
{
    if (!s || --s->refs > 0)
        return;
    for (size_t i = 0; i < s->count; i++)
        entry_unref(s->items[i]);
    icms__free(s->items);
    icms__free(s);
}

/* Index of the first item whose key is >= key (count when none). */
static size_t snapshot_lower_bound(const mem_snapshot *s, const uint8_t *key, size_t key_len)
{
    size_t lo = 0, hi = s->count;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        const mem_entry *e = s->items[mid];
        if (icms__store_key_cmp(e->data, e->key_len, key, key_len) < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

static const mem_entry *snapshot_find(const mem_snapshot *s, const uint8_t *key, size_t key_len)
{
    size_t i = snapshot_lower_bound(s, key, key_len);
    if (i < s->count &&
        icms__store_key_cmp(s->items[i]->data, s->items[i]->key_len, key, key_len) == 0)
        return s->items[i];
    return NULL;
}

/* ---- growable arrays ---- */

/* The array with room for `need` elements (the same one if it has room), or NULL. */
static void *grow(void *array, size_t *cap, size_t need, size_t elem)
{
    if (need <= *cap)
        return array;
    size_t n = *cap ? *cap : 8;
    while (n < need)
        n *= 2;
    size_t bytes;
    if (!icms__mul_size(n, elem, &bytes)) {
        icms__error(ICMS_ENOMEM, WHO ": array too large");
        return NULL;
    }
    void *p = icms__realloc(array, bytes);
    if (p)
        *cap = n;
    return p;
}

static int buf_copy(mem_buf *out, const uint8_t *bytes, size_t len)
{
    out->len = len;
    out->bytes = icms__malloc(len);
    if (!out->bytes)
        return ICMS_ENOMEM;
    if (len)
        memcpy(out->bytes, bytes, len);
    return ICMS_OK;
}

/* ---- the write buffer ----
 *
 * writes[0, n_sorted) is sorted and unique; writes[n_sorted, n_writes) are
 * later writes in arrival order. A put only appends (O(1)), and the tail is
 * sorted and merged in before anything reads the buffer (writes_flush), so a
 * bulk load costs O(n log n) rather than an insertion sort's O(n^2). Keys
 * arriving in ascending order stay on the sorted side directly.
 */

/* Index of the first sorted write whose key is >= key. */
static size_t writes_lower_bound(const mem_txn *t, const uint8_t *key, size_t key_len)
{
    size_t lo = 0, hi = t->n_sorted;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (icms__store_key_cmp(t->writes[mid].key, t->writes[mid].key_len, key, key_len) < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

static mem_write *writes_find(const mem_txn *t, const uint8_t *key, size_t key_len)
{
    size_t i = writes_lower_bound(t, key, key_len);
    if (i < t->n_sorted &&
        icms__store_key_cmp(t->writes[i].key, t->writes[i].key_len, key, key_len) == 0)
        return &t->writes[i];
    return NULL;
}

/* Order of the unsorted tail: by key, then by arrival, so the last write of a key wins. */
static int write_cmp(const void *pa, const void *pb)
{
    const mem_write *a = pa, *b = pb;
    int c = icms__store_key_cmp(a->key, a->key_len, b->key, b->key_len);
    if (c != 0)
        return c;
    return a->order < b->order ? -1 : a->order > b->order;
}

/* Insert (or replace) w into the sorted prefix; room for one more exists. */
static void writes_insert_sorted(mem_txn *t, mem_write w)
{
    size_t i = writes_lower_bound(t, w.key, w.key_len);
    if (i < t->n_sorted &&
        icms__store_key_cmp(t->writes[i].key, t->writes[i].key_len, w.key, w.key_len) == 0) {
        icms__free(t->writes[i].key);
        t->writes[i] = w;
        return;
    }
    memmove(&t->writes[i + 1], &t->writes[i], (t->n_sorted - i) * sizeof *t->writes);
    t->writes[i] = w;
    t->n_sorted++;
}

/*
 * Merge the unsorted tail into the sorted prefix. Never fails: with memory
 * for a merge buffer it is one linear merge, without it the tail is inserted
 * one write at a time inside the array (each insert shifts the prefix into a
 * slot of the tail that has already been taken out).
 */
static void writes_flush(mem_txn *t)
{
    if (t->n_sorted == t->n_writes)
        return;
    mem_write *tail = &t->writes[t->n_sorted];
    size_t m = t->n_writes - t->n_sorted;
    qsort(tail, m, sizeof *tail, write_cmp);
    /* Keep the last write of each key. */
    size_t u = 0;
    for (size_t i = 0; i < m; i++) {
        if (u > 0 && icms__store_key_cmp(tail[u - 1].key, tail[u - 1].key_len, tail[i].key,
                                         tail[i].key_len) == 0) {
            icms__free(tail[u - 1].key);
            tail[u - 1] = tail[i];
        } else {
            tail[u++] = tail[i];
        }
    }
    m = u;
    size_t n = t->n_sorted;
    mem_write *merged = m > 8 ? icms__calloc(n + m, sizeof *merged) : NULL;
    if (!merged) {
        for (size_t i = 0; i < m; i++)
            writes_insert_sorted(t, t->writes[n + i]);
        t->n_writes = t->n_sorted;
        return;
    }
    size_t i = 0, j = 0, k = 0;
    while (i < n || j < m) {
        int c = i == n   ? 1
                : j == m ? -1
                         : icms__store_key_cmp(t->writes[i].key, t->writes[i].key_len, tail[j].key,
                                               tail[j].key_len);
        if (c < 0) {
            merged[k++] = t->writes[i++];
        } else {
            if (c == 0)
                icms__free(t->writes[i++].key); /* replaced by the later write */
            merged[k++] = tail[j++];
        }
    }
    memcpy(t->writes, merged, k * sizeof *merged);
    icms__free(merged);
    t->n_sorted = t->n_writes = k;
}

/* Buffer a put (deleted false) or a delete; all-or-nothing on allocation failure. */
static int writes_set(mem_txn *t, const uint8_t *key, size_t key_len, const uint8_t *value,
                      size_t value_len, bool deleted)
{
    size_t total;
    if (!icms__add_size(key_len, value_len, &total))
        return icms__error(ICMS_ENOMEM, WHO ": write too large");
    mem_write *writes = grow(t->writes, &t->cap_writes, t->n_writes + 1, sizeof *writes);
    if (!writes)
        return ICMS_ENOMEM;
    t->writes = writes;
    uint8_t *mem = icms__malloc(total);
    if (!mem)
        return ICMS_ENOMEM;
    memcpy(mem, key, key_len);
    if (value_len)
        memcpy(mem + key_len, value, value_len);
    mem_write w = {mem, key_len, mem + key_len, value_len, deleted, t->n_orders++};

    if (t->n_sorted == t->n_writes) {
        /* Nothing pending: ascending keys and rewrites of the last key stay sorted. */
        int c = t->n_sorted == 0 ? 1
                                 : icms__store_key_cmp(key, key_len, writes[t->n_sorted - 1].key,
                                                       writes[t->n_sorted - 1].key_len);
        if (c == 0) {
            icms__free(writes[t->n_sorted - 1].key);
            writes[t->n_sorted - 1] = w;
            return ICMS_OK;
        }
        if (c > 0) {
            writes[t->n_writes++] = w;
            t->n_sorted++;
            return ICMS_OK;
        }
    }
    writes[t->n_writes++] = w;
    return ICMS_OK;
}

/* ---- the read set ---- */

static int reads_add(mem_txn *t, const uint8_t *key, size_t key_len)
{
    size_t lo = 0, hi = t->n_reads;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = icms__store_key_cmp(t->reads[mid].bytes, t->reads[mid].len, key, key_len);
        if (c == 0)
            return ICMS_OK;
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    mem_buf *reads = grow(t->reads, &t->cap_reads, t->n_reads + 1, sizeof *reads);
    if (!reads)
        return ICMS_ENOMEM;
    t->reads = reads;
    mem_buf b;
    if (buf_copy(&b, key, key_len) != 0)
        return ICMS_ENOMEM;
    memmove(&t->reads[lo + 1], &t->reads[lo], (t->n_reads - lo) * sizeof *t->reads);
    t->reads[lo] = b;
    t->n_reads++;
    return ICMS_OK;
}

static bool reads_contain(const mem_txn *t, const uint8_t *key, size_t key_len)
{
    size_t lo = 0, hi = t->n_reads;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = icms__store_key_cmp(t->reads[mid].bytes, t->reads[mid].len, key, key_len);
        if (c == 0)
            return true;
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return false;
}

static int ranges_add(mem_txn *t, const uint8_t *start, size_t start_len, const uint8_t *end,
                      size_t end_len, bool has_end)
{
    mem_range *ranges = grow(t->ranges, &t->cap_ranges, t->n_ranges + 1, sizeof *ranges);
    if (!ranges)
        return ICMS_ENOMEM;
    t->ranges = ranges;
    mem_range r = {{NULL, 0}, {NULL, 0}, has_end};
    if (buf_copy(&r.start, start, start_len) != 0)
        return ICMS_ENOMEM;
    if (has_end && buf_copy(&r.end, end, end_len) != 0) {
        icms__free(r.start.bytes);
        return ICMS_ENOMEM;
    }
    t->ranges[t->n_ranges++] = r;
    return ICMS_OK;
}

/* ---- the commit log (lock held) ---- */

static void commit_free(mem_logged *c)
{
    for (size_t i = 0; i < c->count; i++)
        icms__free(c->keys[i].bytes);
    icms__free(c->keys);
    icms__free(c);
}

/* Forget commits that no open writer began before. */
static void log_prune(mem_store *s)
{
    bool any = s->writers != NULL;
    uint64_t oldest = UINT64_MAX;
    for (mem_txn *w = s->writers; w; w = w->next)
        if (w->begin_seq < oldest)
            oldest = w->begin_seq;
    while (s->log_head && (!any || s->log_head->seq <= oldest)) {
        mem_logged *c = s->log_head;
        s->log_head = c->next;
        commit_free(c);
    }
    if (!s->log_head)
        s->log_tail = NULL;
}

static bool txn_conflicts(const mem_txn *t)
{
    for (const mem_logged *c = t->store->log_head; c; c = c->next) {
        if (c->seq <= t->begin_seq)
            continue;
        for (size_t i = 0; i < c->count; i++) {
            const mem_buf *k = &c->keys[i];
            if (reads_contain(t, k->bytes, k->len))
                return true;
            for (size_t r = 0; r < t->n_ranges; r++) {
                const mem_range *rg = &t->ranges[r];
                if (icms__store_in_range(k->bytes, k->len, rg->start.bytes, rg->start.len,
                                         rg->has_end ? rg->end.bytes : NULL, rg->end.len))
                    return true;
            }
        }
    }
    return false;
}

/* ---- transaction lifetime ---- */

static void txn_free(mem_txn *t)
{
    for (size_t i = 0; i < t->n_writes; i++)
        icms__free(t->writes[i].key);
    icms__free(t->writes);
    for (size_t i = 0; i < t->n_reads; i++)
        icms__free(t->reads[i].bytes);
    icms__free(t->reads);
    for (size_t i = 0; i < t->n_ranges; i++) {
        icms__free(t->ranges[i].start.bytes);
        icms__free(t->ranges[i].end.bytes);
    }
    icms__free(t->ranges);
    icms__free(t);
}

/* Unpin the snapshot, leave the writer list, prune the log; lock held. */
static void txn_detach(mem_txn *t)
{
    mem_store *s = t->store;
    snapshot_unref(t->snap);
    t->snap = NULL;
    if (t->mode == ICMS_STORE_WRITE) {
        if (t->prev)
            t->prev->next = t->next;
        else
            s->writers = t->next;
        if (t->next)
            t->next->prev = t->prev;
        log_prune(s);
    }
}

static int mem_begin(icms_store *store, icms_store_mode_t mode, icms_store_txn **out)
{
    if (!store || !out)
        return icms__error(ICMS_EINVALID, WHO ": begin needs a store and an out pointer");
    *out = NULL;
    if (mode != ICMS_STORE_READ && mode != ICMS_STORE_WRITE)
        return icms__error(ICMS_EINVALID, WHO ": unknown transaction mode %d", (int)mode);
    mem_store *s = (mem_store *)store;
    mem_txn *t = icms__calloc(1, sizeof *t);
    if (!t)
        return ICMS_ENOMEM;
    t->store = s;
    t->mode = mode;
    pthread_mutex_lock(&s->lock);
    t->snap = s->current;
    t->snap->refs++;
    t->begin_seq = s->seq;
    if (mode == ICMS_STORE_WRITE) {
        t->next = s->writers;
        if (s->writers)
            s->writers->prev = t;
        s->writers = t;
    }
    pthread_mutex_unlock(&s->lock);
    *out = (icms_store_txn *)(void *)t;
    return ICMS_OK;
}

static int mem_get(icms_store_txn *txn, const uint8_t *key, size_t key_len, const uint8_t **value,
                   size_t *value_len)
{
    mem_txn *t = as_mem(txn);
    if (!t || !value || !value_len)
        return icms__error(ICMS_EINVALID, WHO ": get needs a transaction and out pointers");
    int rc = icms__store_check_key(WHO, key, key_len);
    if (rc != 0)
        return rc;
    if (t->mode == ICMS_STORE_WRITE) {
        writes_flush(t);
        const mem_write *w = writes_find(t, key, key_len);
        if (w) {
            if (w->deleted)
                return icms__error(ICMS_ENOTFOUND, WHO ": key not found");
            *value = w->value;
            *value_len = w->value_len;
            return ICMS_OK;
        }
        /* The answer depends on committed data, absent or not: remember the key. */
        if ((rc = reads_add(t, key, key_len)) != 0) {
            t->lost_reads = true;
            return rc;
        }
    }
    const mem_entry *e = snapshot_find(t->snap, key, key_len);
    if (!e)
        return icms__error(ICMS_ENOTFOUND, WHO ": key not found");
    *value = e->value;
    *value_len = e->value_len;
    return ICMS_OK;
}

static int check_writable(const mem_txn *t)
{
    if (!t)
        return icms__error(ICMS_EINVALID, WHO ": no transaction");
    if (t->mode != ICMS_STORE_WRITE)
        return icms__error(ICMS_EINVALID, WHO ": write in a read transaction");
    if (t->scanning)
        return icms__error(ICMS_EINVALID, WHO ": write from inside a scan callback");
    return ICMS_OK;
}

static int mem_put(icms_store_txn *txn, const uint8_t *key, size_t key_len, const uint8_t *value,
                   size_t value_len)
{
    mem_txn *t = as_mem(txn);
    int rc = check_writable(t);
    if (rc == 0)
        rc = icms__store_check_key(WHO, key, key_len);
    if (rc == 0)
        rc = icms__store_check_value(WHO, value, value_len);
    if (rc != 0)
        return rc;
    return writes_set(t, key, key_len, value, value_len, false);
}

static int mem_del(icms_store_txn *txn, const uint8_t *key, size_t key_len)
{
    mem_txn *t = as_mem(txn);
    int rc = check_writable(t);
    if (rc == 0)
        rc = icms__store_check_key(WHO, key, key_len);
    if (rc != 0)
        return rc;
    return writes_set(t, key, key_len, NULL, 0, true);
}

/*
 * Visit the merge of the snapshot and the write buffer in [start, end).
 * The write buffer cannot change meanwhile (writes are refused while
 * scanning), and the snapshot is immutable, so indexes stay valid even if
 * the callback reads through the transaction.
 */
static int mem_scan(icms_store_txn *txn, const uint8_t *start, size_t start_len, const uint8_t *end,
                    size_t end_len, unsigned int flags, icms_store_scan_cb cb, void *cb_payload)
{
    mem_txn *t = as_mem(txn);
    if (!t)
        return icms__error(ICMS_EINVALID, WHO ": no transaction");
    int rc = icms__store_check_scan(WHO, start, start_len, end, end_len, flags, cb);
    if (rc != 0)
        return rc;
    bool reverse = (flags & ICMS_STORE_SCAN_REVERSE) != 0;
    const mem_snapshot *s = t->snap;
    writes_flush(t);

    /* Half-open index windows [lo, hi) of each source that fall inside the range. */
    size_t s_lo = start_len ? snapshot_lower_bound(s, start, start_len) : 0;
    size_t s_hi = end ? snapshot_lower_bound(s, end, end_len) : s->count;
    size_t w_lo = start_len ? writes_lower_bound(t, start, start_len) : 0;
    size_t w_hi = end ? writes_lower_bound(t, end, end_len) : t->n_writes;
    if (s_hi < s_lo)
        s_hi = s_lo;
    if (w_hi < w_lo)
        w_hi = w_lo;

    const uint8_t *last_key = NULL;
    size_t last_len = 0;
    bool stopped = false;
    rc = ICMS_OK;
    t->scanning++;
    while (s_lo < s_hi || w_lo < w_hi) {
        const mem_entry *e = NULL;
        const mem_write *w = NULL;
        if (s_lo < s_hi)
            e = s->items[reverse ? s_hi - 1 : s_lo];
        if (w_lo < w_hi)
            w = &t->writes[reverse ? w_hi - 1 : w_lo];
        int c = 0;
        if (e && w)
            c = icms__store_key_cmp(e->data, e->key_len, w->key, w->key_len);
        /* Which source holds the next key in visiting order; a buffered write hides the entry. */
        bool take_entry = e && (!w || (reverse ? c > 0 : c < 0));
        bool take_write = w && (!e || c == 0 || !take_entry);
        if (take_entry) {
            if (reverse)
                s_hi--;
            else
                s_lo++;
        }
        if (take_write) {
            if (reverse)
                w_hi--;
            else
                w_lo++;
            if (c == 0 && e) {
                if (reverse)
                    s_hi--;
                else
                    s_lo++;
            }
        }
        const uint8_t *k, *v;
        size_t kl, vl;
        if (take_write) {
            if (w->deleted)
                continue;
            k = w->key, kl = w->key_len, v = w->value, vl = w->value_len;
        } else {
            k = e->data, kl = e->key_len, v = e->value, vl = e->value_len;
        }
        last_key = k;
        last_len = kl;
        int cb_rc = cb(k, kl, v, vl, cb_payload);
        if (cb_rc != 0) {
            /* An error stops the scan too; the caller may still commit what it saw. */
            rc = cb_rc < 0 ? cb_rc : ICMS_OK;
            stopped = true;
            break;
        }
    }
    t->scanning--;
    if (t->mode != ICMS_STORE_WRITE)
        return rc;

    /*
     * Remember what the answer depended on. A scan that stopped early saw only
     * up to its last key, so a later change beyond it is no conflict.
     */
    int rec;
    if (stopped && !reverse) {
        /* [start, last_key] == [start, last_key || 0x00) */
        uint8_t *bound = icms__malloc(last_len + 1);
        if (bound) {
            memcpy(bound, last_key, last_len);
            bound[last_len] = 0;
            rec = ranges_add(t, start, start_len, bound, last_len + 1, true);
            icms__free(bound);
        } else {
            rec = ICMS_ENOMEM;
        }
    } else if (stopped) {
        rec = ranges_add(t, last_key, last_len, end, end_len, end != NULL);
    } else {
        rec = ranges_add(t, start, start_len, end, end_len, end != NULL);
    }
    if (rec != 0)
        t->lost_reads = true;
    /* The callback's own code wins; a bookkeeping failure surfaces at commit regardless. */
    return rc != 0 ? rc : rec;
}

/*
 * Build the snapshot that results from applying t's writes to cur. Every
 * allocation happens here, so that a failure leaves the store as it was.
 * When `steal` (nobody else pins cur) the entries move instead of being
 * shared; the caller then frees only cur's array.
 */
static int snapshot_apply(const mem_snapshot *cur, const mem_txn *t, bool steal, mem_snapshot **out)
{
    size_t cap;
    if (!icms__add_size(cur->count, t->n_writes, &cap))
        return icms__error(ICMS_ENOMEM, WHO ": too many keys");
    mem_snapshot *n = icms__calloc(1, sizeof *n);
    mem_entry **items = icms__calloc(cap ? cap : 1, sizeof *items);
    mem_entry **fresh = icms__calloc(t->n_writes ? t->n_writes : 1, sizeof *fresh);
    if (!n || !items || !fresh)
        goto nomem;
    for (size_t i = 0; i < t->n_writes; i++) {
        const mem_write *w = &t->writes[i];
        if (w->deleted)
            continue;
        fresh[i] = entry_new(w->key, w->key_len, w->value, w->value_len);
        if (!fresh[i])
            goto nomem;
    }
    /* Nothing can fail from here on. */
    size_t i = 0, j = 0, k = 0;
    while (i < cur->count || j < t->n_writes) {
        int c;
        if (i == cur->count)
            c = 1;
        else if (j == t->n_writes)
            c = -1;
        else
            c = icms__store_key_cmp(cur->items[i]->data, cur->items[i]->key_len, t->writes[j].key,
                                    t->writes[j].key_len);
        if (c < 0) {
            items[k] = cur->items[i++];
            if (!steal)
                items[k]->refs++;
            k++;
            continue;
        }
        if (c == 0) {
            /* Replaced or deleted: the old entry leaves this snapshot. */
            if (steal)
                entry_unref(cur->items[i]);
            i++;
        }
        if (fresh[j])
            items[k++] = fresh[j];
        j++;
    }
    icms__free(fresh);
    n->refs = 1;
    n->count = k;
    n->cap = cap ? cap : 1;
    n->items = items;
    *out = n;
    return ICMS_OK;
nomem:
    if (fresh)
        for (size_t f = 0; f < t->n_writes; f++)
            icms__free(fresh[f]);
    icms__free(fresh);
    icms__free(items);
    icms__free(n);
    return icms__error(ICMS_ENOMEM, WHO ": out of memory at commit");
}

/*
 * Apply a few writes to a snapshot nobody else pins: O(writes x log keys)
 * searches and one memmove per insert or delete, instead of rebuilding the
 * array. All allocation first, so a failure changes nothing.
 */
static int snapshot_apply_in_place(mem_snapshot *cur, const mem_txn *t)
{
    mem_entry *fresh[IN_PLACE_MAX] = {0};
    size_t need;
    if (!icms__add_size(cur->count, t->n_writes, &need))
        return icms__error(ICMS_ENOMEM, WHO ": too many keys");
    if (need > cur->cap) {
        size_t cap = cur->cap * 2 > need ? cur->cap * 2 : need;
        mem_entry **items = grow(cur->items, &cur->cap, cap, sizeof *items);
        if (!items)
            return icms__error(ICMS_ENOMEM, WHO ": out of memory at commit");
        cur->items = items;
    }
    for (size_t j = 0; j < t->n_writes; j++) {
        const mem_write *w = &t->writes[j];
        if (w->deleted)
            continue;
        if (!(fresh[j] = entry_new(w->key, w->key_len, w->value, w->value_len))) {
            for (size_t f = 0; f < j; f++)
                icms__free(fresh[f]);
            return icms__error(ICMS_ENOMEM, WHO ": out of memory at commit");
        }
    }
    /* Nothing can fail from here on. */
    for (size_t j = 0; j < t->n_writes; j++) {
        const mem_write *w = &t->writes[j];
        size_t i = snapshot_lower_bound(cur, w->key, w->key_len);
        bool found =
            i < cur->count && icms__store_key_cmp(cur->items[i]->data, cur->items[i]->key_len,
                                                  w->key, w->key_len) == 0;
        if (found && fresh[j]) {
            entry_unref(cur->items[i]);
            cur->items[i] = fresh[j];
        } else if (found) {
            entry_unref(cur->items[i]);
            memmove(&cur->items[i], &cur->items[i + 1], (cur->count - i - 1) * sizeof *cur->items);
            cur->count--;
        } else if (fresh[j]) {
            memmove(&cur->items[i + 1], &cur->items[i], (cur->count - i) * sizeof *cur->items);
            cur->items[i] = fresh[j];
            cur->count++;
        }
    }
    return ICMS_OK;
}

static mem_logged *commit_record(const mem_txn *t, uint64_t seq)
{
    mem_logged *c = icms__calloc(1, sizeof *c);
    if (!c)
        return NULL;
    c->seq = seq;
    c->keys = icms__calloc(t->n_writes, sizeof *c->keys);
    if (!c->keys) {
        icms__free(c);
        return NULL;
    }
    for (size_t i = 0; i < t->n_writes; i++) {
        if (buf_copy(&c->keys[i], t->writes[i].key, t->writes[i].key_len) != 0) {
            c->count = i;
            commit_free(c);
            return NULL;
        }
    }
    c->count = t->n_writes;
    return c;
}

static int mem_commit(icms_store_txn *txn)
{
    mem_txn *t = as_mem(txn);
    if (!t)
        return icms__error(ICMS_EINVALID, WHO ": no transaction");
    mem_store *s = t->store;
    int rc = ICMS_OK;
    writes_flush(t);
    pthread_mutex_lock(&s->lock);
    if (t->mode == ICMS_STORE_WRITE && t->n_writes > 0) {
        if (t->lost_reads) {
            rc = icms__error(ICMS_ENOMEM, WHO ": out of memory recording this transaction's "
                                              "reads; nothing was written");
            goto done;
        }
        if (txn_conflicts(t)) {
            rc = icms__error(ICMS_ECONFLICT,
                             WHO ": a concurrent transaction changed data this one read");
            goto done;
        }
        /* Log the change only if another open writer began before it and must check it. */
        bool others = s->writers != t || t->next != NULL;
        mem_logged *record = NULL;
        if (others && !(record = commit_record(t, s->seq + 1))) {
            rc = icms__error(ICMS_ENOMEM, WHO ": out of memory at commit");
            goto done;
        }
        mem_snapshot *cur = s->current;
        /* t itself pins cur only if it began at this very snapshot. */
        bool steal = cur->refs == 1 || (cur->refs == 2 && t->snap == cur);
        if (steal && t->snap == cur) {
            snapshot_unref(t->snap);
            t->snap = NULL;
        }
        if (steal && t->n_writes <= IN_PLACE_MAX) {
            rc = snapshot_apply_in_place(cur, t);
        } else {
            mem_snapshot *next = NULL;
            if ((rc = snapshot_apply(cur, t, steal, &next)) == 0) {
                if (steal) {
                    icms__free(cur->items);
                    icms__free(cur);
                } else {
                    snapshot_unref(cur);
                }
                s->current = next;
            }
        }
        if (rc != 0) {
            if (record)
                commit_free(record);
            goto done;
        }
        s->seq++;
        if (record) {
            if (s->log_tail)
                s->log_tail->next = record;
            else
                s->log_head = record;
            s->log_tail = record;
        }
    }
done:
    txn_detach(t);
    pthread_mutex_unlock(&s->lock);
    txn_free(t);
    return rc;
}

static void mem_rollback(icms_store_txn *txn)
{
    mem_txn *t = as_mem(txn);
    if (!t)
        return;
    mem_store *s = t->store;
    pthread_mutex_lock(&s->lock);
    txn_detach(t);
    pthread_mutex_unlock(&s->lock);
    txn_free(t);
}

static void mem_free(icms_store *store)
{
    mem_store *s = (mem_store *)store;
    if (!s)
        return;
    snapshot_unref(s->current);
    while (s->log_head) {
        mem_logged *c = s->log_head;
        s->log_head = c->next;
        commit_free(c);
    }
    pthread_mutex_destroy(&s->lock);
    icms__free(s);
}

int icms_store_memory_new(icms_store **out)
{
    if (!out)
        return icms__error(ICMS_EINVALID, WHO ": out is NULL");
    *out = NULL;
    mem_store *s = icms__calloc(1, sizeof *s);
    if (!s)
        return ICMS_ENOMEM;
    s->current = icms__calloc(1, sizeof *s->current);
    if (!s->current) {
        icms__free(s);
        return ICMS_ENOMEM;
    }
    s->current->refs = 1;
    if (pthread_mutex_init(&s->lock, NULL) != 0) {
        icms__free(s->current);
        icms__free(s);
        return icms__error(ICMS_ERROR, WHO ": cannot create a mutex");
    }
    icms_store base = ICMS_STORE_INIT;
    base.begin = mem_begin;
    base.get = mem_get;
    base.put = mem_put;
    base.del = mem_del;
    base.scan = mem_scan;
    base.commit = mem_commit;
    base.rollback = mem_rollback;
    base.free = mem_free;
    base.payload = s;
    s->base = base;
    *out = &s->base;
    return ICMS_OK;
}
