/*
 * The PostgreSQL store's layout: one table
 *
 *   CREATE TABLE schema.table (k bytea PRIMARY KEY, v bytea NOT NULL)
 *
 * whose comment stamps it as an icms store and its layout version. bytea
 * compares with memcmp and a proper prefix first (byteacmp), so the primary
 * key's btree is the port's key order and every scan is an index range.
 *
 * Append-only prefixes: per prefix, a row trigger refuses UPDATE and DELETE
 * of a key under it, and another refuses an UPDATE that moves a key into it;
 * both fire only when their WHEN clause matches, so other keys pay nothing.
 * A statement trigger refuses TRUNCATE. The triggers raise SQLSTATE IC001,
 * which postgres_conn.c words as ICMS_EINVALID.
 *
 * Creation runs in one transaction under an advisory lock named after the
 * table, so processes opening a new store together agree. An opener whose
 * table and triggers exist checks that without any lock.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "postgres_internal.h"

#define LAYOUT_STAMP "icms store, layout "
#define LAYOUT_VERSION 1

/* FNV-1a: names a prefix's triggers within PostgreSQL's 63-character limit. */
static uint64_t fnv1a(const uint8_t *bytes, size_t len)
{
    uint64_t h = 0xcbf29ce484222325u;
    for (size_t i = 0; i < len; i++) {
        h ^= bytes[i];
        h *= 0x100000001b3u;
    }
    return h;
}

static void hex(char *out, const uint8_t *bytes, size_t len)
{
    static const char digits[] = "0123456789abcdef";
    for (size_t i = 0; i < len; i++) {
        out[2 * i] = digits[bytes[i] >> 4];
        out[2 * i + 1] = digits[bytes[i] & 0xf];
    }
    out[2 * len] = '\0';
}

typedef struct names {
    const char *schema, *table;
} names;

/* Trigger names this store's options need, as a text[] literal: {"a","b"}; count in *n. */
static char *wanted_triggers(const names *nm, const icms_postgres_options *o, size_t *n)
{
    size_t count = o ? o->append_only_count : 0;
    size_t cap = 128 + count * 2 * 80;
    char *list = icms__malloc(cap);
    if (!list)
        return NULL;
    size_t at = (size_t)snprintf(list, cap, "{");
    *n = 0;
    for (size_t i = 0; i < count; i++) {
        unsigned long long h =
            (unsigned long long)fnv1a(o->append_only_prefixes[i], o->append_only_prefix_lens[i]);
        at += (size_t)snprintf(list + at, cap - at, "%s\"%s_ao_%016llx\",\"%s_an_%016llx\"",
                               i ? "," : "", nm->table, h, nm->table, h);
        *n += 2;
    }
    if (count) {
        snprintf(list + at, cap - at, ",\"%s_no_truncate\"}", nm->table);
        *n += 1;
    } else {
        snprintf(list + at, cap - at, "}");
    }
    return list;
}

/* One row of text from a query with text parameters. */
static int query_row(pg_store *s, PGconn *pg, const char *sql, int n, const char *const *params,
                     PGresult **out)
{
    PGresult *r = PQexecParams(pg, sql, n, NULL, params, NULL, NULL, 0);
    if (!r || PQresultStatus(r) != PGRES_TUPLES_OK || PQntuples(r) != 1) {
        int rc = icms__pg_error(s, pg, r, "checking the table");
        PQclear(r);
        return rc;
    }
    *out = r;
    return ICMS_OK;
}

/*
 * What exists: *table whether the table does, *triggers how many of the
 * wanted triggers. A table that is not ours, or from a newer layout, is an
 * error.
 */
static int inspect(pg_store *s, PGconn *pg, const char *triggers_list, bool *table, long *triggers)
{
    const char *params[2] = {s->qualified, triggers_list};
    PGresult *r = NULL;
    int rc = query_row(s, pg,
                       "SELECT to_regclass($1) IS NOT NULL, "
                       "coalesce(obj_description(to_regclass($1), 'pg_class'), ''), "
                       "(SELECT count(*) FROM pg_trigger WHERE tgrelid = to_regclass($1) "
                       "AND tgname = ANY($2::text[]))",
                       2, params, &r);
    if (rc != 0)
        return rc;
    *table = strcmp(PQgetvalue(r, 0, 0), "t") == 0;
    const char *stamp = PQgetvalue(r, 0, 1);
    *triggers = strtol(PQgetvalue(r, 0, 2), NULL, 10);
    if (*table) {
        size_t sl = strlen(LAYOUT_STAMP);
        if (strncmp(stamp, LAYOUT_STAMP, sl) != 0) {
            rc = icms__error(ICMS_ESTORAGE,
                             PG_WHO ": the table %s exists and is not an icms store (its comment "
                                    "has no \"" LAYOUT_STAMP "N\" stamp)",
                             s->qualified);
        } else {
            long layout = strtol(stamp + sl, NULL, 10);
            if (layout > LAYOUT_VERSION)
                rc = icms__error(ICMS_EVERSION,
                                 PG_WHO ": the table %s has layout %ld, newer than this libicms "
                                        "reads (%d)",
                                 s->qualified, layout, LAYOUT_VERSION);
            else if (layout != LAYOUT_VERSION)
                rc = icms__error(ICMS_ESTORAGE, PG_WHO ": the table %s has unknown layout %ld",
                                 s->qualified, layout);
        }
    }
    PQclear(r);
    return rc;
}

static int exec_fmt(pg_store *s, PGconn *pg, const char *what, const char *fmt, ...)
    ICMS__PRINTF(4, 5);

static int exec_fmt(pg_store *s, PGconn *pg, const char *what, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0)
        return icms__error(ICMS_ERROR, PG_WHO ": cannot format SQL");
    char *sql = icms__malloc((size_t)n + 1);
    if (!sql)
        return ICMS_ENOMEM;
    va_start(ap, fmt);
    vsnprintf(sql, (size_t)n + 1, fmt, ap);
    va_end(ap);
    int rc = icms__pg_exec(s, pg, sql, what);
    icms__free(sql);
    return rc;
}

static int create_prefix_triggers(pg_store *s, PGconn *pg, const names *nm, const uint8_t *prefix,
                                  size_t len)
{
    char *h = icms__malloc(2 * len + 1);
    if (!h)
        return ICMS_ENOMEM;
    hex(h, prefix, len);
    unsigned long long id = (unsigned long long)fnv1a(prefix, len);
    /* CREATE OR REPLACE TRIGGER (PostgreSQL 14+): racing openers are serialized anyway. */
    int rc = exec_fmt(s, pg, "creating append-only triggers",
                      "CREATE OR REPLACE TRIGGER \"%s_ao_%016llx\" BEFORE UPDATE OR DELETE ON %s "
                      "FOR EACH ROW WHEN (substring(OLD.k FROM 1 FOR %zu) = decode('%s', 'hex')) "
                      "EXECUTE FUNCTION \"%s\".\"%s_append_only\"();"
                      "CREATE OR REPLACE TRIGGER \"%s_an_%016llx\" BEFORE UPDATE ON %s "
                      "FOR EACH ROW WHEN (substring(NEW.k FROM 1 FOR %zu) = decode('%s', 'hex')) "
                      "EXECUTE FUNCTION \"%s\".\"%s_append_only\"()",
                      nm->table, id, s->qualified, len, h, nm->schema, nm->table, nm->table, id,
                      s->qualified, len, h, nm->schema, nm->table);
    icms__free(h);
    return rc;
}

static int create(pg_store *s, PGconn *pg, const names *nm, const icms_postgres_options *o,
                  bool table)
{
    int rc = ICMS_OK;
    if (!table) {
        rc = exec_fmt(s, pg, "creating the table",
                      "CREATE TABLE %s (k bytea PRIMARY KEY, v bytea NOT NULL);"
                      "COMMENT ON TABLE %s IS '" LAYOUT_STAMP "%d'",
                      s->qualified, s->qualified, LAYOUT_VERSION);
        if (rc != 0)
            return rc;
    }
    size_t count = o ? o->append_only_count : 0;
    if (count == 0)
        return ICMS_OK;
    rc = exec_fmt(s, pg, "creating the append-only function",
                  "CREATE OR REPLACE FUNCTION \"%s\".\"%s_append_only\"() RETURNS trigger "
                  "LANGUAGE plpgsql AS $icms$ BEGIN "
                  "IF TG_OP = 'TRUNCATE' THEN RAISE EXCEPTION USING ERRCODE = 'IC001', "
                  "MESSAGE = 'append-only: this table holds append-only keys; it cannot be "
                  "truncated'; END IF; "
                  "RAISE EXCEPTION USING ERRCODE = 'IC001', MESSAGE = 'append-only: a key under "
                  "this prefix is never updated or deleted'; END $icms$",
                  nm->schema, nm->table);
    for (size_t i = 0; rc == 0 && i < count; i++)
        rc = create_prefix_triggers(s, pg, nm, o->append_only_prefixes[i],
                                    o->append_only_prefix_lens[i]);
    if (rc == 0)
        rc = exec_fmt(s, pg, "creating the append-only triggers",
                      "CREATE OR REPLACE TRIGGER \"%s_no_truncate\" BEFORE TRUNCATE ON %s "
                      "FOR EACH STATEMENT EXECUTE FUNCTION \"%s\".\"%s_append_only\"()",
                      nm->table, s->qualified, nm->schema, nm->table);
    return rc;
}

int icms__pg_schema_ensure(pg_store *s, PGconn *pg, const icms_postgres_options *o)
{
    names nm = {o && o->schema ? o->schema : "public", o && o->table ? o->table : "icms_kv"};
    size_t wanted = 0;
    char *list = wanted_triggers(&nm, o, &wanted);
    if (!list)
        return ICMS_ENOMEM;
    bool table;
    long triggers;
    int rc = inspect(s, pg, list, &table, &triggers);
    if (rc != 0 || (table && triggers == (long)wanted)) {
        icms__free(list);
        return rc;
    }

    char lock[160];
    unsigned long long key =
        (unsigned long long)fnv1a((const uint8_t *)s->qualified, strlen(s->qualified));
    snprintf(lock, sizeof lock, "BEGIN; SELECT pg_advisory_xact_lock(%lld)", (long long)key);
    rc = icms__pg_exec(s, pg, lock, "locking the table for creation");
    /* Look again: another opener may have created it while we waited. */
    if (rc == 0)
        rc = inspect(s, pg, list, &table, &triggers);
    if (rc == 0 && !(table && triggers == (long)wanted))
        rc = create(s, pg, &nm, o, table);
    if (rc == 0)
        rc = icms__pg_exec(s, pg, "COMMIT", "creating the table");
    if (rc != 0 && PQstatus(pg) == CONNECTION_OK && PQtransactionStatus(pg) != PQTRANS_IDLE)
        PQclear(PQexec(pg, "ROLLBACK")); /* keeps the first error's words */
    icms__free(list);
    return rc;
}
