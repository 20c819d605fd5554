/*
 * The store port: an ordered, transactional key-value store.
 *
 * Everything libicms keeps (projects, ledger entries, audit log, outbox,
 * indexes) is a value under a binary key in one ordered key space. Any store
 * that offers ordered keys and serializable write transactions can hold it:
 * the built-in SQLite and in-memory stores implement exactly this struct, and
 * a host may supply its own (docs/storage.md explains how to write one).
 *
 * Not included by icms.h: this header is for store authors.
 */
#ifndef ICMS_SYS_STORE_H
#define ICMS_SYS_STORE_H

#include "icms/common.h"

#ifdef __cplusplus
extern "C" {
#endif

/** A transaction; its layout belongs to the store that created it. */
typedef struct icms_store_txn icms_store_txn;

/** Transaction modes. */
typedef enum icms_store_mode_t {
    ICMS_STORE_READ = 0, /**< a consistent view; put/del are refused */
    ICMS_STORE_WRITE = 1 /**< serializable with every other write transaction */
} icms_store_mode_t;

/** Scan flags; bits not defined here must be zero. */
#define ICMS_STORE_SCAN_REVERSE 0x1u /**< visit keys from the highest down */

/** Keys and values are limited so that every store can hold them. */
#define ICMS_STORE_KEY_MAX 1024u
#define ICMS_STORE_VALUE_MAX (16u * 1024u * 1024u)

/**
 * Called by scan for each key in range, in order. key and value are borrowed
 * for the duration of the call only. Return 0 to continue, ICMS_STORE_STOP to
 * end the scan successfully, or a negative code to end it with that error
 * (handed back unchanged by scan). The callback must not write through the
 * transaction being scanned.
 */
typedef int (*icms_store_scan_cb)(const uint8_t *key, size_t key_len, const uint8_t *value,
                                  size_t value_len, void *payload);

/** A scan callback's way to stop early without an error. */
#define ICMS_STORE_STOP 1

/**
 * A store. The host fills one with ICMS_STORE_INIT and its functions, then
 * hands it to icms_open(); from then on the core owns it and calls free()
 * exactly once, at icms_close() (or when icms_open() fails).
 *
 * Keys are compared as unsigned bytes (memcmp order; a proper prefix sorts
 * first). Every function returns ICMS_OK or a negative icms_error_t code and
 * records a message with the library's error channel (through the host's
 * own error code if it has no access to it, the core words it).
 *
 * Threads: a store may be used from several threads, but one transaction is
 * only ever used by one thread at a time.
 */
typedef struct icms_store {
    unsigned int version; /**< ICMS_STORE_VERSION */

    /**
     * Start a transaction. Several read transactions may be open at once;
     * a write transaction that cannot start because another writer holds the
     * store answers ICMS_EBUSY (after the store's own busy wait, if any).
     */
    int (*begin)(struct icms_store *store, icms_store_mode_t mode, icms_store_txn **out);

    /**
     * Read a key. On success *value and *value_len are borrowed: valid until
     * the next call on this transaction. Returns ICMS_ENOTFOUND when the key
     * is absent. A transaction reads its own writes.
     */
    int (*get)(icms_store_txn *txn, const uint8_t *key, size_t key_len, const uint8_t **value,
               size_t *value_len);

    /** Insert or replace a key's value (both are copied). Write transactions only. */
    int (*put)(icms_store_txn *txn, const uint8_t *key, size_t key_len, const uint8_t *value,
               size_t value_len);

    /** Remove a key; ICMS_OK whether or not it existed. Write transactions only. */
    int (*del)(icms_store_txn *txn, const uint8_t *key, size_t key_len);

    /**
     * Visit every key k with start <= k < end in order (reverse with
     * ICMS_STORE_SCAN_REVERSE). end == NULL means no upper bound; start may
     * be empty (start_len 0) for no lower bound.
     */
    int (*scan)(icms_store_txn *txn, const uint8_t *start, size_t start_len, const uint8_t *end,
                size_t end_len, unsigned int flags, icms_store_scan_cb cb, void *cb_payload);

    /**
     * Make a write transaction's changes durable and visible, or end a read
     * transaction. The transaction is gone afterwards whatever the answer.
     * ICMS_ECONFLICT or ICMS_EBUSY mean nothing was written and the whole
     * command may be rerun; ICMS_ESTORAGE means the store failed.
     */
    int (*commit)(icms_store_txn *txn);

    /** Discard a transaction's changes and end it. Never fails. */
    void (*rollback)(icms_store_txn *txn);

    /** Release the store. Called once, with no transaction open. */
    void (*free)(struct icms_store *store);

    /** Anything the store needs; the core never reads it. */
    void *payload;
} icms_store;

#define ICMS_STORE_VERSION 1
#define ICMS_STORE_INIT {ICMS_STORE_VERSION, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL}

/** Options of the built-in SQLite store. */
typedef enum icms_sqlite_sync_t {
    ICMS_SQLITE_SYNC_FULL = 0,   /**< PRAGMA synchronous=FULL: durable at every commit (default) */
    ICMS_SQLITE_SYNC_NORMAL = 1, /**< synchronous=NORMAL: WAL may lose the last commits on power loss */
    ICMS_SQLITE_SYNC_OFF = 2     /**< synchronous=OFF: for tests and bulk loads only */
} icms_sqlite_sync_t;

typedef struct icms_sqlite_options {
    unsigned int version;        /**< ICMS_SQLITE_OPTIONS_VERSION */
    icms_sqlite_sync_t sync;     /**< durability; default FULL */
    unsigned int busy_timeout_ms; /**< how long a writer waits for the lock; 0 = default 5000 */
    /**
     * Key prefixes whose keys may be inserted but never changed or removed;
     * triggers in the database refuse UPDATE and DELETE on them, so even a
     * direct SQL edit fails. May be NULL / 0.
     */
    const uint8_t *const *append_only_prefixes;
    const size_t *append_only_prefix_lens;
    size_t append_only_count;
    /**
     * Version 2 (not read from a version 1 struct, which ends before it).
     * WAL pages after which a commit checkpoints them into the database
     * file; 0 = default ICMS_SQLITE_CHECKPOINT_PAGES_DEFAULT, at most
     * ICMS_SQLITE_CHECKPOINT_PAGES_MAX. Fewer pages keep the -wal file
     * smaller; more let a page written by many commits reach the file once.
     */
    unsigned int checkpoint_pages;
} icms_sqlite_options;

/** Version 2 added checkpoint_pages; icms_store_sqlite_new still takes version 1. */
#define ICMS_SQLITE_OPTIONS_VERSION 2
#define ICMS_SQLITE_OPTIONS_INIT {ICMS_SQLITE_OPTIONS_VERSION, ICMS_SQLITE_SYNC_FULL, 0, NULL, NULL, 0, 0}

/** The default checkpoint size: 10,000 pages, a -wal file of about 40 MiB at 4 KiB pages. */
#define ICMS_SQLITE_CHECKPOINT_PAGES_DEFAULT 10000u
/** The largest accepted: about 4 GiB of WAL at 4 KiB pages. */
#define ICMS_SQLITE_CHECKPOINT_PAGES_MAX 1000000u

/**
 * Open (creating if needed) the SQLite store at path: two WITHOUT ROWID
 * tables (keys under the append-only prefixes apart, docs/storage.md), WAL
 * mode, BEGIN IMMEDIATE for writes. Several handles, in one or
 * several processes, may open the same file. options may be NULL for the
 * defaults. A put or del that would change an existing key under an
 * append-only prefix answers ICMS_EINVALID and changes nothing.
 * Errors: ICMS_EINVALID (bad options, no path, ":memory:"), ICMS_EVERSION
 * (options version, or a file from a newer layout), ICMS_ESTORAGE (cannot
 * open, not a database, another application's database), ICMS_EBUSY (the
 * schema must be created or extended and a writer holds the file).
 */
ICMS_EXTERN int icms_store_sqlite_new(icms_store **out, const char *path,
                                      const icms_sqlite_options *options);

/**
 * A new, empty in-memory store: ordered, with real rollback and optimistic
 * concurrency (a write transaction whose reads were changed by a concurrent
 * commit answers ICMS_ECONFLICT at commit). Its contents vanish at free().
 */
ICMS_EXTERN int icms_store_memory_new(icms_store **out);

/**
 * Free a store that was never handed to icms_open() (the handle frees the
 * ones it owns). NULL is allowed.
 */
ICMS_EXTERN void icms_store_free(icms_store *store);

#ifdef __cplusplus
}
#endif

#endif /* ICMS_SYS_STORE_H */
