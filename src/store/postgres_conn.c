/*
 * Connections of the PostgreSQL store: opening them, the pool that lends one
 * to each transaction, the statements prepared on each, and the words for
 * libpq's failures.
 *
 * A transaction holds one connection for its whole life, so no two threads
 * ever use one PGconn at once (libpq requires that); the mutex guards only the
 * pool's lists and counts, never a round trip to the server.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "postgres_internal.h"

const char *const icms__pg_stmt_name[PG_ST_COUNT] = {
    [PG_ST_GET] = "icms_get",
    [PG_ST_PUT] = "icms_put",
    [PG_ST_DEL] = "icms_del",
    [PG_ST_SCAN_FWD] = "icms_scan_fwd",
    [PG_ST_SCAN_REV] = "icms_scan_rev",
    [PG_ST_SCAN_FWD_OPEN] = "icms_scan_fwd_open",
    [PG_ST_SCAN_REV_OPEN] = "icms_scan_rev_open",
};

static const int stmt_nparams[PG_ST_COUNT] = {
    [PG_ST_GET] = 1,           [PG_ST_PUT] = 2,      [PG_ST_DEL] = 1,
    [PG_ST_SCAN_FWD] = 3,      [PG_ST_SCAN_REV] = 3, [PG_ST_SCAN_FWD_OPEN] = 2,
    [PG_ST_SCAN_REV_OPEN] = 2,
};

/* Connecting gives up after this long unless conninfo says otherwise. */
#define DEFAULT_CONNECT_TIMEOUT "10"

/* ---- words ---- */

/* Replace every occurrence of the password in text by "***", in place (text has room `cap`). */
static void scrub(const pg_store *s, char *text, size_t cap)
{
    if (!s || !s->password || !*s->password)
        return;
    size_t plen = strlen(s->password);
    char *at = text;
    while ((at = strstr(at, s->password)) != NULL) {
        size_t tail = strlen(at + plen);
        if (plen >= 3) {
            memmove(at + 3, at + plen, tail + 1);
        } else {
            /* Grow the hole; drop what no longer fits. */
            size_t room = cap - (size_t)(at - text) - 1;
            size_t keep = tail + 3 <= room ? tail : (room > 3 ? room - 3 : 0);
            memmove(at + 3, at + plen, keep);
            at[3 + keep] = '\0';
        }
        memcpy(at, "***", 3);
        at += 3;
    }
}

/* libpq's messages end with a newline and may span lines: make them one line. */
static void one_line(char *text)
{
    size_t n = strlen(text);
    while (n && (text[n - 1] == '\n' || text[n - 1] == ' '))
        text[--n] = '\0';
    for (char *p = text; *p; p++)
        if (*p == '\n' || *p == '\t')
            *p = ' ';
}

int icms__pg_errorf(const pg_store *s, int code, const char *fmt, ...)
{
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    one_line(msg);
    scrub(s, msg, sizeof msg);
    return icms__error(code, "%s", msg);
}

int icms__pg_error(const pg_store *s, PGconn *pg, const PGresult *r, const char *what)
{
    const char *state = r ? PQresultErrorField(r, PG_DIAG_SQLSTATE) : NULL;
    const char *primary = r ? PQresultErrorField(r, PG_DIAG_MESSAGE_PRIMARY) : NULL;
    char libpq_msg[512];
    snprintf(libpq_msg, sizeof libpq_msg, "%s",
             primary ? primary : (pg ? PQerrorMessage(pg) : "no connection"));
    one_line(libpq_msg);
    if (!*libpq_msg)
        snprintf(libpq_msg, sizeof libpq_msg, "no answer from the server");

    /* Errors libpq makes itself carry no SQLSTATE: the socket failed or closed. */
    if (!pg || PQstatus(pg) == CONNECTION_BAD || !state)
        return icms__pg_errorf(s, ICMS_ESTORAGE,
                               PG_WHO ": %s: the connection to the server was lost (%s)", what,
                               libpq_msg);
    if (strcmp(state, "40001") == 0 || strcmp(state, "40P01") == 0)
        return icms__pg_errorf(s, ICMS_ECONFLICT,
                               PG_WHO ": %s: a concurrent transaction changed what this one "
                                      "read; nothing was written, run it again (%s, SQLSTATE %s)",
                               what, libpq_msg, state);
    if (strcmp(state, "55P03") == 0)
        return icms__pg_errorf(s, ICMS_EBUSY,
                               PG_WHO ": %s: another writer held a lock past lock_timeout; "
                                      "nothing was written, try again (%s, SQLSTATE %s)",
                               what, libpq_msg, state);
    if (strcmp(state, "IC001") == 0)
        return icms__pg_errorf(s, ICMS_EINVALID,
                               PG_WHO ": %s: the key is in an append-only range and exists "
                                      "already (%s)",
                               what, libpq_msg);
    if (strcmp(state, "57014") == 0)
        return icms__pg_errorf(s, ICMS_ESTORAGE,
                               PG_WHO ": %s: the statement ran past statement_timeout (%s)", what,
                               libpq_msg);
    if (strcmp(state, "53300") == 0)
        return icms__pg_errorf(s, ICMS_EBUSY,
                               PG_WHO ": %s: the server has no connection slot free (%s)", what,
                               libpq_msg);
    if (strncmp(state, "08", 2) == 0 || strncmp(state, "57P", 3) == 0)
        return icms__pg_errorf(s, ICMS_ESTORAGE,
                               PG_WHO ": %s: the server ended the connection (%s, SQLSTATE %s)",
                               what, libpq_msg, state);
    if (strcmp(state, "42501") == 0)
        return icms__pg_errorf(s, ICMS_ESTORAGE,
                               PG_WHO ": %s: the database user lacks a privilege (%s)", what,
                               libpq_msg);
    return icms__pg_errorf(s, ICMS_ESTORAGE, PG_WHO ": %s: %s (SQLSTATE %s)", what, libpq_msg,
                           state);
}

int icms__pg_exec(const pg_store *s, PGconn *pg, const char *sql, const char *what)
{
    PGresult *r = PQexec(pg, sql);
    ExecStatusType st = r ? PQresultStatus(r) : PGRES_FATAL_ERROR;
    int rc =
        st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK ? ICMS_OK : icms__pg_error(s, pg, r, what);
    PQclear(r);
    return rc;
}

/* ---- connections ---- */

/* libpq prints NOTICEs to stderr by default; a library must stay quiet. */
static void quiet(void *arg, const char *message)
{
    (void)arg, (void)message;
}

int icms__pg_connect(pg_store *s, PGconn **out)
{
    *out = NULL;
    /*
     * Our connect_timeout comes before conninfo, so the caller's wins;
     * fallback_application_name after it, which never overrides theirs.
     */
    const char *const keys[] = {"connect_timeout", "dbname", "fallback_application_name", NULL};
    const char *const values[] = {DEFAULT_CONNECT_TIMEOUT, s->conninfo, "libicms", NULL};
    PGconn *pg = PQconnectdbParams(keys, values, 1);
    if (!pg)
        return icms__error(ICMS_ENOMEM, PG_WHO ": out of memory connecting");
    if (PQstatus(pg) != CONNECTION_OK) {
        char msg[512];
        snprintf(msg, sizeof msg, "%s", PQerrorMessage(pg));
        one_line(msg);
        PQfinish(pg);
        return icms__pg_errorf(s, ICMS_ESTORAGE, PG_WHO ": cannot connect to PostgreSQL: %s", msg);
    }
    PQsetNoticeProcessor(pg, quiet, NULL);
    char sql[256];
    snprintf(sql, sizeof sql,
             "SET statement_timeout = %u; SET lock_timeout = %u; SET client_min_messages = warning",
             s->statement_timeout_ms, s->lock_timeout_ms);
    int rc = icms__pg_exec(s, pg, sql, "configuring the connection");
    if (rc != 0) {
        PQfinish(pg);
        return rc;
    }
    *out = pg;
    return ICMS_OK;
}

int icms__pg_prepare(pg_store *s, PGconn *pg)
{
    static const Oid types[3] = {PG_BYTEA_OID, PG_BYTEA_OID, PG_INT8_OID};
    static const Oid open_types[2] = {PG_BYTEA_OID, PG_INT8_OID};
    for (int i = 0; i < PG_ST_COUNT; i++) {
        bool open = i == PG_ST_SCAN_FWD_OPEN || i == PG_ST_SCAN_REV_OPEN;
        PGresult *r = PQprepare(pg, icms__pg_stmt_name[i], s->sql[i], stmt_nparams[i],
                                open ? open_types : types);
        int rc = r && PQresultStatus(r) == PGRES_COMMAND_OK
                     ? ICMS_OK
                     : icms__pg_error(s, pg, r, "preparing statements");
        PQclear(r);
        if (rc != 0)
            return rc;
    }
    return ICMS_OK;
}

void icms__pg_conn_close(pg_conn *c)
{
    if (!c)
        return;
    PQfinish(c->pg);
    icms__free(c);
}

static int conn_new(pg_store *s, pg_conn **out)
{
    *out = NULL;
    pg_conn *c = icms__calloc(1, sizeof *c);
    if (!c)
        return ICMS_ENOMEM;
    int rc = icms__pg_connect(s, &c->pg);
    if (rc == 0 && (rc = icms__pg_prepare(s, c->pg)) != 0) {
        PQfinish(c->pg);
        c->pg = NULL;
    }
    if (rc != 0) {
        icms__free(c);
        return rc;
    }
    *out = c;
    return ICMS_OK;
}

static void deadline_after(struct timespec *ts, unsigned int ms)
{
    clock_gettime(CLOCK_REALTIME, ts);
    ts->tv_sec += (time_t)(ms / 1000);
    ts->tv_nsec += (long)(ms % 1000) * 1000000L;
    if (ts->tv_nsec >= 1000000000L) {
        ts->tv_sec++;
        ts->tv_nsec -= 1000000000L;
    }
}

int icms__pg_conn_take(pg_store *s, pg_conn **out, bool *reused)
{
    *out = NULL;
    *reused = false;
    struct timespec deadline;
    deadline_after(&deadline, s->lock_timeout_ms);
    pthread_mutex_lock(&s->lock);
    while (!s->idle && s->open >= s->pool_size) {
        int w = pthread_cond_timedwait(&s->returned, &s->lock, &deadline);
        if (w == ETIMEDOUT && !s->idle && s->open >= s->pool_size) {
            pthread_mutex_unlock(&s->lock);
            return icms__error(ICMS_EBUSY,
                               PG_WHO ": all %u connections of the pool stayed in use for %u ms; "
                                      "raise pool_size or end transactions sooner",
                               s->pool_size, s->lock_timeout_ms);
        }
    }
    pg_conn *c = s->idle;
    if (c) {
        s->idle = c->next;
        c->next = NULL;
        *reused = true;
    } else {
        s->open++; /* reserve the slot before connecting outside the lock */
    }
    pthread_mutex_unlock(&s->lock);
    if (c) {
        *out = c;
        return ICMS_OK;
    }
    int rc = conn_new(s, &c);
    if (rc != 0) {
        pthread_mutex_lock(&s->lock);
        s->open--;
        pthread_cond_signal(&s->returned);
        pthread_mutex_unlock(&s->lock);
        return rc;
    }
    *out = c;
    return ICMS_OK;
}

void icms__pg_conn_give_back(pg_store *s, pg_conn *c)
{
    if (!c)
        return;
    bool healthy = PQstatus(c->pg) == CONNECTION_OK && PQtransactionStatus(c->pg) == PQTRANS_IDLE &&
                   PQpipelineStatus(c->pg) == PQ_PIPELINE_OFF;
    pthread_mutex_lock(&s->lock);
    if (healthy) {
        c->next = s->idle;
        s->idle = c;
        c = NULL;
    } else {
        s->open--;
    }
    pthread_cond_signal(&s->returned);
    pthread_mutex_unlock(&s->lock);
    icms__pg_conn_close(c); /* NULL when kept */
}

void icms__pg_pool_drain(pg_store *s)
{
    pthread_mutex_lock(&s->lock);
    pg_conn *list = s->idle;
    s->idle = NULL;
    for (pg_conn *c = list; c; c = c->next)
        s->open--;
    pthread_cond_broadcast(&s->returned);
    pthread_mutex_unlock(&s->lock);
    while (list) {
        pg_conn *next = list->next;
        icms__pg_conn_close(list);
        list = next;
    }
}
