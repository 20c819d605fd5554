/*
 * The database handle: one libicms instance over one store.
 */
#ifndef ICMS_DB_H
#define ICMS_DB_H

#include "icms/common.h"

#ifdef __cplusplus
extern "C" {
#endif

/** An open libicms database. Thread-safe: one handle may serve many threads. */
typedef struct icms_db icms_db;

struct icms_store;
struct icms_clock;
struct icms_rpc_client;
struct icms_address_provider;

/**
 * The on-store format this build writes and reads. icms_open brings a store
 * of an older format up to this one (src/app/format.c lists what each added).
 */
#define ICMS_FORMAT_VERSION 2

/** How to open a database. */
typedef struct icms_options {
    unsigned int version; /**< ICMS_OPTIONS_VERSION */
    /** SQLite database file, created if missing; used when store is NULL. */
    const char *path;
    /** Or a store to use instead (icms/sys/store.h); the handle owns it from then on. */
    struct icms_store *store;
    /** Durability of the SQLite store: an icms_sqlite_sync_t; 0 is FULL. */
    unsigned int sqlite_sync;
    /** Time source (icms/sys/clock.h); NULL reads the real clock. The handle owns it. */
    struct icms_clock *clock;
    /** How often a command is tried when the store answers conflict or busy; 0 = 10. */
    unsigned int retry_attempts;
    /**
     * Policy: by default requesting a participation and paying need the
     * investor's KYC to be VERIFIED; nonzero lifts that requirement.
     */
    int kyc_optional;
    /**
     * The Gapcoin node payments are verified against (icms/rpc.h); the handle
     * owns it. NULL: payments cannot be verified (icms_payment_verify answers
     * ICMS_ETRANSPORT).
     */
    struct icms_rpc_client *gapcoin;
    /** The network addresses belong to: an icms_gapcoin_network_t, 0 is mainnet. */
    unsigned int gapcoin_network;
    /**
     * Where receiving addresses come from (icms/sys/address.h); the handle
     * owns it. NULL: the node's getnewaddress.
     */
    struct icms_address_provider *addresses;
    /**
     * Nonzero: verify payments in SPV mode, checking the merkle proof, the
     * block's proof of work and the header chain down to the required depth,
     * instead of trusting the node for inclusion and depth (docs/rpc.md).
     */
    int gapcoin_spv;
    /**
     * How long a writer waits for another process's write lock on the SQLite
     * file before ICMS_EBUSY, in milliseconds; 0 is the store's default (5000).
     */
    unsigned int sqlite_busy_timeout_ms;
    /**
     * Version 2. WAL pages after which the SQLite store checkpoints; 0 is the
     * store's default (icms/sys/store.h, icms_sqlite_options.checkpoint_pages).
     * Not read from a version 1 struct, which ends before it.
     */
    unsigned int sqlite_checkpoint_pages;
} icms_options;

/** Version 2 added sqlite_checkpoint_pages; icms_open still takes version 1. */
#define ICMS_OPTIONS_VERSION 2
#define ICMS_OPTIONS_INIT {ICMS_OPTIONS_VERSION, NULL, NULL, 0, NULL, 0, 0, NULL, 0, NULL, 0, 0, 0}

/**
 * Open a database: the SQLite file at options->path, or options->store.
 *
 * A new store is stamped with ICMS_FORMAT_VERSION; an existing one must
 * carry a format this build understands. A store of an older format is
 * upgraded on the spot, in one write transaction (all or nothing); from then
 * on an older libicms refuses it, so upgrade every process sharing a file
 * before any opens it with the newer build. The store and clock in options pass
 * to the handle, and are released even when opening fails. The library must
 * be initialised (icms_init) first.
 *
 * Errors: ICMS_EINVALID (no path nor store, bad options), ICMS_EVERSION (the
 * store was written by a newer libicms, or options->version is unknown),
 * ICMS_ESTORAGE (cannot open or read the store), ICMS_EBUSY.
 */
ICMS_EXTERN int icms_open(icms_db **out, const icms_options *options);

/** Close a database and release its store and clock. NULL is allowed. */
ICMS_EXTERN void icms_close(icms_db *db);

#ifdef __cplusplus
}
#endif

#endif /* ICMS_DB_H */
