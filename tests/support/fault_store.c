/* The fault-injecting wrapper store and the store dump (see fault_store.h). */
#include "fault_store.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "core/core.h"

typedef struct fault_store {
    icms_store base; /* first: the icms_store * handed out points here */
    icms_store *inner;
    bool owns_inner;
    pthread_mutex_t lock; /* counters and the armed fault; a store may be shared by threads */
    unsigned long calls[ICMS_TEST_FAULT_OPS];
    unsigned long scanned;      /* keys scans handed to their callbacks */
    unsigned long write_begins; /* begins in ICMS_STORE_WRITE mode */
    icms_test_fault_op_t fail_op;
    unsigned long fail_at; /* value of calls[fail_op] at which to fail; 0 = disarmed */
    int fail_code;
    unsigned long lose_at; /* value of calls[COMMIT] whose success is reported as lose_code */
    int lose_code;
    unsigned long scan_at; /* value of calls[SCAN] of the scan that fails part-way */
    size_t scan_rows;
    int scan_code;
    bool fired;
} fault_store;

/* The callback wrapper of every scan: counts the keys, and fails after some rows when armed. */
typedef struct partial_scan {
    fault_store *store;
    icms_store_scan_cb cb;
    void *payload;
    bool partial; /* fail once left is 0 */
    size_t left;
    int code;
} partial_scan;

typedef struct fault_txn {
    fault_store *store;
    icms_store_txn *inner;
} fault_txn;

static const char *const op_names[ICMS_TEST_FAULT_OPS] = {"any", "begin", "get",   "put",
                                                          "del", "scan",  "commit"};

static fault_store *as_fault(const icms_store *s)
{
    return (fault_store *)(void *)s;
}

static fault_txn *as_ftxn(icms_store_txn *t)
{
    return (fault_txn *)(void *)t;
}

/* Count a call; answer the injected code when this is the call to fail, else 0. */
static int count_call(fault_store *fs, icms_test_fault_op_t op)
{
    int rc = 0;
    pthread_mutex_lock(&fs->lock);
    unsigned long any = ++fs->calls[ICMS_TEST_FAULT_ANY];
    unsigned long mine = ++fs->calls[op];
    if (fs->fail_at) {
        unsigned long n = fs->fail_op == ICMS_TEST_FAULT_ANY ? any : mine;
        if ((fs->fail_op == ICMS_TEST_FAULT_ANY || fs->fail_op == op) && n == fs->fail_at) {
            rc = fs->fail_code;
            fs->fired = true;
            fs->fail_at = 0;
        }
    }
    pthread_mutex_unlock(&fs->lock);
    if (rc != 0)
        icms__error(rc, "fault store: injected failure of %s call %lu", op_names[op], mine);
    return rc;
}

static int f_begin(icms_store *store, icms_store_mode_t mode, icms_store_txn **out)
{
    fault_store *fs = as_fault(store);
    if (out)
        *out = NULL;
    int rc = count_call(fs, ICMS_TEST_FAULT_BEGIN);
    if (rc != 0)
        return rc;
    if (mode == ICMS_STORE_WRITE) {
        pthread_mutex_lock(&fs->lock);
        fs->write_begins++;
        pthread_mutex_unlock(&fs->lock);
    }
    if (!out)
        return fs->inner->begin(fs->inner, mode, out);
    fault_txn *t = calloc(1, sizeof *t);
    if (!t)
        return icms__error(ICMS_ENOMEM, "fault store: out of memory");
    t->store = fs;
    rc = fs->inner->begin(fs->inner, mode, &t->inner);
    if (rc != 0) {
        free(t);
        return rc;
    }
    *out = (icms_store_txn *)(void *)t;
    return 0;
}

static int f_get(icms_store_txn *txn, const uint8_t *key, size_t key_len, const uint8_t **value,
                 size_t *value_len)
{
    fault_txn *t = as_ftxn(txn);
    int rc = count_call(t->store, ICMS_TEST_FAULT_GET);
    return rc ? rc : t->store->inner->get(t->inner, key, key_len, value, value_len);
}

static int f_put(icms_store_txn *txn, const uint8_t *key, size_t key_len, const uint8_t *value,
                 size_t value_len)
{
    fault_txn *t = as_ftxn(txn);
    int rc = count_call(t->store, ICMS_TEST_FAULT_PUT);
    return rc ? rc : t->store->inner->put(t->inner, key, key_len, value, value_len);
}

static int f_del(icms_store_txn *txn, const uint8_t *key, size_t key_len)
{
    fault_txn *t = as_ftxn(txn);
    int rc = count_call(t->store, ICMS_TEST_FAULT_DEL);
    return rc ? rc : t->store->inner->del(t->inner, key, key_len);
}

static int partial_cb(const uint8_t *key, size_t key_len, const uint8_t *value, size_t value_len,
                      void *payload)
{
    partial_scan *p = payload;
    pthread_mutex_lock(&p->store->lock);
    p->store->scanned++;
    pthread_mutex_unlock(&p->store->lock);
    if (!p->partial)
        return p->cb(key, key_len, value, value_len, p->payload);
    if (p->left == 0) {
        pthread_mutex_lock(&p->store->lock);
        p->store->fired = true;
        pthread_mutex_unlock(&p->store->lock);
        return icms__error(p->code, "fault store: injected failure in the middle of a scan");
    }
    p->left--;
    return p->cb(key, key_len, value, value_len, p->payload);
}

static int f_scan(icms_store_txn *txn, const uint8_t *start, size_t start_len, const uint8_t *end,
                  size_t end_len, unsigned int flags, icms_store_scan_cb cb, void *cb_payload)
{
    fault_txn *t = as_ftxn(txn);
    fault_store *fs = t->store;
    int rc = count_call(fs, ICMS_TEST_FAULT_SCAN);
    if (rc != 0)
        return rc;
    pthread_mutex_lock(&fs->lock);
    bool partial = fs->scan_at && fs->calls[ICMS_TEST_FAULT_SCAN] == fs->scan_at;
    partial_scan p = {fs, cb, cb_payload, partial, fs->scan_rows, fs->scan_code};
    if (partial)
        fs->scan_at = 0;
    pthread_mutex_unlock(&fs->lock);
    if (!cb)
        return fs->inner->scan(t->inner, start, start_len, end, end_len, flags, cb, cb_payload);
    return fs->inner->scan(t->inner, start, start_len, end, end_len, flags, partial_cb, &p);
}

static int f_commit(icms_store_txn *txn)
{
    fault_txn *t = as_ftxn(txn);
    fault_store *fs = t->store;
    icms_store *inner = fs->inner;
    int rc = count_call(fs, ICMS_TEST_FAULT_COMMIT);
    if (rc != 0) {
        /* The port says the transaction is gone whatever the answer: nothing was written. */
        inner->rollback(t->inner);
        icms__error(rc, "fault store: injected failure of commit");
        free(t);
        return rc;
    }
    rc = inner->commit(t->inner);
    free(t);
    pthread_mutex_lock(&fs->lock);
    int lost = 0;
    if (rc == 0 && fs->lose_at && fs->calls[ICMS_TEST_FAULT_COMMIT] == fs->lose_at) {
        lost = fs->lose_code;
        fs->lose_at = 0;
        fs->scan_at = 0;
        fs->fired = true;
    }
    pthread_mutex_unlock(&fs->lock);
    if (lost)
        return icms__error(lost, "fault store: commit applied, its answer injected as lost");
    return rc;
}

static void f_rollback(icms_store_txn *txn)
{
    fault_txn *t = as_ftxn(txn);
    if (!t)
        return;
    t->store->inner->rollback(t->inner);
    free(t);
}

static void f_free(icms_store *store)
{
    fault_store *fs = as_fault(store);
    if (!fs)
        return;
    if (fs->owns_inner)
        icms_store_free(fs->inner);
    pthread_mutex_destroy(&fs->lock);
    free(fs);
}

int icms_test_fault_store_new(icms_store **out, icms_store *inner, bool owns_inner)
{
    if (!out || !inner)
        return icms__error(ICMS_EINVALID, "fault store: out and inner are required");
    fault_store *fs = calloc(1, sizeof *fs);
    if (!fs)
        return icms__error(ICMS_ENOMEM, "fault store: out of memory");
    pthread_mutex_init(&fs->lock, NULL);
    icms_store base = ICMS_STORE_INIT;
    base.begin = f_begin;
    base.get = f_get;
    base.put = f_put;
    base.del = f_del;
    base.scan = f_scan;
    base.commit = f_commit;
    base.rollback = f_rollback;
    base.free = f_free;
    base.payload = fs;
    fs->base = base;
    fs->inner = inner;
    fs->owns_inner = owns_inner;
    *out = &fs->base;
    return 0;
}

void icms_test_fault_store_fail(icms_store *fault_store_, icms_test_fault_op_t op,
                                unsigned long nth, int code)
{
    fault_store *fs = as_fault(fault_store_);
    pthread_mutex_lock(&fs->lock);
    fs->fail_op = op;
    fs->fail_at = nth ? fs->calls[op] + nth : 0;
    fs->fail_code = code;
    fs->fired = false;
    pthread_mutex_unlock(&fs->lock);
}

void icms_test_fault_store_lose_commit(icms_store *fault_store_, unsigned long nth, int code)
{
    fault_store *fs = as_fault(fault_store_);
    pthread_mutex_lock(&fs->lock);
    fs->lose_at = nth ? fs->calls[ICMS_TEST_FAULT_COMMIT] + nth : 0;
    fs->lose_code = code;
    fs->fired = false;
    pthread_mutex_unlock(&fs->lock);
}

void icms_test_fault_store_fail_scan_after(icms_store *fault_store_, unsigned long nth, size_t rows,
                                           int code)
{
    fault_store *fs = as_fault(fault_store_);
    pthread_mutex_lock(&fs->lock);
    fs->scan_at = nth ? fs->calls[ICMS_TEST_FAULT_SCAN] + nth : 0;
    fs->scan_rows = rows;
    fs->scan_code = code;
    fs->fired = false;
    pthread_mutex_unlock(&fs->lock);
}

bool icms_test_fault_store_fired(const icms_store *fault_store_)
{
    fault_store *fs = as_fault(fault_store_);
    pthread_mutex_lock(&fs->lock);
    bool fired = fs->fired;
    pthread_mutex_unlock(&fs->lock);
    return fired;
}

unsigned long icms_test_fault_store_calls(const icms_store *fault_store_, icms_test_fault_op_t op)
{
    fault_store *fs = as_fault(fault_store_);
    if ((int)op < 0 || op >= ICMS_TEST_FAULT_OPS)
        return 0;
    pthread_mutex_lock(&fs->lock);
    unsigned long n = fs->calls[op];
    pthread_mutex_unlock(&fs->lock);
    return n;
}

unsigned long icms_test_fault_store_reads(const icms_store *fault_store_)
{
    fault_store *fs = as_fault(fault_store_);
    pthread_mutex_lock(&fs->lock);
    unsigned long n = fs->calls[ICMS_TEST_FAULT_GET] + fs->calls[ICMS_TEST_FAULT_SCAN] + fs->scanned;
    pthread_mutex_unlock(&fs->lock);
    return n;
}

unsigned long icms_test_fault_store_write_begins(const icms_store *fault_store_)
{
    fault_store *fs = as_fault(fault_store_);
    pthread_mutex_lock(&fs->lock);
    unsigned long n = fs->write_begins;
    pthread_mutex_unlock(&fs->lock);
    return n;
}

void icms_test_fault_store_reset(icms_store *fault_store_)
{
    fault_store *fs = as_fault(fault_store_);
    pthread_mutex_lock(&fs->lock);
    memset(fs->calls, 0, sizeof fs->calls);
    fs->scanned = 0;
    fs->write_begins = 0;
    fs->fail_at = 0;
    fs->lose_at = 0;
    fs->scan_at = 0;
    fs->fired = false;
    pthread_mutex_unlock(&fs->lock);
}

icms_store *icms_test_fault_store_inner(const icms_store *fault_store_)
{
    return as_fault(fault_store_)->inner;
}

/* ---- dump and digest ---- */

typedef struct dump_buf {
    uint8_t *bytes;
    size_t len, cap;
    size_t keys;
} dump_buf;

static int dump_append(dump_buf *d, const uint8_t *bytes, size_t len)
{
    uint8_t hdr[4] = {(uint8_t)(len >> 24), (uint8_t)(len >> 16), (uint8_t)(len >> 8),
                      (uint8_t)len};
    size_t need = d->len + sizeof hdr + len;
    if (need > d->cap) {
        size_t cap = d->cap ? d->cap : 256;
        while (cap < need)
            cap *= 2;
        uint8_t *p = realloc(d->bytes, cap);
        if (!p)
            return icms__error(ICMS_ENOMEM, "store dump: out of memory");
        d->bytes = p;
        d->cap = cap;
    }
    memcpy(d->bytes + d->len, hdr, sizeof hdr);
    if (len)
        memcpy(d->bytes + d->len + sizeof hdr, bytes, len);
    d->len = need;
    return 0;
}

static int dump_cb(const uint8_t *key, size_t key_len, const uint8_t *value, size_t value_len,
                   void *payload)
{
    dump_buf *d = payload;
    int rc = dump_append(d, key, key_len);
    if (rc == 0)
        rc = dump_append(d, value, value_len);
    d->keys++;
    return rc;
}

static int dump_all(icms_store *store, dump_buf *d)
{
    icms_store_txn *t;
    memset(d, 0, sizeof *d);
    int rc = store->begin(store, ICMS_STORE_READ, &t);
    if (rc != 0)
        return rc;
    rc = store->scan(t, NULL, 0, NULL, 0, 0, dump_cb, d);
    if (rc != 0) {
        store->rollback(t);
        free(d->bytes);
        d->bytes = NULL;
        return rc;
    }
    rc = store->commit(t);
    if (rc != 0) {
        free(d->bytes);
        d->bytes = NULL;
    }
    return rc;
}

int icms_test_store_dump(icms_store *store, uint8_t **out, size_t *out_len)
{
    dump_buf d;
    int rc = dump_all(store, &d);
    if (rc != 0)
        return rc;
    *out = d.bytes ? d.bytes : malloc(1); /* an empty store still gives a freeable buffer */
    *out_len = d.len;
    return *out ? 0 : icms__error(ICMS_ENOMEM, "store dump: out of memory");
}

int icms_test_store_digest(icms_store *store, uint64_t *digest, size_t *keys)
{
    dump_buf d;
    int rc = dump_all(store, &d);
    if (rc != 0)
        return rc;
    uint64_t h = 0xcbf29ce484222325ull;
    for (size_t i = 0; i < d.len; i++) {
        h ^= d.bytes[i];
        h *= 0x100000001b3ull;
    }
    free(d.bytes);
    if (digest)
        *digest = h;
    if (keys)
        *keys = d.keys;
    return 0;
}
