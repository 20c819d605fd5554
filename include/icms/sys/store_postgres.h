/*
 * The PostgreSQL store: the store port (icms/sys/store.h) on a PostgreSQL
 * server, for deployments that outgrow one machine. Several processes on
 * several machines may open the same table; PostgreSQL's SERIALIZABLE
 * isolation keeps their write transactions serializable.
 *
 * Not included by icms.h: this header is for hosts that choose a store.
 * docs/storage.md ("The PostgreSQL store") describes the table, the
 * isolation levels and what a conflict means.
 */
#ifndef ICMS_SYS_STORE_POSTGRES_H
#define ICMS_SYS_STORE_POSTGRES_H

#include "icms/sys/store.h"

#ifdef __cplusplus
extern "C" {
#endif

/** Options of the PostgreSQL store; fill with ICMS_POSTGRES_OPTIONS_INIT. */
typedef struct icms_postgres_options {
    unsigned int version; /**< ICMS_POSTGRES_OPTIONS_VERSION */
    /**
     * Most connections the store opens at once (one per open transaction);
     * 0 = default 8. A begin that finds all of them in use waits up to
     * lock_timeout_ms for one and then answers ICMS_EBUSY.
     */
    unsigned int pool_size;
    /** Server-side statement_timeout; 0 = default 30000 ms. */
    unsigned int statement_timeout_ms;
    /**
     * How long a commit waits for a row another writer is committing
     * (PostgreSQL's lock_timeout) before answering ICMS_EBUSY; 0 = default 5000.
     */
    unsigned int lock_timeout_ms;
    /**
     * Schema and table: lowercase SQL identifiers ([a-z_][a-z0-9_]*, at most
     * 40 characters, so that the names derived from them fit PostgreSQL's
     * 63). NULL = "public" and "icms_kv". The schema must exist.
     */
    const char *schema;
    const char *table;
    /**
     * Key prefixes whose keys may be inserted but never changed or removed;
     * triggers on the table refuse UPDATE and DELETE of them (and TRUNCATE of
     * the table), so even a direct SQL edit fails. May be NULL / 0.
     */
    const uint8_t *const *append_only_prefixes;
    const size_t *append_only_prefix_lens;
    size_t append_only_count;
} icms_postgres_options;

#define ICMS_POSTGRES_OPTIONS_VERSION 1
#define ICMS_POSTGRES_OPTIONS_INIT                                                                 \
    {                                                                                              \
        ICMS_POSTGRES_OPTIONS_VERSION, 0, 0, 0, NULL, NULL, NULL, NULL, 0                          \
    }

/**
 * Open the PostgreSQL store described by conninfo (a libpq connection
 * string, "host=... dbname=..." or "postgresql://..."), creating its table
 * and triggers if needed. options may be NULL for the defaults. The store
 * copies conninfo (and wipes its copy at free); *out belongs to the caller
 * until handed to icms_open(), else free it with icms_store_free().
 *
 * Transactions: writes are SERIALIZABLE and buffered until commit, reads are
 * REPEATABLE READ snapshots. A write transaction may answer ICMS_ECONFLICT
 * (a serialization failure or deadlock) from any call, usually commit, and
 * ICMS_EBUSY when a lock wait or the pool ran out: roll back and rerun.
 * A put or del of an existing key under an append-only prefix is refused at
 * commit with ICMS_EINVALID.
 *
 * Errors: ICMS_EINVALID (bad options or conninfo; or this libicms was built
 * without PostgreSQL), ICMS_EVERSION (options version, or a table from a newer
 * layout), ICMS_ESTORAGE (cannot connect, the server refused, the table is
 * not an icms store). Messages never contain the password.
 *
 * Threads: the store may be used from several threads (the pool is locked);
 * one transaction by one thread at a time.
 */
ICMS_EXTERN int icms_store_postgres_new(icms_store **out, const char *conninfo,
                                        const icms_postgres_options *options);

#ifdef __cplusplus
}
#endif

#endif /* ICMS_SYS_STORE_POSTGRES_H */
