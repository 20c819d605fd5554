/*
 * Transactions of the PostgreSQL store.
 *
 * Write transactions run at SERIALIZABLE: PostgreSQL's serializable snapshot
 * isolation refuses, with SQLSTATE 40001, any commit that could not have run
 * one after the other with every other serializable transaction. Reads take
 * their snapshot at begin (the "SELECT 1" after BEGIN pins it). Writes are
 * buffered (postgres_writes.c) and sent at commit with the COMMIT, in one
 * pipeline (postgres_commit.c).
 *
 * Read transactions run at REPEATABLE READ, READ ONLY: a snapshot of what was
 * committed at begin, which never waits and never fails for concurrency.
 */
#include <stdio.h>
#include <string.h>

#include "postgres_internal.h"

static const uint8_t empty_bytes[1] = {0};

static pg_txn *as_pg(icms_store_txn *txn)
{
    return (pg_txn *)(void *)txn;
}

int icms__pg_txn_fail(pg_txn *t, int code)
{
    if (code != 0 && !t->failed) {
        t->failed = code;
        snprintf(t->failed_msg, sizeof t->failed_msg, "%s", icms_error_last()->message);
    }
    return code;
}

int icms__pg_txn_check_alive(pg_txn *t)
{
    if (!t->failed)
        return ICMS_OK;
    return icms__error(t->failed, "%s (the transaction failed earlier; roll back and start again)",
                       t->failed_msg);
}

static void release_get(pg_txn *t)
{
    PQclear(t->got);
    t->got = NULL;
}

/* BEGIN and pin the snapshot, in one round trip. */
static int start(pg_txn *t)
{
    static const char write_sql[] = "BEGIN ISOLATION LEVEL SERIALIZABLE, READ WRITE; SELECT 1";
    static const char read_sql[] = "BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY; SELECT 1";
    const char *sql = t->mode == ICMS_STORE_WRITE ? write_sql : read_sql;
    PGresult *r = PQexec(t->conn->pg, sql);
    int rc = r && PQresultStatus(r) == PGRES_TUPLES_OK
                 ? ICMS_OK
                 : icms__pg_error(t->store, t->conn->pg, r, "beginning a transaction");
    PQclear(r);
    return rc;
}

int icms__pg_begin(icms_store *store, icms_store_mode_t mode, icms_store_txn **out)
{
    if (!store || !out)
        return icms__error(ICMS_EINVALID, PG_WHO ": begin needs a store and an out pointer");
    *out = NULL;
    if (mode != ICMS_STORE_READ && mode != ICMS_STORE_WRITE)
        return icms__error(ICMS_EINVALID, PG_WHO ": unknown transaction mode %d", (int)mode);
    pg_store *s = (pg_store *)store;
    pg_txn *t = icms__calloc(1, sizeof *t);
    if (!t)
        return ICMS_ENOMEM;
    t->store = s;
    t->mode = mode;
    bool reused;
    int rc = icms__pg_conn_take(s, &t->conn, &reused);
    if (rc == 0 && (rc = start(t)) != 0 && reused && PQstatus(t->conn->pg) == CONNECTION_BAD) {
        /*
         * An idle connection went stale (the server restarted, a proxy timed
         * it out): so did the others. Drop them and try once on a new one.
         */
        icms__pg_conn_give_back(s, t->conn);
        t->conn = NULL;
        icms__pg_pool_drain(s);
        rc = icms__pg_conn_take(s, &t->conn, &reused);
        if (rc == 0)
            rc = start(t);
    }
    if (rc != 0) {
        if (t->conn) {
            if (PQtransactionStatus(t->conn->pg) != PQTRANS_IDLE)
                PQclear(PQexec(t->conn->pg, "ROLLBACK"));
            icms__pg_conn_give_back(s, t->conn);
        }
        icms__free(t);
        return rc;
    }
    *out = (icms_store_txn *)(void *)t;
    return ICMS_OK;
}

int icms__pg_get(icms_store_txn *txn, const uint8_t *key, size_t key_len, const uint8_t **value,
                 size_t *value_len)
{
    pg_txn *t = as_pg(txn);
    if (!t || !value || !value_len)
        return icms__error(ICMS_EINVALID, PG_WHO ": get needs a transaction and out pointers");
    release_get(t);
    int rc = icms__pg_txn_check_alive(t);
    if (rc == 0)
        rc = icms__store_check_key(PG_WHO, key, key_len);
    if (rc != 0)
        return rc;
    const pg_write *w = icms__pg_writes_find(&t->writes, key, key_len);
    if (w) {
        if (!w->value)
            return icms__error(ICMS_ENOTFOUND, PG_WHO ": key not found");
        *value = w->value;
        *value_len = w->value_len;
        return ICMS_OK;
    }
    const char *params[1] = {(const char *)key};
    const int lens[1] = {(int)key_len};
    const int formats[1] = {1};
    PGresult *r =
        PQexecPrepared(t->conn->pg, icms__pg_stmt_name[PG_ST_GET], 1, params, lens, formats, 1);
    if (!r || PQresultStatus(r) != PGRES_TUPLES_OK) {
        rc = icms__pg_error(t->store, t->conn->pg, r, "get");
        PQclear(r);
        return icms__pg_txn_fail(t, rc);
    }
    if (PQntuples(r) == 0) {
        PQclear(r);
        return icms__error(ICMS_ENOTFOUND, PG_WHO ": key not found");
    }
    /* The row stays in the result until the next call: that is the borrow. */
    t->got = r;
    int n = PQgetlength(r, 0, 0);
    *value = n ? (const uint8_t *)PQgetvalue(r, 0, 0) : empty_bytes;
    *value_len = (size_t)n;
    return ICMS_OK;
}

static int check_writable(pg_txn *t)
{
    if (!t)
        return icms__error(ICMS_EINVALID, PG_WHO ": no transaction");
    int rc = icms__pg_txn_check_alive(t);
    if (rc != 0)
        return rc;
    if (t->mode != ICMS_STORE_WRITE)
        return icms__error(ICMS_EINVALID, PG_WHO ": write in a read transaction");
    if (t->scanning)
        return icms__error(ICMS_EINVALID, PG_WHO ": write from inside a scan callback");
    return ICMS_OK;
}

int icms__pg_put(icms_store_txn *txn, const uint8_t *key, size_t key_len, const uint8_t *value,
                 size_t value_len)
{
    pg_txn *t = as_pg(txn);
    int rc = check_writable(t);
    if (rc == 0)
        rc = icms__store_check_key(PG_WHO, key, key_len);
    if (rc == 0)
        rc = icms__store_check_value(PG_WHO, value, value_len);
    if (rc != 0)
        return rc;
    release_get(t);
    return icms__pg_writes_set(&t->writes, key, key_len, value, value_len, false);
}

int icms__pg_del(icms_store_txn *txn, const uint8_t *key, size_t key_len)
{
    pg_txn *t = as_pg(txn);
    int rc = check_writable(t);
    if (rc == 0)
        rc = icms__store_check_key(PG_WHO, key, key_len);
    if (rc != 0)
        return rc;
    release_get(t);
    return icms__pg_writes_set(&t->writes, key, key_len, NULL, 0, true);
}

/* End the server transaction if one is still open, hand the connection back, free t. */
static void txn_end(pg_txn *t)
{
    release_get(t);
    PGconn *pg = t->conn->pg;
    if (PQstatus(pg) == CONNECTION_OK && PQtransactionStatus(pg) != PQTRANS_IDLE)
        PQclear(PQexec(pg, "ROLLBACK"));
    icms__pg_conn_give_back(t->store, t->conn);
    icms__pg_writes_clear(&t->writes);
    icms__free(t);
}

static int do_commit(pg_txn *t)
{
    int rc = icms__pg_txn_check_alive(t);
    if (rc != 0)
        return rc;
    if (t->mode == ICMS_STORE_WRITE)
        return icms__pg_commit_writes(t);
    PGconn *pg = t->conn->pg;
    PGresult *r = PQexec(pg, "COMMIT");
    if (r && PQresultStatus(r) == PGRES_COMMAND_OK && strcmp(PQcmdStatus(r), "COMMIT") == 0) {
        PQclear(r);
        return ICMS_OK;
    }
    if (r && PQresultStatus(r) == PGRES_COMMAND_OK) {
        /* The server answered ROLLBACK: it had aborted the transaction without telling us. */
        rc = icms__error(ICMS_ESTORAGE, PG_WHO ": commit: the server rolled the transaction back");
    } else {
        rc = icms__pg_error(t->store, pg, r, "commit");
    }
    PQclear(r);
    return rc;
}

int icms__pg_commit(icms_store_txn *txn)
{
    pg_txn *t = as_pg(txn);
    if (!t)
        return icms__error(ICMS_EINVALID, PG_WHO ": no transaction");
    release_get(t);
    int rc = do_commit(t);
    if (rc != 0) {
        /* The port says the transaction is gone whatever the answer; keep the first words. */
        char msg[1024];
        snprintf(msg, sizeof msg, "%s", icms_error_last()->message);
        txn_end(t);
        return icms__error(rc, "%s", msg);
    }
    txn_end(t);
    return ICMS_OK;
}

void icms__pg_rollback(icms_store_txn *txn)
{
    pg_txn *t = as_pg(txn);
    if (!t)
        return;
    /* Rollback never fails and must not overwrite the error that made the caller roll back. */
    icms_error saved = *icms_error_last();
    char msg[1024];
    snprintf(msg, sizeof msg, "%s", saved.message);
    txn_end(t);
    if (saved.code != ICMS_OK)
        icms__error(saved.code, "%s", msg);
}
