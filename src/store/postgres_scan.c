/*
 * Scans of the PostgreSQL store. The server's rows come in pages (keyset
 * pagination: each page is a LIMITed, ordered range query starting after the
 * last key of the previous one), so a big range is never held in memory at
 * once, and each page is its own result so that the callback may read through
 * the same connection meanwhile (a cursor or single-row mode would keep the
 * connection busy). All pages see the transaction's one snapshot.
 *
 * In a write transaction the pages are merged with the buffered writes of the
 * range: a buffered put replaces or adds a key, a buffered delete hides one.
 */
#include <stdio.h>
#include <string.h>

#include "postgres_internal.h"

/* Rows per page: start small (a scan often stops early), grow while pages stay light. */
#define PAGE_FIRST 32
#define PAGE_MAX 1024
#define PAGE_BYTES_LIGHT (1u << 20)

static const uint8_t empty_bytes[1] = {0};

typedef struct bound {
    uint8_t *bytes;
    size_t len;
    bool set; /* false: no bound */
} bound;

typedef struct pager {
    pg_txn *t;
    bool reverse;
    bound lo, hi; /* what the server still has to send: lo <= k < hi */
    PGresult *page;
    int row, rows;
    bool done; /* the last page came back short: nothing left on the server */
    long limit;
} pager;

static int bound_set(bound *b, const uint8_t *bytes, size_t len, bool extend)
{
    size_t need = len + (extend ? 1 : 0);
    uint8_t *copy = icms__malloc(need ? need : 1);
    if (!copy)
        return ICMS_ENOMEM;
    if (len)
        memcpy(copy, bytes, len);
    /* key || 0x00 is the smallest key above key in memcmp order. */
    if (extend)
        copy[len] = 0;
    icms__free(b->bytes);
    b->bytes = copy;
    b->len = need;
    b->set = true;
    return ICMS_OK;
}

static int fetch_page(pager *p)
{
    PQclear(p->page);
    p->page = NULL;
    p->row = p->rows = 0;
    pg_txn *t = p->t;
    char limit[24];
    snprintf(limit, sizeof limit, "%ld", p->limit);
    enum pg_stmt_id id = p->hi.set ? (p->reverse ? PG_ST_SCAN_REV : PG_ST_SCAN_FWD)
                                   : (p->reverse ? PG_ST_SCAN_REV_OPEN : PG_ST_SCAN_FWD_OPEN);
    const char *params[3] = {p->lo.len ? (const char *)p->lo.bytes : (const char *)empty_bytes,
                             NULL, NULL};
    int lens[3] = {(int)p->lo.len, 0, 0};
    int formats[3] = {1, 1, 0};
    int n = 2;
    if (p->hi.set) {
        params[1] = p->hi.len ? (const char *)p->hi.bytes : (const char *)empty_bytes;
        lens[1] = (int)p->hi.len;
        params[2] = limit;
        n = 3;
    } else {
        params[1] = limit;
        formats[1] = 0;
    }
    PGresult *r = PQexecPrepared(t->conn->pg, icms__pg_stmt_name[id], n, params, lens, formats, 1);
    if (!r || PQresultStatus(r) != PGRES_TUPLES_OK) {
        int rc = icms__pg_error(t->store, t->conn->pg, r, "scan");
        PQclear(r);
        return icms__pg_txn_fail(t, rc);
    }
    p->page = r;
    p->rows = PQntuples(r);
    if (p->rows < p->limit) {
        p->done = true;
    } else {
        /* Continue after the last key of this page. */
        int last = p->rows - 1;
        const uint8_t *k = (const uint8_t *)PQgetvalue(r, last, 0);
        size_t kl = (size_t)PQgetlength(r, last, 0);
        int rc = p->reverse ? bound_set(&p->hi, k, kl, false) : bound_set(&p->lo, k, kl, true);
        if (rc != 0)
            return rc;
        size_t bytes = 0;
        for (int i = 0; i < p->rows; i++)
            bytes += (size_t)PQgetlength(r, i, 1);
        if (bytes < PAGE_BYTES_LIGHT && p->limit < PAGE_MAX)
            p->limit *= 2;
        else if (bytes >= PAGE_BYTES_LIGHT && p->limit > 1)
            p->limit /= 2;
    }
    return ICMS_OK;
}

/* The server's next row, fetching a page when needed; *has false at the end. */
static int peek(pager *p, bool *has, const uint8_t **k, size_t *kl)
{
    while (p->row >= p->rows) {
        if (p->done) {
            *has = false;
            return ICMS_OK;
        }
        int rc = fetch_page(p);
        if (rc != 0)
            return rc;
    }
    *has = true;
    *k = (const uint8_t *)PQgetvalue(p->page, p->row, 0);
    *kl = (size_t)PQgetlength(p->page, p->row, 0);
    return ICMS_OK;
}

typedef struct range {
    const uint8_t *start;
    size_t start_len;
    const uint8_t *end; /* NULL: none */
    size_t end_len;
} range;

/* Buffered writes in [start, end): indexes first..last-1 of the sorted array. */
static void writes_in_range(const pg_writes *w, const range *rg, size_t *first, size_t *last)
{
    *first = rg->start_len ? icms__pg_writes_lower_bound(w, rg->start, rg->start_len) : 0;
    *last = rg->end ? icms__pg_writes_lower_bound(w, rg->end, rg->end_len) : w->count;
    if (*last < *first)
        *last = *first;
}

static int run(pager *p, const range *rg, icms_store_scan_cb cb, void *cb_payload)
{
    const pg_writes *w = &p->t->writes;
    size_t first, last;
    writes_in_range(w, rg, &first, &last);
    /* Forward: next write is items[wi], wi from first up. Reverse: items[wi - 1], wi from last
     * down. */
    size_t wi = p->reverse ? last : first;
    for (;;) {
        bool has_row;
        const uint8_t *rk = NULL;
        size_t rkl = 0;
        int rc = peek(p, &has_row, &rk, &rkl);
        if (rc != 0)
            return rc;
        const pg_write *next_w = NULL;
        if (p->reverse ? wi > first : wi < last)
            next_w = &w->items[p->reverse ? wi - 1 : wi];
        if (!has_row && !next_w)
            return ICMS_OK;

        int order = 0; /* < 0: the row comes first; > 0: the write; 0: same key */
        if (!next_w)
            order = -1;
        else if (!has_row)
            order = 1;
        else {
            order = icms__store_key_cmp(rk, rkl, next_w->key, next_w->key_len);
            if (p->reverse)
                order = -order;
        }

        const uint8_t *k, *v;
        size_t kl, vl;
        if (order < 0) {
            k = rk;
            kl = rkl;
            int n = PQgetlength(p->page, p->row, 1);
            v = n ? (const uint8_t *)PQgetvalue(p->page, p->row, 1) : empty_bytes;
            vl = (size_t)n;
            p->row++;
        } else {
            if (order == 0)
                p->row++; /* the buffered write replaces the server's row */
            wi = p->reverse ? wi - 1 : wi + 1;
            if (!next_w->value)
                continue; /* a buffered delete */
            k = next_w->key;
            kl = next_w->key_len;
            v = next_w->value_len ? next_w->value : empty_bytes;
            vl = next_w->value_len;
        }
        int cb_rc = cb(k, kl, v, vl, cb_payload);
        if (cb_rc < 0)
            return cb_rc;
        if (cb_rc > 0)
            return ICMS_OK;
    }
}

int icms__pg_scan(icms_store_txn *txn, const uint8_t *start, size_t start_len, const uint8_t *end,
                  size_t end_len, unsigned int flags, icms_store_scan_cb cb, void *cb_payload)
{
    pg_txn *t = (pg_txn *)(void *)txn;
    if (!t)
        return icms__error(ICMS_EINVALID, PG_WHO ": no transaction");
    int rc = icms__pg_txn_check_alive(t);
    if (rc == 0)
        rc = icms__store_check_scan(PG_WHO, start, start_len, end, end_len, flags, cb);
    if (rc != 0)
        return rc;
    pager p = {0};
    p.t = t;
    p.reverse = (flags & ICMS_STORE_SCAN_REVERSE) != 0;
    p.limit = PAGE_FIRST;
    range rg = {start, start_len, end, end_len};
    rc = bound_set(&p.lo, start, start_len, false);
    if (rc == 0 && end)
        rc = bound_set(&p.hi, end, end_len, false);
    if (rc == 0) {
        t->scanning++;
        rc = run(&p, &rg, cb, cb_payload);
        t->scanning--;
    }
    PQclear(p.page);
    icms__free(p.lo.bytes);
    icms__free(p.hi.bytes);
    return rc;
}
