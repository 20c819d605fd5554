/*
 * Hints: where the append-only logs (the audit chain, the ledger, the
 * outbox) ended when a transaction that knew it committed, kept by the
 * database handle so that the next transaction can start from there instead
 * of searching the store for the end again.
 *
 * A hint is never trusted. Before using one, a transaction reads the entry it
 * names, which must hold the same bytes, and the key after it, which must be
 * absent (kv/log_memo.c). A write by another handle or process, a commit
 * that failed after the hint was taken, or a store swapped underneath all
 * show up there, and the transaction searches as it would without a hint.
 *
 * Threads: one table per handle, shared by the threads using the handle;
 * every call takes the table's lock.
 */
#ifndef ICMS_SRC_KV_HINTS_H
#define ICMS_SRC_KV_HINTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The bytes a log's owner derives from its last entry (the audit chain's head hash). */
#define ICMS__LOG_STATE_MAX 32

typedef struct icms__log_hint {
    int64_t seq;                        /* the last entry's sequence number (>= 1) */
    uint8_t state[ICMS__LOG_STATE_MAX]; /* what the owner derived from it */
    uint8_t *entry;                     /* the last entry's bytes (owned) */
    size_t entry_len;
} icms__log_hint;

typedef struct icms__hints icms__hints;

int icms__hints_new(icms__hints **out);
void icms__hints_free(icms__hints *hints);

/*
 * A copy of the hint for tag (the address of a static in the log's owner):
 * true and *out filled, its entry owned by the caller; false when there is none
 * (or no memory to copy it: a hint is only ever an optimisation).
 */
bool icms__hints_get(icms__hints *hints, const void *tag, icms__log_hint *out);

/* Make *hint (its entry taken) tag's hint, replacing any older one. */
void icms__hints_set(icms__hints *hints, const void *tag, icms__log_hint *hint);

/* Free a hint's entry. */
void icms__log_hint_clear(icms__log_hint *hint);

#endif
