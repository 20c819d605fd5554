/*
 * The PostgreSQL store's parts (src/store/postgres*.c):
 *   postgres.c          options, icms_store_postgres_new, free
 *   postgres_conn.c     connections, the pool, prepared statements, error words
 *   postgres_schema.c   the table, its layout stamp and the append-only triggers
 *   postgres_writes.c   a write transaction's buffered writes (sorted)
 *   postgres_txn.c      begin, get, put, del, commit, rollback
 *   postgres_commit.c   a write transaction's writes and COMMIT in one pipeline
 *   postgres_scan.c     scans: server pages merged with the buffered writes
 */
#ifndef ICMS_SRC_STORE_POSTGRES_INTERNAL_H
#define ICMS_SRC_STORE_POSTGRES_INTERNAL_H

#include <libpq-fe.h>
#include <pthread.h>
#include <stdbool.h>

#include "icms/sys/store_postgres.h"
#include "store_internal.h"

#define PG_WHO "postgres store"

/* Type OIDs of the parameters we bind (pg_type.h is a server header). */
#define PG_BYTEA_OID 17u
#define PG_INT8_OID 20u

/* Prepared on every connection under the names in icms__pg_stmt_name. */
enum pg_stmt_id {
    PG_ST_GET,           /* $1 key */
    PG_ST_PUT,           /* $1 key, $2 value */
    PG_ST_DEL,           /* $1 key */
    PG_ST_SCAN_FWD,      /* $1 <= k < $2, ascending, LIMIT $3 */
    PG_ST_SCAN_REV,      /* descending */
    PG_ST_SCAN_FWD_OPEN, /* $1 <= k, LIMIT $2 */
    PG_ST_SCAN_REV_OPEN,
    PG_ST_COUNT
};

extern const char *const icms__pg_stmt_name[PG_ST_COUNT];

typedef struct pg_conn {
    PGconn *pg;
    struct pg_conn *next; /* in the idle list */
} pg_conn;

typedef struct pg_store {
    icms_store base; /* first: the icms_store * handed out points here */
    pthread_mutex_t lock;
    pthread_cond_t returned; /* a connection went back to the pool or was closed */
    pg_conn *idle;
    unsigned int open; /* connections in use plus idle ones */
    unsigned int pool_size;
    unsigned int statement_timeout_ms;
    unsigned int lock_timeout_ms;
    char *conninfo;  /* wiped at free: it may hold a password */
    char *password;  /* from conninfo, to scrub from libpq's messages; NULL if none */
    char *qualified; /* "schema"."table" */
    char *sql[PG_ST_COUNT];
} pg_store;

/* ---- postgres_conn.c ---- */

/*
 * Word a failure of result r (may be NULL) on connection pg as an icms error
 * and return its code: serialization failure and deadlock ICMS_ECONFLICT,
 * lock timeout ICMS_EBUSY, the append-only trigger ICMS_EINVALID, a lost
 * connection and everything else ICMS_ESTORAGE. `what` says what we were
 * doing. The password is scrubbed from the text.
 */
int icms__pg_error(const pg_store *s, PGconn *pg, const PGresult *r, const char *what);

/* Record code with a message, scrubbing the password from it. */
int icms__pg_errorf(const pg_store *s, int code, const char *fmt, ...) ICMS__PRINTF(3, 4);

/* Run SQL that returns no rows; 0 or the worded error. */
int icms__pg_exec(const pg_store *s, PGconn *pg, const char *sql, const char *what);

/*
 * A connection for one transaction: an idle one, else a new one while fewer
 * than pool_size are open, else wait up to lock_timeout_ms (ICMS_EBUSY).
 * *reused tells whether it came from the idle list (it may have gone stale).
 */
int icms__pg_conn_take(pg_store *s, pg_conn **out, bool *reused);

/* Back to the pool; closed instead if broken or still inside a transaction. */
void icms__pg_conn_give_back(pg_store *s, pg_conn *c);

/* Close every idle connection (after the server went away, they are all stale). */
void icms__pg_pool_drain(pg_store *s);

/* Connect without preparing statements (for the schema step); NULL-safe close. */
int icms__pg_connect(pg_store *s, PGconn **out);
int icms__pg_prepare(pg_store *s, PGconn *pg);
void icms__pg_conn_close(pg_conn *c);

/* ---- postgres_schema.c ---- */

/* Create or check the table and triggers options ask for (once per store). */
int icms__pg_schema_ensure(pg_store *s, PGconn *pg, const icms_postgres_options *o);

/* ---- postgres_writes.c ---- */

typedef struct pg_write {
    uint8_t *key;
    size_t key_len;
    uint8_t *value; /* NULL for a delete */
    size_t value_len;
} pg_write;

typedef struct pg_writes {
    pg_write *items; /* sorted by key, one entry per key */
    size_t count, cap;
} pg_writes;

/* Index of the first write whose key is >= key (count when none). */
size_t icms__pg_writes_lower_bound(const pg_writes *w, const uint8_t *key, size_t key_len);
/* The write of exactly this key, or NULL. */
const pg_write *icms__pg_writes_find(const pg_writes *w, const uint8_t *key, size_t key_len);
/* Record a put (value non-NULL or value_len 0 with del false) or a delete; copies. */
int icms__pg_writes_set(pg_writes *w, const uint8_t *key, size_t key_len, const uint8_t *value,
                        size_t value_len, bool del);
void icms__pg_writes_clear(pg_writes *w);

/* ---- postgres_txn.c / postgres_scan.c ---- */

typedef struct pg_txn {
    pg_store *store;
    pg_conn *conn;
    icms_store_mode_t mode;
    unsigned int scanning; /* nesting depth of scans in progress */
    PGresult *got;         /* holds the value the last get borrowed out */
    pg_writes writes;
    /*
     * Any server error aborts a PostgreSQL transaction: every later statement
     * would fail with "current transaction is aborted". The first error's code
     * and words are kept and every later call answers them.
     */
    int failed;
    char failed_msg[512];
} pg_txn;

int icms__pg_begin(icms_store *store, icms_store_mode_t mode, icms_store_txn **out);
int icms__pg_get(icms_store_txn *txn, const uint8_t *key, size_t key_len, const uint8_t **value,
                 size_t *value_len);
int icms__pg_put(icms_store_txn *txn, const uint8_t *key, size_t key_len, const uint8_t *value,
                 size_t value_len);
int icms__pg_del(icms_store_txn *txn, const uint8_t *key, size_t key_len);
int icms__pg_scan(icms_store_txn *txn, const uint8_t *start, size_t start_len, const uint8_t *end,
                  size_t end_len, unsigned int flags, icms_store_scan_cb cb, void *cb_payload);
int icms__pg_commit(icms_store_txn *txn);
void icms__pg_rollback(icms_store_txn *txn);

/* Send t's buffered writes and COMMIT (pipeline mode); 0 once committed. */
int icms__pg_commit_writes(pg_txn *t);

/* Mark t failed with the code and message just recorded; returns code. */
int icms__pg_txn_fail(pg_txn *t, int code);
/* ICMS_OK, or the recorded failure again. */
int icms__pg_txn_check_alive(pg_txn *t);

#endif
