/*
 * The SQLite store, layout 3: two WITHOUT ROWID tables in WAL mode.
 *
 *   kv(k BLOB PRIMARY KEY, v BLOB NOT NULL)      every key outside the append-only ranges
 *   kv_log(k BLOB PRIMARY KEY, v BLOB NOT NULL)  every key under an append-only prefix
 *   icms_append_only(prefix BLOB PRIMARY KEY)    the prefixes (a set that only grows)
 *
 * The append-only triggers sit on kv_log alone, so the rows that need no
 * protection (most of what a command writes) are written without running a
 * trigger program. A key belongs to exactly one table, decided by the prefix
 * set: get, put and del go to that table, and a scan walks the key space as
 * alternating stretches (kv, kv_log, kv, ...) in key order, each read from its
 * own table only. SQLite compares BLOBs with memcmp and a proper prefix first,
 * which is exactly the port's key order. docs/storage.md says why.
 *
 * Every handle on the file must route identically. The prefix set is in the
 * file and may only change together with the schema (icms_append_only has
 * triggers that refuse plain writes, and the kv_log insert trigger spells the
 * ranges out), so a connection reads PRAGMA schema_version in each
 * transaction and reloads the set when it moved. Adding a prefix moves that
 * prefix's rows from kv to kv_log in the same write transaction. Creating,
 * checking and upgrading the layout is sqlite_schema.c's job.
 *
 * Transactions map one to one onto SQLite transactions: BEGIN IMMEDIATE for
 * writers (the database's single write lock is taken at begin, so a second
 * writer waits for the busy timeout and then answers ICMS_EBUSY, and a writer
 * that began never fails to commit for concurrency reasons), deferred BEGIN
 * plus one read for readers (WAL gives them a snapshot from that read on).
 *
 * A store object keeps a small pool of connections. A transaction takes one
 * for its whole life, so several threads (or one thread with a read open
 * beside a write) each work on their own connection; the pool mutex guards
 * only the pool. Each connection caches its prepared statements and its copy
 * of the prefix set. Connections are opened with SQLITE_OPEN_NOMUTEX because
 * no two threads ever use one at the same time (the port allows one thread
 * per transaction).
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sqlite3.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "sqlite_internal.h"
#include "store_internal.h"

/* Idle connections kept for reuse; more are opened on demand and closed when returned. */
#define POOL_IDLE_MAX 4
#define DEFAULT_BUSY_TIMEOUT_MS 5000u

/* The two tables of key-value rows. */
enum table_id { TB_KV, TB_LOG, TB_COUNT };

/* What each table's cached statements do. */
enum table_op {
    OP_GET,
    OP_PUT,
    OP_DEL,
    OP_SCAN_FWD, /* k >= ?1 AND k < ?2 */
    OP_SCAN_REV,
    OP_SCAN_FWD_OPEN, /* k >= ?1 */
    OP_SCAN_REV_OPEN,
    OP_COUNT
};

enum stmt_id {
    ST_BEGIN_READ,
    ST_BEGIN_WRITE,
    ST_SCHEMA_VERSION, /* also the read that pins a read transaction's snapshot */
    ST_PREFIXES,
    ST_COMMIT,
    ST_ROLLBACK,
    ST_TABLES, /* then OP_COUNT statements per table, kv first */
    ST_COUNT = ST_TABLES + TB_COUNT * OP_COUNT
};

#define TABLE_SQL(table, put)                                                                      \
    "SELECT v FROM " table " WHERE k = ?1", put, "DELETE FROM " table " WHERE k = ?1",             \
        "SELECT k, v FROM " table " WHERE k >= ?1 AND k < ?2 ORDER BY k",                          \
        "SELECT k, v FROM " table " WHERE k >= ?1 AND k < ?2 ORDER BY k DESC",                     \
        "SELECT k, v FROM " table " WHERE k >= ?1 ORDER BY k",                                     \
        "SELECT k, v FROM " table " WHERE k >= ?1 ORDER BY k DESC"

static const char *const stmt_sql[ST_COUNT] = {
    "BEGIN",
    "BEGIN IMMEDIATE",
    "PRAGMA schema_version",
    "SELECT prefix FROM icms_append_only ORDER BY prefix",
    "COMMIT",
    "ROLLBACK",
    TABLE_SQL("kv",
              "INSERT INTO kv(k, v) VALUES(?1, ?2) ON CONFLICT(k) DO UPDATE SET v = excluded.v"),
    /* An existing key is refused by the insert trigger, whatever the value. */
    TABLE_SQL("kv_log", "INSERT INTO kv_log(k, v) VALUES(?1, ?2)"),
};

static int table_stmt(enum table_id table, enum table_op op)
{
    return ST_TABLES + (int)table * OP_COUNT + (int)op;
}

/*
 * One stretch of keys that live in kv_log: lo <= k < hi (no upper end when
 * hi_open). Overlapping and touching prefixes are merged into one range.
 */
typedef struct log_range {
    size_t lo_len, hi_len;
    bool hi_open;
    uint8_t lo[ICMS_STORE_KEY_MAX];
    uint8_t hi[ICMS_STORE_KEY_MAX];
} log_range;

typedef struct sql_conn {
    sqlite3 *db;
    sqlite3_stmt *stmt[ST_COUNT];
    /* The prefix set as of schema_version (-1: not loaded), sorted and disjoint. */
    sqlite3_int64 schema_version;
    log_range *ranges;
    size_t n_ranges;
    struct sql_conn *next; /* in the idle list */
} sql_conn;

typedef struct sql_store {
    icms_store base; /* first: the icms_store * handed out points here */
    pthread_mutex_t lock;
    sql_conn *idle;
    size_t n_idle;
    char *path;
    int sync; /* icms_sqlite_sync_t */
    unsigned int busy_timeout_ms;
    unsigned int checkpoint_pages;
} sql_store;

typedef struct sql_txn {
    sql_store *store;
    sql_conn *conn;
    icms_store_mode_t mode;
    unsigned int scanning;     /* nesting depth of scans in progress */
    sqlite3_stmt *get_pending; /* the get statement holding the row the last get returned */
    bool aborted;              /* SQLite rolled the transaction back after an error */
} sql_txn;

static const uint8_t empty_bytes[1] = {0};

static sql_txn *as_sql(icms_store_txn *txn)
{
    return (sql_txn *)(void *)txn;
}

/*
 * Turn a SQLite failure into the port's codes, with SQLite's own words.
 * Busy/locked: ICMS_EBUSY. The append-only trigger: ICMS_EINVALID (the
 * request, not the data, is wrong). Out of memory: ICMS_ENOMEM. Everything
 * else: ICMS_ESTORAGE.
 */
int icms__sqlite_error(sqlite3 *db, int rc, const char *what)
{
    const char *msg = db ? sqlite3_errmsg(db) : sqlite3_errstr(rc);
    switch (rc & 0xff) {
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
        return icms__error(ICMS_EBUSY, WHO ": %s: %s", what, msg);
    case SQLITE_NOMEM:
        return icms__error(ICMS_ENOMEM, WHO ": %s: %s", what, msg);
    case SQLITE_CONSTRAINT:
        if (rc == SQLITE_CONSTRAINT_TRIGGER && strcmp(msg, "append-only") == 0)
            return icms__error(ICMS_EINVALID,
                               WHO ": %s: the key is in an append-only range and exists already",
                               what);
        break;
    default:
        break;
    }
    return icms__error(ICMS_ESTORAGE, WHO ": %s: %s", what, msg);
}

/* Run a statement that returns no rows we need; 0 or the mapped error. */
static int step_done(sql_conn *c, sqlite3_stmt *st, const char *what)
{
    int rc = sqlite3_step(st);
    while (rc == SQLITE_ROW)
        rc = sqlite3_step(st);
    int out = rc == SQLITE_DONE ? ICMS_OK : icms__sqlite_error(c->db, rc, what);
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    return out;
}

/* Run literal SQL (schema, pragmas). */
int icms__sqlite_exec(sqlite3 *db, const char *sql, const char *what)
{
    char *err = NULL;
    int rc = sqlite3_exec(db, sql, NULL, NULL, &err);
    if (rc == SQLITE_OK)
        return ICMS_OK;
    int code = icms__sqlite_error(db, rc, what);
    sqlite3_free(err);
    return code;
}

/* The first column of the first row of a query, as an integer. */
int icms__sqlite_query_int(sqlite3 *db, const char *sql, sqlite3_int64 *out)
{
    sqlite3_stmt *st;
    int rc = sqlite3_prepare_v2(db, sql, -1, &st, NULL);
    if (rc != SQLITE_OK)
        return icms__sqlite_error(db, rc, sql);
    rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        *out = sqlite3_column_int64(st, 0);
        rc = SQLITE_OK;
    } else if (rc == SQLITE_DONE) {
        *out = 0;
        rc = SQLITE_OK;
    }
    int code = rc == SQLITE_OK ? ICMS_OK : icms__sqlite_error(db, rc, sql);
    sqlite3_finalize(st);
    return code;
}

static int bind_blob(sqlite3_stmt *st, int idx, const uint8_t *bytes, size_t len)
{
    /* A NULL pointer would bind SQL NULL; an empty blob needs a real pointer. */
    return sqlite3_bind_blob64(st, idx, bytes && len ? bytes : empty_bytes, len, SQLITE_STATIC);
}

/* ---- connections ---- */

static void conn_close(sql_conn *c)
{
    if (!c)
        return;
    for (int i = 0; i < ST_COUNT; i++)
        sqlite3_finalize(c->stmt[i]);
    sqlite3_close(c->db);
    icms__free(c->ranges);
    icms__free(c);
}

static const char *sync_pragma(int sync)
{
    switch (sync) {
    case ICMS_SQLITE_SYNC_NORMAL:
        return "PRAGMA synchronous=NORMAL";
    case ICMS_SQLITE_SYNC_OFF:
        return "PRAGMA synchronous=OFF";
    default:
        return "PRAGMA synchronous=FULL";
    }
}

/*
 * Checkpoint after `pages` WAL pages rather than SQLite's 1,000. A batch of
 * payments writes hundreds of pages, and many of them again at every commit
 * (the ends of the logs, the B-trees' inner pages); a longer WAL writes each
 * of those into the database file once per checkpoint instead of once per
 * commit or two. Batches at 15,000 payments ran 1.0-1.6 times as fast with
 * 10,000 pages (docs/BENCHMARKS.md, "Session 5"). journal_size_limit cuts the -wal
 * file back to that size after a checkpoint, so a reader that once held the
 * checkpoint back does not leave a larger file behind.
 */
static int set_checkpoint(sqlite3 *db, unsigned int pages)
{
    char sql[96];
    snprintf(sql, sizeof sql, "PRAGMA wal_autocheckpoint=%u; PRAGMA journal_size_limit=%lld",
             pages, (long long)pages * 4096);
    return icms__sqlite_exec(db, sql, "setting the checkpoint size");
}

static int conn_open(sql_store *s, sql_conn **out)
{
    *out = NULL;
    sql_conn *c = icms__calloc(1, sizeof *c);
    if (!c)
        return ICMS_ENOMEM;
    c->schema_version = -1;
    int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX;
    int rc = sqlite3_open_v2(s->path, &c->db, flags, NULL);
    if (rc != SQLITE_OK) {
        int code = c->db ? icms__error(ICMS_ESTORAGE, WHO ": cannot open %s: %s", s->path,
                                       sqlite3_errmsg(c->db))
                         : icms__error(ICMS_ENOMEM, WHO ": cannot open %s: out of memory", s->path);
        conn_close(c);
        return code;
    }
    sqlite3_extended_result_codes(c->db, 1);
    sqlite3_busy_timeout(c->db, (int)s->busy_timeout_ms);
    /*
     * The file may have been edited by someone else: do not run functions with
     * side effects from its schema (triggers, views), and refuse the SQL
     * features that can corrupt a database (writable_schema and the like).
     */
    sqlite3_db_config(c->db, SQLITE_DBCONFIG_DEFENSIVE, 1, (int *)NULL);
    sqlite3_db_config(c->db, SQLITE_DBCONFIG_TRUSTED_SCHEMA, 0, (int *)NULL);
    int code = icms__sqlite_exec(c->db, sync_pragma(s->sync), "setting synchronous");
    if (code == 0)
        code = set_checkpoint(c->db, s->checkpoint_pages);
    if (code != 0) {
        conn_close(c);
        return code;
    }
    *out = c;
    return ICMS_OK;
}

/* Prepare the cached statements; only once the schema exists. */
static int conn_prepare(sql_conn *c)
{
    for (int i = 0; i < ST_COUNT; i++) {
        int rc = sqlite3_prepare_v3(c->db, stmt_sql[i], -1, SQLITE_PREPARE_PERSISTENT, &c->stmt[i],
                                    NULL);
        if (rc != SQLITE_OK)
            return icms__sqlite_error(c->db, rc, "preparing statements");
    }
    return ICMS_OK;
}

/* A connection from the pool, or a new one. */
static int conn_take(sql_store *s, sql_conn **out)
{
    pthread_mutex_lock(&s->lock);
    sql_conn *c = s->idle;
    if (c) {
        s->idle = c->next;
        s->n_idle--;
        c->next = NULL;
    }
    pthread_mutex_unlock(&s->lock);
    if (c) {
        *out = c;
        return ICMS_OK;
    }
    int rc = conn_open(s, &c);
    if (rc == 0 && (rc = conn_prepare(c)) != 0) {
        conn_close(c);
        c = NULL;
    }
    *out = c;
    return rc;
}

static void conn_give_back(sql_store *s, sql_conn *c)
{
    /* A connection still inside a transaction (a failed rollback) is not reused. */
    if (!sqlite3_get_autocommit(c->db)) {
        conn_close(c);
        return;
    }
    pthread_mutex_lock(&s->lock);
    if (s->n_idle < POOL_IDLE_MAX) {
        c->next = s->idle;
        s->idle = c;
        s->n_idle++;
        c = NULL;
    }
    pthread_mutex_unlock(&s->lock);
    conn_close(c);
}

/* ---- routing: which table holds a key ---- */

/*
 * [p, end) where end is the least key above every key that starts with p:
 * p with its trailing 0xFF bytes dropped and the last byte left raised by one
 * (nothing is above a prefix of 0xFF bytes only: the range is open).
 */
static void prefix_range(const uint8_t *p, size_t len, log_range *r)
{
    memcpy(r->lo, p, len);
    r->lo_len = len;
    size_t end_len = len;
    while (end_len > 0 && p[end_len - 1] == 0xff)
        end_len--;
    r->hi_open = end_len == 0;
    memcpy(r->hi, p, end_len);
    if (end_len > 0)
        r->hi[end_len - 1]++;
    r->hi_len = end_len;
}

/* Read the prefix set into the connection's sorted, merged ranges. */
static int load_ranges(sql_conn *c)
{
    sqlite3_stmt *st = c->stmt[ST_PREFIXES];
    log_range *ranges = NULL;
    size_t n = 0, cap = 0;
    int code = ICMS_OK, rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        const uint8_t *p = sqlite3_column_blob(st, 0);
        size_t len = (size_t)sqlite3_column_bytes(st, 0);
        if (!p || len == 0 || len > ICMS_STORE_KEY_MAX) {
            code = icms__error(ICMS_ECORRUPT, WHO ": an append-only prefix of %zu bytes", len);
            break;
        }
        /* Sorted by start: a range that starts at or before the last one's end joins it. */
        log_range *last = n ? &ranges[n - 1] : NULL;
        if (last && (last->hi_open || icms__store_key_cmp(p, len, last->hi, last->hi_len) <= 0)) {
            log_range r;
            prefix_range(p, len, &r);
            if (!last->hi_open &&
                (r.hi_open || icms__store_key_cmp(r.hi, r.hi_len, last->hi, last->hi_len) > 0)) {
                last->hi_open = r.hi_open;
                memcpy(last->hi, r.hi, r.hi_len);
                last->hi_len = r.hi_len;
            }
            continue;
        }
        if (n == cap) {
            size_t ncap = cap ? cap * 2 : 4;
            log_range *grown = icms__realloc(ranges, ncap * sizeof *grown);
            if (!grown) {
                code = icms__error(ICMS_ENOMEM, WHO ": out of memory");
                break;
            }
            ranges = grown;
            cap = ncap;
        }
        prefix_range(p, len, &ranges[n++]);
    }
    if (code == ICMS_OK && rc != SQLITE_DONE)
        code = icms__sqlite_error(c->db, rc, "reading the append-only prefixes");
    sqlite3_reset(st);
    if (code != ICMS_OK) {
        icms__free(ranges);
        return code;
    }
    icms__free(c->ranges);
    c->ranges = ranges;
    c->n_ranges = n;
    return ICMS_OK;
}

/*
 * Inside a transaction that has just begun: make the connection's prefix set
 * the one of this transaction's view of the file. Reading schema_version is
 * also the read that pins a read transaction's snapshot.
 */
static int refresh_ranges(sql_conn *c)
{
    sqlite3_stmt *st = c->stmt[ST_SCHEMA_VERSION];
    int rc = sqlite3_step(st);
    sqlite3_int64 version = rc == SQLITE_ROW ? sqlite3_column_int64(st, 0) : -1;
    int code = rc == SQLITE_ROW ? ICMS_OK : icms__sqlite_error(c->db, rc, "reading the schema version");
    sqlite3_reset(st);
    if (code != ICMS_OK || version == c->schema_version)
        return code;
    c->schema_version = -1;
    if ((code = load_ranges(c)) == ICMS_OK)
        c->schema_version = version;
    return code;
}

/* The table that holds key: kv_log when it starts with an append-only prefix. */
static enum table_id route(const sql_conn *c, const uint8_t *key, size_t key_len)
{
    /* The last range that starts at or below the key is the only one that may hold it. */
    size_t lo = 0, hi = c->n_ranges;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (icms__store_key_cmp(c->ranges[mid].lo, c->ranges[mid].lo_len, key, key_len) <= 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (lo == 0)
        return TB_KV;
    const log_range *r = &c->ranges[lo - 1];
    return r->hi_open || icms__store_key_cmp(key, key_len, r->hi, r->hi_len) < 0 ? TB_LOG : TB_KV;
}

/* ---- transactions ---- */

static void release_get(sql_txn *t)
{
    if (t->get_pending) {
        sqlite3_reset(t->get_pending);
        sqlite3_clear_bindings(t->get_pending);
        t->get_pending = NULL;
    }
}

/*
 * Some errors (full disk, I/O, out of memory) make SQLite roll the whole
 * transaction back by itself. The connection is then in autocommit mode, and
 * every later statement would commit on its own: a put after the error would
 * be durable at once, and a read would leave the snapshot. So the first
 * failure that ends the SQLite transaction ends ours too; every later call
 * answers ICMS_ESTORAGE, and so does commit.
 */
static int note_failure(sql_txn *t, int rc)
{
    if (rc != 0 && !t->aborted && sqlite3_get_autocommit(t->conn->db))
        t->aborted = true;
    return rc;
}

static int check_alive(const sql_txn *t)
{
    if (t->aborted)
        return icms__error(ICMS_ESTORAGE, WHO ": the transaction was rolled back after an earlier "
                                              "error; roll back and start again");
    return ICMS_OK;
}

static int sql_begin(icms_store *store, icms_store_mode_t mode, icms_store_txn **out)
{
    if (!store || !out)
        return icms__error(ICMS_EINVALID, WHO ": begin needs a store and an out pointer");
    *out = NULL;
    if (mode != ICMS_STORE_READ && mode != ICMS_STORE_WRITE)
        return icms__error(ICMS_EINVALID, WHO ": unknown transaction mode %d", (int)mode);
    sql_store *s = (sql_store *)store;
    sql_txn *t = icms__calloc(1, sizeof *t);
    if (!t)
        return ICMS_ENOMEM;
    t->store = s;
    t->mode = mode;
    int rc = conn_take(s, &t->conn);
    if (rc != 0) {
        icms__free(t);
        return rc;
    }
    sql_conn *c = t->conn;
    if (mode == ICMS_STORE_WRITE) {
        rc = step_done(c, c->stmt[ST_BEGIN_WRITE], "beginning a write transaction");
    } else {
        rc = step_done(c, c->stmt[ST_BEGIN_READ], "beginning a read transaction");
    }
    /* For a reader this pins the snapshot now, so the view is the one at begin. */
    if (rc == 0 && (rc = refresh_ranges(c)) != 0 && !sqlite3_get_autocommit(c->db))
        sqlite3_exec(c->db, "ROLLBACK", NULL, NULL, NULL);
    if (rc != 0) {
        conn_give_back(s, c);
        icms__free(t);
        return rc;
    }
    *out = (icms_store_txn *)(void *)t;
    return ICMS_OK;
}

static int sql_get(icms_store_txn *txn, const uint8_t *key, size_t key_len, const uint8_t **value,
                   size_t *value_len)
{
    sql_txn *t = as_sql(txn);
    if (!t || !value || !value_len)
        return icms__error(ICMS_EINVALID, WHO ": get needs a transaction and out pointers");
    release_get(t);
    int rc = check_alive(t);
    if (rc == 0)
        rc = icms__store_check_key(WHO, key, key_len);
    if (rc != 0)
        return rc;
    sqlite3_stmt *st = t->conn->stmt[table_stmt(route(t->conn, key, key_len), OP_GET)];
    bind_blob(st, 1, key, key_len);
    int src = sqlite3_step(st);
    if (src == SQLITE_ROW) {
        /* The row stays in the statement until the next call: that is the borrow. */
        const void *v = sqlite3_column_blob(st, 0);
        int n = sqlite3_column_bytes(st, 0);
        *value = v ? v : empty_bytes;
        *value_len = (size_t)n;
        t->get_pending = st;
        return ICMS_OK;
    }
    rc = src == SQLITE_DONE ? icms__error(ICMS_ENOTFOUND, WHO ": key not found")
                            : icms__sqlite_error(t->conn->db, src, "get");
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    return src == SQLITE_DONE ? rc : note_failure(t, rc);
}

static int check_writable(const sql_txn *t)
{
    if (!t)
        return icms__error(ICMS_EINVALID, WHO ": no transaction");
    if (t->aborted)
        return check_alive(t);
    if (t->mode != ICMS_STORE_WRITE)
        return icms__error(ICMS_EINVALID, WHO ": write in a read transaction");
    if (t->scanning)
        return icms__error(ICMS_EINVALID, WHO ": write from inside a scan callback");
    return ICMS_OK;
}

static int sql_put(icms_store_txn *txn, const uint8_t *key, size_t key_len, const uint8_t *value,
                   size_t value_len)
{
    sql_txn *t = as_sql(txn);
    int rc = check_writable(t);
    if (rc == 0)
        rc = icms__store_check_key(WHO, key, key_len);
    if (rc == 0)
        rc = icms__store_check_value(WHO, value, value_len);
    if (rc != 0)
        return rc;
    release_get(t);
    sqlite3_stmt *st = t->conn->stmt[table_stmt(route(t->conn, key, key_len), OP_PUT)];
    bind_blob(st, 1, key, key_len);
    bind_blob(st, 2, value, value_len);
    return note_failure(t, step_done(t->conn, st, "put"));
}

static int sql_del(icms_store_txn *txn, const uint8_t *key, size_t key_len)
{
    sql_txn *t = as_sql(txn);
    int rc = check_writable(t);
    if (rc == 0)
        rc = icms__store_check_key(WHO, key, key_len);
    if (rc != 0)
        return rc;
    release_get(t);
    sqlite3_stmt *st = t->conn->stmt[table_stmt(route(t->conn, key, key_len), OP_DEL)];
    bind_blob(st, 1, key, key_len);
    return note_failure(t, step_done(t->conn, st, "delete"));
}

/*
 * Visit lo <= k < hi (hi NULL: no upper end) of one table. Returns 0 to go
 * on, ICMS_STORE_STOP when the callback stopped, or an error.
 */
static int scan_table(sql_txn *t, enum table_id table, const uint8_t *lo, size_t lo_len,
                      const uint8_t *hi, size_t hi_len, bool reverse, icms_store_scan_cb cb,
                      void *cb_payload)
{
    int id = table_stmt(table, hi ? (reverse ? OP_SCAN_REV : OP_SCAN_FWD)
                                  : (reverse ? OP_SCAN_REV_OPEN : OP_SCAN_FWD_OPEN));
    sql_conn *c = t->conn;
    sqlite3_stmt *st = c->stmt[id];
    bool temporary = false;
    if (sqlite3_stmt_busy(st)) {
        /* A scan from inside a scan callback: the cached statement is mid-way. */
        int prc = sqlite3_prepare_v2(c->db, stmt_sql[id], -1, &st, NULL);
        if (prc != SQLITE_OK)
            return icms__sqlite_error(c->db, prc, "preparing a nested scan");
        temporary = true;
    }
    bind_blob(st, 1, lo, lo_len);
    if (hi)
        bind_blob(st, 2, hi, hi_len);
    int rc = ICMS_OK;
    for (;;) {
        int src = sqlite3_step(st);
        if (src == SQLITE_DONE)
            break;
        if (src != SQLITE_ROW) {
            rc = note_failure(t, icms__sqlite_error(c->db, src, "scan"));
            break;
        }
        const uint8_t *k = sqlite3_column_blob(st, 0);
        size_t kl = (size_t)sqlite3_column_bytes(st, 0);
        const uint8_t *v = sqlite3_column_blob(st, 1);
        size_t vl = (size_t)sqlite3_column_bytes(st, 1);
        int cb_rc = cb(k ? k : empty_bytes, kl, v ? v : empty_bytes, vl, cb_payload);
        if (cb_rc < 0) {
            rc = cb_rc;
            break;
        }
        if (cb_rc > 0) {
            rc = ICMS_STORE_STOP;
            break;
        }
    }
    if (temporary) {
        sqlite3_finalize(st);
    } else {
        sqlite3_reset(st);
        sqlite3_clear_bindings(st);
    }
    return rc;
}

/*
 * The key space is a row of stretches: kv below the first range, the first
 * range (kv_log), kv up to the second range, and so on. Stretch i (0..2n) is
 * a range when i is odd. A scan visits the stretches that meet [start, end)
 * in order, each cut to [start, end) and read from its own table, so the keys
 * come out in order with no merging, and a scan inside one prefix reads one
 * table. Rows that SQL behind the store's back put in the wrong table are
 * never seen.
 */
static int sql_scan(icms_store_txn *txn, const uint8_t *start, size_t start_len, const uint8_t *end,
                    size_t end_len, unsigned int flags, icms_store_scan_cb cb, void *cb_payload)
{
    sql_txn *t = as_sql(txn);
    if (!t)
        return icms__error(ICMS_EINVALID, WHO ": no transaction");
    int rc = check_alive(t);
    if (rc == 0)
        rc = icms__store_check_scan(WHO, start, start_len, end, end_len, flags, cb);
    if (rc != 0)
        return rc;
    release_get(t);
    bool reverse = (flags & ICMS_STORE_SCAN_REVERSE) != 0;
    const log_range *r = t->conn->ranges;
    size_t n = t->conn->n_ranges, stretches = 2 * n + 1;
    t->scanning++;
    for (size_t step = 0; step < stretches && rc == ICMS_OK; step++) {
        size_t i = reverse ? stretches - 1 - step : step, j = i / 2;
        enum table_id table = i % 2 ? TB_LOG : TB_KV;
        const uint8_t *lo, *hi; /* hi NULL: no upper end */
        size_t lo_len, hi_len;
        if (table == TB_LOG) {
            lo = r[j].lo;
            lo_len = r[j].lo_len;
            hi = r[j].hi_open ? NULL : r[j].hi;
            hi_len = r[j].hi_len;
        } else {
            if (j > 0 && r[j - 1].hi_open)
                continue; /* the range before reaches the end of the key space */
            lo = j > 0 ? r[j - 1].hi : empty_bytes;
            lo_len = j > 0 ? r[j - 1].hi_len : 0;
            hi = j < n ? r[j].lo : NULL;
            hi_len = j < n ? r[j].lo_len : 0;
        }
        if (icms__store_key_cmp(start, start_len, lo, lo_len) > 0) {
            lo = start;
            lo_len = start_len;
        }
        if (end && (!hi || icms__store_key_cmp(end, end_len, hi, hi_len) < 0)) {
            hi = end;
            hi_len = end_len;
        }
        if (hi && icms__store_key_cmp(lo, lo_len, hi, hi_len) >= 0)
            continue;
        rc = scan_table(t, table, lo, lo_len, hi, hi_len, reverse, cb, cb_payload);
    }
    t->scanning--;
    return rc == ICMS_STORE_STOP ? ICMS_OK : rc;
}

/* End the SQLite transaction if one is still open, and hand the connection back. */
static void txn_end(sql_txn *t)
{
    sql_conn *c = t->conn;
    release_get(t);
    if (!sqlite3_get_autocommit(c->db))
        step_done(c, c->stmt[ST_ROLLBACK], "rollback");
    conn_give_back(t->store, c);
    icms__free(t);
}

static int sql_commit(icms_store_txn *txn)
{
    sql_txn *t = as_sql(txn);
    if (!t)
        return icms__error(ICMS_EINVALID, WHO ": no transaction");
    release_get(t);
    sql_conn *c = t->conn;
    int rc = check_alive(t);
    if (rc == 0)
        rc = step_done(c, c->stmt[ST_COMMIT], "commit");
    if (rc != 0) {
        /* The port says the transaction is gone whatever the answer: roll back what is left. */
        icms_error saved = *icms_error_last();
        char msg[512];
        snprintf(msg, sizeof msg, "%s", saved.message);
        txn_end(t);
        return icms__error(rc, "%s", msg);
    }
    txn_end(t);
    return ICMS_OK;
}

static void sql_rollback(icms_store_txn *txn)
{
    sql_txn *t = as_sql(txn);
    if (!t)
        return;
    /* Rollback never fails the caller; a connection left in a transaction is closed instead. */
    icms_error saved = *icms_error_last();
    char msg[512];
    snprintf(msg, sizeof msg, "%s", saved.message);
    txn_end(t);
    if (saved.code != ICMS_OK)
        icms__error(saved.code, "%s", msg);
}

static void sql_free(icms_store *store)
{
    sql_store *s = (sql_store *)store;
    if (!s)
        return;
    while (s->idle) {
        sql_conn *c = s->idle;
        s->idle = c->next;
        conn_close(c);
    }
    pthread_mutex_destroy(&s->lock);
    icms__free(s->path);
    icms__free(s);
}

static int check_options(const char *path, const icms_sqlite_options *o)
{
    if (!path || !*path)
        return icms__error(ICMS_EINVALID, WHO ": a path is required");
    if (strcmp(path, ":memory:") == 0)
        return icms__error(ICMS_EINVALID,
                           WHO ": \":memory:\" is not shared between connections; use "
                               "icms_store_memory_new");
    if (!o)
        return ICMS_OK;
    if (o->version < 1 || o->version > ICMS_SQLITE_OPTIONS_VERSION)
        return icms__error(ICMS_EVERSION, WHO ": options version %u: this build knows 1 to %u",
                           o->version, ICMS_SQLITE_OPTIONS_VERSION);
    if (o->sync != ICMS_SQLITE_SYNC_FULL && o->sync != ICMS_SQLITE_SYNC_NORMAL &&
        o->sync != ICMS_SQLITE_SYNC_OFF)
        return icms__error(ICMS_EINVALID, WHO ": unknown synchronous setting %d", (int)o->sync);
    if (o->busy_timeout_ms > (unsigned int)INT32_MAX)
        return icms__error(ICMS_EINVALID, WHO ": busy timeout %u ms is too long",
                           o->busy_timeout_ms);
    if (o->version >= 2 && o->checkpoint_pages > ICMS_SQLITE_CHECKPOINT_PAGES_MAX)
        return icms__error(ICMS_EINVALID, WHO ": checkpoint after %u pages: at most %u",
                           o->checkpoint_pages, ICMS_SQLITE_CHECKPOINT_PAGES_MAX);
    if (o->append_only_count && (!o->append_only_prefixes || !o->append_only_prefix_lens))
        return icms__error(ICMS_EINVALID, WHO ": append-only prefixes are missing");
    for (size_t i = 0; i < o->append_only_count; i++) {
        size_t len = o->append_only_prefix_lens[i];
        if (len == 0 || len > ICMS_STORE_KEY_MAX || !o->append_only_prefixes[i])
            return icms__error(ICMS_EINVALID, WHO ": append-only prefix %zu must be 1..%u bytes", i,
                               ICMS_STORE_KEY_MAX);
    }
    return ICMS_OK;
}

int icms_store_sqlite_new(icms_store **out, const char *path, const icms_sqlite_options *options)
{
    if (!out)
        return icms__error(ICMS_EINVALID, WHO ": out is NULL");
    *out = NULL;
    int rc = check_options(path, options);
    if (rc != 0)
        return rc;
    sql_store *s = icms__calloc(1, sizeof *s);
    if (!s)
        return ICMS_ENOMEM;
    s->path = icms__strdup(path);
    if (!s->path) {
        icms__free(s);
        return ICMS_ENOMEM;
    }
    s->sync = options ? (int)options->sync : ICMS_SQLITE_SYNC_FULL;
    s->busy_timeout_ms =
        options && options->busy_timeout_ms ? options->busy_timeout_ms : DEFAULT_BUSY_TIMEOUT_MS;
    /* A version 1 struct ends before checkpoint_pages. */
    s->checkpoint_pages = options && options->version >= 2 && options->checkpoint_pages
                              ? options->checkpoint_pages
                              : ICMS_SQLITE_CHECKPOINT_PAGES_DEFAULT;
    if (pthread_mutex_init(&s->lock, NULL) != 0) {
        icms__free(s->path);
        icms__free(s);
        return icms__error(ICMS_ERROR, WHO ": cannot create a mutex");
    }
    icms_store base = ICMS_STORE_INIT;
    base.begin = sql_begin;
    base.get = sql_get;
    base.put = sql_put;
    base.del = sql_del;
    base.scan = sql_scan;
    base.commit = sql_commit;
    base.rollback = sql_rollback;
    base.free = sql_free;
    base.payload = s;
    s->base = base;

    /*
     * A new store holds sessions, KYC data and the ledger: create it readable
     * by its owner only. SQLite gives the -wal and -shm files the database
     * file's mode, so they follow. An existing file keeps the mode it has.
     */
    int fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd >= 0)
        close(fd);
    else if (errno != EEXIST) {
        rc = icms__error(ICMS_ESTORAGE, WHO ": cannot open %s: %s", path, strerror(errno));
        sql_free(&s->base);
        return rc;
    }

    /* The first connection creates or checks the schema and stays in the pool. */
    sql_conn *c;
    rc = conn_open(s, &c);
    if (rc == 0 && (rc = icms__sqlite_ensure_schema(c->db, options, s->busy_timeout_ms)) == 0 &&
        (rc = conn_prepare(c)) == 0) {
        conn_give_back(s, c);
        *out = &s->base;
        return ICMS_OK;
    }
    conn_close(c);
    sql_free(&s->base);
    return rc;
}

/* Test hook (store_internal.h): run a PRAGMA on a pooled connection and report its value. */
int icms__sqlite_store_pragma(icms_store *store, const char *pragma, char *out, size_t out_len)
{
    sql_store *s = (sql_store *)store;
    sql_conn *c;
    int rc = conn_take(s, &c);
    if (rc != 0)
        return rc;
    sqlite3_stmt *st;
    int src = sqlite3_prepare_v2(c->db, pragma, -1, &st, NULL);
    if (src != SQLITE_OK) {
        rc = icms__sqlite_error(c->db, src, pragma);
    } else {
        src = sqlite3_step(st);
        const unsigned char *text = src == SQLITE_ROW ? sqlite3_column_text(st, 0) : NULL;
        if (src == SQLITE_ROW || src == SQLITE_DONE) /* a pragma that sets may answer nothing */
            snprintf(out, out_len, "%s", text ? (const char *)text : "");
        else
            rc = icms__sqlite_error(c->db, src, pragma);
        sqlite3_finalize(st);
    }
    conn_give_back(s, c);
    return rc;
}
