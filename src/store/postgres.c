/*
 * The PostgreSQL store: options, opening and freeing. The parts are listed
 * in postgres_internal.h; docs/storage.md describes the whole.
 */
#include <stdio.h>
#include <string.h>

#include "postgres_internal.h"

#define DEFAULT_POOL_SIZE 8u
#define DEFAULT_STATEMENT_TIMEOUT_MS 30000u
#define DEFAULT_LOCK_TIMEOUT_MS 5000u
/* Table names derive trigger names ("<table>_ao_<16 hex>"), which must fit in 63 bytes. */
#define IDENT_MAX 40u

/* [a-z_][a-z0-9_]*: needs no quoting rules beyond double quotes, and folds the same everywhere. */
static bool valid_ident(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n > IDENT_MAX || !((s[0] >= 'a' && s[0] <= 'z') || s[0] == '_'))
        return false;
    for (size_t i = 1; i < n; i++)
        if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') || s[i] == '_'))
            return false;
    return true;
}

static int check_options(const char *conninfo, const icms_postgres_options *o)
{
    if (!conninfo)
        return icms__error(ICMS_EINVALID, PG_WHO ": a connection string is required "
                                                 "(\"\" for libpq's defaults)");
    if (!o)
        return ICMS_OK;
    if (o->version != ICMS_POSTGRES_OPTIONS_VERSION)
        return icms__error(ICMS_EVERSION, PG_WHO ": options version %u is not %u", o->version,
                           ICMS_POSTGRES_OPTIONS_VERSION);
    if (o->pool_size > 1000)
        return icms__error(ICMS_EINVALID, PG_WHO ": pool_size %u is more than 1000", o->pool_size);
    if (o->statement_timeout_ms > (unsigned int)INT32_MAX ||
        o->lock_timeout_ms > (unsigned int)INT32_MAX)
        return icms__error(ICMS_EINVALID, PG_WHO ": a timeout is longer than %d ms", INT32_MAX);
    if (o->schema && !valid_ident(o->schema))
        return icms__error(ICMS_EINVALID,
                           PG_WHO ": schema \"%.64s\" is not a lowercase identifier "
                                  "([a-z_][a-z0-9_]*, at most %u characters)",
                           o->schema, IDENT_MAX);
    if (o->table && !valid_ident(o->table))
        return icms__error(ICMS_EINVALID,
                           PG_WHO ": table \"%.64s\" is not a lowercase identifier "
                                  "([a-z_][a-z0-9_]*, at most %u characters)",
                           o->table, IDENT_MAX);
    if (o->append_only_count && (!o->append_only_prefixes || !o->append_only_prefix_lens))
        return icms__error(ICMS_EINVALID, PG_WHO ": append-only prefixes are missing");
    for (size_t i = 0; i < o->append_only_count; i++) {
        size_t len = o->append_only_prefix_lens[i];
        if (len == 0 || len > ICMS_STORE_KEY_MAX || !o->append_only_prefixes[i])
            return icms__error(ICMS_EINVALID, PG_WHO ": append-only prefix %zu must be 1..%u bytes",
                               i, ICMS_STORE_KEY_MAX);
    }
    return ICMS_OK;
}

/* Wipe and free a string that may hold a secret. */
static void free_secret(char *s)
{
    if (s) {
        icms__wipe(s, strlen(s));
        icms__free(s);
    }
}

/*
 * Parse conninfo once, to refuse a malformed one early and to learn the
 * password, which every message is then scrubbed of. libpq's own parse
 * message is not passed on: it quotes the text near the mistake, which may be
 * the password.
 */
static int read_password(pg_store *s, const char *conninfo)
{
    char *err = NULL;
    PQconninfoOption *opts = PQconninfoParse(conninfo, &err);
    if (!opts) {
        if (err) {
            icms__wipe(err, strlen(err));
            PQfreemem(err);
            return icms__error(ICMS_EINVALID,
                               PG_WHO ": the connection string is malformed: it must be "
                                      "\"key=value ...\" or a postgresql:// URI (libpq's "
                                      "message is withheld: it may quote the password)");
        }
        return icms__error(ICMS_ENOMEM, PG_WHO ": out of memory parsing the connection string");
    }
    int rc = ICMS_OK;
    for (PQconninfoOption *o = opts; o->keyword; o++) {
        if (o->val && strcmp(o->keyword, "password") == 0 && *o->val) {
            s->password = icms__strdup(o->val);
            if (!s->password)
                rc = ICMS_ENOMEM;
        }
        if (o->val)
            icms__wipe(o->val, strlen(o->val));
    }
    PQconninfoFree(opts);
    return rc;
}

static int build_sql(pg_store *s, const char *schema, const char *table)
{
    char q[2 * IDENT_MAX + 8];
    snprintf(q, sizeof q, "\"%s\".\"%s\"", schema, table);
    s->qualified = icms__strdup(q);
    if (!s->qualified)
        return ICMS_ENOMEM;
    /* Each statement is head + table + tail (no format strings built at run time). */
    static const struct {
        const char *head, *tail;
    } part[PG_ST_COUNT] = {
        [PG_ST_GET] = {"SELECT v FROM ", " WHERE k = $1"},
        [PG_ST_PUT] = {"INSERT INTO ",
                       " (k, v) VALUES ($1, $2) ON CONFLICT (k) DO UPDATE SET v = EXCLUDED.v"},
        [PG_ST_DEL] = {"DELETE FROM ", " WHERE k = $1"},
        [PG_ST_SCAN_FWD] = {"SELECT k, v FROM ", " WHERE k >= $1 AND k < $2 ORDER BY k LIMIT $3"},
        [PG_ST_SCAN_REV] = {"SELECT k, v FROM ",
                            " WHERE k >= $1 AND k < $2 ORDER BY k DESC LIMIT $3"},
        [PG_ST_SCAN_FWD_OPEN] = {"SELECT k, v FROM ", " WHERE k >= $1 ORDER BY k LIMIT $2"},
        [PG_ST_SCAN_REV_OPEN] = {"SELECT k, v FROM ", " WHERE k >= $1 ORDER BY k DESC LIMIT $2"},
    };
    for (int i = 0; i < PG_ST_COUNT; i++) {
        size_t cap = strlen(part[i].head) + strlen(q) + strlen(part[i].tail) + 1;
        s->sql[i] = icms__malloc(cap);
        if (!s->sql[i])
            return ICMS_ENOMEM;
        snprintf(s->sql[i], cap, "%s%s%s", part[i].head, q, part[i].tail);
    }
    return ICMS_OK;
}

static void pg_free(icms_store *store)
{
    pg_store *s = (pg_store *)store;
    if (!s)
        return;
    icms__pg_pool_drain(s);
    pthread_cond_destroy(&s->returned);
    pthread_mutex_destroy(&s->lock);
    free_secret(s->conninfo);
    free_secret(s->password);
    icms__free(s->qualified);
    for (int i = 0; i < PG_ST_COUNT; i++)
        icms__free(s->sql[i]);
    icms__free(s);
}

int icms_store_postgres_new(icms_store **out, const char *conninfo,
                            const icms_postgres_options *options)
{
    if (!out)
        return icms__error(ICMS_EINVALID, PG_WHO ": out is NULL");
    *out = NULL;
    int rc = check_options(conninfo, options);
    if (rc != 0)
        return rc;
    if (!PQisthreadsafe())
        return icms__error(ICMS_ESTORAGE, PG_WHO ": this libpq was built without thread safety");
    pg_store *s = icms__calloc(1, sizeof *s);
    if (!s)
        return ICMS_ENOMEM;
    const icms_postgres_options *o = options;
    s->pool_size = o && o->pool_size ? o->pool_size : DEFAULT_POOL_SIZE;
    s->statement_timeout_ms =
        o && o->statement_timeout_ms ? o->statement_timeout_ms : DEFAULT_STATEMENT_TIMEOUT_MS;
    s->lock_timeout_ms = o && o->lock_timeout_ms ? o->lock_timeout_ms : DEFAULT_LOCK_TIMEOUT_MS;
    if (pthread_mutex_init(&s->lock, NULL) != 0) {
        icms__free(s);
        return icms__error(ICMS_ERROR, PG_WHO ": cannot create a mutex");
    }
    if (pthread_cond_init(&s->returned, NULL) != 0) {
        pthread_mutex_destroy(&s->lock);
        icms__free(s);
        return icms__error(ICMS_ERROR, PG_WHO ": cannot create a condition variable");
    }
    icms_store base = ICMS_STORE_INIT;
    base.begin = icms__pg_begin;
    base.get = icms__pg_get;
    base.put = icms__pg_put;
    base.del = icms__pg_del;
    base.scan = icms__pg_scan;
    base.commit = icms__pg_commit;
    base.rollback = icms__pg_rollback;
    base.free = pg_free;
    base.payload = s;
    s->base = base;

    s->conninfo = icms__strdup(conninfo);
    rc = s->conninfo ? read_password(s, conninfo) : ICMS_ENOMEM;
    if (rc == 0)
        rc = build_sql(s, o && o->schema ? o->schema : "public",
                       o && o->table ? o->table : "icms_kv");
    /* The first connection creates or checks the table, then joins the pool. */
    PGconn *pg = NULL;
    if (rc == 0)
        rc = icms__pg_connect(s, &pg);
    if (rc == 0)
        rc = icms__pg_schema_ensure(s, pg, o);
    if (rc == 0)
        rc = icms__pg_prepare(s, pg);
    if (rc != 0) {
        PQfinish(pg);
        pg_free(&s->base);
        return rc;
    }
    pg_conn *c = icms__calloc(1, sizeof *c);
    if (!c) {
        PQfinish(pg);
        pg_free(&s->base);
        return ICMS_ENOMEM;
    }
    c->pg = pg;
    s->open = 1;
    icms__pg_conn_give_back(s, c);
    *out = &s->base;
    return ICMS_OK;
}
