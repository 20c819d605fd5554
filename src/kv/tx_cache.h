/*
 * What one transaction has already read and written, kept so that it is
 * read, parsed and written once.
 *
 * A command that touches the same record many times (a batch of payments
 * into one project updates the project once per payment) would otherwise
 * fetch and parse the document, and serialise and store it, every time.
 * The cache keeps each record a transaction touches as a parsed document;
 * a record written is kept dirty and stored once, when the transaction
 * commits (or before anything scans the store, so a scan sees it).
 *
 * Only records (kv/record.c) are deferred. Every other write goes straight
 * to the store, so the store's own rules (the append-only ranges refuse a
 * second write to a key) still see each write as it happens.
 *
 * Memos: small per-transaction values a module derives once and keeps up to
 * date itself (the head of the audit chain, the last ledger sequence), so a
 * transaction that appends many entries does not search for the head each
 * time. A memo lives as long as the transaction; the ends of the append-only
 * logs (kv/log_memo.h) outlive it as the handle's hints.
 */
#ifndef ICMS_SRC_KV_TX_CACHE_H
#define ICMS_SRC_KV_TX_CACHE_H

#include <cjson/cJSON.h>

#include "kv/tx.h"

typedef enum icms__cached_state {
    ICMS__CACHED_UNKNOWN = 0, /* nothing known: ask the store */
    ICMS__CACHED_ABSENT,      /* the key has no value */
    ICMS__CACHED_PRESENT      /* doc holds the value */
} icms__cached_state;

typedef struct icms__cached {
    struct icms__cached *bucket_next;
    struct icms__cached *order_next; /* first-touch order: the order of flushing */
    icms__cached_state state;
    bool dirty;     /* doc is newer than the store */
    bool lent;      /* doc was handed out (icms__record_ref): kept until the end */
    cJSON *doc;     /* the value, parsed (owned); NULL for a raw deferred value */
    uint8_t *bytes; /* the value's bytes: doc serialised, or the raw value (owned) */
    size_t bytes_len;
    /*
     * For records: the entries the record has in its type's indexes as they
     * stand in the store (kv/record.c), kept so that a document changed in
     * place can still be re-indexed. Valid when index_keys_known.
     */
    bool index_keys_known;
    uint8_t *index_keys; /* owned; NULL: no entries */
    size_t index_keys_len;
    size_t key_len;
    uint8_t key[];
} icms__cached;

/*
 * The entry for key, created (UNKNOWN) when missing. Creating one may drop
 * entries that hold nothing the store lacks (clean and not lent), so that a
 * transaction reading many records (icms_check) keeps a bounded number: an
 * entry pointer stays valid only until the next icms__tx_cache_entry call.
 */
int icms__tx_cache_entry(icms__tx *tx, const icms__key *key, icms__cached **out);

/* The entry for key, or NULL when the transaction has none. */
icms__cached *icms__tx_cache_find(const icms__tx *tx, const uint8_t *key, size_t key_len);

/*
 * Replace an entry's value: doc (taken) or, with doc NULL, the key's absence.
 * A document lent out before is kept alive until the transaction ends.
 */
void icms__tx_cache_set(icms__tx *tx, icms__cached *entry, cJSON *doc, bool dirty);

/* Forget what an entry knows (after the key was written around the cache). */
void icms__tx_cache_forget(icms__tx *tx, icms__cached *entry);

/* The entry's value as bytes (serialised on first use), borrowed from the entry. */
int icms__tx_cache_bytes(icms__cached *entry, const uint8_t **bytes, size_t *len);

/*
 * Write value under key at commit rather than now: for a small value that a
 * transaction rewrites many times (a running balance). Never for keys in the
 * store's append-only ranges, whose second write must be refused as it happens.
 */
int icms__tx_put_deferred(icms__tx *tx, const icms__key *key, const void *value, size_t len);

/* How many entries the transaction holds (for tests). */
size_t icms__tx_cache_count(const icms__tx *tx);

/* Store every dirty entry. */
int icms__tx_cache_flush(icms__tx *tx);

/* Drop everything (after commit or rollback). */
void icms__tx_cache_free(icms__tx *tx);

/*
 * This transaction's memo for tag (the address of a static in the module
 * that owns it): size bytes, zero the first time (*fresh true).
 */
int icms__tx_memo(icms__tx *tx, const void *tag, size_t size, void **memo, bool *fresh);

/* Forget tag's memo (its owner could not fill it in). */
void icms__tx_memo_drop(icms__tx *tx, const void *tag);

/* Give tag's memo a function that frees what it owns, called when the memo ends. */
void icms__tx_memo_set_release(icms__tx *tx, const void *tag, void (*release)(void *data));
/* Call fn for each memo whose release function is release (one owner's memos). */
void icms__tx_memo_each(icms__tx *tx, void (*release)(void *data),
                        void (*fn)(const void *tag, void *data, void *arg), void *arg);

#endif
