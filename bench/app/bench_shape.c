#include "bench_shape.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sqlite3.h>

#include "bench_common.h"
#include "icms/common.h"

static void *must(void *p)
{
    if (!p) {
        fprintf(stderr, "out of memory\n");
        exit(1);
    }
    return p;
}

/* ---- the recording wrapper ---- */

typedef struct shape_store {
    icms_store base;
    icms_store *inner;
    bench_shape last;
    int borrowed; /* inner is the caller's: s_free leaves it */
    int stopped; /* the shape was taken: record nothing more (see bench_shape_last) */
} shape_store;

/* The port's transactions are opaque: each store defines its own. */
typedef struct shape_txn {
    icms_store_txn *inner;
    shape_store *owner;
    bench_shape pending;
    size_t capacity;
    bench_write *found; /* keys this transaction read and found (only their key is kept) */
    size_t found_count, found_capacity;
} shape_txn;

static shape_txn *txn_of(icms_store_txn *t)
{
    return (shape_txn *)t;
}

static int s_begin(icms_store *store, icms_store_mode_t mode, icms_store_txn **out)
{
    shape_store *s = store->payload;
    shape_txn *t = must(calloc(1, sizeof *t));
    int rc = s->inner->begin(s->inner, mode, &t->inner);
    if (rc != ICMS_OK) {
        free(t);
        return rc;
    }
    t->owner = s;
    *out = (icms_store_txn *)t;
    return ICMS_OK;
}

static int s_get(icms_store_txn *txn, const uint8_t *key, size_t key_len, const uint8_t **value,
                 size_t *value_len)
{
    shape_txn *t = txn_of(txn);
    t->pending.reads++;
    int rc = t->owner->inner->get(t->inner, key, key_len, value, value_len);
    if (rc == ICMS_OK && !t->owner->stopped) { /* a put of this key will replace a row */
        if (t->found_count == t->found_capacity) {
            t->found_capacity = t->found_capacity ? 2 * t->found_capacity : 16;
            t->found = must(realloc(t->found, t->found_capacity * sizeof *t->found));
        }
        bench_write *f = &t->found[t->found_count++];
        f->key_len = key_len < sizeof f->key ? key_len : sizeof f->key;
        memcpy(f->key, key, f->key_len);
    }
    return rc;
}

static int was_found(const shape_txn *t, const uint8_t *key, size_t key_len)
{
    for (size_t i = 0; i < t->found_count; i++)
        if (t->found[i].key_len == key_len && memcmp(t->found[i].key, key, key_len) == 0)
            return 1;
    return 0;
}

static void note(shape_txn *t, const uint8_t *key, size_t key_len, size_t value_len, int is_del)
{
    if (t->owner->stopped)
        return;
    if (t->pending.count == t->capacity) {
        t->capacity = t->capacity ? 2 * t->capacity : 16;
        t->pending.writes =
            must(realloc(t->pending.writes, t->capacity * sizeof *t->pending.writes));
    }
    bench_write *w = &t->pending.writes[t->pending.count++];
    w->key_len = key_len < sizeof w->key ? key_len : sizeof w->key;
    memcpy(w->key, key, w->key_len);
    w->value_len = value_len;
    w->is_del = is_del;
    w->replaces = !is_del && was_found(t, key, key_len);
}

static int s_put(icms_store_txn *txn, const uint8_t *key, size_t key_len, const uint8_t *value,
                 size_t value_len)
{
    shape_txn *t = txn_of(txn);
    int rc = t->owner->inner->put(t->inner, key, key_len, value, value_len);
    if (rc == ICMS_OK)
        note(t, key, key_len, value_len, 0);
    return rc;
}

static int s_del(icms_store_txn *txn, const uint8_t *key, size_t key_len)
{
    shape_txn *t = txn_of(txn);
    int rc = t->owner->inner->del(t->inner, key, key_len);
    if (rc == ICMS_OK)
        note(t, key, key_len, 0, 1);
    return rc;
}

static int s_scan(icms_store_txn *txn, const uint8_t *start, size_t start_len, const uint8_t *end,
                  size_t end_len, unsigned int flags, icms_store_scan_cb cb, void *payload)
{
    shape_txn *t = txn_of(txn);
    return t->owner->inner->scan(t->inner, start, start_len, end, end_len, flags, cb, payload);
}

static int s_commit(icms_store_txn *txn)
{
    shape_txn *t = txn_of(txn);
    int rc = t->owner->inner->commit(t->inner);
    if (rc == ICMS_OK && t->pending.count > 0) {
        bench_shape_free(&t->owner->last);
        t->owner->last = t->pending;
    } else {
        bench_shape_free(&t->pending);
    }
    free(t->found);
    free(t);
    return rc;
}

static void s_rollback(icms_store_txn *txn)
{
    shape_txn *t = txn_of(txn);
    t->owner->inner->rollback(t->inner);
    bench_shape_free(&t->pending);
    free(t->found);
    free(t);
}

static void s_free(icms_store *store)
{
    shape_store *s = store->payload;
    if (!s->borrowed)
        s->inner->free(s->inner);
    bench_shape_free(&s->last);
    free(s);
}

icms_store *bench_shape_store(icms_store *inner)
{
    shape_store *s = must(calloc(1, sizeof *s));
    icms_store base = ICMS_STORE_INIT;
    base.begin = s_begin;
    base.get = s_get;
    base.put = s_put;
    base.del = s_del;
    base.scan = s_scan;
    base.commit = s_commit;
    base.rollback = s_rollback;
    base.free = s_free;
    base.payload = s;
    s->base = base;
    s->inner = inner;
    return &s->base;
}

icms_store *bench_shape_store_borrowing(icms_store *inner)
{
    icms_store *store = bench_shape_store(inner);
    ((shape_store *)store->payload)->borrowed = 1;
    return store;
}

void bench_shape_last(icms_store *store, bench_shape *out)
{
    shape_store *s = store->payload;
    out->count = s->last.count;
    out->reads = s->last.reads;
    out->writes = must(malloc((s->last.count ? s->last.count : 1) * sizeof *out->writes));
    memcpy(out->writes, s->last.writes, s->last.count * sizeof *out->writes);
    /* Recording every later transaction would add the wrapper's own copying
     * and freeing to the payments it measures. */
    s->stopped = 1;
}

void bench_shape_free(bench_shape *shape)
{
    free(shape->writes);
    shape->writes = NULL;
    shape->count = 0;
}

void bench_shape_print(FILE *out, const bench_shape *shape)
{
    for (size_t i = 0; i < shape->count; i++) {
        const bench_write *w = &shape->writes[i];
        fprintf(out, "  %-7s %4zu-byte key ", w->is_del ? "del" : w->replaces ? "replace" : "put",
                w->key_len);
        /* Keys are binary; show their printable parts. */
        for (size_t b = 0; b < w->key_len && b < 40; b++)
            fputc(w->key[b] >= 0x20 && w->key[b] < 0x7f ? w->key[b] : '.', out);
        if (!w->is_del)
            fprintf(out, "  (%zu-byte value)", w->value_len);
        fputc('\n', out);
    }
}

/* The key's kind: its first element, a string (tag 0x02; see src/kv/keys.h). */
static int kind_is(const bench_write *w, const char *name)
{
    size_t n = strlen(name);
    return w->key_len > n + 1 && w->key[0] == 0x02 && memcmp(w->key + 1, name, n) == 0 &&
           w->key[n + 1] == 0;
}

void bench_shape_fewest(const bench_shape *shape, bench_shape *out)
{
    out->writes = must(malloc((shape->count ? shape->count : 1) * sizeof *out->writes));
    out->count = 0;
    out->reads = shape->reads;
    for (size_t i = 0; i < shape->count; i++) {
        const bench_write *w = &shape->writes[i];
        if (kind_is(w, "i") || kind_is(w, "u") || kind_is(w, "outbox") || kind_is(w, "ledger"))
            continue;
        out->writes[out->count++] = *w;
    }
}

/* ---- the floor ---- */

struct bench_floor {
    sqlite3 *conn;
    sqlite3_stmt *put, *del;
    bench_shape shape;
    size_t *victim; /* per delete: the put whose previous-round row it removes */
    unsigned char *value;
    size_t value_max;
    unsigned long long round;
};

static void exec(sqlite3 *conn, const char *sql)
{
    if (sqlite3_exec(conn, sql, NULL, NULL, NULL) != SQLITE_OK) {
        fprintf(stderr, "%s: %s\n", sql, sqlite3_errmsg(conn));
        exit(1);
    }
}

bench_floor *bench_floor_open(const char *path, const char *sync, const bench_shape *shape)
{
    bench_floor *f = must(calloc(1, sizeof *f));
    char wal[4200];
    unlink(path);
    snprintf(wal, sizeof wal, "%s-wal", path);
    unlink(wal);
    if (sqlite3_open(path, &f->conn) != SQLITE_OK) {
        fprintf(stderr, "cannot open %s\n", path);
        exit(1);
    }
    char pragma[64];
    snprintf(pragma, sizeof pragma, "PRAGMA synchronous=%s", sync);
    exec(f->conn, "PRAGMA journal_mode=WAL");
    exec(f->conn, pragma);
    /* The library's checkpoint size (src/store/sqlite.c, set_checkpoint), or the one compared. */
    snprintf(pragma, sizeof pragma, "PRAGMA wal_autocheckpoint=%u", bench_checkpoint_pages());
    exec(f->conn, pragma);
    exec(f->conn, "CREATE TABLE kv(k BLOB PRIMARY KEY, v BLOB NOT NULL) WITHOUT ROWID");
    sqlite3_prepare_v2(f->conn, "INSERT OR REPLACE INTO kv VALUES(?1, ?2)", -1, &f->put, NULL);
    sqlite3_prepare_v2(f->conn, "DELETE FROM kv WHERE k = ?1", -1, &f->del, NULL);
    f->shape.count = shape->count;
    f->shape.writes = must(malloc((shape->count ? shape->count : 1) * sizeof *shape->writes));
    memcpy(f->shape.writes, shape->writes, shape->count * sizeof *shape->writes);
    for (size_t i = 0; i < shape->count; i++)
        if (shape->writes[i].value_len > f->value_max)
            f->value_max = shape->writes[i].value_len;
    /*
     * A command's deletes remove rows that exist (an index entry replaced by
     * one of the same length, for example): each delete here removes the row
     * the previous replay wrote at the first put with the same key length.
     */
    f->victim = must(calloc(shape->count ? shape->count : 1, sizeof *f->victim));
    for (size_t i = 0; i < shape->count; i++) {
        f->victim[i] = SIZE_MAX;
        for (size_t j = 0; shape->writes[i].is_del && j < shape->count; j++)
            if (!shape->writes[j].is_del && shape->writes[j].key_len == shape->writes[i].key_len) {
                f->victim[i] = j;
                break;
            }
    }
    f->value = must(malloc(f->value_max + 1));
    memset(f->value, 'v', f->value_max + 1);
    return f;
}

/* Write i of a round: the recorded key with its last 8 bytes replaced by a counter. */
static size_t key_for(const bench_write *w, unsigned long long counter, unsigned char *key)
{
    size_t len = w->key_len < 9 ? 9 : w->key_len;
    memset(key, 0, len);
    memcpy(key, w->key, w->key_len);
    for (int b = 0; b < 8; b++)
        key[len - 1 - (size_t)b] = (unsigned char)(counter >> (8 * b));
    return len;
}

static void step(sqlite3 *conn, sqlite3_stmt *st)
{
    if (sqlite3_step(st) != SQLITE_DONE) {
        fprintf(stderr, "floor write failed: %s\n", sqlite3_errmsg(conn));
        exit(1);
    }
    sqlite3_reset(st);
}

/*
 * The rows the next count rounds replace, written beforehand and not timed:
 * the records a command rewrites (a payment, its request, the investor's
 * totals) exist before it runs, so their puts replace rows in place rather
 * than add new ones. Each is written in the spot its round will replace.
 */
static void write_replaced_rows(bench_floor *f, int count)
{
    int any = 0;
    for (size_t i = 0; i < f->shape.count && !any; i++)
        any = f->shape.writes[i].replaces;
    if (!any)
        return;
    exec(f->conn, "BEGIN IMMEDIATE");
    for (unsigned long long r = f->round; r < f->round + (unsigned long long)count; r++)
        for (size_t i = 0; i < f->shape.count; i++) {
            const bench_write *w = &f->shape.writes[i];
            if (!w->replaces)
                continue;
            unsigned char key[72];
            size_t len = key_for(w, r * f->shape.count + i, key);
            sqlite3_bind_blob(f->put, 1, key, (int)len, SQLITE_STATIC);
            sqlite3_bind_blob(f->put, 2, f->value, (int)w->value_len, SQLITE_STATIC);
            step(f->conn, f->put);
        }
    exec(f->conn, "COMMIT");
}

double bench_floor_commits(bench_floor *f, int count, int per_commit)
{
    write_replaced_rows(f, count);
    double t0 = bench_now();
    for (int c = 0; c < count; c++, f->round++) {
        if (c % per_commit == 0)
            exec(f->conn, "BEGIN IMMEDIATE");
        for (size_t i = 0; i < f->shape.count; i++) {
            const bench_write *w = &f->shape.writes[i];
            unsigned char key[72];
            unsigned long long counter = f->round * f->shape.count + i;
            if (w->is_del) {
                size_t victim = f->victim[i];
                if (victim == SIZE_MAX || f->round == 0)
                    continue;
                size_t len = key_for(&f->shape.writes[victim],
                                     (f->round - 1) * f->shape.count + victim, key);
                sqlite3_bind_blob(f->del, 1, key, (int)len, SQLITE_STATIC);
                step(f->conn, f->del);
            } else {
                size_t len = key_for(w, counter, key);
                sqlite3_bind_blob(f->put, 1, key, (int)len, SQLITE_STATIC);
                sqlite3_bind_blob(f->put, 2, f->value, (int)w->value_len, SQLITE_STATIC);
                step(f->conn, f->put);
            }
        }
        if ((c + 1) % per_commit == 0 || c + 1 == count)
            exec(f->conn, "COMMIT");
    }
    return bench_now() - t0;
}

void bench_floor_close(bench_floor *f)
{
    sqlite3_finalize(f->put);
    sqlite3_finalize(f->del);
    sqlite3_close(f->conn);
    bench_shape_free(&f->shape);
    free(f->victim);
    free(f->value);
    free(f);
}
