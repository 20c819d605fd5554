/*
 * Committing a write transaction: its buffered writes, in key order, then
 * COMMIT, sent in libpq's pipeline mode so that a command's dozen writes and
 * its COMMIT cost one round trip rather than thirteen. Batches of BATCH
 * statements, each closed by a Sync, keep the server's answers (a few bytes
 * per statement) well inside the socket buffers, so neither side can block
 * the other however many writes there are. A Sync inside BEGIN ... COMMIT
 * ends nothing: the transaction stays open until the COMMIT.
 */
#include <string.h>

#include "postgres_internal.h"

#define BATCH 256

static const uint8_t empty_bytes[1] = {0};

typedef struct pipeline {
    pg_txn *t;
    int rc;           /* the first error */
    bool commit_sent; /* COMMIT went out: a lost connection leaves the outcome unknown */
    bool committed;   /* the server answered COMMIT */
} pipeline;

/* Keep the first error, code and words: later ones are consequences of it. */
#define FAIL(p, expr)                                                                              \
    do {                                                                                           \
        if ((p)->rc == 0)                                                                          \
            (p)->rc = (expr);                                                                      \
    } while (0)

/* Drain the NULL that ends one statement's results (a broken connection ends it too). */
static void end_of_results(PGconn *pg)
{
    PGresult *r;
    for (int guard = 0; guard < 16 && (r = PQgetResult(pg)) != NULL; guard++)
        PQclear(r);
}

/* The answer to one queued statement. */
static void take(pipeline *p, bool is_commit)
{
    PGconn *pg = p->t->conn->pg;
    const char *what = is_commit ? "commit" : "commit (writes)";
    PGresult *r = PQgetResult(pg);
    if (!r) {
        FAIL(p, icms__pg_error(p->t->store, pg, NULL, what));
        return;
    }
    ExecStatusType st = PQresultStatus(r);
    if (st == PGRES_COMMAND_OK) {
        if (!is_commit)
            ;
        else if (strcmp(PQcmdStatus(r), "COMMIT") == 0)
            p->committed = true;
        else
            FAIL(p, icms__error(ICMS_ESTORAGE,
                                PG_WHO ": commit: the server rolled the transaction back"));
    } else if (st != PGRES_PIPELINE_ABORTED) {
        /* Aborted ones were skipped after the error already recorded. */
        FAIL(p, icms__pg_error(p->t->store, pg, r, what));
    }
    PQclear(r);
    end_of_results(pg);
}

static bool send_write(PGconn *pg, const pg_write *w)
{
    const char *params[2] = {(const char *)w->key,
                             w->value ? (const char *)w->value : (const char *)empty_bytes};
    const int lens[2] = {(int)w->key_len, (int)w->value_len};
    const int formats[2] = {1, 1};
    enum pg_stmt_id id = w->value ? PG_ST_PUT : PG_ST_DEL;
    return PQsendQueryPrepared(pg, icms__pg_stmt_name[id], id == PG_ST_PUT ? 2 : 1, params, lens,
                               formats, 1) == 1;
}

/* Send writes [from, to) (and COMMIT when last), then read every answer up to the Sync. */
static void batch(pipeline *p, size_t from, size_t to, bool last)
{
    PGconn *pg = p->t->conn->pg;
    size_t sent = 0;
    bool commit_queued = false;
    for (size_t i = from; i < to; i++) {
        if (!send_write(pg, &p->t->writes.items[i])) {
            FAIL(p, icms__pg_error(p->t->store, pg, NULL, "commit (sending writes)"));
            break;
        }
        sent++;
    }
    if (p->rc == 0 && last) {
        if (PQsendQueryParams(pg, "COMMIT", 0, NULL, NULL, NULL, NULL, 0) == 1)
            commit_queued = p->commit_sent = true;
        else
            FAIL(p, icms__pg_error(p->t->store, pg, NULL, "commit"));
    }
    if (PQpipelineSync(pg) != 1) {
        FAIL(p, icms__pg_error(p->t->store, pg, NULL, "commit (sync)"));
        return;
    }
    for (size_t i = 0; i < sent && PQstatus(pg) == CONNECTION_OK; i++)
        take(p, false);
    if (commit_queued && PQstatus(pg) == CONNECTION_OK)
        take(p, true);
    if (PQstatus(pg) != CONNECTION_OK) {
        FAIL(p, icms__pg_error(p->t->store, pg, NULL, "commit"));
        return;
    }
    PGresult *r = PQgetResult(pg);
    if (!r || PQresultStatus(r) != PGRES_PIPELINE_SYNC)
        FAIL(p, icms__pg_error(p->t->store, pg, r, "commit (sync)"));
    PQclear(r);
}

int icms__pg_commit_writes(pg_txn *t)
{
    PGconn *pg = t->conn->pg;
    if (PQenterPipelineMode(pg) != 1)
        return icms__pg_error(t->store, pg, NULL, "commit (pipeline mode)");
    pipeline p = {t, ICMS_OK, false, false};
    size_t n = t->writes.count;
    for (size_t from = 0; p.rc == 0 && (from < n || from == 0); from += BATCH) {
        size_t to = from + BATCH < n ? from + BATCH : n;
        batch(&p, from, to, to == n);
        if (to == n)
            break;
    }
    /* Fails only with results still pending (a broken connection); the pool then closes it. */
    PQexitPipelineMode(pg);
    if (p.rc == 0 && !p.committed)
        p.rc = icms__error(ICMS_ESTORAGE, PG_WHO ": commit: no answer to COMMIT");
    if (p.rc != 0 && p.commit_sent && !p.committed && PQstatus(pg) != CONNECTION_OK)
        return icms__error(p.rc, "%s; the commit may or may not have been applied",
                           icms_error_last()->message);
    return p.rc;
}
